/**
 * The base of every error Glassbox raises on purpose: a stable `code` the callers branch on, a
 * message that says what happened, and a hint that says what to do next. The message shown is
 * both (`message`); `hint` stays apart for views that show it on its own line. Plain Node: the
 * engine (GlassboxError), model downloads (DownloadError), model servers (RemoteError) and the
 * price update (PriceUpdateError) all extend it, each naming itself (`name`: bundles are minified).
 */
export class CodedError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} ${hint}` : message);
  }
}

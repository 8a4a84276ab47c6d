/** Errors of the model-server path; each says what happened and what the user can do next. */
import { CodedError } from '../net/codedError';

export type RemoteErrorCode =
  | 'ENDPOINT_INVALID' // not an http(s) URL, or not set
  | 'UNREACHABLE' // DNS, refused connection, proxy failure
  | 'UNAUTHORIZED' // 401/403
  | 'NOT_FOUND' // 404: no such model or route
  | 'RATE_LIMITED' // 429 (retryAfterS when the server said)
  | 'SERVER_ERROR' // 5xx, or another status the client does not handle
  | 'TIMEOUT' // no answer in time
  | 'TOO_LARGE' // a response over the cap
  | 'BAD_RESPONSE' // not the protocol: an HTML page, malformed JSON or events, a stream cut short
  | 'NO_FIM'; // the server's model cannot fill in the middle

export class RemoteError extends CodedError<RemoteErrorCode> {
  override name = 'RemoteError';
  constructor(
    code: RemoteErrorCode,
    message: string,
    hint?: string,
    /** Seconds the server asked to wait (429 Retry-After). */
    readonly retryAfterS?: number,
  ) {
    super(code, message, hint);
  }
}

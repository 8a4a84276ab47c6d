/**
 * The webview side of a host↔view channel: one typed `post`, one typed `onMessage`, and state that
 * survives the panel being hidden or the window reloading (VS Code's setState/getState).
 */
const vscode = acquireVsCodeApi();

export function post<T>(message: T): void {
  vscode.postMessage(message);
}

/** Calls `handler` for each message the host sends that passes `guard`; others are ignored. */
export function onMessage<T>(guard: (x: unknown) => x is T, handler: (message: T) => void): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (guard(event.data)) handler(event.data);
  });
}

export function saveState<S>(state: S): void {
  vscode.setState(state);
}

export function loadState<S>(): S | undefined {
  return vscode.getState() as S | undefined;
}

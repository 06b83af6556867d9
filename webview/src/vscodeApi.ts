/**
 * The API VS Code injects into a webview (acquireVsCodeApi may be called once per page): messages to
 * the extension host, and the state VS Code keeps while the panel is hidden.
 */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

/**
 * The weights panel's entry (bundled as an IIFE into dist/webview.js). Receives ViewStates from the extension
 * by postMessage and redraws; remembers the last one (vscode.setState) so a hidden panel comes back as it was.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import { render, type PanelHost } from './render';
import type { HostMessage, ViewMessage, ViewState } from '../../server/src/protocol';
import { vscodeApi } from './vscodeApi';

const vscode = vscodeApi();
const host: PanelHost = { postMessage: (message: ViewMessage) => vscode.postMessage(message) };
const root = document.getElementById('root') ?? document.body;

let last: { state: ViewState | null; empty?: string } = (vscode.getState() as typeof last | undefined) ?? { state: null };
const draw = () => render(last.state, root, host, last.empty);

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  if (!message || typeof message !== 'object') return;
  if (message.type === 'state') last = { state: message.state };
  else if (message.type === 'empty') last = { state: null, empty: message.message };
  else return;
  vscode.setState(last);
  draw();
});

// VS Code swaps the body's theme class and CSS variables when the colour theme changes: redraw with the new colours.
new MutationObserver(draw).observe(document.body, { attributes: true, attributeFilter: ['class'] });

draw();
host.postMessage({ type: 'ready' });

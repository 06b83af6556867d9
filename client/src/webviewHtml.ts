/**
 * The one HTML shell of the extension's webviews (weights panel, library map): a strict Content
 * Security Policy — no inline script or style, scripts only with this page's nonce, assets only from
 * the extension's dist/ — and the bundle and stylesheet named by the caller.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  /** The bundle in dist/ (e.g. `webview.js`). */
  script: string;
  /** The stylesheet in dist/ (e.g. `webview.css`). */
  style: string;
  title: string;
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '');
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', name)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset(page.style)}">
<title>${page.title}</title>
</head>
<body>
<main id="root"></main>
<script nonce="${nonce}" src="${asset(page.script)}"></script>
</body>
</html>`;
}

/**
 * The HTML shell of every Glassbox webview: a strict CSP (nothing by default, scripts by nonce,
 * styles and images only from the extension), theme-aware CSS, and one bundle from dist/webview.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';

/** Only the built bundles and media may be loaded into a webview. */
function webviewRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: webviewRoots(extensionUri) };
}

/** The page for `view` (webview/<view>/main.ts, bundled to dist/webview/<view>.js). */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: string, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${view}.js`));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  // A view may add its own stylesheet, media/<view>.css.
  const viewCssFile = vscode.Uri.joinPath(extensionUri, 'media', `${view}.css`);
  const viewCss = fs.existsSync(viewCssFile.fsPath)
    ? `\n<link rel="stylesheet" href="${webview.asWebviewUri(viewCssFile)}">`
    : '';
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // the nonce: the toolkit (FAST) probes for :focus-visible with a <style> it tags with the page's
    // csp-nonce meta; without it the probe is refused, logged as a CSP error, and focus rings show on click
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data: blob:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">${viewCss}
<title>${escapeHtml(title)}</title>
</head>
<body data-view="${view}">
<main id="app"></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

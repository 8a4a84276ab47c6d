/**
 * The panels whose explorers are still being built (architecture, attention, costs) open this
 * short page, so the commands exist and say honestly what they will show.
 */
import * as vscode from 'vscode';

export interface ComingPage {
  viewType: string;
  title: string;
  body: string;
}

const open = new Map<string, vscode.WebviewPanel>();

export function showComingPanel(page: ComingPage): void {
  const existing = open.get(page.viewType);
  if (existing) return existing.reveal();
  const panel = vscode.window.createWebviewPanel(page.viewType, page.title, vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
  panel.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>${page.title}</title></head>
<body><h1>${page.title}</h1><p>${page.body}</p></body></html>`;
  open.set(page.viewType, panel);
  panel.onDidDispose(() => open.delete(page.viewType));
}

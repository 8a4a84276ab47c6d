/** VS Code's proxy settings as the plain-Node HTTP client takes them (model downloads, price updates). */
import * as vscode from 'vscode';
import type { NetOptions } from './net/http';

export function netOptions(): NetOptions {
  const http = vscode.workspace.getConfiguration('http');
  return { proxy: http.get<string>('proxy') || undefined, strictSSL: http.get<boolean>('proxyStrictSSL') ?? true };
}

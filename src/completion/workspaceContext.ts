/**
 * The VS Code side of repository context: tells the context worker which folders to scan (with
 * `files.exclude`), which files changed on disk, and what open editors hold; asks it for snippets
 * and copy sources per completion. The ranking itself is plain Node (src/engine/context/).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Config } from '../config';
import { type ContextQueries, ContextClient, type ContextAnswer, type ScanRoot, CODE_EXTENSIONS } from '../engine';

/** Editor changes are sent to the worker after this quiet time, ms. */
const EDIT_DEBOUNCE_MS = 250;
/** Disk changes are batched for this long, ms. */
const DISK_DEBOUNCE_MS = 1000;
/** Start scanning this long after activation, so start-up is not slowed, ms. */
const SCAN_DELAY_MS = 1500;
/** Open documents larger than this are not sent to the worker, characters. */
const MAX_EDITOR_CHARS = 512 * 1024;

export class WorkspaceContext implements vscode.Disposable {
  private readonly client: ContextClient;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly editTimers = new Map<string, NodeJS.Timeout>();
  private diskChanges = new Map<string, string>();
  private diskTimer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;

  constructor(
    extensionUri: vscode.Uri,
    private readonly enabled: () => boolean,
  ) {
    this.client = new ContextClient(path.join(extensionUri.fsPath, 'dist', 'contextWorker.js'));
    const watcher = vscode.workspace.createFileSystemWatcher(`**/*.{${[...CODE_EXTENSIONS].join(',')}}`);
    this.disposables.push(
      watcher,
      watcher.onDidChange((uri) => this.onDisk(uri)),
      watcher.onDidCreate((uri) => this.onDisk(uri)),
      watcher.onDidDelete((uri) => {
        const p = this.pathOf(uri);
        if (p) this.client.deleteFile(p);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e.document)),
      vscode.workspace.onDidOpenTextDocument((d) => this.onEdit(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.onDisk(d.uri)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleScan(0)),
      Config.onDidChange('workspaceIndex')(() => this.scheduleScan(0)),
    );
    this.scheduleScan(SCAN_DELAY_MS);
  }

  /** The path a document has in the index and in prompts: workspace-relative, with the folder's name in a multi-root workspace. */
  pathOf(uri: vscode.Uri): string | undefined {
    if (uri.scheme !== 'file' && uri.scheme !== 'vscode-remote') return undefined;
    if (!vscode.workspace.getWorkspaceFolder(uri)) return undefined;
    return vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
  }

  /** Snippets and copy sources for a completion, or null (disabled, or no answer in time). */
  async query(queries: ContextQueries): Promise<ContextAnswer | null> {
    if (!this.enabled()) return null;
    return this.client.query(queries);
  }

  dispose(): void {
    clearTimeout(this.diskTimer);
    clearTimeout(this.scanTimer);
    for (const t of this.editTimers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
    void this.client.dispose();
  }

  private scheduleScan(delayMs: number): void {
    clearTimeout(this.scanTimer);
    this.scanTimer = setTimeout(() => {
      if (!this.enabled()) return;
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
      const roots: ScanRoot[] = folders.map((f) => ({
        root: f.uri.fsPath,
        prefix: folders.length > 1 ? `${f.name}/` : '',
        exclude: excludeGlobs(f),
      }));
      if (roots.length) this.client.scan(roots);
      for (const d of vscode.workspace.textDocuments) this.onEdit(d);
    }, delayMs);
  }

  private onEdit(doc: vscode.TextDocument): void {
    const p = this.pathOf(doc.uri);
    if (!p || !this.enabled() || !CODE_EXTENSIONS.has(path.extname(p).slice(1).toLowerCase())) return;
    clearTimeout(this.editTimers.get(p));
    this.editTimers.set(
      p,
      setTimeout(() => {
        this.editTimers.delete(p);
        if (doc.isClosed) return;
        const text = doc.getText();
        if (text.length <= MAX_EDITOR_CHARS) this.client.setFile(p, text.replace(/\r\n?/g, '\n'));
      }, EDIT_DEBOUNCE_MS),
    );
  }

  private onDisk(uri: vscode.Uri): void {
    const p = this.pathOf(uri);
    if (!p || !this.enabled() || uri.scheme !== 'file') return;
    this.diskChanges.set(uri.fsPath, p);
    clearTimeout(this.diskTimer);
    this.diskTimer = setTimeout(() => {
      const files = [...this.diskChanges].map(([file, p2]) => ({ file, path: p2 }));
      this.diskChanges = new Map();
      this.client.refresh(files);
    }, DISK_DEBOUNCE_MS);
  }
}

/** The folder's `files.exclude` patterns that are switched on. */
function excludeGlobs(folder: vscode.WorkspaceFolder): string[] {
  const v = vscode.workspace.getConfiguration('files', folder.uri).get<unknown>('exclude');
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v as Record<string, unknown>)
    .filter(([, on]) => on === true)
    .map(([glob]) => glob.replace(/^\*\*\//, '**/'));
}

/**
 * Tints the source code a selected token attended to: one decoration type per intensity band,
 * the strongest band also marked in the overview ruler, each range with its weight on hover.
 */
import * as vscode from 'vscode';
import { tintLevels, type TokenRange } from './sourceMap';

const LEVELS = 8;
const TINT_KEY = 'glassbox.attention.tint';

export class EditorTint implements vscode.Disposable {
  private readonly types: vscode.TextEditorDecorationType[];
  private tinted: vscode.TextEditor | undefined;
  /** The line a copied token came from (the copy cache's source), shown on request. */
  private readonly copySource = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });

  constructor(private readonly state: vscode.Memento) {
    this.types = Array.from({ length: LEVELS }, (_, i) => {
      const alpha = (0.1 + (0.5 * (i + 1)) / LEVELS).toFixed(2);
      return vscode.window.createTextEditorDecorationType({
        backgroundColor: `rgba(255, 140, 0, ${alpha})`,
        borderRadius: '2px',
        overviewRulerColor: i >= LEVELS - 2 ? 'rgba(255, 140, 0, 0.8)' : undefined,
        overviewRulerLane: vscode.OverviewRulerLane.Center,
        // High-contrast themes define contrastActiveBorder: strong bands get an outline there.
        outlineColor: new vscode.ThemeColor('contrastActiveBorder'),
        outlineStyle: i >= LEVELS / 2 ? 'dotted' : undefined,
        outlineWidth: i >= LEVELS / 2 ? '1px' : undefined,
      });
    });
  }

  get enabled(): boolean {
    return this.state.get<boolean>(TINT_KEY, true);
  }

  async setEnabled(on: boolean): Promise<void> {
    await this.state.update(TINT_KEY, on);
    if (!on) this.clear();
  }

  /** Tints `editor` for query token `query` with per-token `weights`; `ranges` place tokens in it. */
  apply(
    editor: vscode.TextEditor,
    ranges: readonly TokenRange[],
    weights: ArrayLike<number>,
    query: number,
    what: string,
  ): void {
    this.clear();
    if (!this.enabled) return;
    const doc = editor.document;
    for (const band of tintLevels(ranges, weights, query, LEVELS)) {
      const options = band.ranges.map((r, i) => ({
        range: new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end)),
        hoverMessage: `Glassbox attention (${what}): ${(band.weights[i] * 100).toFixed(1)}%`,
      }));
      editor.setDecorations(this.types[band.level], options);
    }
    this.tinted = editor;
  }

  /**
   * Opens the workspace file a copied token came from at its line, and highlights the line. Only
   * paths inside the workspace's folders are opened.
   */
  async showSource(relativePath: string, line: number): Promise<void> {
    const uri = await findInWorkspace(relativePath);
    if (!uri) {
      void vscode.window.showInformationMessage(`Glassbox: ${relativePath} is not in this workspace any more.`);
      return;
    }
    const editor = await vscode.window.showTextDocument(uri, {
      preview: true,
      preserveFocus: false,
      viewColumn: vscode.ViewColumn.Beside,
    });
    const at = Math.min(line, editor.document.lineCount - 1);
    const range = editor.document.lineAt(at).range;
    editor.setDecorations(this.copySource, [{ range, hoverMessage: 'Glassbox: the copy cache copied from this line' }]);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.selection = new vscode.Selection(range.start, range.start);
  }

  clear(): void {
    if (this.tinted) for (const t of this.types) this.tinted.setDecorations(t, []);
    this.tinted = undefined;
  }

  dispose(): void {
    this.clear();
    for (const t of this.types) t.dispose();
    this.copySource.dispose();
  }
}

/** The file at a workspace-relative path (the form completions use), in the folder that has it. */
export async function findInWorkspace(relativePath: string): Promise<vscode.Uri | undefined> {
  if (relativePath.includes('..') || relativePath.startsWith('/') || relativePath.includes('\\')) return undefined;
  const folders = vscode.workspace.workspaceFolders ?? [];
  for (const f of folders) {
    // in a multi-root workspace the path starts with the folder's name
    const rest =
      folders.length > 1 && relativePath.startsWith(`${f.name}/`)
        ? relativePath.slice(f.name.length + 1)
        : relativePath;
    const uri = vscode.Uri.joinPath(f.uri, ...rest.split('/'));
    const found = await vscode.workspace.fs.stat(uri).then(
      () => true,
      () => false,
    );
    if (found) return uri;
  }
  return undefined;
}

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
  apply(editor: vscode.TextEditor, ranges: readonly TokenRange[], weights: ArrayLike<number>, query: number, what: string): void {
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

  clear(): void {
    if (this.tinted) for (const t of this.types) this.tinted.setDecorations(t, []);
    this.tinted = undefined;
  }

  dispose(): void {
    this.clear();
    for (const t of this.types) t.dispose();
  }
}

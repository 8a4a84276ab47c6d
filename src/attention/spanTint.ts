/**
 * The editor tint of "What it depended on": the lines of the spans a suggestion depended on most,
 * whole lines in a violet of their own (so they never read as the attention tint's orange), four
 * bands by Δ, in every visible editor that shows one of them, with the figure on hover. The
 * attention tint's switch ("Toggle Attention Tint") turns it on and off too.
 */
import * as vscode from 'vscode';
import { TINT_LEVELS } from './dependenceData';

export interface SpanMark {
  uri: vscode.Uri;
  /** 0-based first and last line. */
  line: number;
  lastLine: number;
  /** 0..TINT_LEVELS - 1: the top span's band is the last. */
  level: number;
  hover: string;
}

export class SpanTint implements vscode.Disposable {
  private readonly types: vscode.TextEditorDecorationType[];
  /** A span opened from the view that is not among the marked ones: highlighted as a find match is. */
  private readonly opened = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  private marks: SpanMark[] = [];
  private openedIn: vscode.TextEditor | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly enabled: () => boolean) {
    this.types = Array.from({ length: TINT_LEVELS }, (_, i) => {
      const alpha = (0.12 + (0.3 * (i + 1)) / TINT_LEVELS).toFixed(2);
      return vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: `rgba(170, 80, 230, ${alpha})`,
        overviewRulerColor: i === TINT_LEVELS - 1 ? 'rgba(170, 80, 230, 0.9)' : undefined,
        overviewRulerLane: vscode.OverviewRulerLane.Left,
        // High-contrast themes define contrastActiveBorder: the bands get an outline there.
        outlineColor: new vscode.ThemeColor('contrastActiveBorder'),
        outlineStyle: i >= TINT_LEVELS / 2 ? 'solid' : 'dotted',
        outlineWidth: '1px',
      });
    });
    // a span's file opened later (a click in the view, or by hand) is tinted when it shows
    this.disposables.push(vscode.window.onDidChangeVisibleTextEditors(() => this.apply()));
  }

  /** Marks `marks` (replacing the ones before) in the editors that show them. */
  set(marks: SpanMark[]): void {
    this.marks = marks;
    this.apply();
  }

  /** Drops every mark and the opened span's outline (a new ranking starts). */
  reset(): void {
    this.openedIn?.setDecorations(this.opened, []);
    this.openedIn = undefined;
    this.set([]);
  }

  /** Repaints every visible editor (after the switch changed, or the marks). */
  apply(): void {
    const on = this.enabled();
    for (const editor of vscode.window.visibleTextEditors) {
      const doc = editor.document;
      const here = on ? this.marks.filter((m) => m.uri.toString() === doc.uri.toString()) : [];
      this.types.forEach((type, level) =>
        editor.setDecorations(
          type,
          here
            .filter((m) => m.level === level)
            .map((m) => ({ range: lines(doc, m.line, m.lastLine), hoverMessage: m.hover })),
        ),
      );
    }
  }

  /** Opens `uri` at lines [line, lastLine] (0-based), beside the view's editor unless it is open already. */
  async reveal(uri: vscode.Uri, line: number, lastLine: number, hover: string): Promise<void> {
    const open = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const editor = await vscode.window.showTextDocument(uri, {
      preview: true,
      preserveFocus: false,
      viewColumn: open?.viewColumn ?? vscode.ViewColumn.Beside,
    });
    const range = lines(editor.document, line, lastLine);
    const marked = this.enabled() && this.marks.some((m) => m.uri.toString() === uri.toString() && m.line === line);
    this.openedIn?.setDecorations(this.opened, []);
    editor.setDecorations(this.opened, marked ? [] : [{ range, hoverMessage: hover }]);
    this.openedIn = editor;
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.selection = new vscode.Selection(range.start, range.start);
  }

  dispose(): void {
    this.reset();
    for (const t of this.types) t.dispose();
    this.opened.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

/** Lines [first, last] of `doc`, clamped to it. */
function lines(doc: vscode.TextDocument, first: number, last: number): vscode.Range {
  const a = Math.max(0, Math.min(first, doc.lineCount - 1));
  const b = Math.max(a, Math.min(last, doc.lineCount - 1));
  return new vscode.Range(a, 0, b, doc.lineAt(b).range.end.character);
}

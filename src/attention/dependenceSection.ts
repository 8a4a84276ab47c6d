/**
 * The host side of the Attention view's "What it depended on" section. It keeps the last
 * suggestion the editor showed (with the request it ran with), ranks its prompt's spans on the
 * embedded worker when the user asks (BackendRouter.dependence), streams the rows to the view as
 * they are scored, marks the top spans in the editor and opens a span that is clicked.
 *
 * The ranking runs only on request, never by itself: it is dozens of model runs (about 2–3 s of
 * both cores on a 2-core machine), and the Attention view stays open while the user types, so
 * running it whenever the view is open would mean running it after nearly every completion,
 * competing with the next one for the cores.
 */
import * as vscode from 'vscode';
import {
  formatNats,
  isCancellation,
  suggestionTokens,
  type CompletionResult,
  type DependenceResult,
  type Params,
  type PromptSpan,
  type SpanDependence,
} from '../engine';
import type { BackendRouter, ServedRequest } from '../backends/router';
import { saveExport } from '../webviewHost/webviewChannel';
import type { DependState } from '../../webview/attention/protocol';
import { dependRanking, spanLocation, tintSpans, type SpanLocation } from './dependenceData';
import { findInWorkspace } from './editorTint';
import type { SpanMark, SpanTint } from './spanTint';

/** A ranking stops here and shows what it scored (a large model's prompt can have hundreds of spans), ms. */
const TIME_BUDGET_MS = 30_000;
/** Rows reach the view at most this often while they stream, ms. */
const POST_EVERY_MS = 120;

/** A suggestion the editor showed, with what a ranking needs. */
interface Shown {
  title: string;
  request: Params<'complete'>;
  result: CompletionResult;
  /** The cursor's document and its 0-based line when the suggestion came. */
  doc?: { uri: vscode.Uri; line: number };
}

export class DependenceSection implements vscode.Disposable {
  private last: Shown | null = null;
  private ranked: Shown | null = null;
  private runId = 0;
  private running: AbortController | null = null;
  private scored: SpanDependence[] = [];
  private result: DependenceResult | null = null;
  private phase: 'running' | 'done' | 'cancelled' | 'error' | null = null;
  private error = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly uris = new Map<string, Promise<vscode.Uri | undefined>>();

  constructor(
    private readonly host: BackendRouter,
    private readonly tint: SpanTint,
    private readonly post: (state: DependState) => void,
  ) {}

  /** A completion was served: the newest one the editor shows is the one a ranking is for. */
  onServed(served: ServedRequest, editor: vscode.TextEditor | undefined): void {
    if (served.kind !== 'completion') return;
    if (!served.capabilities.tokens) {
      // a model server's suggestion: no token ids to score, and the last one shown is not this machine's any more
      this.last = null;
      if (this.phase !== 'running') this.postState();
      return;
    }
    if (!served.request) return;
    const result = served.result as CompletionResult;
    if (!result.text || result.hidden || suggestionTokens(result).length === 0) return; // nothing was shown
    const doc = editor ? { uri: editor.document.uri, line: editor.selection.active.line } : undefined;
    const where = doc ? ` ${vscode.l10n.t('at {0}:{1}', vscode.workspace.asRelativePath(doc.uri), doc.line + 1)}` : '';
    const text = JSON.stringify(result.text.length > 40 ? `${result.text.slice(0, 39)}…` : result.text);
    this.last = {
      title: vscode.l10n.t('the suggestion {0}{1} ({2})', text, where, new Date().toLocaleTimeString()),
      request: served.request,
      result,
      doc,
    };
    if (this.phase !== 'running') this.postState();
  }

  /** The section's state as the view draws it. */
  state(): DependState {
    const { ranked, phase } = this;
    if (ranked && phase) {
      if (phase === 'error') return { phase, title: ranked.title, message: this.error };
      const newer = this.last && this.last !== ranked ? this.last.title : undefined;
      return { phase, ranking: this.ranking(ranked), ...(newer && phase !== 'running' ? { newer } : {}) };
    }
    if (this.last) return { phase: 'ready', title: this.last.title };
    const b = this.host.backend;
    return {
      phase: 'unavailable',
      message: b.capabilities.tokens
        ? vscode.l10n.t(
            'No suggestion yet. When the editor shows one, ask here what it depended on: each line, snippet and copy source is taken out of the model’s view in turn.',
          )
        : vscode.l10n.t(
            'Suggestions come from the {0} model server. Ranking what a suggestion depended on needs the embedded model on this machine (its token ids and attention mask); switch back with "Glassbox: Select Model".',
            b.kind,
          ),
    };
  }

  /** Ranks the last suggestion shown (the view's button). */
  async run(): Promise<void> {
    const target = this.last;
    if (!target) return;
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    const runId = ++this.runId;
    [this.ranked, this.scored, this.result, this.phase, this.error] = [target, [], null, 'running', ''];
    this.tint.reset();
    this.uris.clear(); // files come and go between rankings; within one, a lookup per path
    this.postState();
    try {
      const result = await this.host.dependence(
        {
          completion: target.request,
          generated: suggestionTokens(target.result),
          promptText: target.result.promptText,
          timeBudgetMs: TIME_BUDGET_MS,
        },
        {
          signal: controller.signal,
          onSpan: (s) => {
            if (runId !== this.runId) return;
            this.scored.push(s);
            this.schedulePost();
          },
        },
      );
      if (runId !== this.runId) return;
      [this.result, this.phase] = [result, 'done'];
    } catch (err) {
      if (runId !== this.runId) return;
      this.phase = isCancellation(err) ? 'cancelled' : 'error';
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      if (this.running === controller) this.running = null;
    }
    this.postState();
  }

  cancel(): void {
    this.running?.abort();
  }

  /** Opens span `spanId` of ranking `runId`: its file at its lines. */
  async open(runId: number, spanId: number): Promise<void> {
    const r = this.ranked;
    if (!r || runId !== this.runId) return;
    const d = [...(this.result?.ranking ?? this.scored)].find((x) => x.span.id === spanId);
    const where = d && this.locate(d.span);
    const uri = where && (await this.uriOf(where));
    if (!d || !where || !uri) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Glassbox: that span is not in a file of this workspace (or its file was closed).'),
      );
      return;
    }
    await this.tint.reveal(uri, where.line, where.lastLine, hoverOf(d));
  }

  async export(format: 'csv' | 'json', text: string): Promise<void> {
    await saveExport({
      title: vscode.l10n.t('Export what the suggestion depended on'),
      name: `glassbox-dependence.${format}`,
      filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      bytes: () => Buffer.from(text, 'utf8'),
    });
  }

  /** Repaints the editor tint of the top spans (after the tint was switched on or off). */
  refreshTint(): void {
    this.tint.apply();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.running?.abort();
  }

  private ranking(r: Shown) {
    const generated = suggestionTokens(r.result);
    const texts = new Map(r.result.provenance.map((p) => [p.token, p.text]));
    return dependRanking({
      runId: this.runId,
      title: r.title,
      tokens: generated.map((_, k) => texts.get(k) ?? `#${k}`),
      scored: this.scored,
      result: this.result ?? undefined,
      openable: (s) => this.locate(s) !== null,
    });
  }

  private locate(s: PromptSpan): SpanLocation | null {
    const r = this.ranked;
    if (!r) return null;
    const where = spanLocation(s, r.request, r.doc?.line);
    return where?.in === 'document' && !r.doc ? null : where;
  }

  private uriOf(where: SpanLocation): Promise<vscode.Uri | undefined> {
    if (where.in === 'document') return Promise.resolve(this.ranked?.doc?.uri);
    let found = this.uris.get(where.path);
    if (!found) this.uris.set(where.path, (found = findInWorkspace(where.path)));
    return found;
  }

  private schedulePost(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.postState();
    }, POST_EVERY_MS);
  }

  private postState(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.post(this.state());
    void this.markTop(this.runId);
  }

  /** The editor tint: the top spans' lines, wherever their files show. */
  private async markTop(runId: number): Promise<void> {
    const top = this.ranked && this.phase !== 'error' ? tintSpans(this.result?.ranking ?? this.scored) : [];
    const marks: SpanMark[] = [];
    for (const { span, level } of top) {
      const where = this.locate(span.span);
      const uri = where && (await this.uriOf(where));
      if (where && uri) marks.push({ uri, line: where.line, lastLine: where.lastLine, level, hover: hoverOf(span) });
    }
    if (runId === this.runId) this.tint.set(marks);
  }
}

function hoverOf(d: SpanDependence): string {
  return vscode.l10n.t(
    'Glassbox: without this {0} the suggestion’s log-probability changes by {1} nats',
    d.span.kind === 'copy'
      ? vscode.l10n.t('copy source')
      : d.span.kind === 'snippet'
        ? vscode.l10n.t('snippet')
        : vscode.l10n.t('line'),
    formatNats(d.delta),
  );
}

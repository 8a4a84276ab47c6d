/**
 * The "What it depended on" section: the last suggestion's spans ranked by how far its
 * log-probability falls without each (the host runs the ranking when asked and streams it here).
 * The verdict heads it, the method and baseline follow, then the table (sorted and filtered here),
 * and the per-token changes of the top spans so the verdict can be checked.
 */
import { el } from '../shared/toolkit';
import {
  DEPEND_FILTERS,
  dependCsv,
  dependJson,
  kindWords,
  nats,
  topRows,
  visibleRows,
  type DependFilter,
  type DependSort,
} from './dependRows';
import type { DependRanking, DependRow, DependState, ViewToHost } from './protocol';
import { displayToken } from './strip';

/** The table's settings, kept with the view's other settings. */
export interface DependUi {
  sort: DependSort;
  shown: DependFilter[];
}

const FILTER_WORDS: Record<DependFilter, string> = { line: 'Lines', snippet: 'Snippets', copy: 'Copy sources' };

const METHOD_WORDS = {
  mask: 'each span masked out of the attention mask in turn (every other token keeps its position)',
  delete: 'each span deleted from the prompt in turn (the tokens after it move up)',
};

export class DependSection {
  readonly el = el('details', 'section depend');
  private readonly forWhat = el('p', 'depend-for muted small');
  private readonly actions = el('div', 'depend-actions');
  private readonly verdict = el('p', 'depend-verdict');
  private readonly warning = el('p', 'depend-warning');
  private readonly method = el('p', 'depend-method muted small');
  private readonly controls = el('div', 'depend-controls');
  private readonly table = el('table', 'depend-table');
  private readonly tokens = el('div', 'depend-tokens');
  private state: DependState = { phase: 'unavailable', message: 'Waiting for the extension…' };

  constructor(
    private readonly ui: DependUi,
    private readonly send: (m: ViewToHost) => void,
    private readonly saveUi: () => void,
  ) {
    this.el.open = true;
    this.el.append(
      el('summary', '', 'What it depended on'),
      this.forWhat,
      this.actions,
      this.verdict,
      this.warning,
      this.method,
      this.controls,
      this.table,
      this.tokens,
    );
    this.renderControls();
    this.render(this.state);
  }

  render(state: DependState): void {
    this.state = state;
    const ranking = 'ranking' in state ? state.ranking : null;
    this.forWhat.textContent =
      state.phase === 'unavailable' ? state.message : `For ${ranking?.title ?? ('title' in state ? state.title : '')}`;
    this.el.dataset.phase = state.phase;
    this.renderActions(state);
    this.verdict.hidden = !ranking;
    this.verdict.textContent = ranking ? `${ranking.done ? '' : 'So far: '}${ranking.verdict}` : '';
    this.warning.hidden = !ranking?.nearZero;
    this.warning.textContent = ranking?.nearZero
      ? `Every span scores within ±${ranking.nearZeroNats} nats: the model barely used this context, so the ranking says little.`
      : '';
    this.method.hidden = !ranking;
    this.method.textContent = ranking ? methodText(ranking) : '';
    this.controls.hidden = !ranking;
    this.renderTable(ranking);
  }

  private renderActions(state: DependState): void {
    const parts: (HTMLElement | string)[] = [];
    const run = (label: string) => {
      const b = el('vscode-button', 'depend-run', label);
      b.addEventListener('click', () => this.send({ type: 'depend' }));
      parts.push(b);
    };
    if (state.phase === 'ready') run('What did it depend on?');
    if (state.phase === 'error') {
      parts.push(el('p', 'error', state.message));
      run('Try again');
    }
    if (state.phase === 'running') {
      const stop = el('vscode-button', 'depend-cancel', 'Cancel');
      stop.setAttribute('appearance', 'secondary');
      stop.addEventListener('click', () => this.send({ type: 'dependCancel' }));
      const n = state.ranking.rows.length;
      parts.push(el('vscode-progress-ring', 'depend-progress'), stop);
      parts.push(el('span', 'muted small', `Scoring spans… ${n} scored so far`));
    }
    if (state.phase === 'cancelled') {
      parts.push(el('span', 'muted small', `Stopped: ${state.ranking.rows.length} spans scored. `));
      run('Rank again');
    }
    if ((state.phase === 'done' || state.phase === 'cancelled') && state.newer) {
      parts.push(el('span', 'muted small', `A newer suggestion was shown since: ${state.newer}. `));
      if (state.phase === 'done') run('What did the newer one depend on?');
    }
    this.actions.replaceChildren(...parts);
  }

  private renderControls(): void {
    const sort = el('vscode-dropdown', 'depend-sort');
    for (const [v, label] of [
      ['delta', 'Sort by Δ'],
      ['position', 'Sort by position'],
    ] as const) {
      const o = el('vscode-option', '', label);
      o.setAttribute('value', v);
      if (v === this.ui.sort) o.setAttribute('selected', '');
      sort.append(o);
    }
    sort.addEventListener('change', () => {
      this.ui.sort = (sort as HTMLElement & { value: string }).value === 'position' ? 'position' : 'delta';
      this.changed();
    });
    const boxes = DEPEND_FILTERS.map((f) => {
      const box = el('vscode-checkbox', `depend-filter filter-${f}`, FILTER_WORDS[f]) as HTMLElement & {
        checked: boolean;
      };
      box.checked = this.ui.shown.includes(f);
      box.addEventListener('change', () => {
        if (box.checked === this.ui.shown.includes(f)) return; // setting `checked` fires change too
        this.ui.shown = box.checked ? [...this.ui.shown, f] : this.ui.shown.filter((x) => x !== f);
        this.changed();
      });
      return box;
    });
    const exporter = (format: 'csv' | 'json') => {
      const b = el('vscode-button', `depend-export export-${format}`, `Export ${format.toUpperCase()}`);
      b.setAttribute('appearance', 'secondary');
      b.addEventListener('click', () => {
        const r = 'ranking' in this.state ? this.state.ranking : null;
        if (!r) return;
        const rows = visibleRows(r.rows, this.ui.sort, this.ui.shown);
        const text = format === 'csv' ? dependCsv(r, rows) : dependJson(r, rows, this.ui);
        this.send({ type: 'dependExport', format, text });
      });
      return b;
    };
    this.controls.replaceChildren(sort, ...boxes, exporter('csv'), exporter('json'));
  }

  private changed(): void {
    this.saveUi();
    this.renderTable('ranking' in this.state ? this.state.ranking : null);
  }

  private renderTable(r: DependRanking | null): void {
    this.table.replaceChildren();
    this.tokens.replaceChildren();
    this.table.hidden = !r;
    if (!r) return;
    const rows = visibleRows(r.rows, this.ui.sort, this.ui.shown);
    const strongest = Math.max(1e-9, ...r.rows.map((x) => Math.abs(x.delta)));
    const head = el('tr');
    for (const h of ['Δ log p (nats)', 'Span', 'Largest token change', 'First token']) head.append(el('th', '', h));
    this.table.append(head);
    for (const row of rows) this.table.append(this.rowOf(r, row, strongest));
    if (rows.length === 0) {
      const empty = el('tr');
      const cell = el('td', 'muted', r.rows.length ? 'No span of the kinds shown.' : 'No span scored yet.');
      cell.colSpan = 4;
      empty.append(cell);
      this.table.append(empty);
    }
    const top = topRows(r.rows, r.nearZeroNats);
    if (top.length === 0) return;
    this.tokens.append(el('h4', '', 'Per-token changes without each top span (nats)'));
    for (const row of top) {
      const line = el('div', 'depend-token-row');
      line.append(el('span', 'depend-token-span', `${row.label}:`));
      row.tokenDeltas.forEach((d, k) => {
        const text = r.tokens[k] ?? `#${k}`;
        // a token of spaces alone would show as nothing
        const shown = text !== '' && text.trim() === '' ? text.replace(/ /g, '␣') : displayToken(text);
        const t = el('span', 'depend-token', shown.replace(/\n/g, ''));
        t.style.setProperty('--drop', String(Math.min(1, Math.max(0, -d) / strongest)));
        t.title = `${nats(d)} nats`;
        line.append(t, el('span', 'depend-token-delta muted small', nats(d, 1)));
      });
      this.tokens.append(line);
    }
  }

  private rowOf(r: DependRanking, row: DependRow, strongest: number): HTMLElement {
    const tr = el('tr', 'depend-row');
    tr.dataset.span = String(row.id);
    tr.dataset.kind = row.kind;
    const delta = el('td', 'depend-delta');
    const bar = el('span', 'depend-bar');
    bar.style.setProperty('--w', String(Math.min(1, Math.abs(row.delta) / strongest)));
    bar.classList.toggle('helped', row.delta < 0);
    delta.append(bar, el('span', 'depend-value', nats(row.delta)));
    const span = el('td', 'depend-span');
    const label = row.openable ? el('vscode-link', 'depend-open', row.label) : el('span', '', row.label);
    if (row.openable)
      label.addEventListener('click', () => this.send({ type: 'dependOpen', runId: r.runId, span: row.id }));
    label.title = row.text;
    span.append(label, ' ', el('span', 'depend-kind muted small', kindWords(row.kind)));
    if (row.method !== 'mask' && row.method !== 'cache')
      span.append(' ', el('span', 'depend-kind muted small', `[${row.method}]`));
    const token = JSON.stringify(r.tokens[row.maxToken] ?? `#${row.maxToken}`);
    const first = row.sameFirstToken ? el('td', 'small muted', 'same') : el('td', 'small depend-changes', 'changes');
    first.title = row.sameFirstToken
      ? 'Greedy decoding picks the same first token without this span'
      : 'Without this span greedy decoding would pick another first token';
    tr.append(delta, span, el('td', 'small', `${nats(row.maxDelta, 1)} at ${token}`), first);
    return tr;
  }
}

function methodText(r: DependRanking): string {
  const x = r.result;
  if (!x) return 'Scoring each span with it taken out of the model’s view…';
  const baseline = `Baseline: log p = ${nats(x.baseline)} nats for the ${r.tokens.length} scored tokens with every span in view`;
  const cache = x.copyCache ? ' (the model mixed with the copy cache, which loses each span too)' : '';
  const greedy = x.greedyFirst ? '' : '; greedy decoding would not pick its first token';
  const partial = x.partial ? ` Stopped by the time budget: ${r.rows.length} of ${x.spans} spans scored.` : '';
  return `Method: ${METHOD_WORDS[x.method]}${x.methodNote ? `. ${x.methodNote}` : ''}. ${baseline}${cache}${greedy}. ${r.rows.length} spans in ${Math.round(x.totalMs)} ms.${partial}`;
}

/**
 * The token strip: every captured token laid out like the code it came from, shaded by how much
 * the selected token attends to it. Hover previews a token's attention; a click pins it.
 */
import { el } from '../shared/toolkit';
import type { CaptureSummary, TokenOrigin } from './protocol';

/** Whitespace made visible without losing the code's layout. */
export function displayToken(label: string): string {
  if (label === '') return '∅';
  return label.replace(/\r/g, '').replace(/\t/g, '⇥').replace(/\n/g, '↵\n');
}

/** Shading: √(weight / row max), so weak but real attention stays visible. */
export function heatLevel(w: number, max: number): number {
  return max > 0 ? Math.sqrt(Math.max(0, w) / max) : 0;
}

export class TokenStrip {
  readonly el = el('div', 'strip');
  private spans: HTMLElement[] = [];
  private marked: number[] = [];

  constructor(
    private readonly onHover: (position: number | null) => void,
    private readonly onPick: (position: number) => void,
  ) {
    this.el.setAttribute('role', 'listbox');
    this.el.setAttribute('aria-label', 'Tokens; click one to see what it attended to');
    this.el.addEventListener('mouseover', (e) => {
      const i = this.indexOf(e.target);
      if (i < 0) return;
      const s = this.spans[i];
      s.title = `${s.dataset.base}${s.dataset.w ? ` · weight ${s.dataset.w}%` : ''}`;
      this.onHover(i);
    });
    this.el.addEventListener('mouseleave', () => this.onHover(null));
    this.el.addEventListener('click', (e) => {
      const i = this.indexOf(e.target);
      if (i >= 0) this.onPick(i);
    });
  }

  setTokens(c: CaptureSummary): void {
    const recorded = c.queries.length === 0 ? null : new Set(c.queries);
    const origins = new Map(c.origins.map((o) => [o.position, o]));
    this.spans = c.labels.map((label, i) => {
      const s = el('span', 'tok', displayToken(label));
      s.dataset.i = String(i);
      if (i >= c.generatedFrom) s.classList.add('gen');
      if (c.special[i]) s.classList.add('special');
      if (recorded && !recorded.has(i)) s.classList.add('norows');
      const origin = origins.get(i);
      if (origin?.kind === 'cache') s.classList.add('copied');
      const outside = i >= c.generatedFrom && c.ghost ? ghostNote(i, c.ghost) : '';
      if (outside) s.classList.add('cut');
      s.dataset.base = `#${i} ${JSON.stringify(label)}${i >= c.generatedFrom ? ` (generated${outside})` : ''}${origin ? ` — ${originText(origin)}` : ''}`;
      return s;
    });
    this.el.replaceChildren(...this.spans);
    this.marked = [];
  }

  /** Shades every token by `weights` (keys of the selected query) and marks the query. */
  paint(weights: Float32Array | null, position: number, pinned: number): void {
    let max = 0;
    if (weights) for (let k = 0; k < weights.length; k++) if (k !== position && weights[k] > max) max = weights[k];
    for (let k = 0; k < this.spans.length; k++) {
      const level = weights && k !== position ? heatLevel(weights[k], max) : 0;
      this.spans[k].style.setProperty('--heat', level.toFixed(3));
      const w = weights ? weights[k] : 0;
      this.spans[k].dataset.w = weights && k <= position ? (w * 100).toFixed(2) : '';
    }
    for (const k of this.marked) this.spans[k]?.classList.remove('query', 'pinned');
    this.spans[position]?.classList.add('query');
    this.spans[pinned]?.classList.add('pinned');
    this.marked = [position, pinned];
  }

  /** Scrolls the strip (not the page) so the token is in view. */
  scrollTo(position: number): void {
    const s = this.spans[position];
    if (!s) return;
    const top = s.offsetTop; // the strip is the offset parent (position: relative)
    if (top < this.el.scrollTop || top + s.offsetHeight > this.el.scrollTop + this.el.clientHeight) {
      this.el.scrollTop = Math.max(0, top - this.el.clientHeight / 2);
    }
  }

  private indexOf(target: EventTarget | null): number {
    const t = target as HTMLElement | null;
    return t?.dataset?.i !== undefined ? Number(t.dataset.i) : -1;
  }
}

/** Why a generated token is not in the ghost text ('' when it is). */
export function ghostNote(i: number, ghost: { from: number; to: number }): string {
  if (i < ghost.from) return '; not in the ghost text: it re-types the end of what you typed (token healing)';
  if (i >= ghost.to) return '; not in the ghost text: cut by the line rule, a guard or the confidence gate';
  return '';
}

/** Where a generated token came from, in words: "copied from src/util.ts:42 (cache weight 0.81)". */
export function originText(o: TokenOrigin): string {
  const weight = `cache weight ${o.weight.toFixed(2)}`;
  if (o.kind === 'model') return `from the model (p ${o.p.toFixed(2)}, ${weight})`;
  const where =
    o.source?.kind === 'output'
      ? 'earlier in this suggestion'
      : o.source?.path
        ? `${o.source.path}${o.source.line !== undefined ? `:${o.source.line + 1}` : ''}`
        : 'the prompt';
  return `copied from ${where} (${weight}, p ${o.p.toFixed(2)})`;
}

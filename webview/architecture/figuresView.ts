/**
 * The derived-figure cards (bytes, KV cache, FLOPs, decode-speed bound vs measured), with a
 * context-length slider and a bandwidth input. Each card's tooltip gives its formula with this
 * model's numbers; moving a control recomputes the cards in place.
 */
import type { ArchitectureSummary } from '../../src/common/architectureTypes';
import {
  decodeTokensPerSecondBound,
  type Figure,
  flopsPerGeneratedToken,
  flopsPerPromptToken,
  formatBytes,
  formatCount,
  kvBytesPerToken,
  kvCacheBytes,
  memoryAtContext,
} from '../../src/common/figures';
import { el } from '../shared/toolkit';
import type { MeasuredSpeed } from './protocol';

interface FigureControls {
  context: number;
  bandwidthGBs: number;
}

interface Card {
  id: string;
  label: string;
  compute: (c: FigureControls) => { value: string; figure: Figure; sub?: string };
}

const flops = (v: number | null) => (v === null ? 'unknown' : `${formatCount(v)} FLOP`);

function cards(s: ArchitectureSummary, measured: () => MeasuredSpeed | null): Card[] {
  const c = s.cost;
  const ext = s.external.map((x) => `${x.file} (${formatBytes(x.bytes)})`).join(' + ');
  return [
    {
      id: 'params',
      label: 'Parameters',
      compute: () => ({
        value: s.totals.params.toLocaleString('en-US'),
        sub:
          s.totals.cardParams === null
            ? 'model card states no total'
            : s.totals.cardParams === s.totals.params
              ? 'matches the model card ✓'
              : `model card: ${s.totals.cardParams.toLocaleString('en-US')}`,
        figure: {
          value: s.totals.params,
          formula: `Σ learned tensors of every part (${s.totals.tensors} tensors); a tied LM head is counted once; scales, zero points and buffers are not parameters`,
        },
      }),
    },
    {
      id: 'disk',
      label: 'On disk',
      compute: () => ({
        value: formatBytes(c.diskBytes),
        figure: {
          value: c.diskBytes,
          formula: `${s.model.onnxFile}${ext ? ' + ' + ext : ''} (structure, weights, scales)`,
        },
      }),
    },
    {
      id: 'memory',
      label: 'Weights in memory',
      compute: () => ({
        value: formatBytes(c.memoryBytes),
        figure: {
          value: c.memoryBytes,
          formula:
            'Σ weight bytes as ONNX Runtime holds them: as stored, except fp16 weights the graph casts to fp32, which are folded to fp32 (4 B/param) at load',
        },
      }),
    },
    {
      id: 'kv-token',
      label: 'KV cache per token',
      compute: () => ({ value: formatBytes(kvBytesPerToken(c).value), figure: kvBytesPerToken(c) }),
    },
    {
      id: 'kv-context',
      label: 'KV cache at context',
      compute: (x) => ({ value: formatBytes(kvCacheBytes(c, x.context).value), figure: kvCacheBytes(c, x.context) }),
    },
    {
      id: 'memory-context',
      label: 'Memory at context',
      compute: (x) => ({
        value: formatBytes(memoryAtContext(c, x.context).value),
        figure: memoryAtContext(c, x.context),
      }),
    },
    {
      id: 'flops-decode',
      label: 'FLOPs per generated token',
      compute: (x) => ({
        value: flops(flopsPerGeneratedToken(c, x.context).value),
        figure: flopsPerGeneratedToken(c, x.context),
      }),
    },
    {
      id: 'flops-prompt',
      label: 'FLOPs per prompt token',
      compute: (x) => ({
        value: flops(flopsPerPromptToken(c, x.context).value),
        sub: `prompt of ${x.context.toLocaleString('en-US')} tokens`,
        figure: flopsPerPromptToken(c, x.context),
      }),
    },
    {
      id: 'decode-bound',
      label: 'Decode speed bound',
      compute: (x) => {
        const f = decodeTokensPerSecondBound(c, x.bandwidthGBs, x.context);
        const m = measured();
        const same = m && m.model === s.model.name;
        const sub = !m
          ? 'measured: no completion yet'
          : `measured here: ${Math.round(m.tokensPerSecond).toLocaleString('en-US')} tokens/s${same ? '' : ` (on ${m.model})`}`;
        const formula = `${f.formula}\nAn upper bound: each generated token reads every weight and the whole KV cache once.${m ? `\nMeasured: ${m.tokens - 1} decode steps in ${m.decodeMs.toFixed(0)} ms, the last request (context ${m.context} tokens).` : ''}`;
        return {
          value: f.value === null ? 'unknown' : `≤ ${Math.round(f.value).toLocaleString('en-US')} tokens/s`,
          sub,
          figure: { value: f.value, formula },
        };
      },
    },
  ];
}

export class FiguresView {
  readonly element: HTMLElement;
  private readonly values = new Map<string, { value: HTMLElement; sub: HTMLElement; card: HTMLElement }>();
  private readonly list: Card[];
  private readonly contextLabel: HTMLElement;

  constructor(
    s: ArchitectureSummary,
    private controls: FigureControls,
    private measured: MeasuredSpeed | null,
    private readonly onChange: (c: FigureControls) => void,
  ) {
    this.list = cards(s, () => this.measured);
    this.element = el('section', 'figures-section');
    this.element.append(el('h2', '', 'Sizes and costs'));
    const inputs = el('div', 'row inputs');
    const max = s.cost.maxContext ?? 32768;
    const slider = document.createElement('input');
    Object.assign(slider, {
      type: 'range',
      min: '1',
      max: String(max),
      value: String(Math.min(controls.context, max)),
      id: 'context-slider',
    });
    slider.setAttribute('aria-label', 'Context length in tokens');
    this.contextLabel = el('span', 'context-value', '');
    slider.addEventListener('input', () => this.set({ ...this.controls, context: Number(slider.value) }));
    const ctx = el('label', 'control');
    ctx.append(
      el(
        'span',
        'muted',
        `Context length (max ${max.toLocaleString('en-US')}${s.cost.maxContext ? '' : ', model unknown'}): `,
      ),
      slider,
      this.contextLabel,
    );
    const bw = el('vscode-text-field', 'bandwidth');
    bw.setAttribute('value', String(controls.bandwidthGBs));
    bw.setAttribute('aria-label', 'Memory bandwidth in GB/s');
    bw.id = 'bandwidth';
    bw.textContent = 'Memory bandwidth (GB/s)';
    bw.addEventListener('input', (e) => {
      const v = Number((e.target as HTMLInputElement).value);
      if (Number.isFinite(v) && v > 0) this.set({ ...this.controls, bandwidthGBs: v });
    });
    inputs.append(ctx, bw);
    this.element.append(inputs);
    const grid = el('div', 'cards');
    for (const card of this.list) {
      const box = el('div', 'card');
      box.tabIndex = 0;
      box.dataset.figure = card.id;
      const value = el('div', 'card-value');
      const sub = el('div', 'card-sub muted');
      box.append(el('div', 'card-label', card.label), value, sub);
      grid.append(box);
      this.values.set(card.id, { value, sub, card: box });
    }
    this.element.append(grid);
    this.update();
  }

  setMeasured(m: MeasuredSpeed | null): void {
    this.measured = m;
    this.update();
  }

  private set(c: FigureControls): void {
    this.controls = c;
    this.update();
    this.onChange(c);
  }

  private update(): void {
    this.contextLabel.textContent = ` ${this.controls.context.toLocaleString('en-US')} tokens`;
    for (const card of this.list) {
      const r = card.compute(this.controls);
      const v = this.values.get(card.id)!;
      v.value.textContent = r.value;
      v.sub.textContent = r.sub ?? '';
      v.card.title = `${card.label} = ${r.figure.formula}`;
      v.card.setAttribute('aria-label', `${card.label}: ${r.value}. ${r.figure.formula}`);
    }
  }
}

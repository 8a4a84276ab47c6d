/**
 * The logit lens table (top-5 next tokens after each layer, at the selected position) and, below
 * it, the model's final distribution with temperature, top-k and top-p sliders.
 */
import { el } from '../shared/toolkit';
import { processedDistribution, type Sampling } from './distribution';
import type { LensData } from './protocol';
import { displayToken } from './strip';

const BARS = 12;

function tokenCell(label: string | undefined, prob: number, actual: boolean): HTMLElement {
  const td = el('td', actual ? 'lens-cell actual' : 'lens-cell');
  td.style.setProperty('--p', prob.toFixed(3));
  td.append(
    el('code', '', displayToken(label ?? '?').replace(/\n/g, '')),
    el('span', 'pct', ` ${(prob * 100).toFixed(prob < 0.1 ? 1 : 0)}%`),
  );
  if (actual) td.title = 'The token that actually came next';
  return td;
}

/** The lens table; `actualNext` (if known) is highlighted wherever a layer ranks it. */
export function lensTable(lens: LensData, actualNext: number | undefined): HTMLElement {
  const table = el('table', 'lens');
  const head = el('tr');
  head.append(el('th', '', 'after'), ...Array.from({ length: lens.k }, (_, j) => el('th', '', `#${j + 1}`)));
  table.append(head);
  lens.layerNames.forEach((name, l) => {
    const tr = el('tr');
    tr.append(el('th', 'lens-layer', name));
    for (let j = 0; j < lens.k; j++) {
      const id = lens.topIds[l * lens.k + j];
      tr.append(tokenCell(lens.labels[id], lens.topProbs[l * lens.k + j], id === actualNext));
    }
    table.append(tr);
  });
  return table;
}

interface SliderSpec {
  key: keyof Sampling;
  label: string;
  min: number;
  max: number;
  step: number;
  format: (v: number) => string;
}

const SLIDERS: SliderSpec[] = [
  { key: 'temperature', label: 'Temperature', min: 0.05, max: 2, step: 0.05, format: (v) => v.toFixed(2) },
  { key: 'topK', label: 'Top-k', min: 0, max: 64, step: 1, format: (v) => (v === 0 ? 'off' : String(v)) },
  { key: 'topP', label: 'Top-p', min: 0.05, max: 1, step: 0.01, format: (v) => (v >= 1 ? 'off' : v.toFixed(2)) },
];

/** Sliders that call `onChange` with the new settings; the caller redraws the bars. */
export function samplingControls(s: Sampling, onChange: (s: Sampling) => void): HTMLElement {
  const box = el('div', 'sliders');
  for (const spec of SLIDERS) {
    const id = `slider-${spec.key}`;
    const label = el('label', 'slider');
    label.htmlFor = id;
    const value = el('span', 'slider-value', spec.format(s[spec.key]));
    const input = el('input');
    Object.assign(input, {
      type: 'range',
      id,
      min: String(spec.min),
      max: String(spec.max),
      step: String(spec.step),
      value: String(s[spec.key]),
    });
    input.addEventListener('input', () => {
      s = { ...s, [spec.key]: Number(input.value) };
      value.textContent = spec.format(s[spec.key]);
      onChange(s);
    });
    label.append(el('span', '', spec.label), input, value);
    box.append(label);
  }
  return box;
}

/** Bars of the processed final distribution. */
export function distributionBars(lens: LensData, s: Sampling, actualNext: number | undefined): HTMLElement {
  const { bars, kept } = processedDistribution(lens.final, s, BARS);
  const box = el('div', 'bars');
  for (const b of bars) {
    const row = el('div', b.id === actualNext ? 'bar actual' : 'bar');
    const fill = el('div', 'bar-fill');
    fill.style.setProperty('--p', b.prob.toFixed(4));
    row.append(
      el('code', 'bar-label', displayToken(lens.labels[b.id] ?? `#${b.id}`).replace(/\n/g, '')),
      fill,
      el('span', 'pct', `${(b.prob * 100).toFixed(1)}%`),
    );
    box.append(row);
  }
  box.append(
    el(
      'p',
      'muted small',
      `${kept.toLocaleString('en-US')} of ${lens.final.length.toLocaleString('en-US')} tokens can be sampled with these settings.`,
    ),
  );
  return box;
}

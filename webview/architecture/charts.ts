/**
 * Training and scaling (Chart.js, bundled): loss curves from training_log.json, scaling points
 * with the fitted L(N) = a·N^(−α) + c from scaling.json, and the quantization table. Colours come
 * from VS Code's --vscode-charts-* variables (shared/theme.ts). Absent records say so instead of
 * drawing nothing.
 */
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import type { TrainingInfo } from '../../src/common/architectureTypes';
import { formatBytes, formatCount } from '../../src/common/figures';
import { chartColor, chartForeground, themeVar, type ChartHue } from '../shared/theme';
import { el } from '../shared/toolkit';

Chart.register(
  LineController,
  ScatterController,
  LineElement,
  PointElement,
  LinearScale,
  LogarithmicScale,
  Tooltip,
  Legend,
);

function palette(): string[] {
  Chart.defaults.color = chartForeground();
  Chart.defaults.borderColor = themeVar('--vscode-charts-lines', 'rgba(128, 128, 128, 0.3)');
  Chart.defaults.font.family = themeVar('--vscode-font-family', 'sans-serif');
  const hues: ChartHue[] = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];
  return hues.map((hue) => chartColor(hue));
}

function canvasBox(label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const box = el('div', 'chart');
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  box.append(canvas);
  return { box, canvas };
}

function missing(what: string, file: string): HTMLElement {
  return el('p', 'muted not-available', `${what}: not available for this model (no ${file} beside it).`);
}

/** Builds the section; the charts it creates are pushed to `charts` so the caller can destroy them on redraw. */
export function trainingSection(t: TrainingInfo, charts: Chart[]): HTMLElement {
  const colours = palette();
  const section = el('section', 'training');
  section.append(el('h2', '', 'Training and scaling'));

  section.append(el('h3', '', 'Loss curves'));
  if (t.loss) {
    const { box, canvas } = canvasBox('Training loss curves');
    section.append(box, el('p', 'muted small', `From ${t.loss.source}.`));
    charts.push(
      new Chart(canvas, {
        type: 'line',
        data: {
          datasets: t.loss.series.map((s, i) => ({
            label: s.name,
            data: s.points,
            borderColor: colours[i % colours.length],
            backgroundColor: colours[i % colours.length],
            pointRadius: s.points.length > 60 ? 0 : 2,
            borderWidth: 1.5,
            parsing: false as const,
          })),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            x: { type: 'linear', title: { display: true, text: t.loss.xLabel } },
            y: { type: 'linear', title: { display: true, text: 'loss' } },
          },
        },
      }),
    );
  } else section.append(missing('Loss curves', 'training_log.json'));

  section.append(el('h3', '', 'Scaling'));
  if (t.scaling) {
    const sc = t.scaling;
    const { box, canvas } = canvasBox('Validation loss against parameters, with the fitted power law');
    const fit = sc.fit;
    const datasets: object[] = [
      {
        type: 'scatter',
        label: 'runs',
        data: sc.points.map((p) => ({ x: p.params, y: p.loss })),
        borderColor: colours[0],
        backgroundColor: colours[0],
        pointRadius: 4,
      },
    ];
    if (fit) {
      const lo = Math.log(sc.points[0].params / 2),
        hi = Math.log(sc.points[sc.points.length - 1].params * 2);
      const curve = Array.from({ length: 50 }, (_, i) => {
        const N = Math.exp(lo + ((hi - lo) * i) / 49);
        return { x: N, y: fit.a * N ** -fit.alpha + fit.c };
      });
      datasets.push({
        type: 'line',
        label: `L(N) = ${fit.a.toPrecision(3)}·N^(−${fit.alpha.toFixed(3)}) + ${fit.c.toFixed(3)}`,
        data: curve,
        borderColor: colours[1],
        pointRadius: 0,
        borderWidth: 1.5,
      });
    }
    charts.push(
      new Chart(canvas, {
        type: 'scatter',
        data: { datasets: datasets as never },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            x: {
              type: 'logarithmic',
              title: { display: true, text: 'parameters N' },
              ticks: { callback: (v) => (/^[125]/.test(Number(v).toExponential()) ? formatCount(Number(v)) : '') },
            },
            y: { title: { display: true, text: 'validation loss' } },
          },
          plugins: {
            tooltip: {
              callbacks: {
                label: (c) =>
                  `${c.dataset.label}: N = ${formatCount(c.parsed.x ?? 0)}, L = ${(c.parsed.y ?? 0).toFixed(3)}`,
              },
            },
          },
        },
      }),
    );
    section.append(
      box,
      el(
        'p',
        'muted small',
        `${fit ? `Fit: ${fit.source}. Points: ${sc.source}.` : `Points from ${sc.source}; too few to fit.`}${sc.note ? ` ${sc.note}.` : ''}`,
      ),
    );
    const table = el('table', 'figures small');
    table.append(row(['run', 'parameters', 'tokens', 'FLOPs', 'validation loss'], 'th'));
    for (const p of sc.points)
      table.append(
        row([
          p.label ?? '',
          formatCount(p.params),
          p.tokens ? formatCount(p.tokens) : '–',
          p.flops ? p.flops.toExponential(2) : '–',
          p.loss.toFixed(4),
        ]),
      );
    section.append(table);
  } else section.append(missing('Scaling points', 'scaling.json'));

  section.append(el('h3', '', 'Quantization'));
  if (t.quantization) {
    const table = el('table', 'figures quant-table');
    table.append(row(t.quantization.columns, 'th'));
    const cols = t.quantization.columns;
    const cell = (c: string | number | boolean | null, col: string) => {
      if (c === null) return '–';
      if (typeof c === 'boolean') return c ? '✓' : '';
      if (typeof c === 'string') return c;
      if (/bytes/i.test(col)) return formatBytes(c);
      return Number.isInteger(c) ? c.toLocaleString('en-US') : c.toPrecision(4);
    };
    for (const r of t.quantization.rows) table.append(row(r.map((c, i) => cell(c, cols[i]))));
    section.append(table, el('p', 'muted small', `From ${t.quantization.source}.`));
  } else section.append(missing('Quantization table', 'quantization.json or a model-card table'));

  for (const note of t.notes) section.append(el('p', 'warning small', note));
  return section;
}

function row(cells: string[], tag: 'td' | 'th' = 'td'): HTMLTableRowElement {
  const tr = el('tr');
  for (const c of cells) tr.append(el(tag, '', c));
  return tr;
}

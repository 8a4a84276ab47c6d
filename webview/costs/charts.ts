/**
 * The Costs panel's charts (Chart.js, bundled). Colours come from VS Code's theme variables
 * (--vscode-charts-*, read by shared/theme.ts), read again whenever the theme changes; tooltips
 * show each figure's formula.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type TooltipItem,
} from 'chart.js';
import { chartColor, chartForeground, themeVar } from '../shared/theme';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
);

export interface Theme {
  fg: string;
  grid: string;
  local: string;
  vendor: (vendor: string) => string;
}

export function readTheme(): Theme {
  const fg = chartForeground();
  const colours: Record<string, string> = {
    openai: chartColor('green'),
    anthropic: chartColor('orange'),
    google: chartColor('blue'),
    mistral: chartColor('yellow'),
    deepseek: chartColor('purple'),
    xai: chartColor('red'),
  };
  Chart.defaults.color = fg;
  Chart.defaults.borderColor = themeVar('--vscode-charts-lines', withAlpha(fg, 0.25));
  Chart.defaults.font.family = themeVar('--vscode-font-family', 'sans-serif');
  return {
    fg,
    grid: Chart.defaults.borderColor as string,
    local: themeVar('--vscode-textLink-foreground', fg),
    vendor: (name) => colours[name] ?? fg,
  };
}

/** `color` (hex or rgb()) at opacity `a`; other notations are returned unchanged. */
function withAlpha(color: string, a: number): string {
  let m = /^#([0-9a-f]{3,8})$/i.exec(color);
  if (m) {
    let h = m[1];
    if (h.length <= 4) h = [...h].map((c) => c + c).join('');
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  m = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color);
  return m ? `rgba(${m[1].trim()}, ${m[2].trim()}, ${m[3].trim()}, ${a})` : color;
}

const charts = new Map<HTMLCanvasElement, Chart>();

function replace(canvas: HTMLCanvasElement, chart: () => Chart): void {
  charts.get(canvas)?.destroy();
  charts.set(canvas, chart());
}

/** Drops charts whose canvas left the page. */
export function pruneCharts(): void {
  for (const [canvas, chart] of charts) {
    if (!canvas.isConnected) {
      chart.destroy();
      charts.delete(canvas);
    }
  }
}

export interface Bar {
  label: string;
  value: number;
  colour: string;
  /** Tooltip lines: the formula and its inputs. */
  tooltip: string[];
}

/** Horizontal bars, on a log axis when every value is positive (costs span orders of magnitude). */
export function barChart(canvas: HTMLCanvasElement, bars: Bar[], axis: string, format: (x: number) => string): void {
  const log = bars.length > 0 && bars.every((b) => b.value > 0);
  replace(
    canvas,
    () =>
      new Chart(canvas, {
        type: 'bar',
        data: {
          labels: bars.map((b) => b.label),
          datasets: [
            {
              data: bars.map((b) => b.value),
              backgroundColor: bars.map((b) => withAlpha(b.colour, 0.7)),
              borderColor: bars.map((b) => b.colour),
              borderWidth: 1,
            },
          ],
        },
        options: {
          indexAxis: 'y',
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: (item: TooltipItem<'bar'>) => [
                  format(bars[item.dataIndex].value),
                  ...bars[item.dataIndex].tooltip,
                ],
              },
            },
          },
          scales: {
            x: {
              type: log ? 'logarithmic' : 'linear',
              title: { display: true, text: `${axis}${log ? ' (log scale)' : ''}` },
              ticks: { callback: (v) => format(Number(v)) },
            },
            y: { ticks: { autoSkip: false } },
          },
        },
      }),
  );
}

export interface Line {
  label: string;
  colour: string;
  dash: number[];
  points: { x: number; y: number }[];
  hidden: boolean;
  width: number;
  /** Where this line crosses the local one, drawn ✕ on the line (so the legend hides both). */
  crossing?: { x: number; y: number; tooltip: string[] };
}

type Point = { x: number; y: number; crossing?: string[] };

/** Monthly cost against requests per day, both on log axes, with crossing points marked. */
export function breakEvenChart(canvas: HTMLCanvasElement, lines: Line[], format: (x: number) => string): void {
  const datasets: ChartDataset<'line', Point[]>[] = lines.map((l) => ({
    label: l.label,
    data: l.crossing
      ? [...l.points, { x: l.crossing.x, y: l.crossing.y, crossing: l.crossing.tooltip }].sort((a, b) => a.x - b.x)
      : l.points,
    borderColor: l.colour,
    backgroundColor: l.colour,
    borderDash: l.dash,
    borderWidth: l.width,
    hidden: l.hidden,
    pointStyle: 'crossRot',
    pointRadius: (ctx) => ((ctx.raw as Point | undefined)?.crossing ? 9 : 0),
    pointBorderWidth: 3,
  }));
  replace(
    canvas,
    () =>
      new Chart(canvas, {
        type: 'line',
        data: { datasets },
        options: {
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'nearest', intersect: false },
          plugins: {
            legend: { position: 'bottom', labels: { boxWidth: 14, font: { size: 11 } } },
            tooltip: {
              callbacks: {
                label: (item: TooltipItem<'line'>) =>
                  (item.raw as Point).crossing ??
                  `${item.dataset.label}: ${format(item.parsed.y ?? 0)}/month at ${Math.round(item.parsed.x ?? 0).toLocaleString('en-US')} requests/day`,
              },
            },
          },
          scales: {
            x: {
              type: 'logarithmic',
              title: { display: true, text: 'Requests per day, whole team (log scale)' },
              ticks: { callback: (v) => Number(v).toLocaleString('en-US') },
            },
            y: {
              type: 'logarithmic',
              title: { display: true, text: 'USD per month (log scale)' },
              ticks: { callback: (v) => format(Number(v)) },
            },
          },
        },
      }),
  );
}

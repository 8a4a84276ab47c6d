/**
 * Theme colours for canvas drawing (CSS handles the DOM), as RGB for blending; re-read when the
 * theme changes. The values come from shared/theme.ts, as in the other views.
 */
import { themeVar } from '../shared/theme';

type Rgb = [number, number, number];

const FALLBACK: Record<string, Rgb> = {
  '--vscode-editor-background': [30, 30, 30],
  '--vscode-foreground': [204, 204, 204],
  '--vscode-charts-orange': [209, 134, 22],
  '--vscode-descriptionForeground': [160, 160, 160],
};

/** Parses #rgb, #rrggbb(aa) and rgb()/rgba() as VS Code writes its theme variables. */
function parseColor(text: string): Rgb | undefined {
  const s = text.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (hex) {
    const h = hex[1];
    if (h.length === 3 || h.length === 4) return [0, 1, 2].map((i) => parseInt(h[i] + h[i], 16)) as Rgb;
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(s);
  if (rgb) {
    const parts = rgb[1].split(/[ ,/]+/).map(Number);
    if (parts.length >= 3 && parts.slice(0, 3).every(Number.isFinite)) return [parts[0], parts[1], parts[2]];
  }
  return undefined;
}

export function themeColor(variable: string): Rgb {
  return parseColor(themeVar(variable)) ?? FALLBACK[variable] ?? [128, 128, 128];
}

export function css([r, g, b]: Rgb, alpha = 1): string {
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Head colours for the line view, from the theme's chart palette. */
export function headPalette(): Rgb[] {
  return [
    '--vscode-charts-orange',
    '--vscode-charts-blue',
    '--vscode-charts-green',
    '--vscode-charts-purple',
    '--vscode-charts-red',
    '--vscode-charts-yellow',
  ].map(themeColor);
}

/** A 256-entry RGBA ramp from the background to the accent, for thumbnails (byte → colour). */
export function ramp(from: Rgb, to: Rgb): Uint8ClampedArray {
  const out = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) {
    const t = v / 255;
    for (let c = 0; c < 3; c++) out[v * 4 + c] = from[c] + (to[c] - from[c]) * t;
    out[v * 4 + 3] = 255;
  }
  return out;
}

/**
 * VS Code's theme colours for what CSS cannot colour: canvas drawings and Chart.js. VS Code sets
 * its --vscode-* variables on <body> and changes them with the theme, so each view reads them
 * again when the theme changes; the stylesheets use the variables directly.
 */

/** A theme variable's value, or `fallback` where it is unset (an older VS Code, or a theme without it). */
export function themeVar(name: string, fallback = ''): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** VS Code's default chart colours, for a theme that sets none. */
const CHART_FALLBACK = {
  blue: '#3794ff',
  orange: '#d18616',
  green: '#89d185',
  purple: '#b180d7',
  red: '#f14c4c',
  yellow: '#cca700',
} as const;

export type ChartHue = keyof typeof CHART_FALLBACK;

/** One of the theme's chart colours (--vscode-charts-<hue>). */
export function chartColor(hue: ChartHue): string {
  return themeVar(`--vscode-charts-${hue}`, CHART_FALLBACK[hue]);
}

/** Chart text and axes: the theme's chart foreground, else its foreground. */
export function chartForeground(): string {
  return themeVar('--vscode-charts-foreground', themeVar('--vscode-foreground', '#888888'));
}

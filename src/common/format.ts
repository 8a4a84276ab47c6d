/**
 * Number formatting shared by the Costs panel's labels and its host's tooltips (src/common: pure
 * code both sides of the webview line may import).
 */

/** USD with enough digits to tell small amounts apart: $1,234 · $12.34 · $0.123 · $0.0000123. */
export function usd(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '$0';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 1 ? 2 : a >= 0.01 ? 3 : Math.min(10, 2 - Math.floor(Math.log10(a)));
  return `${x < 0 ? '-' : ''}$${a.toLocaleString('en-US', { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}

/** A per-1M-token price for a table cell: $2.50. */
export function perM(x: number | undefined): string {
  return x === undefined
    ? '–'
    : `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
}

export function count(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** Milliseconds as "850 ms" or "12.5 s". */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} s`;
}

/** Compact token counts: 950 · 12.3k · 1.05M. */
export function tokens(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toLocaleString('en-US', { maximumFractionDigits: 2 })}M`;
  if (x >= 1e4) return `${(x / 1e3).toLocaleString('en-US', { maximumFractionDigits: 1 })}k`;
  return count(x);
}

/** A per-1M-token price in a formula: $2.50/M. */
export function perMillion(x: number): string {
  return `${perM(x)}/M`;
}

/** Up to `digits` decimals, without trailing zeros. */
export function num(x: number, digits = 2): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits });
}

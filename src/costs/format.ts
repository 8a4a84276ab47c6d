/** Number formatting for the formulas in the panel's tooltips (the webview formats its own labels). */

/** USD with enough digits to tell small amounts apart: $1,234 · $12.34 · $0.123 · $0.0000123. */
export function usd(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '$0';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 1 ? 2 : a >= 0.01 ? 3 : Math.min(10, 2 - Math.floor(Math.log10(a)));
  return `${x < 0 ? '-' : ''}$${a.toLocaleString('en-US', { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}

/** A per-1M-token price: $2.50/M. */
export function perM(x: number): string {
  return `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}/M`;
}

export function count(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** Up to `digits` decimals, without trailing zeros. */
export function num(x: number, digits = 2): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits });
}

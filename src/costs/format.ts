/** Number formatting for the formulas in the panel's tooltips (the webview formats its own labels). */

/** USD with enough digits to tell small amounts apart: the panel's own formatter, one copy. */
export { usd } from '../../webview/costs/format';

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

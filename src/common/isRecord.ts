/**
 * The one "is this a JSON object?" check behind every message guard and file validator (host,
 * workers and webviews alike: src/common imports nothing, so each side may use it). Arrays are not
 * records: no message or file field that expects an object may be one.
 */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * The text around the cursor that goes into a FIM prompt. It is taken by characters from the
 * document (never the whole of a 50,000-line file), and the prefix starts on a line boundary
 * that moves in steps of 16 lines, so that typing keeps the same prompt start and the engine's
 * prefix-KV reuse keeps working.
 */
export interface TextSource {
  lineCount: number;
  /** Offset of the start of a 0-based line. */
  lineStartOffset(line: number): number;
  /** Text between two offsets. */
  slice(start: number, end: number): string;
  length: number;
}

const LINE_STEP = 16;
/** Characters per token assumed when sizing the window; code averages 3–4, so the engine rarely cuts. */
const CHARS_PER_TOKEN = 3;

export interface ContextWindow {
  prefix: string;
  suffix: string;
}

export function contextWindow(doc: TextSource, line: number, offset: number, budgetTokens: number, prefixShare = 0.85): ContextWindow {
  const prefixChars = Math.floor(budgetTokens * prefixShare * CHARS_PER_TOKEN);
  const suffixChars = Math.floor(budgetTokens * (1 - prefixShare) * CHARS_PER_TOKEN);
  // The first line that keeps the prefix within budget, rounded up to a multiple of LINE_STEP.
  let lo = 0;
  let hi = line;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offset - doc.lineStartOffset(mid) <= prefixChars) hi = mid;
    else lo = mid + 1;
  }
  const startLine = Math.min(line, Math.ceil(lo / LINE_STEP) * LINE_STEP);
  let start = doc.lineStartOffset(startLine);
  if (offset - start > prefixChars) start = offset - prefixChars; // one very long line
  const end = Math.min(doc.length, offset + suffixChars);
  return { prefix: doc.slice(start, offset), suffix: doc.slice(offset, end) };
}

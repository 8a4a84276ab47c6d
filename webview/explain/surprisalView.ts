/**
 * "What the model did not expect": the selected code with each token shaded by its surprisal,
 * and the most surprising words with their line. Code that surprises a language model is more often
 * wrong (Ray et al., ICSE 2016), so these are the places to read twice.
 */
import { el } from '../shared/toolkit';
import type { CodeSurprisal } from './protocol';

/** Five bands of bits: unremarkable … very unexpected. */
function band(bits: number): number {
  return bits >= 12 ? 4 : bits >= 8 ? 3 : bits >= 5 ? 2 : bits >= 2 ? 1 : 0;
}

export function surprisalView(s: CodeSurprisal): HTMLElement {
  const box = el('div', 'surprisal');
  box.append(
    el(
      'p',
      'muted small',
      `How unexpected each word of the code was to the model (surprisal, bits: −log₂ of its probability, with the copy cache). Code that surprises a model is more often wrong; the mean here is ${s.meanBits.toFixed(1)} bits per token.`,
    ),
  );
  // the line each token starts on, to place the listed words
  const lineOf: number[] = [];
  let line = 1;
  for (const t of s.tokens) {
    lineOf.push(line);
    line += t.text.split('\n').length - 1;
  }
  const list = el('ol', 'surprising');
  for (const i of s.top) {
    const w = s.words[i];
    const item = el('li');
    item.append(el('code', '', w.text.trim()), ` — line ${lineOf[w.start]}, ${w.bits.toFixed(1)} bits`);
    list.append(item);
  }
  box.append(list);
  const code = el('pre', 'code surprisal-code');
  const topWords = new Set(s.top);
  s.words.forEach((w, i) => {
    const span = el(
      'span',
      `surp surp-${band(w.bits)}${topWords.has(i) ? ' surp-top' : ''}`,
      s.tokens
        .slice(w.start, w.end)
        .map((t) => t.text)
        .join(''),
    );
    span.title = `${w.bits.toFixed(1)} bits`;
    code.append(span);
  });
  box.append(code);
  return box;
}

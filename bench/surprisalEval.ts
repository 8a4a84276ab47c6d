/**
 * Does "What the model did not expect" point at bugs? For functions of the test split, one token is
 * changed the way a slip of the finger or of the mind changes code (a swapped operator or literal,
 * two letters of a name swapped) and the changed code's surprisal is computed with the file before
 * it as context (src/engine/explain/surprisal.ts). Reported: how often a word of the change is among the
 * three most surprising words of the function (target ≥ 60%), next to what picking three words at
 * random would give. Changes go in code only, not in comments or docstrings.
 */
import type { DecoderModel } from '../src/engine/runtime/decoder';
import { seededRandom } from '../src/engine/generation/sampling';
import { surprisal } from '../src/engine/explain/surprisal';
import type { TestFile } from './lineCases';

export interface SurprisalEval {
  functions: number;
  /** Share of functions whose change has a token among the top 3 most surprising. */
  top3: number;
  /** Expected share for three tokens picked at random (same functions). */
  chance: number;
  byKind: Record<string, { n: number; top3: number }>;
  examples: { change: string; line: string; found: boolean }[];
}

const SWAPS: [RegExp, string, string][] = [
  [/ \+ /g, ' - ', 'operator'],
  [/ - /g, ' + ', 'operator'],
  [/ < /g, ' > ', 'operator'],
  [/ > /g, ' < ', 'operator'],
  [/ == /g, ' != ', 'operator'],
  [/ != /g, ' == ', 'operator'],
  [/ and /g, ' or ', 'operator'],
  [/ && /g, ' || ', 'operator'],
  [/\bTrue\b/g, 'False', 'literal'],
  [/\btrue\b/g, 'false', 'literal'],
  [/\b0\b/g, '1', 'literal'],
];

interface Change {
  code: string;
  at: number;
  end: number;
  kind: string;
  what: string;
}

/** Functions of 5–25 lines that start with `def ` or `function ` (the body up to the next line as indented as the start). */
function functions(files: TestFile[]): { file: TestFile; start: number; code: string }[] {
  const out: { file: TestFile; start: number; code: string }[] = [];
  for (const f of files) {
    const lines = f.text.split('\n');
    let offset = 0;
    for (let i = 0; i < lines.length; offset += lines[i].length + 1, i++) {
      const m = /^(\s*)(def |(export )?(async )?function )/.exec(lines[i]);
      if (!m) continue;
      let j = i + 1;
      while (
        j < lines.length &&
        (lines[j].trim() === '' || lines[j].length - lines[j].trimStart().length > m[1].length)
      )
        j++;
      if (lines[j]?.trim().startsWith('}')) j++; // a brace language's closing line
      if (j - i >= 5 && j - i <= 25) out.push({ file: f, start: offset, code: lines.slice(i, j).join('\n') });
    }
  }
  return out;
}

/** Character ranges of comments, docstrings and strings: a change there is not a change to the code. */
function proseRanges(code: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of code.matchAll(/"""[\s\S]*?"""|'''[\s\S]*?'''|\/\*[\s\S]*?\*\/|(#|\/\/)[^\n]*|'[^'\n]*'|"[^"\n]*"/g))
    out.push([m.index!, m.index! + m[0].length]);
  return out;
}

/**
 * One change below the first line: a swapped operator or literal, or two letters swapped in a name
 * used earlier in the function; the kind is drawn first, then the place.
 */
function change(code: string, random: () => number): Change | null {
  const bodyStart = code.indexOf('\n') + 1;
  const options: Change[] = [];
  const prose = proseRanges(code);
  const inProse = (at: number) => prose.some(([a, b]) => at >= a && at < b);
  for (const [re, to, kind] of SWAPS) {
    for (const m of code.matchAll(re)) {
      if (m.index! < bodyStart || inProse(m.index!)) continue;
      options.push({
        code: code.slice(0, m.index) + to + code.slice(m.index! + m[0].length),
        at: m.index!,
        end: m.index! + to.length,
        kind,
        what: `${m[0].trim()} → ${to.trim()}`,
      });
    }
  }
  const names = new Set<string>();
  for (const m of code.matchAll(/[A-Za-z_][A-Za-z0-9_]{3,}/g)) {
    if (m.index! >= bodyStart && names.has(m[0]) && !inProse(m.index!)) {
      const k = 1 + Math.floor(random() * (m[0].length - 2)); // swap letters k and k + 1, not the first
      const typo = m[0].slice(0, k) + m[0][k + 1] + m[0][k] + m[0].slice(k + 2);
      if (typo !== m[0])
        options.push({
          code: code.slice(0, m.index) + typo + code.slice(m.index! + m[0].length),
          at: m.index!,
          end: m.index! + typo.length,
          kind: 'typo',
          what: `${m[0]} → ${typo}`,
        });
    }
    names.add(m[0]);
  }
  if (!options.length) return null;
  // the kind first, so that operators and literals count as much as names (names are far more common)
  const kinds = [...new Set(options.map((o) => o.kind))];
  const kind = kinds[Math.floor(random() * kinds.length)];
  const ofKind = options.filter((o) => o.kind === kind);
  return ofKind[Math.floor(random() * ofKind.length)];
}

export async function surprisalEval(
  model: DecoderModel,
  files: TestFile[],
  count: number,
  seed: number,
): Promise<SurprisalEval> {
  const random = seededRandom(seed);
  const pool = functions(files);
  const result: SurprisalEval = { functions: 0, top3: 0, chance: 0, byKind: {}, examples: [] };
  const used = new Set<number>();
  while (result.functions < count && used.size < pool.length) {
    const k = Math.floor(random() * pool.length);
    if (used.has(k)) continue;
    used.add(k);
    const fn = pool[k];
    const c = change(fn.code, random);
    if (!c) continue;
    const context = fn.file.text.slice(Math.max(0, fn.start - 3000), fn.start);
    const s = await surprisal(model, c.code, context);
    // words that overlap the changed characters
    const ends: number[] = [];
    s.tokens.reduce((pos, t) => (ends.push(pos + t.text.length), pos + t.text.length), 0);
    const hit = new Set<number>();
    s.words.forEach((w, i) => {
      const from = w.start > 0 ? ends[w.start - 1] : 0;
      if (from < c.end && ends[w.end - 1] > c.at) hit.add(i);
    });
    const found = s.top.slice(0, 3).some((i) => hit.has(i));
    const scored = s.words.filter((w) => w.text.trim() !== '').length;
    result.functions++;
    result.top3 += found ? 1 : 0;
    result.chance += Math.min(1, (3 * hit.size) / Math.max(1, scored));
    const kind = (result.byKind[c.kind] ??= { n: 0, top3: 0 });
    kind.n++;
    kind.top3 += found ? 1 : 0;
    if (result.examples.length < 8)
      result.examples.push({
        change: c.what,
        line: c.code.slice(c.code.lastIndexOf('\n', c.at) + 1, c.code.indexOf('\n', c.end) >>> 0).trim(),
        found,
      });
  }
  const n = Math.max(1, result.functions);
  result.top3 /= n;
  result.chance /= n;
  for (const v of Object.values(result.byKind)) v.top3 /= Math.max(1, v.n);
  return result;
}

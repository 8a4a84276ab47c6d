#!/usr/bin/env node
// Measures how many characters of code make one o200k_base token (GPT-4o/4.1/5), the ratio
// src/costs/tokenCounts.ts uses to estimate other vendors' token counts, and how wrong that
// estimate is per request. Code comes from this repository and from node_modules (.ts, .js that
// is not minified, .py), cut into prompt-sized windows (4,000 chars) and completion-sized ones
// (200 chars). Files are split in two by a hash of their path: the ratio is fitted on one half and
// its error measured on the other.
//   node scripts/calibrate-chars-per-token.js [--files N]
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const o200k = require('gpt-tokenizer/encoding/o200k_base');
// Special-token text (e.g. <|fim_prefix|> in a test fixture) counts as plain text, as in a prompt.
const countTokens = (text) => o200k.countTokens(text, { disallowedSpecial: new Set() });

const root = path.join(__dirname, '..');
const maxFiles = Number(process.argv[process.argv.indexOf('--files') + 1]) || 3000;
const WINDOWS = { prompt: 4000, completion: 200 };

function walk(dir, out, depth = 0) {
  if (depth > 8) return;
  let names;
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of names.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) {
      if (!['.git', 'dist', 'out', '.e2e', '.vscode-test', 'test-results', 'results'].includes(d.name))
        walk(p, out, depth + 1);
    } else if (/\.(ts|js|py|mjs|cjs)$/.test(d.name) && !d.name.endsWith('.d.ts') && !d.name.endsWith('.min.js')) {
      out.push(p);
    }
  }
}

/** Looks like hand-written code: not minified, not a data table. */
function isCode(text) {
  if (text.length < 1000) return false;
  const lines = text.split('\n');
  const long = lines.filter((l) => l.length > 300).length;
  return long / lines.length < 0.01 && text.length / lines.length < 80;
}

const files = [];
for (const dir of ['src', 'test', 'webview', 'bench', 'models/recipe', 'scripts']) walk(path.join(root, dir), files);
const own = files.length;
const deps = [];
walk(path.join(root, 'node_modules'), deps);
const step = Math.max(1, Math.floor(deps.length / maxFiles));
for (let i = 0; i < deps.length; i += step) files.push(deps[i]);

const samples = { fit: { prompt: [], completion: [] }, test: { prompt: [], completion: [] } };
let used = 0;
for (const f of files) {
  const text = fs.readFileSync(f, 'utf8');
  if (!isCode(text)) continue;
  used++;
  const half = crypto.createHash('sha1').update(path.relative(root, f)).digest()[0] % 2 === 0 ? 'fit' : 'test';
  for (const [kind, size] of Object.entries(WINDOWS)) {
    // At most 3 windows per file, so large files do not dominate.
    const stride = Math.max(size, Math.floor((text.length - size) / 3));
    for (let at = 0, n = 0; at + size <= text.length && n < 3; at += stride, n++) {
      const w = text.slice(at, at + size);
      samples[half][kind].push({ chars: w.length, tokens: countTokens(w) });
    }
  }
}

const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const fit = [...samples.fit.prompt, ...samples.fit.completion];
const ratio = sum(samples.fit.prompt, (s) => s.chars) / sum(samples.fit.prompt, (s) => s.tokens);
console.log(`files: ${used} of ${files.length} read (${own} from this repo), windows fitted: ${fit.length}`);
console.log(`chars per o200k token (fitted on prompt windows): ${ratio.toFixed(3)}`);
for (const kind of Object.keys(WINDOWS)) {
  const t = samples.test[kind];
  const rel = t.map((s) => (s.chars / ratio - s.tokens) / s.tokens);
  const abs = rel.map(Math.abs);
  const total = (sum(t, (s) => s.chars / ratio) - sum(t, (s) => s.tokens)) / sum(t, (s) => s.tokens);
  console.log(
    `${kind} windows (${WINDOWS[kind]} chars, ${t.length} held out): ` +
      `median |error| ${(100 * q(abs, 0.5)).toFixed(1)}%, p90 |error| ${(100 * q(abs, 0.9)).toFixed(1)}%, ` +
      `mean signed ${((100 * sum(rel, (x) => x)) / rel.length).toFixed(1)}%, error of the total ${(100 * total).toFixed(1)}%`,
  );
}

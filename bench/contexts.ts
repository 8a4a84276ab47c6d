/**
 * Deterministic code for the benchmark to complete: windows cut from the repository's own
 * TypeScript sources (always present, unlike the git-ignored training corpus).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function walk(dir: string, out: string[]): void {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
}

/** The concatenated sources of src/ (sorted paths, so every run sees the same text). */
export function codeText(root: string): string {
  const files: string[] = [];
  walk(path.join(root, 'src'), files);
  return files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

/**
 * `count` different cursor positions, each with about `prefixChars` before it, cut at a line
 * start + a few characters in (like a user typing). Distinct prefixes: no cache reuse between them.
 */
export function cursorContexts(
  text: string,
  count: number,
  prefixChars: number,
  suffixChars: number,
): { prefix: string; suffix: string }[] {
  const out: { prefix: string; suffix: string }[] = [];
  const stride = Math.max(1, Math.floor((text.length - prefixChars - suffixChars) / count));
  for (let i = 0; i < count; i++) {
    let at = prefixChars + i * stride;
    const nl = text.indexOf('\n', at);
    at = nl < 0 ? at : Math.min(text.length - suffixChars, nl + 5);
    out.push({ prefix: text.slice(at - prefixChars, at), suffix: text.slice(at, at + suffixChars) });
  }
  return out;
}

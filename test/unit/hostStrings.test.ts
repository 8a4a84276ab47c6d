// The host's user-facing strings go through vscode.l10n.t (issue 31, item 9), so a translation
// bundle can replace them: a notification, a quick pick's label, a dialog's title written as a
// plain literal in these files fails here. The plain-Node rooms (src/engine, src/net, the
// modelHub's and costs' plain modules) cannot import vscode; their errors reach the user wrapped
// in one of these messages.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const PLACES = [
  'src/commands.ts',
  'src/extension.ts',
  'src/remoteHost.ts',
  'src/explain',
  'src/modelHub',
  'src/webviewHost',
  'src/architecture',
  'src/costs',
  'src/backends',
  'src/sidebar',
];

/** Where VS Code shows text to a person, followed by a literal (quote or template): group 1. */
const SHOWN_LITERAL = [
  /show(?:Information|Warning|Error)Message\(\s*(['"`].*)$/,
  /setStatusBarMessage\(\s*(['"`].*)$/,
  /\b(?:title|placeholder|placeHolder|prompt|openLabel|saveLabel|detail|label|description):\s*(['"`].*)$/,
  /\.(?:title|placeholder) = (['"`].*)$/,
];

/** Whether a literal holds words, once its ${…} values and $(icon) names are taken out. */
function hasWords(literal: string): boolean {
  const quote = literal[0];
  const body = literal.slice(1, literal.lastIndexOf(quote) > 0 ? literal.lastIndexOf(quote) : undefined);
  let text = '';
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    if (body.startsWith('${', i)) {
      depth++;
      i++;
    } else if (depth > 0 && body[i] === '{') depth++;
    else if (depth > 0 && body[i] === '}') depth--;
    else if (depth === 0) text += body[i];
  }
  return /[A-Za-z]{2,}/.test(text.replace(/\$\([\w~-]+\)/g, ''));
}

/** Names, not words: the product's name stands in every language. */
const ALLOWED = [/title: 'Glassbox'/, /\{ title: 'Glassbox' \}/];

function hostFiles(): string[] {
  const out: string[] = [];
  for (const place of PLACES) {
    const full = path.join(ROOT, place);
    const files = fs.statSync(full).isDirectory() ? fs.readdirSync(full).map((f) => path.join(full, f)) : [full];
    for (const f of files) if (f.endsWith('.ts') && /from 'vscode'/.test(fs.readFileSync(f, 'utf8'))) out.push(f);
  }
  return out;
}

describe('host strings', () => {
  it('notifications, titles and labels in the VS Code side go through vscode.l10n.t', () => {
    const files = hostFiles();
    assert.ok(files.length > 10, `found ${files.length} host files`);
    const bad: string[] = [];
    for (const f of files) {
      fs.readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const literal = SHOWN_LITERAL.map((re) => re.exec(line)?.[1]).find((l) => l !== undefined);
          if (literal && hasWords(literal) && !ALLOWED.some((re) => re.test(line)))
            bad.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(bad, []);
  });
});

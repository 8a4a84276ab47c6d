// README.md's settings and keybinding tables are generated from package.json
// (scripts/readme-tables.js); its commands table and the keys its prose names are written by hand
// and checked here against package.json, so none of them drifts from what the extension contributes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

interface Keybinding {
  command: string;
  key: string;
  mac?: string;
}

interface Manifest {
  contributes: {
    configuration: { properties: Record<string, unknown> };
    commands: { command: string; title: string; category?: string }[];
    keybindings: Keybinding[];
    menus?: { commandPalette?: { command: string; when?: string }[] };
  };
}

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const nlsFile = path.join(ROOT, 'package.nls.json');
const nls = (fs.existsSync(nlsFile) ? JSON.parse(fs.readFileSync(nlsFile, 'utf8')) : {}) as Record<string, string>;
// %key% references resolve to package.nls.json's English, as VS Code shows them
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'), (_key, value: unknown) =>
  typeof value === 'string' && /^%[\w.-]+%$/.test(value) ? (nls[value.slice(1, -1)] ?? value) : value,
) as Manifest;

/** Keys of VS Code's own that the README names: Windows/Linux → macOS. */
const VSCODE_KEYS: Record<string, string> = {
  'ctrl+right': 'cmd+right', // editor.action.inlineSuggest.acceptNextWord
};

/** A key as package.json writes it: lower case, arrows by name, modifiers in one order per chord. */
function normalizeKey(key: string): string {
  const arrows: Record<string, string> = { '→': 'right', '←': 'left', '↑': 'up', '↓': 'down' };
  return key
    .toLowerCase()
    .split(' ')
    .map((chord) => {
      const parts = chord.split('+').map((p) => arrows[p] ?? p);
      const last = parts.pop() ?? '';
      return [...parts.sort(), last].join('+');
    })
    .join(' ');
}

const MODIFIED_KEY =
  /^(?:(?:ctrl|cmd|alt|shift|meta|option)\+)+\S+(?: (?:(?:ctrl|cmd|alt|shift|meta|option)\+)+\S+)*$/i;

/** The commands table: the rows under `## Commands`, as { command title: keys cell }. */
function commandsTable(): Map<string, string> {
  const section = readme.split(/^## Commands$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, 'README.md has no "## Commands" section');
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length < 4 || cells[1] === 'command' || /^-+$/.test(cells[1])) continue;
    rows.set(cells[1], cells[2]);
  }
  return rows;
}

/** Commands a user can run from the palette (not hidden with `when: false`), by their palette title. */
function paletteCommands(): Map<string, string> {
  const hidden = new Set(
    (pkg.contributes.menus?.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command),
  );
  return new Map(
    pkg.contributes.commands
      .filter((c) => !hidden.has(c.command))
      .map((c) => [`${c.category ? `${c.category}: ` : ''}${c.title}`, c.command]),
  );
}

describe('README tables', () => {
  it('match package.json (run `node scripts/readme-tables.js` after changing settings or keys)', () => {
    const { expectedReadme } = require(path.join(ROOT, 'scripts', 'readme-tables.js')) as {
      expectedReadme: () => string;
    };
    assert.equal(readme, expectedReadme());
  });

  it('every setting and command with a key is in them', () => {
    for (const key of Object.keys(pkg.contributes.configuration.properties))
      assert.ok(readme.includes(`\`${key}\``), key);
    for (const k of pkg.contributes.keybindings) assert.ok(readme.includes(`\`${k.key}\``), k.key);
  });

  it('the commands table lists every command of the palette, and only those', () => {
    const table = commandsTable();
    const commands = paletteCommands();
    const missing = [...commands.keys()].filter((title) => !table.has(title));
    assert.deepEqual(missing, [], 'commands contributed in package.json but missing from README.md\'s "## Commands"');
    const unknown = [...table.keys()].filter((title) => !commands.has(title));
    assert.deepEqual(unknown, [], 'rows of README.md\'s "## Commands" that package.json does not contribute');
  });

  it("the commands table's keys are package.json's, for Windows/Linux and macOS", () => {
    const table = commandsTable();
    for (const [title, command] of paletteCommands()) {
      const bindings = pkg.contributes.keybindings.filter((k) => k.command === command);
      const expected = bindings.map((k) => `\`${k.key}\` / \`${k.mac ?? k.key}\``).join(', ');
      assert.equal(table.get(title), expected, `keys of ${title}`);
    }
  });

  it("keys the README's text names are package.json's (or VS Code's own), each with its macOS key where it differs", () => {
    const known = new Map<string, string>(Object.entries(VSCODE_KEYS));
    for (const k of pkg.contributes.keybindings) known.set(normalizeKey(k.key), normalizeKey(k.mac ?? k.key));
    const macKeys = new Set(known.values());
    const named = [...readme.matchAll(/`([^`\n]+)`/g)]
      .map((m) => m[1])
      .filter((s) => MODIFIED_KEY.test(s.replace(/[→←↑↓]/g, 'x')))
      .map(normalizeKey);
    assert.ok(named.length > 0, 'the README names no keys');
    const unknown = named.filter((k) => !known.has(k) && !macKeys.has(k));
    assert.deepEqual(unknown, [], "keys in README.md that package.json's keybindings do not bind");
    const macMissing = named.filter((k) => known.has(k) && known.get(k) !== k && !named.includes(known.get(k)!));
    assert.deepEqual(
      macMissing.map((k) => `${k} (macOS: ${known.get(k)})`),
      [],
      'keys named without their macOS key',
    );
  });
});

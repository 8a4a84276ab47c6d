#!/usr/bin/env node
// Writes the settings and keybinding tables into README.md from package.json (between the
// <!-- settings --> and <!-- keybindings --> markers), so the two cannot drift; a unit test fails when
// README.md is not what this script would write.   node scripts/readme-tables.js [--check]
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function escape(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function settingsTable(pkg) {
  const rows = ['| setting | default | what it does |', '|---|---|---|'];
  for (const [key, p] of Object.entries(pkg.contributes.configuration.properties)) {
    const def = p.default === '' ? '""' : JSON.stringify(p.default);
    // VS Code links `#glassbox.x#` to the setting; on a README page it reads as the setting's name
    const text = (p.markdownDescription ?? p.description ?? '').replace(/`?#(glassbox\.[\w.]+)#`?/g, '`$1`');
    rows.push(`| \`${key}\` | \`${escape(def)}\` | ${escape(text)} |`);
  }
  return rows.join('\n');
}

function keybindingTable(pkg) {
  const titles = Object.fromEntries(
    pkg.contributes.commands.map((c) => [c.command, `${c.category ? `${c.category}: ` : ''}${c.title}`]),
  );
  const rows = ['| keys (Windows, Linux) | macOS | command |', '|---|---|---|'];
  for (const k of pkg.contributes.keybindings) {
    const name =
      titles[k.command] ??
      (k.command === 'editor.action.inlineSuggest.acceptNextLine'
        ? 'Accept the next line of the suggestion'
        : k.command);
    rows.push(`| \`${escape(k.key)}\` | \`${escape(k.mac ?? k.key)}\` | ${escape(name)} |`);
  }
  return rows.join('\n');
}

function fill(text, name, table) {
  const re = new RegExp(`(<!-- ${name} -->\\n)[\\s\\S]*?(<!-- /${name} -->)`);
  if (!re.test(text)) throw new Error(`README.md has no <!-- ${name} --> … <!-- /${name} --> block`);
  return text.replace(re, (_m, open, close) => `${open}${table}\n${close}`);
}

/** README.md as this script would write it. */
function expectedReadme() {
  // package.json's user-facing strings are %key% references into package.nls.json (English)
  const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'), (_key, value) =>
    typeof value === 'string' && /^%[\w.-]+%$/.test(value) ? (nls[value.slice(1, -1)] ?? value) : value,
  );
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  return fill(fill(readme, 'settings', settingsTable(pkg)), 'keybindings', keybindingTable(pkg));
}

if (require.main === module) {
  const next = expectedReadme();
  if (process.argv.includes('--check')) {
    if (next !== fs.readFileSync(path.join(root, 'README.md'), 'utf8')) {
      console.error(
        'README.md: the settings or keybinding table differs from package.json; run node scripts/readme-tables.js',
      );
      process.exit(1);
    }
  } else fs.writeFileSync(path.join(root, 'README.md'), next);
}

module.exports = { expectedReadme };

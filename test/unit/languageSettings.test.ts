// Per-language control (issue 31 item 4): one setting, glassbox.enable per language, decides where
// completions come automatically; a toggle turns a language on and off in both directions wherever
// the deciding value lives; and the old glassbox.disabledLanguages list moves into it without
// changing what any language does. The inspections below are what VS Code's
// WorkspaceConfiguration.inspect('enable') returns in a language's scope.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  DEFAULT_OFF_LANGUAGES,
  type EnableInspection,
  languageSwitch,
  type LevelSettings,
  planMigration,
  planToggle,
} from '../../src/completion/languageSettings';
import { ROOT } from './helpers';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: {
    configurationDefaults?: Record<string, Record<string, unknown>>;
    configuration: { properties: Record<string, { default?: unknown }> };
  };
};

/** What VS Code reports for markdown out of the box: on for all, off for markdown by default. */
const MARKDOWN: EnableInspection = { defaultValue: true, defaultLanguageValue: false };
/** And for TypeScript: nothing per language. */
const TYPESCRIPT: EnableInspection = { defaultValue: true };

/** The inspection after a write, as VS Code would report it. */
function applied(i: EnableInspection, w: ReturnType<typeof planToggle>): EnableInspection {
  const field = {
    user: 'globalLanguageValue',
    workspace: 'workspaceLanguageValue',
    workspaceFolder: 'workspaceFolderLanguageValue',
  }[w.level];
  return { ...i, [field]: w.value };
}

describe('per-language glassbox.enable', () => {
  it('package.json turns off exactly the default-off languages, and the old list defaults to nothing', () => {
    const defaults = pkg.contributes.configurationDefaults ?? {};
    const off = Object.entries(defaults)
      .filter(([k, v]) => /^\[.+\]$/.test(k) && v['glassbox.enable'] === false)
      .map(([k]) => k.slice(1, -1));
    assert.deepEqual(off.sort(), [...DEFAULT_OFF_LANGUAGES].sort());
    assert.deepEqual(pkg.contributes.configuration.properties['glassbox.disabledLanguages']?.default ?? [], []);
  });

  it('resolves as VS Code does: a language value at any level beats glassbox.enable for all at any level', () => {
    assert.deepEqual(languageSwitch(MARKDOWN), { on: false, level: 'default', perLanguage: true });
    assert.deepEqual(languageSwitch(TYPESCRIPT), { on: true, level: 'default', perLanguage: false });
    // off for all in the workspace, but markdown turned on in user settings: markdown is on
    assert.deepEqual(languageSwitch({ ...MARKDOWN, workspaceValue: false, globalLanguageValue: true }), {
      on: true,
      level: 'user',
      perLanguage: true,
    });
    // the most specific language value wins
    assert.equal(languageSwitch({ ...MARKDOWN, globalLanguageValue: true, workspaceLanguageValue: false }).on, false);
    // off for all in user settings: TypeScript is off, markdown stays off
    assert.deepEqual(languageSwitch({ ...TYPESCRIPT, globalValue: false }), {
      on: false,
      level: 'user',
      perLanguage: false,
    });
    // a value that is not a boolean is skipped
    assert.equal(languageSwitch({ ...TYPESCRIPT, globalLanguageValue: 'no' }).on, true);
  });

  it('toggles markdown on and back off, leaving user settings as they were', () => {
    const on = planToggle(MARKDOWN, true);
    assert.deepEqual(on, { level: 'user', value: true });
    const afterOn = applied(MARKDOWN, on);
    assert.equal(languageSwitch(afterOn).on, true);
    const off = planToggle(afterOn, false);
    assert.deepEqual(off, { level: 'user', value: undefined }, 'removes the value: the default is off');
    assert.equal(languageSwitch(applied(afterOn, off)).on, false);
  });

  it('toggles TypeScript off and back on', () => {
    const off = planToggle(TYPESCRIPT, false);
    assert.deepEqual(off, { level: 'user', value: false });
    const afterOff = applied(TYPESCRIPT, off);
    assert.equal(languageSwitch(afterOff).on, false);
    assert.deepEqual(planToggle(afterOff, true), { level: 'user', value: undefined });
  });

  it("writes where the deciding value is, so a workspace's [markdown] cannot outvote the toggle", () => {
    const ws: EnableInspection = { ...MARKDOWN, globalLanguageValue: true, workspaceLanguageValue: false };
    const w = planToggle(ws, true);
    assert.equal(w.level, 'workspace');
    assert.equal(languageSwitch(applied(ws, w)).on, true);
    // off for all in the workspace (not per language): a user language value still turns it on
    const plainOff: EnableInspection = { ...TYPESCRIPT, workspaceValue: false };
    const w2 = planToggle(plainOff, true);
    assert.deepEqual(w2, { level: 'user', value: true });
    assert.equal(languageSwitch(applied(plainOff, w2)).on, true);
  });
});

describe('glassbox.disabledLanguages migration', () => {
  const level = (s: Partial<LevelSettings>): LevelSettings => ({
    disabledLanguages: undefined,
    languageEnable: {},
    enable: true,
    ...s,
  });

  it('does nothing where the list was never set', () => {
    assert.deepEqual(planMigration(level({})), []);
  });

  it('turns each listed language off, keeps the default-off languages the user took off the list on, then removes the list', () => {
    assert.deepEqual(planMigration(level({ disabledLanguages: ['python', 'markdown'] })), [
      { kind: 'languageEnable', languageId: 'python', value: false },
      { kind: 'languageEnable', languageId: 'markdown', value: false },
      { kind: 'languageEnable', languageId: 'plaintext', value: true },
      { kind: 'languageEnable', languageId: 'scminput', value: true },
      { kind: 'removeDisabledLanguages' },
    ]);
  });

  it('an empty list turns the default-off languages on, as it did', () => {
    const writes = planMigration(level({ disabledLanguages: [] }));
    assert.deepEqual(
      writes.filter((w) => w.kind === 'languageEnable'),
      DEFAULT_OFF_LANGUAGES.map((languageId) => ({ kind: 'languageEnable', languageId, value: true })),
    );
  });

  it('with completions off for all, a language taken off the list is not turned on', () => {
    assert.deepEqual(planMigration(level({ disabledLanguages: ['python'], enable: false })), [
      { kind: 'languageEnable', languageId: 'python', value: false },
      { kind: 'removeDisabledLanguages' },
    ]);
  });

  it("keeps a language's own value at that level (what the status bar menu wrote)", () => {
    // the old menu wrote [markdown] true without touching the list: the user meant markdown on
    const writes = planMigration(
      level({ disabledLanguages: ['plaintext', 'markdown', 'scminput'], languageEnable: { markdown: true } }),
    );
    assert.ok(!writes.some((w) => w.kind === 'languageEnable' && w.languageId === 'markdown'));
    assert.deepEqual(writes.at(-1), { kind: 'removeDisabledLanguages' }, 'the list goes last');
  });

  it('a list that is not a list of language ids is only removed (the defaults applied, and still do)', () => {
    assert.deepEqual(planMigration(level({ disabledLanguages: 'markdown' })), [{ kind: 'removeDisabledLanguages' }]);
  });

  it('every language does after the migration what it did before', () => {
    // old: automatic = enable && !list.includes(lang); new: the language's value, else its default
    const cases: LevelSettings[] = [
      level({ disabledLanguages: ['python', 'markdown'] }),
      level({ disabledLanguages: [] }),
      level({ disabledLanguages: ['rust'], enable: false }),
      level({ disabledLanguages: ['plaintext'], languageEnable: { go: false } }),
    ];
    for (const s of cases) {
      const list = s.disabledLanguages as string[];
      const writes = planMigration(s);
      for (const lang of ['python', 'markdown', 'plaintext', 'scminput', 'rust', 'go', 'typescript']) {
        const own = s.languageEnable[lang];
        const before = (own ?? s.enable) && !list.includes(lang);
        const written = writes.find((w) => w.kind === 'languageEnable' && w.languageId === lang);
        const after = languageSwitch({
          defaultValue: true,
          defaultLanguageValue: (DEFAULT_OFF_LANGUAGES as readonly string[]).includes(lang) ? false : undefined,
          globalValue: s.enable,
          globalLanguageValue: written?.kind === 'languageEnable' ? written.value : own,
        }).on;
        assert.equal(after, before, `${lang} with ${JSON.stringify(s)}`);
      }
    }
  });
});

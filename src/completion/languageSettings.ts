/**
 * Per-language control of automatic completions, plain Node: one setting, `glassbox.enable`,
 * overridable per language (`"[markdown]": { "glassbox.enable": true }`), with plaintext, markdown
 * and scminput off by default (package.json's `configurationDefaults`). This file decides which
 * value is in effect, where a toggle writes so that it takes effect, and how the old
 * `glassbox.disabledLanguages` list becomes per-language values; `languages.ts` reads and writes
 * VS Code's settings with it.
 *
 * Copilot keeps one object (`github.copilot.enable`: language id → on/off, `"*"` for the rest);
 * a language-overridable boolean says the same in VS Code's own terms: the Settings editor shows
 * it per language, workspaces can set it, and a user's value never replaces the other defaults.
 */

/** Languages whose automatic completions are off until the user turns them on (prose, commit messages). */
export const DEFAULT_OFF_LANGUAGES = ['plaintext', 'markdown', 'scminput'] as const;

/** Where a setting's value comes from, least specific first (VS Code's order of precedence). */
export type SettingLevel = 'default' | 'user' | 'workspace' | 'workspaceFolder';

/** The levels a user can write to. */
export type WritableLevel = Exclude<SettingLevel, 'default'>;

/** `WorkspaceConfiguration.inspect('enable')` in a language's scope: the fields read here. */
export interface EnableInspection {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
  defaultLanguageValue?: unknown;
  globalLanguageValue?: unknown;
  workspaceLanguageValue?: unknown;
  workspaceFolderLanguageValue?: unknown;
}

/** Whether automatic completions are on for a language, and which value decided it. */
export interface LanguageSwitch {
  on: boolean;
  level: SettingLevel;
  /** The deciding value is the language's own (`[markdown]`), not `glassbox.enable` for all. */
  perLanguage: boolean;
}

const LEVELS: readonly SettingLevel[] = ['workspaceFolder', 'workspace', 'user', 'default'];

const FIELD: Record<SettingLevel, { plain: keyof EnableInspection; language: keyof EnableInspection }> = {
  default: { plain: 'defaultValue', language: 'defaultLanguageValue' },
  user: { plain: 'globalValue', language: 'globalLanguageValue' },
  workspace: { plain: 'workspaceValue', language: 'workspaceLanguageValue' },
  workspaceFolder: { plain: 'workspaceFolderValue', language: 'workspaceFolderLanguageValue' },
};

/**
 * The value in effect, as VS Code resolves it: a language's own value at any level wins over
 * `glassbox.enable` for all languages at any level, and within each kind the most specific level
 * wins. Values that are not booleans are skipped (Config reports them); nothing set means on.
 */
export function languageSwitch(i: EnableInspection): LanguageSwitch {
  for (const perLanguage of [true, false])
    for (const level of LEVELS) {
      const v = valueAt(i, level, perLanguage);
      if (v !== undefined) return { on: v, level, perLanguage };
    }
  return { on: true, level: 'default', perLanguage: false };
}

/** The value set at one level: the language's own (`[markdown]`) or `glassbox.enable` for all languages. */
export function valueAt(i: EnableInspection, level: SettingLevel, perLanguage: boolean): boolean | undefined {
  const v = i[perLanguage ? FIELD[level].language : FIELD[level].plain];
  return typeof v === 'boolean' ? v : undefined;
}

/** `glassbox.enable` for all languages as in effect at `level`: its own value, or the nearest below it. */
export function enableAt(i: EnableInspection, level: WritableLevel): boolean {
  for (const l of LEVELS.slice(LEVELS.indexOf(level))) {
    const v = valueAt(i, l, false);
    if (v !== undefined) return v;
  }
  return true;
}

/** One settings write: `value` undefined removes the setting at that level. */
export interface LanguageWrite {
  level: WritableLevel;
  value: boolean | undefined;
}

/**
 * Where to write so that a language turns `on` (or off), in either direction. A language value
 * at a more specific level (a workspace's `[markdown]`) would outvote one written to user
 * settings, so the write goes to the level that decides now; a value that only restates what
 * the levels below give is removed instead, so toggling back leaves settings.json as it was.
 */
export function planToggle(i: EnableInspection, on: boolean): LanguageWrite {
  const now = languageSwitch(i);
  const level: WritableLevel = now.perLanguage && now.level !== 'default' ? now.level : 'user';
  const without = languageSwitch({ ...i, [FIELD[level].language]: undefined });
  return { level, value: without.on === on ? undefined : on };
}

/** One level's settings as the migration reads them (user, workspace, or one workspace folder). */
export interface LevelSettings {
  /** `glassbox.disabledLanguages` as set at this level; undefined when not set here. */
  disabledLanguages: unknown;
  /** The language values of `glassbox.enable` set at this level, by language id. */
  languageEnable: Readonly<Record<string, boolean | undefined>>;
  /** `glassbox.enable` for all languages as in effect at this level (this level's or the one below). */
  enable: boolean;
}

/** A migration write at one level: a language's `glassbox.enable`, or the old list removed. */
export type MigrationWrite =
  { kind: 'languageEnable'; languageId: string; value: boolean } | { kind: 'removeDisabledLanguages' };

/** The languages the migration must read at a level: the old list's and the default-off ones. */
export function languagesToRead(disabledLanguages: unknown): string[] {
  const listed = isLanguageList(disabledLanguages) ? disabledLanguages : [];
  return [...new Set([...listed, ...DEFAULT_OFF_LANGUAGES])];
}

/**
 * Turns an old `glassbox.disabledLanguages` list set at one level into language values at the
 * same level, so each language stays as it was:
 * - a listed language is off;
 * - a default-off language the user took off the list was on, and stays on (unless completions
 *   are off for all languages here, where it was off and the new default keeps it off);
 * - a language that already has its own value at this level keeps it: that value is what the
 *   status bar menu wrote, the user's latest word (the menu used to write it without touching
 *   the list, which is why it could not turn markdown on).
 * The list is removed last, so a write that fails leaves it in place for the next start.
 */
export function planMigration(s: LevelSettings): MigrationWrite[] {
  if (s.disabledLanguages === undefined) return [];
  const writes: MigrationWrite[] = [];
  // not a list of language ids: VS Code's Config used the defaults, which are now the language defaults
  if (isLanguageList(s.disabledLanguages)) {
    const listed = new Set(s.disabledLanguages);
    for (const languageId of languagesToRead(s.disabledLanguages)) {
      if (s.languageEnable[languageId] !== undefined) continue;
      if (listed.has(languageId)) writes.push({ kind: 'languageEnable', languageId, value: false });
      else if (s.enable) writes.push({ kind: 'languageEnable', languageId, value: true });
    }
  }
  writes.push({ kind: 'removeDisabledLanguages' });
  return writes;
}

function isLanguageList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

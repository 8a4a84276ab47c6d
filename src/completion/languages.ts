/**
 * Per-language control, VS Code side: reads `glassbox.enable` in a language's scope, writes a
 * toggle where it takes effect, and moves the old `glassbox.disabledLanguages` list into
 * per-language values once. The decisions are in `languageSettings.ts` (plain Node, unit-tested).
 */
import * as vscode from 'vscode';
import {
  type EnableInspection,
  enableAt,
  languageSwitch,
  type LanguageSwitch,
  languagesToRead,
  type LevelSettings,
  planMigration,
  planToggle,
  valueAt,
  type WritableLevel,
} from './languageSettings';

const SECTION = 'glassbox';

const TARGET: Record<WritableLevel, vscode.ConfigurationTarget> = {
  user: vscode.ConfigurationTarget.Global,
  workspace: vscode.ConfigurationTarget.Workspace,
  workspaceFolder: vscode.ConfigurationTarget.WorkspaceFolder,
};

function inspectEnable(scope: vscode.ConfigurationScope | undefined): EnableInspection {
  return vscode.workspace.getConfiguration(SECTION, scope).inspect<unknown>('enable') ?? {};
}

/** Whether completions come automatically in `doc`'s language, and which setting says so. */
export function languageSwitchFor(doc: { languageId: string; uri: vscode.Uri }): LanguageSwitch {
  return languageSwitch(inspectEnable({ languageId: doc.languageId, uri: doc.uri }));
}

/**
 * Turns automatic completions on or off for a language, in either direction: the value goes to
 * the level that decides now (see planToggle). `uri` places a workspace folder's value; by
 * default, the active editor's document when it is in that language.
 */
export async function setLanguageEnabled(languageId: string, on: boolean, uri?: vscode.Uri): Promise<void> {
  const active = vscode.window.activeTextEditor?.document;
  const scope = { languageId, uri: uri ?? (active?.languageId === languageId ? active.uri : undefined) };
  const write = planToggle(inspectEnable(scope), on);
  await vscode.workspace.getConfiguration(SECTION, scope).update('enable', write.value, TARGET[write.level], true);
}

/**
 * Moves `glassbox.disabledLanguages`, wherever a user or workspace set it, into per-language
 * `glassbox.enable` values at the same level (see planMigration), then removes it. Runs at every
 * start and finds nothing once done; a level whose writes fail keeps its list for the next start.
 */
export async function migrateDisabledLanguages(): Promise<void> {
  const levels: { level: WritableLevel; uri?: vscode.Uri }[] = [{ level: 'user' }];
  if (vscode.workspace.workspaceFolders?.length) levels.push({ level: 'workspace' });
  // in a single-folder workspace the folder's settings are the workspace's: migrated once above
  if (vscode.workspace.workspaceFile)
    for (const f of vscode.workspace.workspaceFolders ?? []) levels.push({ level: 'workspaceFolder', uri: f.uri });
  const failures: string[] = [];
  for (const { level, uri } of levels) {
    try {
      await migrateLevel(level, uri);
    } catch (err) {
      failures.push(`${level}${uri ? ` (${uri.fsPath})` : ''}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length)
    throw new Error(
      vscode.l10n.t(
        'Glassbox could not move glassbox.disabledLanguages to per-language glassbox.enable settings ({0}). Fix the settings file it names, or set "[language]": {"glassbox.enable": false} yourself and remove glassbox.disabledLanguages.',
        failures.join('; '),
      ),
    );
}

async function migrateLevel(level: WritableLevel, uri: vscode.Uri | undefined): Promise<void> {
  const plain = vscode.workspace.getConfiguration(SECTION, uri);
  const list = plain.inspect<unknown>('disabledLanguages');
  const disabledLanguages =
    level === 'user' ? list?.globalValue : level === 'workspace' ? list?.workspaceValue : list?.workspaceFolderValue;
  if (disabledLanguages === undefined) return;
  const settings: LevelSettings = {
    disabledLanguages,
    enable: enableAt(inspectEnable(uri), level),
    languageEnable: Object.fromEntries(
      languagesToRead(disabledLanguages).map((languageId) => [
        languageId,
        valueAt(inspectEnable({ languageId, uri }), level, true),
      ]),
    ),
  };
  for (const w of planMigration(settings)) {
    if (w.kind === 'languageEnable')
      await vscode.workspace
        .getConfiguration(SECTION, { languageId: w.languageId, uri })
        .update('enable', w.value, TARGET[level], true);
    else await plain.update('disabledLanguages', undefined, TARGET[level]);
  }
}

/**
 * The status bar item. Its text is state only, so it stays still while you type: the model's
 * state (loads on first use, loading, ready, error) and what completions do in the active editor's
 * language (automatic, `manual`: only on Trigger Completion, `snoozed`). Figures (the last
 * request's latency and speed, the model, where the time went) are in its tooltip, as VS Code's
 * guidelines ask of status bar items.
 */
import * as vscode from 'vscode';
import { Config } from './config';
import { type CompletionResult, describeStages } from './engine';
import { languageSwitchFor } from './completion/languages';
import type { LanguageSwitch, SettingLevel } from './completion/languageSettings';
import type { Snooze } from './completion/snooze';
import type { BackendRouter, EngineState, ServedRequest } from './backends/router';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('glassbox.status', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private last: ServedRequest | null = null;

  constructor(
    private readonly host: BackendRouter,
    private readonly config: Config,
    private readonly snooze: Snooze,
  ) {
    this.item.name = 'Glassbox';
    this.item.command = 'glassbox.showMenu';
    this.disposables.push(
      host.onDidChangeState(() => this.render()),
      host.onDidServe((r) => {
        this.last = r;
        this.render();
      }),
      Config.onDidChange('any')(() => this.render()),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      snooze.onDidChange(() => this.render()),
    );
    this.render();
    this.item.show();
  }

  render(): void {
    const state = this.host.state;
    const mode = completionMode(this.config, this.snooze, vscode.window.activeTextEditor?.document);
    this.item.text = statusText(
      state.kind,
      mode.kind,
      this.host.backend.capabilities.local ? undefined : this.host.backend.kind,
    );
    this.item.tooltip = this.tooltip(state, mode);
    this.item.backgroundColor =
      state.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  private tooltip(state: EngineState, mode: CompletionMode): vscode.MarkdownString {
    const backend = this.host.backend;
    const t = new vscode.MarkdownString();
    const where = backend.capabilities.local
      ? this.host.modelName
      : vscode.l10n.t('{0} on {1}', this.host.modelName, this.config.endpoint ?? vscode.l10n.t('no endpoint set'));
    t.appendMarkdown('**Glassbox** — ').appendText(`${where}: ${STATE_LABELS()[state.kind]}`);
    t.appendMarkdown('\n\n').appendText(
      mode.language
        ? vscode.l10n.t('Completions in {0}: {1}', mode.language, mode.explanation)
        : vscode.l10n.t('Completions: {0}', mode.explanation),
    );
    if (state.kind === 'error') t.appendMarkdown('\n\n').appendText(state.message);
    if (this.last) t.appendMarkdown('\n\n').appendText(lastRequest(this.last));
    for (const line of this.last ? [whereTimeWent(this.last), whatWasShown(this.last)] : [])
      if (line) t.appendMarkdown('\n\n').appendText(line);
    t.appendMarkdown('\n\n').appendText(vscode.l10n.t('Click for the Glassbox menu.'));
    return t;
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The item's text: the state in a word, never a figure (`backendKind`: a model server's, named where code goes). */
function statusText(state: EngineState['kind'], mode: CompletionMode['kind'], backendKind: string | undefined): string {
  const name = backendKind ? `Glassbox (${backendKind})` : 'Glassbox';
  if (state === 'error') return `$(error) ${name}: ${vscode.l10n.t('error')}`;
  if (mode === 'snoozed') return `$(clock) ${name}: ${vscode.l10n.t('snoozed')}`;
  if (mode === 'manual') return `$(circle-slash) ${name}: ${vscode.l10n.t('manual')}`;
  if (state === 'loading') return `$(loading~spin) ${name}: ${vscode.l10n.t('loading')}`;
  return `${ICONS[state]} ${name}`;
}

const ICONS: Record<EngineState['kind'], string> = {
  idle: '$(circle-outline)',
  loading: '$(loading~spin)',
  ready: '$(check)',
  generating: '$(sync~spin)',
  error: '$(error)',
};

/** The model's state in words (a function: vscode.l10n reads the bundle once the extension runs). */
const STATE_LABELS = (): Record<EngineState['kind'], string> => ({
  idle: vscode.l10n.t('loads on first use'),
  loading: vscode.l10n.t('loading'),
  ready: vscode.l10n.t('ready'),
  generating: vscode.l10n.t('generating'),
  error: vscode.l10n.t('error'),
});

/** The last request's figures: latency, speed, tokens and the model that answered. */
function lastRequest(r: ServedRequest): string {
  const t = r.result.timings;
  const tps = t.decodeMs > 0 ? (t.generatedTokens / t.decodeMs) * 1000 : 0;
  const values = [Math.round(r.latencyMs), tps.toFixed(0), t.generatedTokens, r.model] as const;
  return r.kind === 'completion'
    ? vscode.l10n.t('Last completion: {0} ms, {1} tok/s, {2} tokens ({3}).', ...values)
    : vscode.l10n.t('Last explanation: {0} ms, {1} tok/s, {2} tokens ({3}).', ...values);
}

/** Where the request's time went, stage by stage. */
function whereTimeWent(r: ServedRequest): string {
  const line = describeStages(r.result.timings.stages, r.result.timings);
  return line ? vscode.l10n.t('Where the time went: {0}.', line) : '';
}

/** For a completion: how much of it the copy cache wrote, and why nothing was shown when it was hidden. */
function whatWasShown(r: ServedRequest): string {
  if (r.kind !== 'completion' || !('confidence' in r.result)) return '';
  const c: CompletionResult = r.result;
  if (c.hidden) {
    const why = {
      confidence: vscode.l10n.t(
        'its least likely token had probability {0}, under glassbox.completion.minConfidence',
        c.confidence.min.toFixed(2),
      ),
      retype: vscode.l10n.t('it only retyped the text after the cursor'),
      line_length: vscode.l10n.t('its line ran too long'),
      declaration: vscode.l10n.t("it copied a declaration's header into an expression"),
    }[c.hidden.reason];
    return vscode.l10n.t('Not shown: {0}.', why);
  }
  const copied = c.provenance.filter((t) => t.kind === 'cache').length;
  return c.provenance.length
    ? vscode.l10n.t(
        '{0} of {1} tokens copied by the cache; least likely token p {2}.',
        copied,
        c.provenance.length,
        c.confidence.min.toFixed(2),
      )
    : '';
}

interface CompletionMode {
  kind: 'automatic' | 'manual' | 'snoozed';
  explanation: string;
  language?: string;
}

/** What completions do for a document: come automatically, only on Trigger Completion, or not now (snoozed). */
export function completionMode(config: Config, snooze: Snooze, doc: vscode.TextDocument | undefined): CompletionMode {
  const language = doc?.languageId;
  if (snooze.active) {
    const left = snooze.minutesLeft;
    return {
      kind: 'snoozed',
      language,
      explanation:
        left === undefined
          ? vscode.l10n.t('snoozed until VS Code restarts; Trigger Completion still works.')
          : vscode.l10n.t('snoozed for {0} more min; Trigger Completion still works.', left),
    };
  }
  // `for(doc).enabled` is what the provider reads; the switch says which setting decided it
  const on = doc ? config.for(doc).enabled : config.enabled;
  const why = doc ? explainSwitch(languageSwitchFor(doc), doc.languageId) : undefined;
  if (!on)
    return {
      kind: 'manual',
      language,
      explanation: vscode.l10n.t(
        'only on Trigger Completion ({0}); the menu turns them on.',
        why ?? vscode.l10n.t('glassbox.enable is off'),
      ),
    };
  return {
    kind: 'automatic',
    language,
    explanation: why ? vscode.l10n.t('while you type ({0}).', why) : vscode.l10n.t('while you type.'),
  };
}

/** Which setting turned a language on or off, in words; undefined for the plain default (on). */
function explainSwitch(s: LanguageSwitch, language: string): string | undefined {
  const where: Record<SettingLevel, string> = {
    default: vscode.l10n.t('by default'),
    user: vscode.l10n.t('in user settings'),
    workspace: vscode.l10n.t('in workspace settings'),
    workspaceFolder: vscode.l10n.t('in folder settings'),
  };
  if (s.perLanguage)
    return s.on
      ? vscode.l10n.t('on for {0} {1}', language, where[s.level])
      : vscode.l10n.t('off for {0} {1}', language, where[s.level]);
  if (s.level === 'default') return undefined;
  return s.on
    ? vscode.l10n.t('glassbox.enable is on {0}', where[s.level])
    : vscode.l10n.t('glassbox.enable is off {0}', where[s.level]);
}

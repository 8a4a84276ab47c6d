/** Every Glassbox command, declared once: name → factory. The `glassbox.` prefix is added here. */
import * as vscode from 'vscode';
import { AttentionView } from './attention/attentionView';
import type { Config } from './config';
import type { Snooze } from './completion/snooze';
import type { Costs } from './costs/costs';
import { CostsPanel } from './costs/costsPanel';
import type { BackendRouter } from './backends/router';
import { explainCommand } from './explain/explainCommand';
import { manageModels } from './modelHub/manageModels';
import { ArchitecturePanel } from './architecture/architecturePanel';
import { selectModel } from './modelHub/selectModel';

interface CommandContext {
  extension: vscode.ExtensionContext;
  host: BackendRouter;
  config: Config;
  costs: Costs;
  snooze: Snooze;
}

type Factory = (ctx: CommandContext) => (...args: unknown[]) => unknown;

const COMMANDS: Record<string, Factory> = {
  explainSelection: (ctx) => () => explainCommand(ctx.extension.extensionUri, ctx.host, ctx.config),
  toggleCompletions: (ctx) => async () => {
    const enabled = !ctx.config.enabled;
    await ctx.config.setEnabled(enabled);
    void vscode.window.setStatusBarMessage(
      enabled ? vscode.l10n.t('Glassbox completions on') : vscode.l10n.t('Glassbox completions off'),
      2000,
    );
  },
  triggerCompletion: () => () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'),
  toggleLanguage: (ctx) => async () => {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc) return;
    const on = !ctx.config.for(doc).enabled;
    await ctx.config.setEnabledForLanguage(doc.languageId, on);
    void vscode.window.setStatusBarMessage(
      on
        ? vscode.l10n.t('Glassbox completions on for {0}', doc.languageId)
        : vscode.l10n.t('Glassbox completions off for {0}', doc.languageId),
      2000,
    );
  },
  snooze: (ctx) => (minutes?: unknown) => ctx.snooze.start(typeof minutes === 'number' ? minutes * 60_000 : Infinity),
  resume: (ctx) => () => ctx.snooze.stop(),
  openSample: () => async () => {
    // TypeScript, not the plaintext of a new untitled file, which Glassbox leaves alone by default
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: SAMPLE });
    const editor = await vscode.window.showTextDocument(doc);
    const end = doc.lineAt(doc.lineCount - 1).range.end;
    editor.selection = new vscode.Selection(end, end);
  },
  selectModel: (ctx) => () => selectModel(ctx),
  setApiKey: (ctx) => () => ctx.host.remote.setApiKey(),
  testConnection: (ctx) => () => ctx.host.remote.testConnection(),
  manageModels: (ctx) => () => manageModels(ctx),
  showArchitecture: (ctx) => () => ArchitecturePanel.createOrShow(ctx.extension.extensionUri, ctx.host, ctx.config),
  showAttention: () => () => AttentionView.current?.reveal(),
  showAttentionForSelection: () => () => AttentionView.current?.showForSelection(vscode.window.activeTextEditor),
  toggleAttentionTint: () => () => AttentionView.current?.toggleTint(),
  showCosts: (ctx) => () => CostsPanel.createOrShow(ctx.extension.extensionUri, ctx.costs),
  resetUsage: (ctx) => () => ctx.costs.resetUsage(),
  exportUsage: (ctx) => () => ctx.costs.exportUsage(),
  updatePrices: (ctx) => () => ctx.costs.updatePrices(),
  showMenu: (ctx) => () => showMenu(ctx),
  /** Run by VS Code when an inline suggestion is accepted (InlineCompletionItem.command): (length, servedRequestId). */
  completionAccepted: (ctx) => (_length, requestId) => ctx.costs.accepted(requestId),
};

/** The walkthrough's sample: a few lines to complete after, with the cursor at the end. */
const SAMPLE = `// A sample to try Glassbox on: type after the last line, and press Tab to accept the grey text.

export interface Point {
  x: number;
  y: number;
}

export function distance(a: Point, b: Point): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return Math.sqrt(dx * dx + dy * dy);
}

export function midpoint(a: Point, b: Point): Point {
  `;

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([name, factory]) =>
    vscode.commands.registerCommand(`glassbox.${name}`, factory(ctx)),
  );
}

/** The status bar's quick menu: the active language's state first, then the rest of Glassbox. */
async function showMenu(ctx: CommandContext): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  const language = doc?.languageId;
  const items: (vscode.QuickPickItem & { command: string; args?: unknown[] })[] = [];
  if (doc && language) {
    const on = ctx.config.for(doc).enabled;
    items.push({
      label: on
        ? `$(circle-slash) ${vscode.l10n.t('Disable completions for {0}', language)}`
        : `$(check) ${vscode.l10n.t('Enable completions for {0}', language)}`,
      command: 'glassbox.toggleLanguage',
    });
  }
  if (ctx.snooze.active)
    items.push({ label: `$(play) ${vscode.l10n.t('Resume completions')}`, command: 'glassbox.resume' });
  else {
    items.push(
      { label: `$(clock) ${vscode.l10n.t('Snooze for 5 minutes')}`, command: 'glassbox.snooze', args: [5] },
      { label: `$(clock) ${vscode.l10n.t('Snooze for 1 hour')}`, command: 'glassbox.snooze', args: [60] },
      { label: `$(clock) ${vscode.l10n.t('Snooze until restart')}`, command: 'glassbox.snooze' },
    );
  }
  items.push(
    {
      label: `$(debug-pause) ${vscode.l10n.t('Toggle inline completions (all languages)')}`,
      command: 'glassbox.toggleCompletions',
    },
    { label: `$(comment-discussion) ${vscode.l10n.t('Explain selection')}`, command: 'glassbox.explainSelection' },
    { label: `$(type-hierarchy) ${vscode.l10n.t('Show model architecture')}`, command: 'glassbox.showArchitecture' },
    { label: `$(eye) ${vscode.l10n.t('Show attention')}`, command: 'glassbox.showAttention' },
    { label: `$(graph) ${vscode.l10n.t('Show costs')}`, command: 'glassbox.showCosts' },
    { label: `$(library) ${vscode.l10n.t('Select model…')}`, command: 'glassbox.selectModel' },
  );
  const pick = await vscode.window.showQuickPick(items, { title: 'Glassbox' });
  if (pick) await vscode.commands.executeCommand(pick.command, ...(pick.args ?? []));
}

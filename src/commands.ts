/** Every Glassbox command, declared once: name → factory. The `glassbox.` prefix is added here. */
import * as vscode from 'vscode';
import { AttentionView } from './attention/attentionView';
import type { Config } from './config';
import type { Costs } from './costs/costs';
import { CostsPanel } from './costs/costsPanel';
import type { EngineHost } from './engineHost';
import { explainCommand } from './explain/explainCommand';
import { manageModels } from './modelHub/manageModels';
import { ArchitecturePanel } from './architecture/architecturePanel';
import { selectModel } from './modelHub/selectModel';

interface CommandContext {
  extension: vscode.ExtensionContext;
  host: EngineHost;
  config: Config;
  costs: Costs;
}

type Factory = (ctx: CommandContext) => (...args: unknown[]) => unknown;

const COMMANDS: Record<string, Factory> = {
  explainSelection: (ctx) => () => explainCommand(ctx.extension.extensionUri, ctx.host, ctx.config),
  toggleCompletions: (ctx) => async () => {
    const enabled = !ctx.config.enabled;
    await ctx.config.setEnabled(enabled);
    void vscode.window.setStatusBarMessage(`Glassbox completions ${enabled ? 'on' : 'off'}`, 2000);
  },
  triggerCompletion: () => () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'),
  selectModel: (ctx) => () => selectModel(ctx),
  manageModels: (ctx) => () => manageModels(ctx),
  showArchitecture: (ctx) => () => ArchitecturePanel.createOrShow(ctx.extension.extensionUri, ctx.host, ctx.config),
  showAttention: () => () => AttentionView.current?.reveal(),
  showAttentionForSelection: () => () => AttentionView.current?.showForSelection(vscode.window.activeTextEditor),
  toggleAttentionTint: () => () => AttentionView.current?.toggleTint(),
  showCosts: (ctx) => () => CostsPanel.createOrShow(ctx.extension.extensionUri, ctx.costs),
  resetUsage: (ctx) => () => ctx.costs.resetUsage(),
  exportUsage: (ctx) => () => ctx.costs.exportUsage(),
  updatePrices: (ctx) => () => ctx.costs.updatePrices(),
  showMenu: () => showMenu,
  /** Run by VS Code when an inline suggestion is accepted (InlineCompletionItem.command): (length, servedRequestId). */
  completionAccepted: (ctx) => (_length, requestId) => ctx.costs.accepted(requestId),
};

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([name, factory]) =>
    vscode.commands.registerCommand(`glassbox.${name}`, factory(ctx)),
  );
}

/** The status bar's quick menu. */
async function showMenu(): Promise<void> {
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: '$(debug-pause) Toggle inline completions', command: 'glassbox.toggleCompletions' },
    { label: '$(comment-discussion) Explain selection', command: 'glassbox.explainSelection' },
    { label: '$(type-hierarchy) Show model architecture', command: 'glassbox.showArchitecture' },
    { label: '$(eye) Show attention', command: 'glassbox.showAttention' },
    { label: '$(graph) Show costs', command: 'glassbox.showCosts' },
    { label: '$(library) Select model…', command: 'glassbox.selectModel' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Glassbox' });
  if (pick) await vscode.commands.executeCommand(pick.command);
}

/** Every Glassbox command, declared once: name → factory. The `glassbox.` prefix is added here. */
import * as vscode from 'vscode';
import type { Config } from './config';
import type { EngineHost } from './engineHost';
import { explainCommand } from './explain/explainCommand';
import { showComingPanel } from './panels/comingPanel';
import { selectModel } from './selectModel';

export interface CommandContext {
  extension: vscode.ExtensionContext;
  host: EngineHost;
  config: Config;
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
  selectModel: (ctx) => () => selectModel(ctx.host),
  showArchitecture: () => () =>
    showComingPanel({ viewType: 'glassbox.architecture', title: 'Glassbox: Model Architecture', body: 'Coming: the loaded model read from its own ONNX graph — blocks, parameters, memory, FLOPs, quantization, training curves and the scaling study.' }),
  showAttention: () => () =>
    showComingPanel({ viewType: 'glassbox.attention', title: 'Glassbox: Attention', body: 'Coming: which tokens each generated token attended to, by layer and head, with attention rollout and the logit lens, painted on your code.' }),
  showCosts: () => () =>
    showComingPanel({ viewType: 'glassbox.costs', title: 'Glassbox: Costs', body: 'Coming: what your local completions and explanations would have cost on hosted APIs, and where self-hosting breaks even.' }),
  showMenu: () => showMenu,
  /** Run by VS Code when an inline suggestion is accepted (InlineCompletionItem.command). */
  completionAccepted: () => () => undefined,
};

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([name, factory]) => vscode.commands.registerCommand(`glassbox.${name}`, factory(ctx)));
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

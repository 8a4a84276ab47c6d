/**
 * The status bar item: the model's state, what completions do in the active editor's language
 * (automatic, manual only, snoozed), and the last completion's latency and speed.
 */
import * as vscode from 'vscode';
import { Config } from './config';
import { type CompletionResult, describeStages } from './engine';
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
    const model = this.host.modelName;
    const mode = completionMode(this.config, this.snooze, vscode.window.activeTextEditor?.document);
    const off = mode.kind !== 'automatic';
    const icon = off ? (mode.kind === 'snoozed' ? '$(clock)' : '$(circle-slash)') : ICONS[state.kind];
    const label = off ? mode.label : LABELS[state.kind];
    const stats = this.last && !off ? ` · ${formatStats(this.last)}` : '';
    // a model server is named where the user looks: code goes there, not to this machine's model
    const backend = this.host.backend;
    const where = backend.capabilities.local ? '' : ` (${backend.kind})`;
    this.item.text = `${icon} Glassbox${where}${state.kind === 'error' || off ? `: ${state.kind === 'error' ? LABELS.error : label}` : stats}`;
    this.item.tooltip = new vscode.MarkdownString(
      [
        `**Glassbox** — ${model}${backend.capabilities.local ? '' : ` on ${this.config.endpoint ?? 'no endpoint set'}`}: ${LABELS[state.kind]}`,
        `\n\nCompletions${mode.language ? ` in ${mode.language}` : ''}: ${mode.explanation}`,
        state.kind === 'error' ? `\n\n${state.message}` : '',
        this.last
          ? `\n\nLast ${this.last.kind}: ${formatStats(this.last)}, ${this.last.result.timings.generatedTokens} tokens`
          : '',
        this.last ? whereTimeWent(this.last) : '',
        this.last ? whatWasShown(this.last) : '',
        '\n\nClick for the Glassbox menu.',
      ].join(''),
    );
    this.item.backgroundColor =
      state.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

const ICONS: Record<EngineState['kind'], string> = {
  idle: '$(circle-outline)',
  loading: '$(loading~spin)',
  ready: '$(check)',
  generating: '$(sync~spin)',
  error: '$(error)',
};

const LABELS: Record<EngineState['kind'], string> = {
  idle: 'loads on first use',
  loading: 'loading',
  ready: 'ready',
  generating: 'generating',
  error: 'error',
};

/** For a completion: how much of it the copy cache wrote, and why nothing was shown when it was hidden. */
function whereTimeWent(r: ServedRequest): string {
  const line = describeStages(r.result.timings.stages, r.result.timings);
  return line ? `\n\nWhere the time went: ${line}.` : '';
}

function whatWasShown(r: ServedRequest): string {
  if (r.kind !== 'completion' || !('confidence' in r.result)) return '';
  const c: CompletionResult = r.result;
  if (c.hidden) {
    const why = {
      confidence: `its least likely token had probability ${c.confidence.min.toFixed(2)}, under glassbox.completion.minConfidence`,
      retype: 'it only retyped the text after the cursor',
      line_length: 'its line ran too long',
      declaration: "it copied a declaration's header into an expression",
    }[c.hidden.reason];
    return `\n\nNot shown: ${why}.`;
  }
  const copied = c.provenance.filter((t) => t.kind === 'cache').length;
  return c.provenance.length
    ? `\n\n${copied} of ${c.provenance.length} tokens copied by the cache; least likely token p ${c.confidence.min.toFixed(2)}.`
    : '';
}

/** What completions do for a document: come automatically, only on Trigger Completion, or not now (snoozed). */
export function completionMode(
  config: Config,
  snooze: Snooze,
  doc: vscode.TextDocument | undefined,
): { kind: 'automatic' | 'manual' | 'snoozed'; label: string; explanation: string; language?: string } {
  const language = doc?.languageId;
  if (snooze.active) {
    const left = snooze.minutesLeft;
    return {
      kind: 'snoozed',
      language,
      label: left === undefined ? 'snoozed' : `snoozed ${left} min`,
      explanation: `snoozed ${left === undefined ? 'until VS Code restarts' : `for ${left} more min`}; Trigger Completion still works.`,
    };
  }
  const c = doc ? config.for(doc) : config;
  if (!c.enabled)
    return {
      kind: 'manual',
      language,
      label: 'manual',
      explanation: `only on Trigger Completion (glassbox.enable is off${language ? ` for ${language}` : ''}).`,
    };
  if (language && c.disabledLanguages.includes(language))
    return {
      kind: 'manual',
      language,
      label: 'manual',
      explanation: `only on Trigger Completion (${language} is in glassbox.disabledLanguages).`,
    };
  return { kind: 'automatic', language, label: 'on', explanation: 'while you type.' };
}

function formatStats(r: ServedRequest): string {
  const t = r.result.timings;
  const tps = t.decodeMs > 0 ? (t.generatedTokens / t.decodeMs) * 1000 : 0;
  return `${Math.round(r.latencyMs)} ms, ${tps.toFixed(0)} tok/s`;
}

/**
 * Inline completions: turns VS Code's requests into engine calls and results into ghost text.
 * A newer request supersedes the older one (its AbortSignal fires), automatic requests wait out
 * an adaptive debounce, and the cache answers repeats and "typing along" without the model.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancellation, type TextSource, planAtCursor, requestAt } from '../engine';
import type { Config } from '../config';
import type { BackendRouter } from '../backends/router';
import { CompletionCache } from './cache';
import { AdaptiveDebounce, sleep } from './debounce';
import { migrateDisabledLanguages } from './languages';
import { notebookContext } from './notebookCells';
import { withTextAbove } from './notebookContext';
import type { Snooze } from './snooze';
import type { WorkspaceContext } from './workspaceContext';

const ACCEPTED_COMMAND = 'glassbox.completionAccepted';

export class GlassboxCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly cache = new CompletionCache();
  private readonly debounce = new AdaptiveDebounce();
  private inflight: AbortController | null = null;
  private readonly reported = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: BackendRouter,
    private readonly config: Config,
    private readonly workspace: WorkspaceContext,
    private readonly snooze: Snooze,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document && e.contentChanges.length > 0)
          this.debounce.keystroke(performance.now());
      }),
    );
    // The old glassbox.disabledLanguages list becomes per-language glassbox.enable values, once.
    // Here because this provider is what the settings switch; created once, at activation.
    migrateDisabledLanguages().catch((err: Error) => void vscode.window.showWarningMessage(err.message));
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    // settings as they apply here: `"[python]": { "glassbox.enable": false }` wins for Python files
    const config = this.config.for(document);
    // Trigger Completion works everywhere; automatic completions follow the settings and the snooze
    if (!explicit && !automaticFor(config, this.snooze)) return undefined;
    if (context.selectedCompletionInfo) return undefined; // the suggest widget is open: don't compete
    if (this.host.state.kind === 'error') return undefined; // reported once already; stay quiet
    const size = document.offsetAt(document.lineAt(document.lineCount - 1).range.end);
    if (size > config.maxFileSizeKB * 1024) return undefined;

    // In a notebook the cells above come first, and the cursor's cell reads as the end of a script.
    const notebook = notebookContext(document, config.contextTokens, (uri) => this.workspace.pathOf(uri));
    const above = notebook?.textAbove ?? '';
    const { doc, lines } = withTextAbove(above, textSource(document));
    const offset = above.length + document.offsetAt(position);
    const filePath = notebook?.path ?? this.workspace.pathOf(document.uri) ?? path.basename(document.fileName);
    const plan = planAtCursor({ doc, line: lines + position.line, offset, path: filePath }, config.contextTokens);
    const { prefix, suffix } = plan.window;
    const cached = this.cache.lookup(prefix, suffix);
    if (cached !== undefined) return this.items(cached.text, position, cached.requestId);

    // Supersede the previous request, and follow VS Code's cancellation of this one.
    this.inflight?.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const sub = token.onCancellationRequested(() => controller.abort());
    try {
      if (!explicit && !(await sleep(config.debounceMs ?? this.debounce.delay(), controller.signal))) return undefined;
      const context = await this.workspace.query(plan.queries);
      if (controller.signal.aborted) return undefined;
      const result = await this.host.complete(
        requestAt(plan, context, {
          maxNewTokens: config.maxTokens,
          temperature: config.temperature,
          budgetTokens: config.contextTokens,
          // an explicit request shows what the model has, however unsure
          minConfidence: explicit ? 0 : config.minConfidence,
          steps: false, // per-token records: not shown here, and the costliest part of the reply
        }),
        { signal: controller.signal },
      );
      const requestId = result.requestId;
      this.cache.set(prefix, suffix, result.text, requestId);
      return this.items(result.text, position, requestId);
    } catch (err) {
      if (!isCancellation(err)) this.reportOnce(err);
      return undefined;
    } finally {
      sub.dispose();
      if (this.inflight === controller) this.inflight = null;
    }
  }

  dispose(): void {
    this.inflight?.abort();
    for (const d of this.disposables) d.dispose();
  }

  /** `requestId` ties an acceptance to its served request in the usage ledger. */
  private items(
    text: string,
    position: vscode.Position,
    requestId?: string,
  ): vscode.InlineCompletionItem[] | undefined {
    if (!text) return undefined;
    const item = new vscode.InlineCompletionItem(text, new vscode.Range(position, position));
    item.command = { command: ACCEPTED_COMMAND, title: vscode.l10n.t('Accepted'), arguments: [text.length, requestId] };
    return [item];
  }

  /** Unexpected errors are shown once each, never on every keystroke. */
  private reportOnce(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.reported.has(message)) return;
    this.reported.add(message);
    void vscode.window.showWarningMessage(vscode.l10n.t('Glassbox completion failed: {0}', message));
  }
}

/**
 * Whether completions come automatically while typing (else only on Trigger Completion): `config`
 * is the document's, so `enabled` is its language's `glassbox.enable` (completion/languages.ts).
 */
export function automaticFor(config: Config, snooze: Snooze): boolean {
  return config.enabled && !snooze.active;
}

function textSource(doc: vscode.TextDocument): TextSource {
  return {
    lineCount: doc.lineCount,
    length: doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end),
    lineStartOffset: (line) => doc.offsetAt(new vscode.Position(line, 0)),
    slice: (start, end) => doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(end))),
  };
}

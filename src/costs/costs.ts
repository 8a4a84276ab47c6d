/**
 * The cost comparison's VS Code side: records what the engine serves, and runs the commands
 * (Show Costs, Reset Usage, Export Usage, Update Prices). The logic lives in the plain-Node
 * modules next to this file; this one turns it into notifications, dialogs and the panel.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CostsReport, ScaleInputs } from '../../webview/costs/protocol';
import { Config } from '../config';
import type { BackendRouter } from '../backends/router';
import { saveExport } from '../webviewHost/webviewChannel';
import { LEDGER_FILE, type LedgerRead } from './ledger';
import { ledgerToCsv, ledgerToJson } from './ledgerExport';
import { PriceUpdateError } from './litellm';
import { loadPriceSet, UPDATED_PRICES_FILE, updatePricesFile, type PriceSet } from './priceStore';
import { buildReport } from './report';
import { readCostSettings, type CostSettings, type RejectedSetting } from './settings';
import { TokenCounter } from './tokenCounter';
import { UsageRecorder } from './usageRecorder';

const UPDATE_TIMEOUT_MS = 30_000;

export class Costs implements vscode.Disposable {
  readonly recorder: UsageRecorder;
  private readonly counter: TokenCounter;
  private readonly storage: string;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** The ledger or the prices changed: an open panel redraws. */
  readonly onDidChange = this.changeEmitter.event;
  private readonly told = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    context: vscode.ExtensionContext,
    host: BackendRouter,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.storage = context.globalStorageUri.fsPath;
    this.counter = new TokenCounter(context.asAbsolutePath(path.join('dist', 'tokenCountWorker.js')));
    this.recorder = new UsageRecorder({
      file: path.join(this.storage, LEDGER_FILE),
      counter: this.counter,
      onRecovered: (r) => this.tellRecovered(r),
      onProblem: (m) => this.warnOnce(m),
      onFlushed: () => this.changeEmitter.fire(),
    });
    this.disposables.push(host.onDidServe((r) => this.recorder.record(r)));
  }

  /** Run by the inline item's accept command with the served request's id. */
  accepted(id: unknown): void {
    this.recorder.accept(id);
  }

  prices(): PriceSet {
    const file = this.costSettings().settings.priceFile;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const overrideFile = file ? (path.isAbsolute(file) || !folder ? file : path.join(folder, file)) : undefined;
    const set = loadPriceSet({ updatedFile: path.join(this.storage, UPDATED_PRICES_FILE), overrideFile });
    for (const e of set.errors) this.warnOnce(vscode.l10n.t('Glassbox prices: {0}. Using the prices under it.', e));
    return set;
  }

  async report(inputs?: ScaleInputs): Promise<CostsReport> {
    const read = await this.recorder.read();
    if (read.recovered) this.tellRecovered(read.recovered);
    const { prices, layers } = this.prices();
    const { settings, rejected } = this.costSettings();
    const recovered = read.recovered
      ? vscode.l10n.t(
          'The ledger was damaged ({0} unreadable lines); it was backed up to {1} and a new one started with the {2} readable requests.',
          read.recovered.badLines,
          read.recovered.backup,
          read.recovered.kept,
        )
      : undefined;
    return buildReport({
      entries: read.entries,
      prices,
      layers,
      settings,
      rejected,
      inputs,
      now: Date.now(),
      ledgerFile: this.recorder.file,
      recovered,
    });
  }

  async resetUsage(): Promise<void> {
    const reset = vscode.l10n.t('Reset');
    const { entries } = await this.recorder.read();
    const choice = await vscode.window.showWarningMessage(
      entries.length === 1
        ? vscode.l10n.t('Reset the Glassbox usage ledger? The 1 recorded request will be deleted.')
        : vscode.l10n.t('Reset the Glassbox usage ledger? The {0} recorded requests will be deleted.', entries.length),
      { modal: true, detail: vscode.l10n.t('Export Usage first to keep a copy.') },
      reset,
    );
    if (choice !== reset) return;
    await this.recorder.reset();
    this.changeEmitter.fire();
    void vscode.window.showInformationMessage(vscode.l10n.t('Glassbox usage ledger reset.'));
  }

  async exportUsage(): Promise<void> {
    const { entries } = await this.recorder.read();
    if (entries.length === 0) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('The Glassbox usage ledger is empty: nothing to export yet.'),
      );
      return;
    }
    const target = await saveExport({
      title: vscode.l10n.t('Export Glassbox usage'),
      name: `glassbox-usage-${new Date().toISOString().slice(0, 10)}.csv`,
      filters: { CSV: ['csv'], JSON: ['json'] },
      bytes: (uri) =>
        Buffer.from(uri.path.toLowerCase().endsWith('.json') ? ledgerToJson(entries) : ledgerToCsv(entries), 'utf8'),
      announce: false,
    });
    if (!target) return;
    const open = await vscode.window.showInformationMessage(
      vscode.l10n.t('Exported {0} requests to {1}.', entries.length, target.fsPath),
      vscode.l10n.t('Open'),
    );
    if (open) await vscode.window.showTextDocument(target);
  }

  /** Downloads LiteLLM's prices (only now, on request); any failure keeps the prices in effect. */
  async updatePrices(): Promise<void> {
    const url = this.costSettings().settings.pricesUrl;
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Glassbox: downloading prices from LiteLLM…'),
        cancellable: true,
      },
      async (_progress, token) => {
        const controller = new AbortController();
        const sub = token.onCancellationRequested(() => controller.abort());
        try {
          const r = await updatePricesFile(url, path.join(this.storage, UPDATED_PRICES_FILE), {
            signal: controller.signal,
            timeoutMs: UPDATE_TIMEOUT_MS,
            net: Config.net(),
          });
          this.log.info(
            `Prices updated from ${url}: ${r.updated.length} models; missing ${r.missing.join(', ') || 'none'}; skipped ${r.skipped.join('; ') || 'none'}`,
          );
          const kept = [...r.missing, ...r.skipped.map((s) => s.split(' ')[0])];
          void vscode.window.showInformationMessage(
            kept.length
              ? vscode.l10n.t(
                  'Glassbox prices updated from LiteLLM for {0} of {1} models. Bundled prices kept for {2}.',
                  r.updated.length,
                  r.prices.models.length,
                  kept.join(', '),
                )
              : vscode.l10n.t(
                  'Glassbox prices updated from LiteLLM for {0} of {1} models.',
                  r.updated.length,
                  r.prices.models.length,
                ),
          );
          this.changeEmitter.fire();
        } catch (err) {
          if (err instanceof PriceUpdateError && err.reason === 'cancelled') {
            void vscode.window.showInformationMessage(
              vscode.l10n.t('Price update cancelled; the prices are unchanged.'),
            );
          } else {
            const message = err instanceof Error ? err.message : String(err);
            this.log.warn(`Price update from ${url} failed: ${message}`);
            void vscode.window.showWarningMessage(vscode.l10n.t('Glassbox kept the prices it had: {0}', message));
          }
        } finally {
          sub.dispose();
        }
      },
    );
  }

  /** glassbox.costs.*: out-of-range values are rejected, reported once, and listed in the report. */
  private costSettings(): { settings: CostSettings; rejected: RejectedSetting[] } {
    const read = readCostSettings((key) => this.config.raw(`costs.${key}`));
    for (const r of read.rejected) this.config.invalid(`costs.${r.key}`, r.expected);
    return read;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.recorder.dispose();
    this.counter.dispose();
    this.changeEmitter.dispose();
  }

  private tellRecovered(r: NonNullable<LedgerRead['recovered']>): void {
    this.warnOnce(
      vscode.l10n.t(
        "Glassbox's usage ledger was damaged ({0} unreadable lines). It was backed up to {1}; a new ledger was started with the {2} requests that could be read.",
        r.badLines,
        r.backup,
        r.kept,
      ),
    );
  }

  private warnOnce(message: string): void {
    if (this.told.has(message)) return;
    this.told.add(message);
    this.log.warn(message);
    void vscode.window.showWarningMessage(message);
  }
}

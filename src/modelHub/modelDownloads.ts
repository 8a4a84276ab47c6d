/**
 * The VS Code side of model downloads: where models are stored, the hub client on VS Code's
 * proxy support (Config.net()), the size confirmation, the progress notification (MB/s, Cancel), and switching
 * to a model once it is on disk (memory estimate first, then the settings that reload the worker).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Config } from '../config';
import type { BackendRouter } from '../backends/router';
import { Downloader, type DownloadPlan, type DownloadRequest } from './download';
import { DownloadError, formatBytes, isDownloadCancel } from './errors';
import { HubClient } from './hubClient';
import { describeEstimate, estimateFolderMemory, type MemoryEstimate } from './memory';
import { ModelStore, type InstalledModel } from './store';

export interface ModelUiContext {
  extension: vscode.ExtensionContext;
  host: BackendRouter;
  config: Config;
}

/** The store and hub client for the current settings. */
export function modelServices(ctx: ModelUiContext): {
  store: ModelStore;
  hub: () => HubClient;
  downloader: () => Downloader;
} {
  const root = ctx.config.modelStorageFolder ?? path.join(ctx.extension.globalStorageUri.fsPath, 'models');
  const store = new ModelStore(root);
  const hub = () => new HubClient(ctx.config.hubBaseUrl, Config.net());
  return { store, hub, downloader: () => new Downloader({ store, hub: hub() }) };
}

/** Context length the memory estimate assumes: a full completion or explanation request. */
export function contextForEstimate(config: Config): number {
  return config.contextTokens + Math.max(config.maxTokens, config.explainMaxTokens);
}

/**
 * Plans, asks the user to confirm the size, downloads with a progress notification, and returns
 * the installed model; undefined when the user declined or cancelled. Errors are shown here.
 */
export async function downloadWithProgress(
  ctx: ModelUiContext,
  request: DownloadRequest,
  memory?: MemoryEstimate,
): Promise<InstalledModel | undefined> {
  const { downloader } = modelServices(ctx);
  const d = downloader();
  let plan: DownloadPlan;
  try {
    plan = await d.plan(request);
  } catch (err) {
    await showDownloadError(err, request.title);
    return undefined;
  }
  const rest = plan.totalBytes - plan.resumeBytes;
  const detail = [
    plan.resumeBytes > 0
      ? vscode.l10n.t(
          '{0} files from {1}: {2} to download ({3} already downloaded; it resumes), {4} free.',
          request.files.length,
          request.repo,
          formatBytes(rest),
          formatBytes(plan.resumeBytes),
          formatBytes(plan.freeBytes),
        )
      : vscode.l10n.t(
          '{0} files from {1}: {2} to download, {3} free.',
          request.files.length,
          request.repo,
          formatBytes(rest),
          formatBytes(plan.freeBytes),
        ),
    memory ? vscode.l10n.t('Running it needs {0}.', describeEstimate(memory)) : '',
    vscode.l10n.t("Every file is checked against the hub's hashes (sha256 for the weights) before the model is used."),
  ]
    .filter(Boolean)
    .join('\n');
  const download = vscode.l10n.t('Download');
  const go = await vscode.window.showInformationMessage(
    vscode.l10n.t('Download {0} ({1}, {2})?', request.title, request.variant, formatBytes(plan.totalBytes)),
    { modal: true, detail },
    download,
  );
  if (go !== download) return undefined;

  for (;;) {
    try {
      return await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('Glassbox: downloading {0}', request.title),
          cancellable: true,
        },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let shown = 0;
          try {
            return await d.download(plan, {
              signal: abort.signal,
              onProgress: (p) => {
                const pct = p.totalBytes ? (p.doneBytes / p.totalBytes) * 100 : 0;
                const what =
                  p.phase === 'verify'
                    ? vscode.l10n.t('checking {0}', p.file)
                    : p.phase === 'install'
                      ? vscode.l10n.t('installing')
                      : p.file;
                const rate = p.phase === 'download' ? ` · ${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s` : '';
                progress.report({
                  message: `${vscode.l10n.t('{0} of {1}', formatBytes(p.doneBytes), formatBytes(p.totalBytes))}${rate} · ${what}`,
                  increment: pct - shown,
                });
                shown = pct;
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
    } catch (err) {
      if (isDownloadCancel(err)) {
        void vscode.window.showInformationMessage(
          vscode.l10n.t('Download of {0} cancelled. Starting it again resumes where it stopped.', request.title),
        );
        return undefined;
      }
      const retry = vscode.l10n.t('Retry');
      const again = await showDownloadError(err, request.title, retry);
      if (again !== retry) return undefined;
    }
  }
}

async function showDownloadError(err: unknown, title: string, ...actions: string[]): Promise<string | undefined> {
  const message = err instanceof Error ? err.message : String(err);
  const settings =
    err instanceof DownloadError && ['READ_ONLY', 'DISK_FULL', 'INSECURE_URL', 'HUB_UNREACHABLE'].includes(err.code)
      ? [vscode.l10n.t('Open Settings')]
      : [];
  const choice = await vscode.window.showErrorMessage(
    vscode.l10n.t('Glassbox could not download {0}: {1}', title, message),
    ...actions,
    ...settings,
  );
  if (choice !== undefined && choice === settings[0])
    await vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox.hub');
  return choice;
}

/**
 * Switches to the model in `dir`: shows the memory it needs (and asks first when that is more
 * than most of this machine's memory), then writes the settings; the settings change makes the
 * engine host load it in the worker and swap it in, releasing the old one.
 */
export async function useModel(
  ctx: ModelUiContext,
  dir: string | undefined,
  onnxFile: string | undefined,
  name: string,
): Promise<boolean> {
  if (dir) {
    let estimate: MemoryEstimate | undefined;
    try {
      estimate = estimateFolderMemory(dir, onnxFile, contextForEstimate(ctx.config));
    } catch {
      estimate = undefined; // the load will report what is wrong with the folder
    }
    if (estimate && estimate.totalBytes > os.totalmem() * 0.8) {
      const loadAnyway = vscode.l10n.t('Load Anyway');
      const go = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          '{0} needs {1}; this machine has {2}.',
          name,
          describeEstimate(estimate),
          formatBytes(os.totalmem()),
        ),
        {
          modal: true,
          detail: vscode.l10n.t('It may swap heavily or fail to load. A smaller quantization (q4) needs less.'),
        },
        loadAnyway,
      );
      if (go !== loadAnyway) return false;
    } else if (estimate) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Glassbox: loading {0}, which needs {1}.', name, describeEstimate(estimate)),
      );
    }
  }
  const unchanged = ctx.config.modelPath === dir && ctx.config.modelFile === onnxFile;
  await ctx.config.setModel(dir, onnxFile);
  if (unchanged && ctx.host.state.kind !== 'idle') void ctx.host.reload().catch(() => undefined); // same folder, new files
  return true;
}

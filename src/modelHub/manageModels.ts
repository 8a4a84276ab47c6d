/**
 * "Glassbox: Manage Downloaded Models": the models in storage and the downloads that stopped
 * halfway; use, reveal or delete a model, resume or discard a download.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { downloadWithProgress, modelServices, useModel, type ModelUiContext } from './modelDownloads';
import { requestFromManifest } from './download';
import { formatBytes } from './errors';
import type { InstalledModel, PartialDownload } from './store';

type Item = vscode.QuickPickItem & ({ model: InstalledModel } | { partial: PartialDownload } | { storage: string });

export async function manageModels(ctx: ModelUiContext): Promise<void> {
  const { store } = modelServices(ctx);
  const current = ctx.host.info?.dir;
  const inUse = (m: InstalledModel) => current !== undefined && path.resolve(current) === path.resolve(m.dir);
  const items: Item[] = [
    ...store.listInstalled().map((m): Item => ({
      label: `${inUse(m) ? '$(check)' : '$(database)'} ${m.marker.title} · ${m.marker.variant}`,
      description: `${formatBytes(m.bytes)} · ${m.marker.repo}@${m.marker.commit.slice(0, 7)}`,
      detail: m.dir,
      model: m,
    })),
    ...store.listPartial().map((p): Item => ({
      label: `$(debug-pause) ${p.manifest.title} · ${p.manifest.variant} (unfinished)`,
      description: `${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)}`,
      detail: 'Not installed: resume or discard it.',
      partial: p,
    })),
    { label: '$(folder) Open the storage folder', description: store.root, storage: store.root },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Glassbox: Downloaded Models',
    matchOnDescription: true,
  });
  if (!pick) return;
  if ('storage' in pick) {
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(pick.storage));
    return;
  }
  if ('partial' in pick) {
    const action = await vscode.window.showQuickPick(['Resume', 'Discard'], { title: pick.label });
    if (action === 'Discard') return run(() => store.remove(pick.partial.slug, true));
    if (action !== 'Resume') return;
    const model = await downloadWithProgress(ctx, requestFromManifest(pick.partial.manifest));
    if (model) await useModel(ctx, model.dir, model.marker.onnxFile, model.marker.title);
    return;
  }
  const m = pick.model;
  const action = await vscode.window.showQuickPick(['Use', 'Reveal in File Manager', 'Delete'], { title: pick.label });
  if (action === 'Use') await useModel(ctx, m.dir, m.marker.onnxFile, m.marker.title);
  if (action === 'Reveal in File Manager')
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(m.dir));
  if (action === 'Delete') {
    const sure = await vscode.window.showWarningMessage(
      `Delete ${m.marker.title} (${m.marker.variant}, ${formatBytes(m.bytes)})?`,
      { modal: true, detail: m.dir },
      'Delete',
    );
    if (sure !== 'Delete') return;
    // Switch away first, so the worker does not hold files that are about to go.
    if (inUse(m)) await useModel(ctx, undefined, undefined, 'the embedded model');
    await run(() => store.remove(m.slug));
  }
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    void vscode.window.showErrorMessage(`Glassbox: ${(err as Error).message}`);
  }
}

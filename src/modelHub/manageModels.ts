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
      label: `$(debug-pause) ${vscode.l10n.t('{0} · {1} (unfinished)', p.manifest.title, p.manifest.variant)}`,
      description: vscode.l10n.t('{0} of {1}', formatBytes(p.doneBytes), formatBytes(p.totalBytes)),
      detail: vscode.l10n.t('Not installed: resume or discard it.'),
      partial: p,
    })),
    { label: `$(folder) ${vscode.l10n.t('Open the storage folder')}`, description: store.root, storage: store.root },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Glassbox: Downloaded Models'),
    matchOnDescription: true,
  });
  if (!pick) return;
  if ('storage' in pick) {
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(pick.storage));
    return;
  }
  if ('partial' in pick) {
    const [resume, discard] = [vscode.l10n.t('Resume'), vscode.l10n.t('Discard')];
    const action = await vscode.window.showQuickPick([resume, discard], { title: pick.label });
    if (action === discard) return run(() => store.remove(pick.partial.slug, true));
    if (action !== resume) return;
    const model = await downloadWithProgress(ctx, requestFromManifest(pick.partial.manifest));
    if (model) await useModel(ctx, model.dir, model.marker.onnxFile, model.marker.title);
    return;
  }
  const m = pick.model;
  const [use, reveal, del] = [vscode.l10n.t('Use'), vscode.l10n.t('Reveal in File Manager'), vscode.l10n.t('Delete')];
  const action = await vscode.window.showQuickPick([use, reveal, del], { title: pick.label });
  if (action === use) await useModel(ctx, m.dir, m.marker.onnxFile, m.marker.title);
  if (action === reveal) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(m.dir));
  if (action === del) {
    const sure = await vscode.window.showWarningMessage(
      vscode.l10n.t('Delete {0} ({1}, {2})?', m.marker.title, m.marker.variant, formatBytes(m.bytes)),
      { modal: true, detail: m.dir },
      del,
    );
    if (sure !== del) return;
    // Switch away first, so the worker does not hold files that are about to go.
    if (inUse(m)) await useModel(ctx, undefined, undefined, vscode.l10n.t('the embedded model'));
    await run(() => store.remove(m.slug));
  }
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Glassbox: {0}', (err as Error).message));
  }
}

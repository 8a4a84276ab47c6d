/**
 * "Glassbox: Select Model": the embedded model, models already downloaded, a model folder on
 * disk (choosing the .onnx when it holds several), and the catalogue of known small code models.
 * Opening the list checks every catalogue entry against the hub's file listing; an entry whose
 * files changed shows the hub's sizes and warns. Picking one downloads it and switches to it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EMBEDDED_MODEL, listOnnxFiles } from '../engine';
import {
  contextForEstimate,
  downloadWithProgress,
  modelServices,
  useModel,
  type ModelUiContext,
} from './modelDownloads';
import { catalogueFor, type CatalogueEntry, type CatalogueVariant } from './catalogue';
import { formatBytes } from './errors';
import { isLoopback } from '../net/http';
import type { HubClient } from './hubClient';
import { describeEstimate } from './memory';
import { downloadRequest, resolveVariant, variantMemory, type ResolvedVariant } from './resolve';
import { modelSlug, type InstalledModel, type PartialDownload } from './store';

/** What the hub said about one catalogue repository. */
type HubCheck =
  | { state: 'checking' }
  | { state: 'listed'; commit: string; variants: Map<string, ResolvedVariant> }
  | { state: 'failed'; message: string };

type Item = vscode.QuickPickItem &
  (
    | { action: 'embedded' | 'folder' | 'manage' | 'none' }
    | { action: 'installed'; model: InstalledModel }
    | { action: 'server'; model: string }
    | { action: 'catalogue'; entry: CatalogueEntry; variant: CatalogueVariant }
  );

export async function selectModel(ctx: ModelUiContext): Promise<void> {
  const services = modelServices(ctx);
  let hub: HubClient | undefined;
  let hubError: string | undefined;
  try {
    hub = services.hub();
  } catch (err) {
    hubError = (err as Error).message;
  }
  const entries = catalogueFor(hub ? isLoopback(new URL(hub.baseUrl)) : false);
  const checks = new Map<string, HubCheck>(
    entries.map((e) => [e.repo, hubError ? { state: 'failed', message: hubError } : { state: 'checking' }]),
  );
  const installed = services.store.listInstalled();
  const partial = new Map(services.store.listPartial().map((p) => [p.slug, p]));

  // the configured server's models, listed as they arrive
  let serverModels: ServerModels = ctx.host.server?.kind ? { state: 'checking' } : { state: 'none' };
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = vscode.l10n.t('Glassbox: Select Model');
  qp.placeholder = ctx.host.server?.kind
    ? vscode.l10n.t('Now: {0} on the server', ctx.host.modelName)
    : ctx.host.info
      ? vscode.l10n.t('Now: {0}', ctx.host.info.name)
      : vscode.l10n.t('Pick the model for completions and Explain');
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const render = () => {
    const active = qp.activeItems[0]?.label;
    qp.items = [...serverItems(ctx, serverModels), ...buildItems(ctx, installed, entries, checks, partial)];
    const keep = qp.items.find((i) => i.label === active);
    if (keep) qp.activeItems = [keep];
    qp.busy = [...checks.values()].some((c) => c.state === 'checking') || serverModels.state === 'checking';
  };
  render();
  const abort = new AbortController();
  if (ctx.host.server?.kind)
    void ctx.host.remote
      .client()
      .then((server) => server.models(abort.signal))
      .then(
        (models) => (serverModels = { state: 'listed', models }),
        (err: Error) => (serverModels = { state: 'failed', message: err.message }),
      )
      .then(() => !abort.signal.aborted && render());
  if (hub) {
    for (const e of entries) {
      void checkEntry(hub, e, abort.signal).then((c) => {
        checks.set(e.repo, c);
        if (!abort.signal.aborted) render();
      });
    }
  }
  const pick = await new Promise<Item | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  abort.abort();
  if (!pick) return;
  // a model on this machine: completions and Explain come back from the server to the embedded engine
  if ((pick.action === 'embedded' || pick.action === 'installed') && ctx.host.server?.kind)
    await ctx.config.setBackend('embedded');
  switch (pick.action) {
    case 'server':
      await ctx.config.setRemoteModel(pick.model);
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Glassbox: completions and Explain now use {0} on the server.', pick.model),
      );
      return;
    case 'embedded':
      await useModel(ctx, undefined, undefined, vscode.l10n.t('the embedded model'));
      return;
    case 'installed':
      await useModel(ctx, pick.model.dir, pick.model.marker.onnxFile, pick.model.marker.title);
      return;
    case 'folder':
      return openFolder(ctx);
    case 'manage':
      await vscode.commands.executeCommand('glassbox.manageModels');
      return;
    case 'catalogue':
      return pickCatalogue(ctx, pick.entry, pick.variant, hub, checks.get(pick.entry.repo));
  }
}

type ServerModels =
  { state: 'none' | 'checking' } | { state: 'listed'; models: string[] } | { state: 'failed'; message: string };

/** The server's section: its models (the one in use ticked), or why they could not be listed. */
function serverItems(ctx: ModelUiContext, s: ServerModels): Item[] {
  if (s.state === 'none') return [];
  const items: Item[] = [
    {
      label: vscode.l10n.t('On the server ({0})', ctx.host.server?.kind ?? ''),
      kind: vscode.QuickPickItemKind.Separator,
      action: 'none',
    },
  ];
  if (s.state === 'checking')
    items.push({ label: `$(loading~spin) ${vscode.l10n.t('Asking the server…')}`, action: 'none' });
  if (s.state === 'failed')
    items.push({
      label: `$(error) ${vscode.l10n.t('The server did not list its models')}`,
      detail: s.message,
      action: 'none',
    });
  if (s.state === 'listed')
    for (const m of s.models) {
      const inUse = m === ctx.config.remoteModel;
      items.push({
        label: `${inUse ? '$(check)' : '$(cloud)'} ${m}`,
        detail: inUse ? vscode.l10n.t('In use') : undefined,
        action: 'server',
        model: m,
      });
    }
  items.push({ label: vscode.l10n.t('On this machine'), kind: vscode.QuickPickItemKind.Separator, action: 'none' });
  return items;
}

function buildItems(
  ctx: ModelUiContext,
  installed: InstalledModel[],
  entries: CatalogueEntry[],
  checks: Map<string, HubCheck>,
  partial: Map<string, PartialDownload>,
): Item[] {
  const sep = (label: string): Item => ({ label, kind: vscode.QuickPickItemKind.Separator, action: 'none' });
  const current = ctx.host.info?.dir;
  const items: Item[] = [
    {
      label: `$(package) ${vscode.l10n.t('Embedded model')}`,
      description: EMBEDDED_MODEL,
      detail: vscode.l10n.t('Ships with Glassbox; works offline.'),
      action: 'embedded',
    },
    {
      label: `$(folder-opened) ${vscode.l10n.t('Open model folder…')}`,
      detail: vscode.l10n.t(
        'A Hugging Face / Optimum / transformers.js or ONNX Runtime GenAI folder with an .onnx decoder and tokenizer.json.',
      ),
      action: 'folder',
    },
  ];
  if (installed.length) {
    items.push(sep('Downloaded'));
    for (const m of installed) {
      const inUse = current !== undefined && path.resolve(current) === path.resolve(m.dir);
      items.push({
        label: `${inUse ? '$(check)' : '$(database)'} ${m.marker.title} · ${m.marker.variant}`,
        description: `${formatBytes(m.bytes)} · ${m.marker.repo}`,
        detail: inUse ? vscode.l10n.t('In use') : m.dir,
        action: 'installed',
        model: m,
      });
    }
    items.push({ label: `$(trash) ${vscode.l10n.t('Manage downloaded models…')}`, action: 'manage' });
  }
  items.push(sep(vscode.l10n.t('Download from the hub')));
  const context = contextForEstimate(ctx.config);
  for (const entry of entries) {
    const check = checks.get(entry.repo)!;
    for (const variant of entry.variants) {
      if (installed.some((m) => m.slug === modelSlug(entry.repo, variant.id))) continue;
      const resolved = check.state === 'listed' ? check.variants.get(variant.id) : undefined;
      const size =
        resolved && !resolved.missing.length
          ? formatBytes(resolved.totalBytes)
          : `≈ ${formatBytes(variant.approxBytes)}`;
      const memory = variantMemory(entry, variant, context, resolved?.weightBytes || undefined);
      const part = partial.get(modelSlug(entry.repo, variant.id));
      const facts = [
        `FIM ${entry.fim ? '✓' : '—'}`,
        `chat ${entry.chat ? '✓' : '—'}`,
        vscode.l10n.t('needs {0} of memory', describeEstimate(memory).split(' (')[0]),
        part ? `$(debug-pause) ${vscode.l10n.t('{0} downloaded, resumes', formatBytes(part.doneBytes))}` : '',
        hubStatus(check, resolved, entry),
      ].filter(Boolean);
      items.push({
        label: `${entry.unsupported ? '$(circle-slash)' : '$(cloud-download)'} ${entry.title} · ${variant.id}`,
        description: `${size} · ${variant.quantization} · ${entry.licence}`,
        detail: facts.join(' · '),
        action: 'catalogue',
        entry,
        variant,
      });
    }
  }
  return items;
}

function hubStatus(check: HubCheck, r: ResolvedVariant | undefined, entry: CatalogueEntry): string {
  if (entry.unsupported) return `$(circle-slash) ${vscode.l10n.t('the engine cannot run it yet')}`;
  if (check.state === 'checking') return `$(sync~spin) ${vscode.l10n.t('checking the hub…')}`;
  if (check.state === 'failed') return `$(warning) ${vscode.l10n.t('hub check failed: {0}', check.message)}`;
  if (!r) return '';
  if (r.missing.length) return `$(error) ${vscode.l10n.t('not on the hub: {0}', r.missing.join(', '))}`;
  if (r.changed.length) {
    const changed = r.changed.map((c) =>
      vscode.l10n.t('{0} is {1} (catalogue: ≈ {2})', c.path, formatBytes(c.actual), formatBytes(c.expected)),
    );
    return `$(warning) ${vscode.l10n.t('changed on the hub: {0}', changed.join(', '))}`;
  }
  return `$(pass) ${vscode.l10n.t('on the hub ({0})', check.commit.slice(0, 7))}`;
}

/** Reads the entry's commit and file listing; never throws (a failure is part of the result). */
async function checkEntry(hub: HubClient, entry: CatalogueEntry, signal: AbortSignal): Promise<HubCheck> {
  try {
    const commit = await hub.resolveRevision(entry.repo, entry.revision, signal);
    const listing = await hub.listFiles(entry.repo, commit, signal);
    return {
      state: 'listed',
      commit,
      variants: new Map(entry.variants.map((v) => [v.id, resolveVariant(entry, v, listing)])),
    };
  } catch (err) {
    return { state: 'failed', message: (err as Error).message };
  }
}

async function pickCatalogue(
  ctx: ModelUiContext,
  entry: CatalogueEntry,
  variant: CatalogueVariant,
  hub: HubClient | undefined,
  seen: HubCheck | undefined,
): Promise<void> {
  if (entry.unsupported) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Glassbox cannot run {0} yet: {1}', entry.title, entry.unsupported),
    );
    return;
  }
  if (!hub) return;
  // The list may have closed before the check finished: finish it (it is what the download uses).
  const check =
    seen?.state === 'listed'
      ? seen
      : await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: vscode.l10n.t('Checking {0} on the hub…', entry.repo),
          },
          () => checkEntry(hub, entry, new AbortController().signal),
        );
  if (check.state !== 'listed') {
    void vscode.window.showErrorMessage(
      vscode.l10n.t(
        'Glassbox could not read {0} from {1}: {2}',
        entry.repo,
        hub.baseUrl,
        check.state === 'failed' ? check.message : vscode.l10n.t('no answer'),
      ),
    );
    return;
  }
  const r = check.variants.get(variant.id)!;
  if (r.missing.length) {
    const others = r.otherOnnx.length ? ` ${vscode.l10n.t('It has: {0}.', r.otherOnnx.join(', '))}` : '';
    void vscode.window.showErrorMessage(
      vscode.l10n.t(
        "{0} on the hub has no {1}; Glassbox's catalogue is out of date for it.",
        entry.repo,
        r.missing.join(', '),
      ) + others,
    );
    return;
  }
  if (r.changed.length) {
    const what = r.changed
      .map((c) =>
        vscode.l10n.t(
          '{0} is {1} on the hub; the catalogue expected ≈ {2}',
          c.path,
          formatBytes(c.actual),
          formatBytes(c.expected),
        ),
      )
      .join('; ');
    const showAgain = vscode.l10n.t('Show the List Again');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t("The files of {0} changed on the hub since Glassbox's catalogue was written.", entry.title),
      {
        modal: true,
        detail: vscode.l10n.t(
          "{0}. The list shows the hub's sizes; the download uses them and checks every file's sha256.",
          what,
        ),
      },
      vscode.l10n.t('Download {0}', formatBytes(r.totalBytes)),
      showAgain,
    );
    if (choice === showAgain) return selectModel(ctx);
    if (!choice) return;
  }
  const memory = variantMemory(entry, variant, contextForEstimate(ctx.config), r.weightBytes);
  const model = await downloadWithProgress(ctx, downloadRequest(r, check.commit), memory);
  if (model) await useModel(ctx, model.dir, model.marker.onnxFile, `${entry.title} (${variant.id})`);
}

async function openFolder(ctx: ModelUiContext): Promise<void> {
  const folders = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: vscode.l10n.t('Use this model'),
  });
  if (!folders?.length) return;
  const dir = folders[0].fsPath;
  const onnx = listOnnxFiles(dir);
  let file: string | undefined;
  if (onnx.length > 1) {
    file = await vscode.window.showQuickPick(onnx, {
      title: vscode.l10n.t('{0} holds several ONNX files: which one?', path.basename(dir)),
    });
    if (!file) return;
  }
  await useModel(ctx, dir, file, path.basename(dir));
}

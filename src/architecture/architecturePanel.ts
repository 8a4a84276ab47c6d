/**
 * The architecture explorer's host side (one panel at a time: singletonPanel.ts). It asks the
 * graph inspector to read the configured model's graph, sends the summary and drill-down views to
 * the webview, passes on the decode speed Glassbox measured, re-reads the graph when the model
 * changes, and saves exported diagrams.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Config } from '../config';
import type { BackendRouter } from '../backends/router';
import { isViewToHost, type ExportFormat, type HostToView, type ViewToHost } from '../../webview/architecture/protocol';
import { GraphInspector } from './graphInspector';
import { PanelSlot } from '../webviewHost/panelSlot';
import { createPanel, SingletonPanel, type PanelKind } from '../webviewHost/singletonPanel';
import { saveExport } from '../webviewHost/webviewChannel';

export const ARCHITECTURE_VIEW_TYPE = 'glassbox.architecture';

const KIND: PanelKind<ViewToHost> = {
  viewType: ARCHITECTURE_VIEW_TYPE,
  view: 'architecture',
  get title() {
    return vscode.l10n.t('Glassbox: Model Architecture');
  },
  accepts: isViewToHost,
};
const slot = new PanelSlot<ArchitecturePanel>();

interface Target {
  modelDir: string;
  onnxFile?: string;
}

export class ArchitecturePanel extends SingletonPanel<HostToView, ViewToHost> {
  static get currentPanel(): ArchitecturePanel | undefined {
    return slot.current;
  }
  private static inspectorValue: GraphInspector | undefined;

  private shown: string | null = null;
  private loading: Promise<void> | null = null;

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: BackendRouter,
    private readonly config: Config,
    private readonly inspector: GraphInspector,
  ) {
    super(panel, slot, KIND, extensionUri);
    inspector.onDidMeasure((speed) => this.post({ type: 'measured', speed }), null, this.disposables);
    // a model switch (settings, Select Model) shows the new model once it has loaded
    Config.onDidChange('server')(() => void this.postServer(), null, this.disposables);
    host.onDidChangeState(
      (s) => s.kind === 'ready' && this.shown !== null && this.shown !== key(this.target()) && void this.load(),
      null,
      this.disposables,
    );
  }

  /** The inspector and the speed tracker live as long as the extension; call once from activate. */
  static register(context: vscode.ExtensionContext, host: BackendRouter): vscode.Disposable {
    const inspector = new GraphInspector(context.asAbsolutePath(path.join('dist', 'engineWorker.js')), host);
    ArchitecturePanel.inspectorValue = inspector;
    return inspector;
  }

  static createOrShow(extensionUri: vscode.Uri, host: BackendRouter, config: Config): ArchitecturePanel {
    return slot.show(
      () =>
        new ArchitecturePanel(
          createPanel(KIND, extensionUri),
          extensionUri,
          host,
          config,
          ArchitecturePanel.inspector(),
        ),
    );
  }

  /** Restores a panel VS Code kept across a window reload; the webview redraws from its state, then gets a fresh summary. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, host: BackendRouter, config: Config): void {
    slot.adopt(new ArchitecturePanel(panel, extensionUri, host, config, ArchitecturePanel.inspector()));
  }

  private static inspector(): GraphInspector {
    if (!ArchitecturePanel.inspectorValue) throw new Error('ArchitecturePanel.register was not called in activate');
    return ArchitecturePanel.inspectorValue;
  }

  /** The model the engine runs, or will load: the loaded one when there is one, else the settings'. */
  private target(): Target {
    const info = this.host.info;
    if (info) return { modelDir: info.dir, onnxFile: path.relative(info.dir, info.onnxPath) };
    return { modelDir: this.host.modelDir(), onnxFile: this.config.modelFile };
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const target = this.target();
      this.shown = key(target);
      this.post({ type: 'loading', model: path.basename(target.modelDir) });
      try {
        const summary = await this.inspector.call('inspectArchitecture', target);
        this.post({ type: 'summary', summary });
      } catch (err) {
        this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    })().finally(() => (this.loading = null));
    return this.loading;
  }

  /** What the configured model server says of its model, for the note above the diagram. */
  private async postServer(): Promise<void> {
    const backend = this.host.backend;
    if (backend.capabilities.graph) return this.post({ type: 'server', server: null });
    const kind = backend.kind;
    try {
      const d = await backend.describe(AbortSignal.timeout(10_000));
      this.post({ type: 'server', server: { kind, host: d.where, name: d.name, facts: d.facts } });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.post({
        type: 'server',
        server: { kind, host: this.config.endpoint ?? '', name: this.host.modelName, facts: [], error: message },
      });
    }
  }

  protected override onMessage(msg: ViewToHost): void {
    switch (msg.type) {
      case 'ready':
        this.post({ type: 'measured', speed: this.inspector.measured });
        void this.load();
        void this.postServer();
        break;
      case 'refresh':
        void this.load();
        break;
      case 'graph':
        void this.graph(msg.requestId, msg.scope, msg.expanded, msg.showShapeOps);
        break;
      case 'export':
        void this.save(msg.format, msg.data, msg.name);
        break;
    }
  }

  private async graph(requestId: number, scope: string, expanded: string[], showShapeOps: boolean): Promise<void> {
    try {
      const view = await this.inspector.call('architectureGraph', { ...this.target(), scope, expanded, showShapeOps });
      this.post({ type: 'graph', requestId, view });
    } catch (err) {
      this.post({ type: 'graphError', requestId, message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Writes an exported diagram where the user chooses. */
  private async save(format: ExportFormat, data: string, name: string): Promise<void> {
    try {
      const uri = await saveExport({
        title: vscode.l10n.t('Export the architecture diagram as {0}', format.toUpperCase()),
        name: `${name.replace(/[^\w.-]+/g, '-')}-architecture.${format}`,
        filters:
          format === 'svg' ? { [vscode.l10n.t('SVG image')]: ['svg'] } : { [vscode.l10n.t('PNG image')]: ['png'] },
        bytes: () => (format === 'svg' ? Buffer.from(data, 'utf8') : pngBytes(data)),
        announce: false, // the panel says where it went
      });
      if (uri) this.post({ type: 'exported', file: uri.fsPath });
    } catch (err) {
      this.post({ type: 'exported', file: null, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function key(t: Target): string {
  return `${t.modelDir}|${t.onnxFile ?? ''}`;
}

function pngBytes(dataUrl: string): Buffer {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new Error('The view sent something that is not a PNG data URL.');
  return Buffer.from(dataUrl.slice(prefix.length), 'base64');
}

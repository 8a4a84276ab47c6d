/**
 * Typed access to the `glassbox.*` settings. Values a user broke by hand (a string where a number
 * belongs, a negative token count) fall back to the default and are reported once.
 */
import * as vscode from 'vscode';
import { DEFAULT_MIN_CONFIDENCE } from './engine';
import { setLanguageEnabled } from './completion/languages';
import type { NetOptions } from './net/http';
import { BACKEND_KINDS, checkHeaders, type BackendKind } from './remote/endpoint';

export const SECTION = 'glassbox';

/** Settings that choose a model server: a change makes a new client. */
export const SERVER_SETTINGS = ['backend', 'endpoint', 'remote'] as const;

const FIM_FAMILIES = ['qwen', 'starcoder', 'deepseek', 'codellama'] as const;

/** Settings whose change needs the model reloaded in the worker. */
export const RELOAD_SETTINGS = ['modelPath', 'modelFile', 'threads'] as const;

interface Range {
  min: number;
  max: number;
}

/** What a settings change is about, each area with the settings that make it change. */
const AREAS = {
  /** Any glassbox.* setting (views that show the settings' effect). */
  any: (e) => e.affectsConfiguration(SECTION),
  /** The model the worker loads: a change reloads it. */
  model: (e) => RELOAD_SETTINGS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`)),
  /** The model server: a change makes a new client. */
  server: (e) => SERVER_SETTINGS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`)),
  /** VS Code's proxy settings (http.*), which every network request reads. */
  net: (e) => e.affectsConfiguration('http'),
  /** The costs view's settings (glassbox.costs.*). */
  costs: (e) => e.affectsConfiguration(`${SECTION}.costs`),
  /** What the workspace index holds: the user's excludes and glassbox.completion.workspaceContext. */
  workspaceIndex: (e) =>
    e.affectsConfiguration('files.exclude') || e.affectsConfiguration(`${SECTION}.completion.workspaceContext`),
} satisfies Record<string, (e: vscode.ConfigurationChangeEvent) => boolean>;

export type SettingsArea = keyof typeof AREAS;

/** One onDidChangeConfiguration listener for the extension, fanned out to typed events per area. */
class SettingsEvents implements vscode.Disposable {
  private readonly emitters = new Map<SettingsArea, vscode.EventEmitter<void>>();
  private readonly sub = vscode.workspace.onDidChangeConfiguration((e) => {
    for (const [area, emitter] of this.emitters) if (AREAS[area](e)) emitter.fire();
  });

  on(area: SettingsArea): vscode.Event<void> {
    let emitter = this.emitters.get(area);
    if (!emitter) this.emitters.set(area, (emitter = new vscode.EventEmitter<void>()));
    return emitter.event;
  }

  dispose(): void {
    this.sub.dispose();
    for (const e of this.emitters.values()) e.dispose();
    this.emitters.clear();
  }
}

let settingsEvents: SettingsEvents | undefined;

export class Config {
  constructor(
    private readonly onInvalid: (message: string) => void = () => undefined,
    /** A document (its language and folder): `[python]` and folder settings override the rest. */
    private readonly scope?: vscode.ConfigurationScope,
    private readonly warned = new Set<string>(),
  ) {}

  /** The settings as they apply to `doc`, e.g. `"[python]": { "glassbox.enable": false }`. */
  for(doc: { languageId: string; uri: vscode.Uri }): Config {
    return new Config(this.onInvalid, { languageId: doc.languageId, uri: doc.uri }, this.warned);
  }

  /** Fires when a setting of `area` changes (one listener for the extension; see AREAS). */
  static onDidChange(area: SettingsArea): vscode.Event<void> {
    return (settingsEvents ??= new SettingsEvents()).on(area);
  }

  /** Ends the change events (deactivate); a later onDidChange starts them again. */
  static disposeEvents(): void {
    settingsEvents?.dispose();
    settingsEvents = undefined;
  }

  /**
   * Network options for the plain-Node HTTP client (src/net/http.ts): the proxy is the extension
   * host's (http.proxy, PAC, http.noProxy, proxy authorization, system certificates), which applies
   * only to requests that bring no agent of their own.
   */
  static net(): NetOptions {
    const http = vscode.workspace.getConfiguration('http');
    return { proxySupport: 'host', strictSSL: http.get<boolean>('proxyStrictSSL') ?? true };
  }

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION, this.scope);
  }

  /**
   * Automatic completions while typing. In a document's scope (`for(doc)`) this is the language's
   * value: plaintext, markdown and scminput are off by default (package.json's configurationDefaults).
   */
  get enabled(): boolean {
    return this.bool('enable', true);
  }

  /** The model folder, or undefined for the embedded model. */
  get modelPath(): string | undefined {
    const v = this.cfg.get<unknown>('modelPath');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  }

  /** Which .onnx in the folder, when it holds several. */
  get modelFile(): string | undefined {
    const v = this.cfg.get<unknown>('modelFile');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  }

  get maxTokens(): number {
    return this.int('maxTokens', 64, { min: 1, max: 1024 });
  }

  get temperature(): number {
    return this.number('temperature', 0, { min: 0, max: 2 });
  }

  /** Fixed debounce in ms, or undefined for the adaptive one (100–400 ms). */
  get debounceMs(): number | undefined {
    const v = this.int('debounceMs', 0, { min: 0, max: 2000 });
    return v === 0 ? undefined : v;
  }

  get contextTokens(): number {
    return this.int('contextTokens', 1024, { min: 64, max: 32768 });
  }

  /** Hide a suggestion when any of its tokens is less likely than this; 0 shows all. */
  get minConfidence(): number {
    return this.number('completion.minConfidence', DEFAULT_MIN_CONFIDENCE, { min: 0, max: 1 });
  }

  /** Repository context: snippets from the workspace in the prompt and copy sources for the cache. */
  get workspaceContext(): boolean {
    return this.bool('completion.workspaceContext', true);
  }

  get maxFileSizeKB(): number {
    return this.int('maxFileSizeKB', 2048, { min: 1, max: 1_000_000 });
  }

  get explainMaxTokens(): number {
    return this.int('explain.maxTokens', 256, { min: 1, max: 4096 });
  }

  get explainTemplate(): string | undefined {
    const v = this.cfg.get<unknown>('explain.promptTemplate');
    return typeof v === 'string' && v.trim() !== '' ? v : undefined;
  }

  get threads(): number {
    return this.int('threads', 0, { min: 0, max: 256 });
  }

  /** The Hugging Face hub, or a mirror serving the same API, that models download from. */
  get hubBaseUrl(): string {
    const v = this.cfg.get<unknown>('hub.baseUrl');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : 'https://huggingface.co';
  }

  /** Where downloaded models go; undefined: the extension's global storage. */
  get modelStorageFolder(): string | undefined {
    const v = this.cfg.get<unknown>('hub.storageFolder');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  }

  /** Where completions and Explain run: the embedded engine, or a model server the user set up. */
  get backend(): 'embedded' | BackendKind {
    const v = this.cfg.get<unknown>('backend');
    if (v === 'embedded' || (BACKEND_KINDS as readonly unknown[]).includes(v)) return v as 'embedded' | BackendKind;
    if (v !== undefined && v !== null) this.invalid('backend', `one of embedded, ${BACKEND_KINDS.join(', ')}`);
    return 'embedded';
  }

  /** The model server's address (machine scope: a workspace cannot point it elsewhere). */
  get endpoint(): string | undefined {
    const v = this.cfg.get<unknown>('endpoint');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  }

  get remoteModel(): string | undefined {
    const v = this.cfg.get<unknown>('remote.model');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  }

  /** Extra request headers for the server (a gateway's own); values must be strings. */
  get remoteHeaders(): Record<string, string> {
    const v = this.cfg.get<unknown>('remote.headers');
    if (v === undefined || v === null) return {};
    if (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')) {
      const { headers, bad } = checkHeaders(v as Record<string, string>);
      if (bad.length)
        this.invalid(
          'remote.headers',
          `header names without spaces or separators, and values without line breaks (not sent: ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
        );
      return headers;
    }
    this.invalid('remote.headers', 'an object of header names to string values');
    return {};
  }

  get remoteTimeoutMs(): number {
    return this.int('remote.timeoutMs', 30_000, { min: 1000, max: 600_000 });
  }

  /** FIM tokens for a raw prompt to a server that takes no suffix; undefined: guessed from the model's name. */
  get remoteFimTemplate(): (typeof FIM_FAMILIES)[number] | undefined {
    const v = this.cfg.get<unknown>('remote.fimTemplate');
    if ((FIM_FAMILIES as readonly unknown[]).includes(v)) return v as (typeof FIM_FAMILIES)[number];
    if (v !== undefined && v !== null && v !== 'auto')
      this.invalid('remote.fimTemplate', `auto or one of ${FIM_FAMILIES.join(', ')}`);
    return undefined;
  }

  /** A setting's raw value, for a feature that parses its own settings (the costs' glassbox.costs.*). */
  raw(key: string): unknown {
    return this.cfg.get<unknown>(key);
  }

  async setBackend(value: 'embedded' | BackendKind): Promise<void> {
    await this.cfg.update('backend', value, vscode.ConfigurationTarget.Global);
  }

  async setRemoteModel(value: string): Promise<void> {
    await this.cfg.update('remote.model', value, vscode.ConfigurationTarget.Global);
  }

  /** The model the worker loads (a folder, and an ONNX file in it): one change event, one reload. */
  async setModel(dir: string | undefined, onnxFile: string | undefined): Promise<void> {
    // the file first: the folder's change is the one the reload waits for (extension.ts)
    await this.cfg.update('modelFile', onnxFile, vscode.ConfigurationTarget.Global);
    await this.cfg.update('modelPath', dir, vscode.ConfigurationTarget.Global);
  }

  async setEnabled(value: boolean): Promise<void> {
    await this.cfg.update('enable', value, vscode.ConfigurationTarget.Global);
  }

  /**
   * Turns automatic completions on or off for one language (`"[lang]": { "glassbox.enable": … }`),
   * written where it takes effect (completion/languages.ts); `for(doc).enabled` reads it back.
   */
  async setEnabledForLanguage(languageId: string, value: boolean): Promise<void> {
    await setLanguageEnabled(languageId, value);
  }

  private bool(key: string, fallback: boolean): boolean {
    const v = this.cfg.get<unknown>(key);
    if (typeof v === 'boolean') return v;
    if (v !== undefined && v !== null) this.invalid(key, 'true or false');
    return fallback;
  }

  private number(key: string, fallback: number, range: Range): number {
    const v = this.cfg.get<unknown>(key);
    if (typeof v === 'number' && Number.isFinite(v) && v >= range.min && v <= range.max) return v;
    if (v !== undefined && v !== null) this.invalid(key, `a number from ${range.min} to ${range.max}`);
    return fallback;
  }

  private int(key: string, fallback: number, range: Range): number {
    return Math.round(this.number(key, fallback, range));
  }

  /** Says once that a setting was not usable and its default is in effect. */
  invalid(key: string, expected: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onInvalid(`Setting ${SECTION}.${key} should be ${expected}; using the default.`);
  }
}

/**
 * Typed access to the `glassbox.*` settings. Values a user broke by hand (a string where a number
 * belongs, a negative token count) fall back to the default and are reported once.
 */
import * as vscode from 'vscode';
import { DEFAULT_MIN_CONFIDENCE } from './engine/completion';
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

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION, this.scope);
  }

  get enabled(): boolean {
    return this.bool('enable', true);
  }

  get disabledLanguages(): string[] {
    const v = this.cfg.get<unknown>('disabledLanguages');
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    this.invalid('disabledLanguages', 'a list of language ids');
    return ['plaintext', 'markdown', 'scminput'];
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

  async setEnabled(value: boolean): Promise<void> {
    await this.cfg.update('enable', value, vscode.ConfigurationTarget.Global);
  }

  /** Turns automatic completions on or off for one language (`"[lang]": { "glassbox.enable": … }` in user settings). */
  async setEnabledForLanguage(languageId: string, value: boolean): Promise<void> {
    await vscode.workspace
      .getConfiguration(SECTION, { languageId })
      .update('enable', value, vscode.ConfigurationTarget.Global, true);
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

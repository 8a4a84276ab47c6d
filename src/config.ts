/**
 * Typed access to the `glassbox.*` settings. Values a user broke by hand (a string where a number
 * belongs, a negative token count) fall back to the default and are reported once.
 */
import * as vscode from 'vscode';
import { DEFAULT_MIN_CONFIDENCE } from './engine/completion';

export const SECTION = 'glassbox';

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

  /** A setting's raw value, for a feature that parses its own settings (the costs' glassbox.costs.*). */
  raw(key: string): unknown {
    return this.cfg.get<unknown>(key);
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

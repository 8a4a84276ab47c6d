/**
 * A model server as Glassbox uses it: fill in the middle for completions, chat for Explain, the
 * models it serves, and what it says about itself. One implementation per protocol (openai.ts,
 * llamacpp.ts, ollama.ts); `createServer` (index.ts) picks one from the settings.
 */
import type { FimFamily } from '../engine';
import type { NetOptions } from '../net/http';
import { RemoteError } from './errors';
import { Transport } from './transport';
import type { BackendKind } from './endpoint';

/** A streamed piece of the answer, with its log-probability where the server reports one (nats). */
export interface RemoteToken {
  text: string;
  logprob?: number;
}

export interface RemoteResult {
  text: string;
  tokens: RemoteToken[];
  /** The model that answered, as the server names it. */
  model: string;
  /** The server's own token counts, when it reports them. */
  usage?: { promptTokens: number; completionTokens: number };
  /** Why generation ended, in the server's words ("stop", "length"), or "stop" by default. */
  stopReason: string;
  /** ms from sending the request to the first token, and to the end. */
  timings: { firstTokenMs: number; totalMs: number };
  /** How the middle was asked for: the protocol's own FIM field, or a raw prompt in the model's FIM tokens. */
  fim?: 'suffix' | 'infill' | 'raw';
}

/** A snippet of another file, for servers that take repository context (llama.cpp's `input_extra`). */
export interface ContextSnippet {
  path: string;
  text: string;
}

export interface RemoteCompleteRequest {
  prefix: string;
  suffix: string;
  snippets?: ContextSnippet[];
  maxTokens: number;
  /** Strings that end the completion (besides the server's own stops). */
  stop?: string[];
}

export interface RemoteExplainRequest {
  code: string;
  language?: string;
  maxTokens: number;
  /** Overrides the instruction (glassbox.explain.template). */
  template?: string;
}

export interface RemoteCallOptions {
  signal?: AbortSignal;
  /** Each streamed piece as it arrives. */
  onToken?: (token: RemoteToken) => void;
}

/** What a server tells about the model it serves (for the status bar and the architecture view). */
export interface RemoteModelInfo {
  name: string;
  /** Facts the server reported, as label → value ("Layers" → "28"). Empty when it reports none. */
  facts: [string, string][];
  /** Whether the model can fill in the middle, when the server says. */
  fim?: boolean;
}

export interface ModelServer {
  readonly kind: BackendKind;
  /** Where it is, for messages: host and port. */
  readonly host: string;
  complete(req: RemoteCompleteRequest, opts?: RemoteCallOptions): Promise<RemoteResult>;
  explain(req: RemoteExplainRequest, opts?: RemoteCallOptions): Promise<RemoteResult>;
  /** The ids of the models the server offers. */
  models(signal?: AbortSignal): Promise<string[]>;
  info(signal?: AbortSignal): Promise<RemoteModelInfo>;
}

export interface ServerSettings {
  kind: BackendKind;
  endpoint: string | undefined;
  /** The model to ask for; servers that serve one model ignore it (llama.cpp) or need it (Ollama, vLLM). */
  model?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  net?: NetOptions;
  timeoutMs?: number;
  maxBytes?: number;
  /** How to ask for the middle: the protocol's field, a raw prompt in `fimFamily`'s tokens, or the field then the raw prompt. */
  fim?: 'auto' | 'field' | 'raw';
  /** FIM tokens for a raw prompt; default: guessed from the model's name. */
  fimFamily?: Exclude<FimFamily, 'none' | 'glassbox'>;
}

/** Measures first-token and total time around a streamed call. */
export class StreamClock {
  private readonly start = performance.now();
  private first = -1;
  token(): void {
    if (this.first < 0) this.first = performance.now() - this.start;
  }
  timings(): RemoteResult['timings'] {
    const total = performance.now() - this.start;
    return { firstTokenMs: this.first < 0 ? total : this.first, totalMs: total };
  }
}

/** Collects a streamed answer: its pieces, the server's model name and token counts. */
export class StreamedAnswer {
  readonly tokens: RemoteToken[] = [];
  stopReason = 'stop';
  private counts?: RemoteResult['usage'];

  constructor(private name: string) {}

  push(t: RemoteToken, clock: StreamClock, opts: RemoteCallOptions): void {
    clock.token();
    const token = t.logprob !== undefined && Number.isFinite(t.logprob) ? t : { text: t.text };
    this.tokens.push(token);
    opts.onToken?.(token);
  }

  model(v: unknown): void {
    if (typeof v === 'string' && v) this.name = v;
  }

  /** OpenAI's `usage` object, or explicit counts. */
  usage(v: unknown, completion?: unknown): void {
    if (typeof v === 'number' && typeof completion === 'number') {
      this.counts = { promptTokens: v, completionTokens: completion };
      return;
    }
    const u = v as { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined;
    if (typeof u?.prompt_tokens === 'number' && typeof u.completion_tokens === 'number')
      this.counts = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens };
  }

  result(clock: StreamClock): RemoteResult {
    return {
      text: this.tokens.map((t) => t.text).join(''),
      tokens: this.tokens,
      model: this.name,
      usage: this.counts,
      stopReason: this.stopReason,
      timings: clock.timings(),
    };
  }
}

/** What every server client has: its transport, its settings, and the host for messages. */
export abstract class ServerClient {
  protected readonly transport: Transport;
  /** Set once the server refused the protocol's FIM field: later completions use the raw prompt straight away. */
  private fieldRefused = false;

  constructor(
    base: URL,
    protected readonly settings: ServerSettings,
  ) {
    this.transport = new Transport({ base, ...settings });
  }

  get host(): string {
    return this.transport.host;
  }

  /**
   * Asks with the protocol's FIM field (`suffix`), or with a raw prompt in the model's FIM tokens
   * when the settings say so or the server refused the field (a 400 whose message `refusal` matches).
   */
  protected async withFimFallback(
    field: () => Promise<RemoteResult>,
    raw: () => Promise<RemoteResult>,
    refusal: RegExp,
  ): Promise<RemoteResult> {
    const fim = this.settings.fim ?? 'auto';
    if (fim === 'raw' || (fim === 'auto' && this.fieldRefused)) return raw();
    try {
      return await field();
    } catch (err) {
      if (fim === 'auto' && err instanceof RemoteError && err.code === 'SERVER_ERROR' && refusal.test(err.message)) {
        this.fieldRefused = true;
        return raw();
      }
      throw err;
    }
  }
}

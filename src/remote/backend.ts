/**
 * A model server as Glassbox uses it: fill in the middle for completions, chat for Explain, the
 * models it serves, and what it says about itself. One implementation per protocol (openai.ts,
 * llamacpp.ts, ollama.ts); `createServer` (index.ts) picks one from the settings.
 */
import type { FimFamily } from '../engine/fim';
import type { NetOptions } from '../net/http';
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

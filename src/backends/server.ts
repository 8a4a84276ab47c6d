/**
 * A model server as a backend (Ollama, llama.cpp, vLLM, OpenAI-compatible): completions asked in
 * the server's fill-in-the-middle format, Explain as a streamed chat, a 429 remembered so that
 * keystrokes do not ask again. The client itself, its key and settings live in remoteHost.ts.
 */
import type { Config } from '../config';
import {
  type CompletionRequest,
  type CompletionResult,
  type ExplainResult,
  chatExplainInstruction,
  type CallOptions,
  type Params,
} from '../engine';
import { cappedExplain } from '../remote/cappedExplain';
import type { BackendKind } from '../remote/endpoint';
import { remoteComplete } from '../remote/remoteCompletion';
import type { RemoteHost } from '../remoteHost';
import type { Backend, BackendCapabilities, BackendDescription } from './backend';

const CAPABILITIES: BackendCapabilities = { local: false, tokens: false, surprisal: false, graph: false };

export class ServerBackend implements Backend {
  readonly capabilities = CAPABILITIES;

  constructor(
    readonly kind: BackendKind,
    private readonly remote: RemoteHost,
    private readonly config: Config,
  ) {}

  get label(): string {
    return this.remote.label;
  }

  get resting(): boolean {
    return this.remote.rateLimited;
  }

  async complete(params: Params<'complete'>, opts: CallOptions): Promise<CompletionResult> {
    return this.noting(async () =>
      remoteComplete(await this.remote.client(), params as CompletionRequest, opts.signal),
    );
  }

  /** Explain on the server: chat, streamed; log-probabilities only where the server sends them (else NaN). */
  explain(params: Params<'explain'>, opts: CallOptions): Promise<ExplainResult> {
    return this.noting(async () => {
      const server = await this.remote.client();
      const req = { code: params.code, language: params.language, template: params.template };
      const r = await cappedExplain(
        server,
        { ...req, maxTokens: params.maxNewTokens ?? this.config.explainMaxTokens },
        {
          signal: opts.signal,
          onToken: (t) => opts.onToken?.({ id: -1, text: t.text, logprob: t.logprob ?? NaN, top: [] }),
        },
      );
      return {
        text: r.text,
        tokens: [],
        logprobs: r.tokens.map((t) => t.logprob ?? NaN),
        steps: [],
        stopReason: r.stopReason === 'length' ? 'max_tokens' : 'eos',
        timings: {
          prefillMs: r.timings.firstTokenMs,
          decodeMs: r.timings.totalMs - r.timings.firstTokenMs,
          promptTokens: r.usage?.promptTokens ?? 0,
          reusedTokens: 0,
          generatedTokens: r.usage?.completionTokens ?? r.tokens.length,
          stages: {}, // a server's stages are its own
        },
        style: 'chat',
        promptText: chatExplainInstruction(req),
      };
    });
  }

  async describe(signal?: AbortSignal): Promise<BackendDescription> {
    const server = await this.remote.client();
    const info = await server.info(signal);
    return { name: info.name, where: server.host, facts: info.facts };
  }

  dispose(): void {
    // the client belongs to RemoteHost, which the extension disposes
  }

  /** A 429 is remembered (remoteHost.ts) so that keystrokes do not ask again before its Retry-After. */
  private noting<T>(call: () => Promise<T>): Promise<T> {
    return call().catch((err: unknown) => {
      this.remote.noteError(err);
      throw err;
    });
  }
}

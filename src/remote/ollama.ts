/**
 * Ollama: `POST /api/generate` with `suffix` for completions (the model's template must support
 * it; else `raw` with a FIM prompt in the model's tokens), `POST /api/chat` for Explain,
 * `GET /api/tags` for its models and `POST /api/show` for one model's architecture. Streams are
 * newline-delimited JSON. `keep_alive` keeps the model in memory between keystrokes.
 */
import { fimFamilyOfModelName, rawFimPrompt, rawFimStops, chatExplainInstruction } from '../engine';
import {
  ServerClient,
  StreamClock,
  StreamedAnswer,
  type ModelServer,
  type RemoteCallOptions,
  type RemoteCompleteRequest,
  type RemoteExplainRequest,
  type RemoteModelInfo,
  type RemoteResult,
} from './backend';
import { RemoteError } from './errors';
import { parseEvent, type OpenResponse } from './transport';

const GENERATE = '/api/generate';
const CHAT = '/api/chat';
const KEEP_ALIVE = '30m';

export class OllamaServer extends ServerClient implements ModelServer {
  readonly kind = 'ollama' as const;

  private model(): string {
    const m = this.settings.model?.trim();
    if (!m)
      throw new RemoteError(
        'NOT_FOUND',
        'Ollama needs a model name.',
        'Set glassbox.remote.model (Glassbox: Select Model lists what `ollama list` has), e.g. qwen2.5-coder:1.5b.',
      );
    return m;
  }

  async complete(req: RemoteCompleteRequest, opts: RemoteCallOptions = {}): Promise<RemoteResult> {
    const model = this.model();
    const options = { temperature: 0, num_predict: req.maxTokens, ...(req.stop?.length ? { stop: req.stop } : {}) };
    return this.withFimFallback(
      async () => {
        const body = { model, prompt: req.prefix, suffix: req.suffix, stream: true, keep_alive: KEEP_ALIVE, options };
        return { ...(await this.stream(GENERATE, body, opts)), fim: 'suffix' };
      },
      () => this.completeRaw(model, req, options, opts),
      /insert|suffix/i, // "registry.ollama.ai/library/llama3 does not support insert"
    );
  }

  private async completeRaw(
    model: string,
    req: RemoteCompleteRequest,
    options: Record<string, unknown>,
    opts: RemoteCallOptions,
  ): Promise<RemoteResult> {
    const family = this.settings.fimFamily ?? fimFamilyOfModelName(model);
    if (!family)
      throw new RemoteError(
        'NO_FIM',
        `Ollama's template for ${model} cannot fill in the middle, and Glassbox cannot tell its FIM tokens.`,
        'Use a code model (qwen2.5-coder, starcoder2, deepseek-coder, codellama:code), or set glassbox.remote.fimTemplate.',
      );
    const stop = [...rawFimStops(family), ...((options.stop as string[] | undefined) ?? [])];
    const body = {
      model,
      prompt: rawFimPrompt(family, req.prefix, req.suffix),
      raw: true,
      stream: true,
      keep_alive: KEEP_ALIVE,
      options: { ...options, stop },
    };
    return { ...(await this.stream(GENERATE, body, opts)), fim: 'raw' };
  }

  async explain(req: RemoteExplainRequest, opts: RemoteCallOptions = {}): Promise<RemoteResult> {
    const body = {
      model: this.model(),
      messages: [{ role: 'user', content: chatExplainInstruction(req) }],
      stream: true,
      keep_alive: KEEP_ALIVE,
      options: { temperature: 0.2, num_predict: req.maxTokens },
    };
    return this.stream(CHAT, body, opts);
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    const j = (await this.transport.json('/api/tags', undefined, signal, 'GET')) as { models?: { name?: unknown }[] };
    if (!Array.isArray(j?.models))
      throw new RemoteError('BAD_RESPONSE', `${this.host} did not list models at /api/tags.`);
    return j.models.map((m) => m.name).filter((n): n is string => typeof n === 'string');
  }

  /** `/api/show`: model_info's `<arch>.block_count`, heads, context, and the quantization level. */
  async info(signal?: AbortSignal): Promise<RemoteModelInfo> {
    const name = this.model();
    const j = (await this.transport.json('/api/show', { model: name }, signal)) as {
      model_info?: Record<string, unknown>;
      details?: Record<string, unknown>;
      capabilities?: unknown;
    };
    const mi = j?.model_info ?? {};
    const arch = typeof mi['general.architecture'] === 'string' ? mi['general.architecture'] : '';
    const facts: [string, string][] = [];
    const fact = (label: string, v: unknown, unit = '') => {
      if (typeof v === 'number' || (typeof v === 'string' && v)) facts.push([label, `${v}${unit}`]);
    };
    fact('Architecture', arch);
    fact('Parameters', j?.details?.parameter_size);
    fact('Layers', mi[`${arch}.block_count`]);
    fact('Attention heads', mi[`${arch}.attention.head_count`]);
    fact('KV heads', mi[`${arch}.attention.head_count_kv`]);
    fact('Embedding width', mi[`${arch}.embedding_length`]);
    fact('Context length', mi[`${arch}.context_length`], ' tokens');
    fact('Quantization', j?.details?.quantization_level);
    const caps = Array.isArray(j?.capabilities) ? (j.capabilities as unknown[]) : undefined;
    return { name, facts, fim: caps ? caps.includes('insert') : undefined };
  }

  /** An NDJSON stream: `response` (generate) or `message.content` (chat) per line, counts on the last. */
  private async stream(route: string, body: Record<string, unknown>, opts: RemoteCallOptions): Promise<RemoteResult> {
    const clock = new StreamClock();
    const open: OpenResponse = await this.transport.open(route, body, opts.signal);
    const out = new StreamedAnswer(String(body.model));
    let done = false;
    for await (const line of this.transport.lines(open)) {
      if (!line.trim()) continue;
      const ev = parseEvent(line, this.host, route);
      if (typeof ev.error === 'string') throw new RemoteError('SERVER_ERROR', `${this.host}: ${ev.error}.`);
      const piece = route === CHAT ? (ev.message as { content?: unknown } | undefined)?.content : ev.response;
      if (typeof piece === 'string' && piece) out.push({ text: piece }, clock, opts);
      if (ev.done === true) {
        done = true;
        out.model(ev.model);
        if (typeof ev.prompt_eval_count === 'number' && typeof ev.eval_count === 'number')
          out.usage(ev.prompt_eval_count, ev.eval_count);
        if (typeof ev.done_reason === 'string') out.stopReason = ev.done_reason;
      }
    }
    if (!done) throw new RemoteError('BAD_RESPONSE', `${this.host} ended ${route} before it was done.`);
    return out.result(clock);
  }
}

/**
 * OpenAI-compatible servers (vLLM, TGI's OpenAI API, llama.cpp's server, LM Studio):
 * `POST /v1/completions` with `prompt` + `suffix` for completions, `POST /v1/chat/completions`
 * for Explain, `GET /v1/models`. Streams are server-sent events ending in `data: [DONE]`.
 * Many of them do not take `suffix` (vLLM answers 400; others ignore it): then the middle is asked
 * for with a raw prompt in the model's own FIM tokens (fim.ts).
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
import { cutOffStream, openAiPayloads, parseEvent, Transport } from './transport';

const COMPLETIONS = '/v1/completions';
const CHAT = '/v1/chat/completions';

export class OpenAiServer extends ServerClient implements ModelServer {
  readonly kind = 'openai' as const;

  async complete(req: RemoteCompleteRequest, opts: RemoteCallOptions = {}): Promise<RemoteResult> {
    return this.withFimFallback(
      async () => {
        const body = { ...this.completionBody(req), prompt: req.prefix, suffix: req.suffix };
        return { ...(await this.streamCompletion(body, opts)), fim: 'suffix' };
      },
      () => this.completeRaw(req, opts),
      /suffix/i, // vLLM: 400 "suffix is not currently supported"
    );
  }

  async explain(req: RemoteExplainRequest, opts: RemoteCallOptions = {}): Promise<RemoteResult> {
    return chatCompletion(this.transport, this.settings.model, req, opts);
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    const j = (await this.transport.json('/v1/models', undefined, signal, 'GET')) as { data?: { id?: unknown }[] };
    if (!Array.isArray(j?.data))
      throw new RemoteError('BAD_RESPONSE', `${this.host} did not list models at /v1/models.`);
    return j.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
  }

  async info(signal?: AbortSignal): Promise<RemoteModelInfo> {
    const models = await this.models(signal);
    const name = this.settings.model || models[0] || 'unknown';
    return { name, facts: [['Models on the server', String(models.length)]] };
  }

  private completionBody(req: RemoteCompleteRequest) {
    return {
      ...(this.settings.model ? { model: this.settings.model } : {}),
      max_tokens: req.maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      logprobs: 1,
      ...(req.stop?.length ? { stop: req.stop.slice(0, 4) } : {}), // OpenAI's limit is 4
    };
  }

  private async completeRaw(req: RemoteCompleteRequest, opts: RemoteCallOptions): Promise<RemoteResult> {
    const family = this.settings.fimFamily ?? fimFamilyOfModelName(this.settings.model ?? '');
    if (!family)
      throw new RemoteError(
        'NO_FIM',
        `${this.host} does not take a suffix, and Glassbox cannot tell the FIM tokens of "${this.settings.model ?? 'the model'}".`,
        'Set glassbox.remote.fimTemplate to the model family (qwen, starcoder, deepseek, codellama).',
      );
    const stop = [...rawFimStops(family), ...(req.stop ?? [])].slice(0, 4);
    const body = { ...this.completionBody(req), prompt: rawFimPrompt(family, req.prefix, req.suffix), stop };
    return { ...(await this.streamCompletion(body, opts)), fim: 'raw' };
  }

  private async streamCompletion(body: Record<string, unknown>, opts: RemoteCallOptions): Promise<RemoteResult> {
    const clock = new StreamClock();
    const open = await this.transport.open(COMPLETIONS, body, opts.signal);
    const out = new StreamedAnswer(String(body.model ?? ''));
    const state = { done: false };
    let finished = false;
    for await (const payload of openAiPayloads(this.transport, open, state)) {
      const ev = parseEvent(payload, this.host, COMPLETIONS);
      out.usage(ev.usage);
      out.model(ev.model);
      const choice = (ev.choices as Record<string, unknown>[] | undefined)?.[0];
      if (!choice) continue;
      const lp = choice.logprobs as { tokens?: string[]; token_logprobs?: number[] } | null | undefined;
      // a server's logprobs are used only in the shape OpenAI documents (anything else: the text alone)
      if (Array.isArray(lp?.tokens) && lp.tokens.length && lp.tokens.join('') === choice.text)
        lp.tokens.forEach((t, i) =>
          out.push(
            {
              text: String(t),
              logprob: numberOrUndefined(Array.isArray(lp.token_logprobs) ? lp.token_logprobs[i] : undefined),
            },
            clock,
            opts,
          ),
        );
      else if (typeof choice.text === 'string' && choice.text) out.push({ text: choice.text }, clock, opts);
      if (typeof choice.finish_reason === 'string') [out.stopReason, finished] = [choice.finish_reason, true];
    }
    if (!state.done && !finished) throw cutOffStream(this.host, COMPLETIONS);
    return out.result(clock);
  }
}

/** `POST /v1/chat/completions`, streamed (llama.cpp's server answers it too). */
export async function chatCompletion(
  transport: Transport,
  model: string | undefined,
  req: RemoteExplainRequest,
  opts: RemoteCallOptions,
): Promise<RemoteResult> {
  const clock = new StreamClock();
  const body = {
    ...(model ? { model } : {}),
    messages: [{ role: 'user', content: chatExplainInstruction(req) }],
    max_tokens: req.maxTokens,
    temperature: 0.2,
    stream: true,
    stream_options: { include_usage: true },
    logprobs: true,
  };
  const open = await transport.open(CHAT, body, opts.signal);
  const out = new StreamedAnswer(model ?? '');
  const state = { done: false };
  let finished = false;
  for await (const payload of openAiPayloads(transport, open, state)) {
    const ev = parseEvent(payload, transport.host, CHAT);
    out.usage(ev.usage);
    out.model(ev.model);
    const choice = (ev.choices as Record<string, unknown>[] | undefined)?.[0];
    if (!choice) continue;
    // a streamed delta, or the whole message when the server did not stream
    const content = ((choice.delta ?? choice.message) as { content?: unknown } | undefined)?.content;
    const lps = (choice.logprobs as { content?: { token?: string; logprob?: number }[] } | null | undefined)?.content;
    if (Array.isArray(lps) && lps.length && lps.map((t) => t?.token).join('') === content)
      for (const t of lps)
        out.push({ text: String(t.token ?? ''), logprob: numberOrUndefined(t.logprob) }, clock, opts);
    else if (typeof content === 'string' && content) out.push({ text: content }, clock, opts);
    if (typeof choice.finish_reason === 'string') [out.stopReason, finished] = [choice.finish_reason, true];
  }
  if (!state.done && !finished) throw cutOffStream(transport.host, CHAT);
  return out.result(clock);
}

function numberOrUndefined(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

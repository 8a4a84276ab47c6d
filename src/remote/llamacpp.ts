/**
 * llama.cpp's server (`llama-server`): `POST /infill` with `input_prefix`, `input_suffix` and the
 * repository snippets as `input_extra`, its prompt cache kept between keystrokes (`cache_prompt`),
 * and a time cap on generation (`t_max_predict_ms`). Explain uses its OpenAI-compatible chat route;
 * `/props` says which model it serves and whether it can fill in the middle; `/health` whether it is up.
 */
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
import { chatCompletion } from './openai';
import { parseEvent, sseData } from './transport';

const INFILL = '/infill';
/** Generation stops after this long even mid-line (llama.vscode's default is 500 ms for ghost text). */
const MAX_PREDICT_MS = 2000;

export class LlamaCppServer extends ServerClient implements ModelServer {
  readonly kind = 'llamacpp' as const;

  async complete(req: RemoteCompleteRequest, opts: RemoteCallOptions = {}): Promise<RemoteResult> {
    const clock = new StreamClock();
    const body = {
      input_prefix: req.prefix,
      input_suffix: req.suffix,
      input_extra: (req.snippets ?? []).map((s) => ({ filename: s.path, text: s.text })),
      prompt: '',
      n_predict: req.maxTokens,
      t_max_predict_ms: MAX_PREDICT_MS,
      cache_prompt: true,
      temperature: 0,
      n_probs: 1,
      stream: true,
      ...(req.stop?.length ? { stop: req.stop } : {}),
    };
    const open = await this.transport.open(INFILL, body, opts.signal);
    const out = new StreamedAnswer(this.settings.model ?? '');
    for await (const payload of sseData(this.transport.lines(open))) {
      const ev = parseEvent(payload, this.host, INFILL);
      if (typeof ev.content === 'string' && ev.content)
        out.push({ text: ev.content, logprob: logprobOf(ev) }, clock, opts);
      if (ev.stop === true) {
        out.model(ev.model);
        if (typeof ev.tokens_evaluated === 'number' && typeof ev.tokens_predicted === 'number')
          out.usage(ev.tokens_evaluated, ev.tokens_predicted);
        out.stopReason = ev.stop_type === 'limit' || ev.stopped_limit === true ? 'length' : 'stop';
      }
    }
    return { ...out.result(clock), fim: 'infill' };
  }

  async explain(req: RemoteExplainRequest, opts: RemoteCallOptions = {}): Promise<RemoteResult> {
    return chatCompletion(this.transport, this.settings.model, req, opts);
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    return [(await this.info(signal)).name];
  }

  async info(signal?: AbortSignal): Promise<RemoteModelInfo> {
    const props = (await this.transport.json('/props', undefined, signal, 'GET')) as Record<string, unknown>;
    if (!props || typeof props !== 'object')
      throw new RemoteError('BAD_RESPONSE', `${this.host} did not answer /props.`);
    const path = typeof props.model_path === 'string' ? props.model_path : '';
    const name = path.split(/[\\/]/).pop() || this.settings.model || 'llama.cpp model';
    const gen = props.default_generation_settings as { n_ctx?: unknown } | undefined;
    const facts: [string, string][] = [];
    if (typeof gen?.n_ctx === 'number') facts.push(['Context per slot', `${gen.n_ctx} tokens`]);
    if (typeof props.total_slots === 'number') facts.push(['Slots', String(props.total_slots)]);
    if (typeof props.build_info === 'string') facts.push(['Server build', props.build_info]);
    const fim = typeof props.infill === 'boolean' ? props.infill : undefined;
    return { name, facts, fim };
  }
}

/** The streamed token's log-probability: `completion_probabilities[0].logprob` (current), or `probs[0].prob` (before 2025). */
function logprobOf(ev: Record<string, unknown>): number | undefined {
  const cp = (ev.completion_probabilities as Record<string, unknown>[] | undefined)?.[0];
  if (typeof cp?.logprob === 'number') return cp.logprob;
  const probs = (cp?.probs as { prob?: unknown }[] | undefined)?.[0];
  if (typeof probs?.prob === 'number' && probs.prob > 0) return Math.log(probs.prob);
  return undefined;
}

/**
 * A completion from a model server, shaped like the embedded model's: the same line/block rule ends
 * it as it streams (the request is closed there, so the server stops generating), the same guards
 * apply, and the confidence gate uses the server's log-probabilities when it sends them (without
 * them nothing is hidden: there is no figure to gate on, and none is made up).
 */
import {
  type CompletionRequest,
  type CompletionResult,
  completionRule,
  isMultilineSpot,
  trimAgainstSuffix,
  cancelled,
  confidenceOf,
  declarationInExpressionCut,
  lineLengthCut,
  onlyRetypesSuffix,
} from '../engine';
import type { ModelServer, RemoteResult, RemoteToken } from './backend';

/** Repository snippets sent to servers that take them (llama.cpp's input_extra), most relevant last. */
const MAX_SNIPPETS = 8;
/** Characters read per requested token at most (a token is a few characters; a long line of them is junk). */
const MAX_CHARS_PER_TOKEN = 16;

export async function remoteComplete(
  server: ModelServer,
  req: CompletionRequest,
  signal?: AbortSignal,
): Promise<CompletionResult> {
  const linePrefix = req.prefix.slice(req.prefix.lastIndexOf('\n') + 1);
  const rule = completionRule({
    linePrefix,
    multiline: req.multiline ?? isMultilineSpot(linePrefix, req.suffix),
    restOfLine: req.suffix.split('\n', 1)[0],
  });
  // ends the request once the rule has cut the text: the rest would be thrown away
  const enough = new AbortController();
  const both = signal ? AbortSignal.any([signal, enough.signal]) : enough.signal;
  const streamed: RemoteToken[] = [];
  let text = '';
  let cutAt = -1;
  const maxTokens = req.maxNewTokens ?? 64;
  let capped = false;
  const onToken = (t: RemoteToken) => {
    if (enough.signal.aborted) return;
    streamed.push(t);
    text += t.text;
    // a server that ignores max_tokens (one endless line) is cut off here: the rule rescans the
    // text per token, so unbounded text would hold the calling thread for seconds
    if (streamed.length >= maxTokens || text.length >= maxTokens * MAX_CHARS_PER_TOKEN) {
      capped = true;
      enough.abort();
    }
    const r = rule(text);
    if ('cut' in r) {
      cutAt = r.cut;
      enough.abort();
    }
  };
  let result: RemoteResult | undefined;
  try {
    result = await server.complete(
      {
        prefix: req.prefix,
        suffix: req.suffix,
        snippets: (req.snippets ?? []).slice(-MAX_SNIPPETS).map((s) => ({ path: s.path, text: s.text })),
        maxTokens: req.maxNewTokens ?? 64,
      },
      { signal: both, onToken },
    );
  } catch (err) {
    if (signal?.aborted) throw cancelled();
    if (!enough.signal.aborted) throw err;
  }
  if (cutAt >= 0) text = text.slice(0, cutAt);
  text = trimAgainstSuffix(text.replaceAll('\uFFFD', ''), req.suffix);
  let hidden: CompletionResult['hidden'];
  const cut = lineLengthCut(text, linePrefix);
  if (cut >= 0) [text, hidden] = [text.slice(0, cut), cut === 0 ? { reason: 'line_length', text } : undefined];
  const header = declarationInExpressionCut(text, linePrefix);
  if (header >= 0) [text, hidden] = [text.slice(0, header), header === 0 ? { reason: 'declaration', text } : undefined];
  if (onlyRetypesSuffix(text, req.suffix)) [text, hidden] = ['', { reason: 'retype', text }];
  // the tokens behind the shown text, and their probabilities when the server sent them
  const shown = tokensCovering(streamed, text.length);
  const probs = shown.every((t) => t.logprob !== undefined) ? shown.map((t) => Math.exp(t.logprob!)) : [];
  const confidence = confidenceOf(probs);
  if (text && probs.length && req.minConfidence && confidence.min < req.minConfidence)
    [text, hidden] = ['', { reason: 'confidence', text }];
  const stop = cutAt >= 0 ? 'stop_string' : capped || result?.stopReason === 'length' ? 'max_tokens' : 'eos';
  return resultOf(req, text, streamed, result, stop, confidence, hidden);
}

/** What a completion returns when the server is not asked (it asked Glassbox to wait: 429). */
export function unaskedCompletion(req: CompletionRequest): CompletionResult {
  return resultOf(req, '', [], undefined, 'eos', confidenceOf([]));
}

/** A server's completion in the engine's result shape; what only a local model knows stays empty. */
function resultOf(
  req: CompletionRequest,
  text: string,
  streamed: RemoteToken[],
  result: RemoteResult | undefined,
  stopReason: CompletionResult['stopReason'],
  confidence: CompletionResult['confidence'],
  hidden?: CompletionResult['hidden'],
): CompletionResult {
  const timings = result?.timings ?? { firstTokenMs: 0, totalMs: 0 };
  return {
    text,
    tokens: [],
    logprobs: streamed.every((t) => t.logprob !== undefined) ? streamed.map((t) => t.logprob!) : [],
    steps: [],
    stopReason,
    timings: {
      prefillMs: timings.firstTokenMs,
      decodeMs: timings.totalMs - timings.firstTokenMs,
      promptTokens: result?.usage?.promptTokens ?? 0,
      reusedTokens: 0,
      generatedTokens: result?.usage?.completionTokens ?? streamed.length,
      stages: {}, // a server's stages are its own
    },
    fimFamily: 'none',
    promptText: req.prefix + req.suffix,
    prompt: {
      tokens: result?.usage?.promptTokens ?? 0,
      prefixTokens: 0,
      suffixTokens: 0,
      contextTokens: 0,
      snippets: result ? Math.min(MAX_SNIPPETS, req.snippets?.length ?? 0) : 0,
      cutPrefix: 0,
      cutSuffix: 0,
      healed: '',
    },
    provenance: [],
    confidence,
    ...(hidden ? { hidden } : {}),
  };
}

/** The streamed tokens that make up the first `chars` characters. */
function tokensCovering(tokens: RemoteToken[], chars: number): RemoteToken[] {
  const out: RemoteToken[] = [];
  let n = 0;
  for (const t of tokens) {
    if (n >= chars) break;
    out.push(t);
    n += t.text.length;
  }
  return out;
}

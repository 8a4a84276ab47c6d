/**
 * Maps a decoder graph's real input and output names onto the roles the engine feeds: ids, mask,
 * positions, and the KV cache in either naming scheme. Read from the session, never assumed.
 */
import { GlassboxError } from '../errors';
import { APPENDED_SUFFIX, PAST_LENGTH } from '../onnx/kvAppend';
import { LOGITS_TO_KEEP } from '../onnx/lastPositionLogits';
import type { GenAiIoNames } from './modelFolder';
import type { IoInfo } from './ort';

/** Optimum / transformers.js names; `%d` is the layer index. */
const PAST_KEY = 'past_key_values.%d.key';
const PAST_VALUE = 'past_key_values.%d.value';
const PRESENT_KEY = 'present.%d.key';
const PRESENT_VALUE = 'present.%d.value';
/** Older GPT-2 style exports keep key and value in one tensor [2, batch, heads, seq, headDim]. */
const PAST_COMBINED = 'past_%d';
const PRESENT_COMBINED = 'present_%d';

type KvNames =
  | { kind: 'separate'; pastKey: string[]; pastValue: string[]; presentKey: string[]; presentValue: string[] }
  | { kind: 'combined'; past: string[]; present: string[] };

export type IdsType = 'int64' | 'int32';
type KvType = 'float32' | 'float16';

export interface DecoderIo {
  inputIds: string;
  idsType: IdsType;
  attentionMask?: string;
  maskType: IdsType;
  positionIds?: string;
  positionsType: IdsType;
  logits: string;
  logitsType: KvType;
  /** Glassbox's own input after the last-position rewrite: how many last positions get logits. */
  logitsToKeep?: string;
  kv: KvNames;
  kvType: KvType;
  /**
   * After graph/kvAppend.ts's rewrite: the pasts are buffers with a used length, and each present
   * has a twin output with the run's new positions only (kvAppendCache.ts).
   */
  appendKv?: boolean;
  numLayers: number;
  /** Static KV heads and head size when the graph declares them; the config fills the rest. */
  kvHeads?: number;
  headDim?: number;
}

const fmt = (template: string, i: number) => template.replace('%d', String(i));

function layerNames(names: readonly string[], pattern: RegExp): string[] {
  const byLayer: string[] = [];
  for (const n of names) {
    const m = pattern.exec(n);
    if (m) byLayer[Number(m[1])] = n;
  }
  return byLayer;
}

function countLayers(list: string[], what: string, source: string): number {
  for (let i = 0; i < list.length; i++) {
    if (!list[i])
      throw new GlassboxError(
        'GRAPH_UNSUPPORTED',
        `${source}: ${what} for layer ${i} is missing (found layers ${Object.keys(list).join(', ')}).`,
      );
  }
  return list.length;
}

function intType(info: IoInfo | undefined, role: string, source: string): IdsType {
  const t = info?.type ?? 'int64';
  if (t !== 'int64' && t !== 'int32') {
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source}: input ${info?.name ?? role} is ${t}; expected int64 or int32.`,
    );
  }
  return t;
}

function floatType(info: IoInfo, source: string): KvType {
  if (info.type !== 'float32' && info.type !== 'float16') {
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source}: ${info.name} is ${info.type}; expected float32 or float16.`,
    );
  }
  return info.type;
}

/** Works out every role from the graph's inputs and outputs (and GenAI's names when given). */
export function detectDecoderIo(
  inputs: readonly IoInfo[],
  outputs: readonly IoInfo[],
  source: string,
  genai?: GenAiIoNames,
): DecoderIo {
  const inNames = inputs.map((i) => i.name);
  const outNames = outputs.map((o) => o.name);
  const input = (n: string | undefined) => (n ? inputs.find((i) => i.name === n) : undefined);
  const output = (n: string | undefined) => (n ? outputs.find((o) => o.name === n) : undefined);

  const inputIds = genai?.inputIds ?? 'input_ids';
  if (!input(inputIds)) {
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source} has no "${inputIds}" input (inputs: ${inNames.join(', ')}).`,
      'Glassbox runs decoder-only language models exported with input_ids.',
    );
  }
  const attentionMask = input(genai?.attentionMask ?? 'attention_mask')?.name;
  const positionIds = input(genai?.positionIds ?? 'position_ids')?.name;
  const logits = genai?.logits ?? 'logits';
  const logitsInfo = output(logits);
  if (!logitsInfo)
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source} has no "${logits}" output (outputs: ${outNames.join(', ')}).`,
    );

  const kv = detectKv(inNames, outNames, source, genai);
  const numLayers = kv.kind === 'separate' ? kv.pastKey.length : kv.past.length;
  const firstPast = input(kv.kind === 'separate' ? kv.pastKey[0] : kv.past[0])!;

  const logitsToKeep = input(LOGITS_TO_KEEP)?.name;
  const presents = kv.kind === 'separate' ? [...kv.presentKey, ...kv.presentValue] : kv.present;
  const appendKv = input(PAST_LENGTH) !== undefined && presents.every((n) => output(n + APPENDED_SUFFIX));
  const known = new Set([
    logitsToKeep,
    appendKv ? PAST_LENGTH : undefined,
    inputIds,
    attentionMask,
    positionIds,
    ...(kv.kind === 'separate' ? [...kv.pastKey, ...kv.pastValue] : kv.past),
  ]);
  const unknown = inNames.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source} has inputs Glassbox cannot feed: ${unknown.join(', ')}.`,
      'Supported decoder inputs: input_ids, attention_mask, position_ids and past key/value caches (past_key_values.N.key/value or past_N).',
    );
  }
  // [batch, kvHeads, past, headDim], or [2, batch, kvHeads, past, headDim] when combined.
  const dims = firstPast.shape;
  const staticDim = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
  return {
    inputIds,
    idsType: intType(input(inputIds), 'input_ids', source),
    attentionMask,
    maskType: intType(input(attentionMask), 'attention_mask', source),
    positionIds,
    positionsType: intType(input(positionIds), 'position_ids', source),
    logits,
    logitsType: floatType(logitsInfo, source),
    logitsToKeep,
    kv,
    kvType: floatType(firstPast, source),
    ...(appendKv ? { appendKv } : {}),
    numLayers,
    kvHeads: staticDim(dims[dims.length - 3]),
    headDim: staticDim(dims[dims.length - 1]),
  };
}

/** `name` with `%d` as a captured layer index, anchored. */
function layerPattern(name: string): RegExp {
  return new RegExp('^' + escape(name).replace('%d', '(\\d+)') + '$');
}

function detectKv(inNames: string[], outNames: string[], source: string, genai?: GenAiIoNames): KvNames {
  const requireOut = (name: string) => {
    if (!outNames.includes(name))
      throw new GlassboxError(
        'GRAPH_UNSUPPORTED',
        `${source}: expected output ${name} for the KV cache (outputs: ${outNames.join(', ')}).`,
      );
    return name;
  };
  if (genai?.past || genai?.pastKey) {
    const n = layerNames(
      inNames,
      new RegExp('^' + escape(genai.past ?? genai.pastKey!).replace('%d', '(\\d+)') + '$'),
    ).length;
    if (genai.past) {
      return {
        kind: 'combined',
        past: range(n, genai.past),
        present: range(n, genai.present ?? PRESENT_COMBINED).map(requireOut),
      };
    }
    return {
      kind: 'separate',
      pastKey: range(n, genai.pastKey!),
      pastValue: range(n, genai.pastValue ?? PAST_VALUE),
      presentKey: range(n, genai.presentKey ?? PRESENT_KEY).map(requireOut),
      presentValue: range(n, genai.presentValue ?? PRESENT_VALUE).map(requireOut),
    };
  }
  const pastKey = layerNames(inNames, layerPattern(PAST_KEY));
  if (pastKey.length > 0) {
    const n = countLayers(pastKey, 'past key', source);
    const pastValue = layerNames(inNames, layerPattern(PAST_VALUE));
    if (pastValue.length !== n)
      throw new GlassboxError(
        'GRAPH_UNSUPPORTED',
        `${source}: ${n} past key inputs but ${pastValue.length} past value inputs.`,
      );
    // Optimum writes present.N.key; some exporters write present_key_values.N.key.
    const presentKey = layerNames(outNames, /^present(?:_key_values)?\.(\d+)\.key$/);
    const presentValue = layerNames(outNames, /^present(?:_key_values)?\.(\d+)\.value$/);
    if (presentKey.length !== n || presentValue.length !== n) {
      throw new GlassboxError(
        'GRAPH_UNSUPPORTED',
        `${source}: expected present.N.key/value outputs for ${n} layers (outputs: ${outNames.join(', ')}).`,
      );
    }
    return { kind: 'separate', pastKey, pastValue, presentKey, presentValue };
  }
  const past = layerNames(inNames, layerPattern(PAST_COMBINED));
  if (past.length > 0) {
    const n = countLayers(past, 'past', source);
    return { kind: 'combined', past, present: range(n, PRESENT_COMBINED).map(requireOut) };
  }
  throw new GlassboxError(
    'GRAPH_UNSUPPORTED',
    `${source} has no KV-cache inputs (inputs: ${inNames.join(', ')}).`,
    'Glassbox needs a decoder exported with past key/values (Optimum "text-generation-with-past", or ONNX Runtime GenAI).',
  );
}

function range(n: number, template: string): string[] {
  return Array.from({ length: n }, (_, i) => fmt(template, i));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** [past, present] names of each separate cache (none for combined caches, which the append rewrite leaves alone). */
export function kvPairs(io: DecoderIo): [string, string][] {
  const kv = io.kv;
  if (kv.kind !== 'separate') return [];
  return [
    ...kv.pastKey.map((p, i) => [p, kv.presentKey[i]]),
    ...kv.pastValue.map((p, i) => [p, kv.presentValue[i]]),
  ] as [string, string][];
}

/** The roles of the file as it is: the append rewrite's are the generation session's only. */
export function fileIo(io: DecoderIo): DecoderIo {
  if (!io.appendKv) return io;
  const { appendKv: _, ...rest } = io;
  return rest;
}

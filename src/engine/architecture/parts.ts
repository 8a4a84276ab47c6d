/**
 * Groups the parameters into the diagram's parts (token embedding → blocks → final norm → LM
 * head), recognises each block, and decides whether the LM head is tied to the embedding so that
 * tied weights are counted once.
 */
import type { AttentionInfo, BlockInfo, Part, ParamTensor } from '../../common/architectureTypes';
import { hasRotary, type KnownNumbers, outDim, recognizeBlock, ropeThetaFromGraph, sizeOf } from './blocks';
import type { GNode, GraphIndex } from '../onnx/graphIndex';
import { LINEAR } from '../onnx/ops';
import type { LogicalParam } from './params';
import { blocksByPattern, nodesOf, type PatternBlocks, placeByPattern } from './patterns';
import type { ShapeInfo } from './shapes';
import { componentOf, layerIndex, layerScopePrefix } from './scopes';

export interface PartsInput extends KnownNumbers {
  numLayers?: number;
  intermediateSize?: number;
  vocabSize?: number;
  tiedEmbeddings?: boolean;
  modelType?: string;
}

/** Reads `indices` of an initializer's values (null when they can't be read, e.g. quantized or missing data). */
type Sampler = (initializer: string, indices: number[]) => number[] | null;

interface Assembly {
  parts: Part[];
  blocks: BlockInfo[];
  recognized: boolean;
  family: string;
  notes: string[];
  totalParams: number;
  matmulParams: number;
  tiedBy: string | null;
  /** Blocks found by pattern have no name scope: `#block.N` → their node indices, for the drill-down. */
  patternScopes: Map<string, number[]>;
}

/** Model types whose Hugging Face config ties the LM head to the embedding unless it says otherwise. */
const TIED_BY_DEFAULT = new Set(['gpt2', 'gpt_neo', 'gptj', 'gemma', 'gemma2', 'bloom', 'opt', 'codegen']);

function tensorOf(p: LogicalParam): ParamTensor {
  return {
    name: p.name,
    role: p.role,
    consumer: p.consumer,
    shape: p.shape,
    params: p.params,
    dtype: p.dtype,
    ...(p.quant ? { quant: p.quant } : {}),
    bytes: p.bytes,
    ...(p.alias ? { sharedWith: p.storage } : {}),
    ...(p.external ? { external: true } : {}),
  };
}

function scopeOfNode(name: string): string | null {
  const segs = name.split('/').filter(Boolean).slice(0, -1);
  return segs.length ? '/' + segs.join('/') : null;
}

/** Decides whether the LM head weight holds the embedding's values; says what decided it. */
function decideTie(
  e: LogicalParam,
  w: LogicalParam,
  known: PartsInput,
  sample: Sampler,
): { tied: boolean; by: string } {
  if (w.storage === e.storage) return { tied: true, by: 'the graph (one tensor)' };
  const same = w.shape.join() === e.shape.join();
  const transposed =
    w.shape.length === 2 && e.shape.length === 2 && w.shape[0] === e.shape[1] && w.shape[1] === e.shape[0];
  if (!same && !transposed) return { tied: false, by: 'shapes differ' };
  if (known.tiedEmbeddings !== undefined) return { tied: known.tiedEmbeddings, by: 'config (tie_word_embeddings)' };
  if (!e.quant && !w.quant && e.shape.length === 2) {
    const [V, d] = e.shape;
    const pairs = Array.from({ length: 16 }, (_, k) => [(k * 7919 + 3) % V, (k * 104729 + 5) % d]);
    const ev = sample(
      e.storage,
      pairs.map(([i, j]) => i * d + j),
    );
    const wv = sample(
      w.storage,
      pairs.map(([i, j]) => (same ? i * d + j : j * V + i)),
    );
    if (ev && wv) return { tied: ev.every((x, k) => x === wv[k]), by: 'comparing the stored values' };
  }
  const dflt = TIED_BY_DEFAULT.has(known.modelType ?? '');
  return { tied: dflt, by: `the ${known.modelType ?? 'unknown'} default` };
}

function makePart(id: string, kind: Part['kind'], label: string, scope: string | null, params: LogicalParam[]): Part {
  const size = sizeOf(params);
  return {
    id,
    kind,
    label,
    scope,
    params: size.params,
    share: 0,
    bytes: size.bytes,
    dtype: size.dtype,
    tensors: params.map(tensorOf),
  };
}

/**
 * Block-quantized weights are often stored padded to a multiple of the block size (an MLP of 176
 * stored as 192 for blocks of 32). The padding is zeros, not parameters: count the model's own size.
 */
function unpad(p: LogicalParam, known: PartsInput): string | null {
  const m = /block (\d+)/.exec(p.quant ?? '');
  if (!m || p.shape.length !== 2) return null;
  const block = Number(m[1]);
  const sizes = [known.intermediateSize, known.hiddenSize, known.vocabSize].filter((x): x is number => !!x);
  const shape = p.shape.map((d) => sizes.find((x) => x < d && Math.ceil(x / block) * block === d) ?? d);
  if (shape.every((d, i) => d === p.shape[i])) return null;
  const note = `${p.name}: stored ${p.shape.join('×')}, padded from ${shape.join('×')}`;
  p.quant = `${p.quant}, padded from ${shape.join('×')}`;
  p.shape = shape;
  p.params = shape[0] * shape[1];
  return note;
}

/** Parts, blocks, totals and the tie decision, from the parameters the scan found. */
export function assembleParts(
  g: GraphIndex,
  all: LogicalParam[],
  shapes: Map<string, ShapeInfo>,
  known: PartsInput,
  sample: Sampler,
): Assembly {
  const notes: string[] = [];
  const padded = all.map((p) => unpad(p, known)).filter((x): x is string => x !== null);
  if (padded.length)
    notes.push(
      `${padded.length} block-quantized weight(s) are stored padded to the block size; their zero padding is not counted as parameters (${padded[0]}${padded.length > 1 ? ', …' : ''}).`,
    );
  const logits = new Set(g.outputs.filter((o) => /logits/i.test(o.name)).map((o) => o.name));
  // An embedding that is also used by a linear op outside the layers is the tied LM head itself.
  let sharedHead: LogicalParam | null = null;
  for (const p of all) {
    const gather = p.uses.some(
      (u) => (u.node.op === 'Gather' || u.node.op === 'GatherBlockQuantized') && u.input === 0,
    );
    if (!gather) continue;
    const linearOutside = p.uses.some((u) => LINEAR.has(u.node.op) && layerIndex(u.node.name) === null);
    if (p.outer !== 'position_embedding') {
      p.slot = 'embedding';
      p.outer = 'embedding';
      p.layer = null;
      if (linearOutside) sharedHead = p;
    }
  }
  // LM head by name, else the linear weight outside the layers that produces the logits or is vocab-wide
  for (const p of all) {
    if (p.outer || p.layer !== null || p.slot !== 'linear') continue;
    const feedsLogits = p.uses.some((u) =>
      u.node.outputs.some(
        (o) => logits.has(o) || (g.consumers.get(o) ?? []).some((c) => g.nodes[c].outputs.some((x) => logits.has(x))),
      ),
    );
    if (feedsLogits || (known.vocabSize && outDim(p) === known.vocabSize)) p.outer = 'lm_head';
  }

  // No layer scopes in the names: follow the residual stream instead.
  let pattern: PatternBlocks | null = null;
  if (!all.some((p) => p.layer !== null && !p.outer)) {
    pattern = blocksByPattern(
      g,
      all.find((p) => p.outer === 'embedding'),
    );
    if (pattern) {
      placeByPattern(g, all, pattern);
      notes.push(
        'Node names carry no layer scopes: blocks were recognised by following the residual stream (Add of the stream and a branch computed from it); roles are inferred from operator order and widths.',
      );
      // the norm after the last block: 1-D weights outside the blocks, used before the LM head
      for (const p of all)
        if (
          !p.outer &&
          p.layer === null &&
          p.shape.length === 1 &&
          (p.slot === 'norm' || p.uses.some((u) => u.node.op === 'Mul'))
        )
          p.outer = 'final_norm';
    }
  }

  const embed = all.filter((p) => p.outer === 'embedding');
  const posEmbed = all.filter((p) => p.outer === 'position_embedding');
  const finalNorm = all.filter((p) => p.outer === 'final_norm');
  const head = all.filter((p) => p.outer === 'lm_head');
  const other = all.filter((p) => p.outer === null && p.layer === null);

  // nodes per layer (the GenAI builder's final norm sits in /model/layers.{N}/final_norm_layernorm)
  const layerNodes = new Map<number, GNode[]>();
  const patternScopes = new Map<string, number[]>();
  if (pattern) {
    pattern.blocks.forEach((b, i) => {
      const nodes = nodesOf(g, new Set([...b.attention, ...b.mlp]));
      layerNodes.set(i, nodes);
      patternScopes.set(
        `#block.${i}`,
        nodes.map((n) => n.index),
      );
    });
  }
  for (const n of pattern ? [] : g.nodes) {
    const i = layerIndex(n.name);
    if (i === null || componentOf(n.name) === 'final_norm') continue;
    const list = layerNodes.get(i);
    if (list) list.push(n);
    else layerNodes.set(i, [n]);
  }
  const layerParams = new Map<number, LogicalParam[]>();
  for (const p of all) {
    if (p.layer === null || p.outer) continue;
    const list = layerParams.get(p.layer);
    if (list) list.push(p);
    else layerParams.set(p.layer, [p]);
  }
  const indices = [...layerParams.keys()].sort((a, b) => a - b);
  if (known.numLayers !== undefined && indices.length && indices.length !== known.numLayers) {
    notes.push(`config says ${known.numLayers} layers; the graph has parameters in ${indices.length}`);
  }

  const blocks: BlockInfo[] = [];
  const blockParts: Part[] = [];
  let rope: AttentionInfo['rope'] = null;
  for (const i of indices) {
    const nodes = layerNodes.get(i) ?? [];
    const byPattern = pattern
      ? { componentOfNode: (n: GNode) => pattern!.componentOfNode.get(n.index) ?? null, residualAdds: 2 }
      : {};
    const r = recognizeBlock(i, layerParams.get(i)!, nodes, g, shapes, known, rope, byPattern);
    if (blocks.length === 0 && hasRotary(g)) {
      // θ from the config, else from the graph's inverse-frequency constant
      const fromGraph = known.ropeTheta === undefined ? ropeThetaFromGraph(g, r.block.attention.headDim) : null;
      rope = {
        theta: known.ropeTheta ?? fromGraph,
        source:
          known.ropeTheta !== undefined
            ? 'config'
            : fromGraph !== null
              ? 'graph (inverse frequencies)'
              : 'not in config or graph',
      };
      r.block.attention.rope = rope;
    }
    notes.push(...r.notes);
    blocks.push(r.block);
    const scope = pattern
      ? `#block.${i}`
      : (nodes.map((n) => layerScopePrefix(n.name)).find((s) => s !== null) ?? null);
    const part = makePart(`block.${i}`, 'block', `Block ${i}`, scope, layerParams.get(i)!);
    part.block = r.block;
    blockParts.push(part);
  }

  const parts: Part[] = [];
  const firstScope = (ps: LogicalParam[]) => (ps[0] ? scopeOfNode(ps[0].consumer) : null);
  if (embed.length) parts.push(makePart('embedding', 'embedding', 'Token embedding', firstScope(embed), embed));
  else notes.push('no token embedding (Gather on a weight) found');
  if (posEmbed.length)
    parts.push(
      makePart('position_embedding', 'position_embedding', 'Position embedding', firstScope(posEmbed), posEmbed),
    );
  parts.push(...blockParts);
  if (finalNorm.length)
    parts.push(makePart('final_norm', 'final_norm', 'Final norm', firstScope(finalNorm), finalNorm));
  else if (blocks.length) notes.push('no final norm found by name');

  let tiedBy: string | null = null;
  let headMatmul = head.reduce((a, p) => a + (p.slot === 'linear' ? p.params : 0), 0);
  const e = embed[0];
  if (sharedHead) {
    tiedBy = 'the graph (one tensor)';
    headMatmul = sharedHead.params;
    const use = sharedHead.uses.find((u) => layerIndex(u.node.name) === null && u.node.op !== 'Gather');
    parts.push({
      ...makePart('lm_head', 'lm_head', 'LM head', use ? scopeOfNode(use.node.name) : null, []),
      tiedTo: 'embedding',
      note: 'Tied to the token embedding: the same tensor, counted once.',
    });
  } else if (head.length) {
    const w = head.find((p) => p.slot === 'linear');
    const tie = e && w ? decideTie(e, w, known, sample) : { tied: false, by: '' };
    const part = makePart('lm_head', 'lm_head', 'LM head', firstScope(head), head);
    if (tie.tied && w) {
      tiedBy = tie.by;
      headMatmul = w.params;
      part.tiedTo = 'embedding';
      const copy =
        w.storage !== e!.storage && w.bytes
          ? ` The file stores its own copy (${w.shape.join('×')}), included in the bytes.`
          : '';
      part.note = `Tied to the token embedding (decided by ${tie.by}): its ${w.params.toLocaleString('en-US')} parameters are counted once, in the embedding.${copy}`;
      part.params = head.filter((p) => p !== w).reduce((a, p) => a + p.params, 0);
    }
    parts.push(part);
  } else if (blocks.length) {
    notes.push('no LM head found (no weight produces the logits)');
  }
  if (other.length) {
    const part = makePart('other', 'other', 'Other parameters', null, other);
    part.note = `Not placed in a part: ${[...new Set(other.map((p) => p.role))].slice(0, 8).join(', ')}`;
    parts.push(part);
  }

  const totalParams = parts.reduce((a, p) => a + p.params, 0);
  for (const p of parts) p.share = totalParams ? p.params / totalParams : 0;
  const matmulParams =
    headMatmul +
    all
      .filter((p) => p.slot === 'linear' && p.outer !== 'lm_head' && p.outer !== 'embedding')
      .reduce((a, p) => a + p.params, 0);
  const recognized =
    blocks.length > 0 && blocks.every((b) => b.attention.params > 0 && b.mlp.params > 0) && embed.length > 0;
  if (blocks.length === 0) {
    notes.unshift(
      'No decoder blocks recognised: no node or weight names carry a layer scope Glassbox knows (layers.N, h.N, layer.N, blocks.N). The operator summary and parameter totals below are read from the graph as it is.',
    );
  }
  return {
    parts,
    blocks,
    recognized,
    family: familyOf(blocks, recognized, posEmbed.length > 0),
    notes,
    totalParams,
    matmulParams,
    tiedBy,
    patternScopes,
  };
}

function familyOf(blocks: BlockInfo[], recognized: boolean, learnedPositions: boolean): string {
  const b = blocks[0];
  if (!b) return 'unrecognised graph';
  const a = b.attention;
  const attn =
    a.groupSize === null
      ? 'attention'
      : a.groupSize === 1
        ? 'multi-head attention'
        : a.groupSize === a.queryHeads
          ? 'multi-query attention'
          : `grouped-query attention (${a.queryHeads}:${a.kvHeads})`;
  const pos = a.rope ? 'RoPE' : learnedPositions ? 'learned positions' : 'no position encoding found';
  const traits = [b.norm1.kind, pos, attn, b.mlp.kind].filter((t) => t !== 'unknown').join(', ');
  return `${recognized ? 'Decoder' : 'Partly recognised decoder'}: ${blocks.length} × block (${traits})`;
}

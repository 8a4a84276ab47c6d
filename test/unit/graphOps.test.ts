/**
 * The op-type sets of src/engine/onnx/ops.ts are read by several classifiers: the parameter scan
 * (params.ts), the residual-stream pattern (patterns.ts), block recognition (blocks.ts) and part
 * assembly (parts.ts), and beside them the attention explorer's graph scan, whose residual stream
 * is where generation's last-position rewrite slices. They must call the same node the same thing:
 * on the shipped model's three exports, and for every member of each set on a graph built in code.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { extractLensGraph, findResidualStream, findSoftmaxSites } from '../../src/engine/attention/graphScan';
import { recognizeBlock } from '../../src/engine/architecture/blocks';
import { type GraphIndex, indexGraph } from '../../src/engine/onnx/graphIndex';
import { decodeModelProto, readModelProto } from '../../src/engine/onnx/onnxFile';
import { FUSED_ATTENTION, LINEAR, LN_OPS, RMS_OPS } from '../../src/engine/onnx/ops';
import { type LogicalParam, scanParams } from '../../src/engine/architecture/params';
import { assembleParts } from '../../src/engine/architecture/parts';
import { blocksByPattern, placeByPattern } from '../../src/engine/architecture/patterns';
import { componentOf, layerIndex } from '../../src/engine/architecture/scopes';
import { inferShapes } from '../../src/engine/architecture/shapes';
import { ROOT } from './helpers';
import { DT, type GraphSpec, init, modelBytes, node, value } from './onnxBuild';

const ONNX_DIR = path.join(ROOT, 'models', 'glassbox-code', 'onnx');
const LAYERS = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'glassbox-code', 'config.json'), 'utf8')) as {
    num_hidden_layers: number;
  }
).num_hidden_layers;

const noSample = () => null;
const isEmbedding = (p: LogicalParam) => p.uses.some((u) => u.node.op.startsWith('Gather') && u.input === 0);

/** The parameters as the pattern reader places them: names ignored, only the embedding known. */
function placedByPattern(g: GraphIndex) {
  const params = scanParams(g, new Set()).params;
  for (const p of params)
    Object.assign(p, { layer: null, component: null, outer: isEmbedding(p) ? 'embedding' : null });
  const pb = blocksByPattern(
    g,
    params.find((p) => p.outer === 'embedding'),
  );
  if (pb) placeByPattern(g, params, pb);
  return { params, pb };
}

describe('graph ops: the shipped model, read by every classifier', () => {
  for (const file of fs.readdirSync(ONNX_DIR).filter((f) => f.endsWith('.onnx'))) {
    const proto = readModelProto(path.join(ONNX_DIR, file));
    const g = indexGraph(proto);
    const byName = scanParams(g, new Set()).params;
    const a = assembleParts(g, byName, inferShapes(g), {}, noSample);
    const sites = findSoftmaxSites(g, proto);
    const stream = findResidualStream(g, sites, 'logits');

    it(`${file}: the explorer's blocks and the attention scan find the same ${LAYERS} attention nodes`, () => {
      assert.equal(a.recognized, true, a.notes.join('\n'));
      assert.equal(a.blocks.length, LAYERS);
      assert.equal(sites.length, LAYERS);
      for (const [i, s] of sites.entries()) {
        assert.equal(layerIndex(s.node.name!), i, s.node.name!);
        assert.equal(componentOf(s.node.name!), 'attention', s.node.name!);
        assert.equal(a.blocks[i].attention.kind, 'MatMul + Softmax (unfused)');
      }
      const linear = byName.filter((p) => p.slot === 'linear' && p.layer !== null);
      assert.equal(linear.length, 7 * LAYERS, 'q, k, v, o, gate, up, down per layer');
      for (const p of linear) assert.ok(LINEAR.has(p.uses[0].node.op), `${p.name} is used by ${p.uses[0].node.op}`);
    });

    it(`${file}: the LM head the explorer counts is the linear node of the logit lens`, () => {
      assert.ok(Array.isArray(stream), String(stream));
      const lens = extractLensGraph(g, proto, stream[stream.length - 1], 'logits');
      assert.ok(typeof lens !== 'string', String(lens));
      const lensLinear = lens.nodes.filter((n) => LINEAR.has(n.opType!)).map((n) => n.name);
      const head = byName.filter((p) => p.outer === 'lm_head' || p.outer === 'embedding');
      const headLinear = head.flatMap((p) => p.uses.filter((u) => LINEAR.has(u.node.op)).map((u) => u.node.name));
      assert.deepEqual(headLinear, lensLinear);
      assert.equal(lensLinear.length, 1);
    });

    // The q4 export dequantizes its embedding by hand (a bit-unpacking subgraph), which the pattern reader does not follow.
    if (file === 'model_q4.onnx') continue;

    it(`${file}: blocks by pattern give every linear weight the layer and component its name gives`, () => {
      const { params, pb } = placedByPattern(g);
      assert.ok(pb, 'blocks recognised by pattern');
      assert.equal(pb.blocks.length, LAYERS);
      const named = new Map(byName.map((p) => [p.name, p]));
      for (const p of params.filter((x) => x.slot === 'linear' && x.layer !== null)) {
        const n = named.get(p.name)!;
        assert.deepEqual([p.layer, p.component], [n.layer, n.component], p.name);
        if (p.component === 'attention') assert.equal(p.role, n.role, p.name);
      }
      assert.equal(params.filter((x) => x.slot === 'linear' && x.layer !== null).length, 7 * LAYERS);
      // each block's attention branch holds its Softmax site; each block ends at the stream's next residual
      assert.ok(Array.isArray(stream), String(stream));
      const chain: string[] = stream;
      for (const [i, b] of pb.blocks.entries()) {
        const at = g.producer.get(sites[i].probs)!;
        assert.ok(b.attention.has(at), `Softmax of layer ${i} is in block ${i}'s attention`);
        const end = g.nodes[g.producer.get(chain[i + 1])!];
        assert.equal(end.op, 'Add');
        assert.ok(
          end.inputs.some((t) => b.mlp.has(g.producer.get(t) ?? -1)),
          `block ${i} ends at ${chain[i + 1]}`,
        );
      }
    });
  }
});

/**
 * One pre-norm decoder block with no layer scopes in its names (so the pattern reader places it),
 * its projections by `linear`, its attention by `attention`, and an LM head that is the embedding
 * itself, transposed, used by `linear` outside the block.
 */
function block(linear: string, attention: string): GraphSpec {
  const d = 8;
  const spec: GraphSpec = {
    nodes: [],
    inits: [init('table', [32, d])],
    inputs: [value('ids', DT.int64, ['batch', 'seq'])],
    outputs: [value('logits', DT.float, ['batch', 'seq', 32])],
  };
  let k = 0;
  const add = (op: string, inputs: string[], attrs = {}) => {
    const out = `t${k}`;
    spec.nodes.push(node(op, `n${k++}`, inputs, [out], attrs));
    return out;
  };
  const proj = (x: string) => {
    const w = `p${k}`;
    spec.inits.push(init(w, [d, d]));
    return add(linear, [x, w], linear === 'MatMulNBits' ? { K: d, N: d, bits: 4, block_size: 32 } : {});
  };
  const norm = (x: string) => {
    const w = `p${k}`;
    spec.inits.push(init(w, [d]));
    return add('SimplifiedLayerNormalization', [x, w]);
  };
  const x0 = add('Gather', ['table', 'ids']);
  const h = norm(x0);
  const x1 = add('Add', [x0, proj(add(attention, [proj(h), proj(h), proj(h)]))]);
  const h2 = norm(x1);
  const gate = proj(h2);
  const x2 = add('Add', [x1, proj(add('Mul', [add('Mul', [gate, add('Sigmoid', [gate])]), proj(h2)]))]);
  spec.nodes.push(node(linear, 'head', [norm(x2), add('Transpose', ['table'])], ['logits']));
  return spec;
}

/** What each classifier makes of the block: one field per consumer of ops.ts. */
function readBlock(spec: GraphSpec) {
  const g = indexGraph(decodeModelProto(modelBytes(spec), 'synthetic'));
  const params = scanParams(g, new Set()).params;
  const slots = [...new Set(params.filter((p) => p.shape.length === 2 && !isEmbedding(p)).map((p) => p.slot))];
  const { pb } = placedByPattern(g);
  const a = assembleParts(g, scanParams(g, new Set()).params, inferShapes(g), {}, noSample);
  return {
    'params.ts: projection slots': slots.join(),
    'patterns.ts: blocks': pb?.blocks.length ?? 0,
    'patterns.ts: attention branch': pb ? pb.blocks[0].attention.size : 0,
    'blocks.ts: attention kind': a.blocks[0]?.attention.kind ?? 'no block',
    'parts.ts: LM head tied by': a.tiedBy,
  };
}

describe('graph ops: each member of a set is classified alike by every consumer', () => {
  const linearOps = new Set([...LINEAR, 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'Conv']);
  const attentionOps = new Set([...FUSED_ATTENTION, 'PagedAttention']);

  for (const op of linearOps)
    it(`${op} is a linear projection to the parameter scan, the pattern reader and the LM-head tie`, () => {
      assert.deepEqual(readBlock(block(op, 'GroupQueryAttention')), {
        'params.ts: projection slots': 'linear',
        'patterns.ts: blocks': 1,
        'patterns.ts: attention branch': 6, // norm, q, k, v, attention, o
        'blocks.ts: attention kind': 'GroupQueryAttention',
        'parts.ts: LM head tied by': 'the graph (one tensor)',
      });
    });

  for (const op of attentionOps)
    it(`${op} is fused attention to the pattern reader and to block recognition`, () => {
      assert.deepEqual(readBlock(block('MatMul', op)), {
        'params.ts: projection slots': 'linear',
        'patterns.ts: blocks': 1,
        'patterns.ts: attention branch': 6,
        'blocks.ts: attention kind': op,
        'parts.ts: LM head tied by': 'the graph (one tensor)',
      });
    });

  it('an op in neither set is neither, to every consumer (the probes can tell)', () => {
    assert.deepEqual(readBlock(block('Einsum', 'GroupQueryAttention')), {
      'params.ts: projection slots': 'other',
      'patterns.ts: blocks': 0,
      'patterns.ts: attention branch': 0,
      'blocks.ts: attention kind': 'no block',
      'parts.ts: LM head tied by': null,
    });
    assert.equal(readBlock(block('MatMul', 'Einsum'))['patterns.ts: blocks'], 0);
  });

  for (const [op, kind] of [...[...RMS_OPS].map((o) => [o, 'RMSNorm']), ...[...LN_OPS].map((o) => [o, 'LayerNorm'])])
    it(`${op}: its scale is a norm parameter and the block's norm is ${kind}`, () => {
      const skip = op.startsWith('Skip');
      const spec: GraphSpec = {
        nodes: [node(op, '/model/layers.0/input_layernorm/Norm', ['x', ...(skip ? ['r'] : []), 'scale'], ['y'])],
        inits: [init('scale', [8])],
        inputs: [value('x', DT.float, [1, 8]), value('r', DT.float, [1, 8])],
        outputs: [value('y', DT.float, [1, 8])],
      };
      const g = indexGraph(decodeModelProto(modelBytes(spec), 'synthetic'));
      const params = scanParams(g, new Set()).params;
      assert.deepEqual(
        params.map((p) => [p.slot, p.component]),
        [['norm', 'norm1']],
      );
      const { block: b } = recognizeBlock(0, params, g.nodes, g, new Map(), {}, null);
      assert.equal(b.norm1.kind, kind);
    });
});

/**
 * Graphs built in code and damaged folders: an int4 GenAI-builder-style decoder, an unknown
 * structure, a corrupt protobuf, missing external data, no config.json, and 20,000 nodes.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  architectureGraph,
  clearArchitectureCache,
  inspectArchitecture,
} from '../../src/engine/architecture/architecture';
import { copyModel, TEST_MODEL } from './helpers';
import { modelBytes, scratchFolder, withExternalData } from './onnxBuild';
import { bigGraph, GENAI_DIMS, genaiBuilderGraph, HALF_B_DIMS, unknownGraph } from './syntheticGraphs';

type Coded = Error & { code?: string };

describe('architecture: graphs in other shapes', () => {
  const dirs: string[] = [];
  const folder = (files: Record<string, string | Uint8Array>) => {
    const d = scratchFolder(files);
    dirs.push(d);
    return d;
  };
  after(() => {
    clearArchitectureCache();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('reads a GenAI-builder int4 decoder: MatMulNBits block size, GroupQueryAttention heads, fused residual norms', () => {
    const { layers, hidden: d, heads, kvHeads, headDim, inter, vocab, block } = GENAI_DIMS;
    const genai = {
      model: {
        type: 'llama',
        vocab_size: vocab,
        context_length: 512,
        decoder: {
          filename: 'model.onnx',
          head_size: headDim,
          hidden_size: d,
          num_attention_heads: heads,
          num_key_value_heads: kvHeads,
          num_hidden_layers: layers,
          inputs: {},
          outputs: {},
        },
      },
    };
    const hf = {
      model_type: 'llama',
      rope_theta: 500000,
      intermediate_size: inter,
      hidden_act: 'silu',
      tie_word_embeddings: false,
    };
    const dir = folder({
      'model.onnx': modelBytes(genaiBuilderGraph()),
      'genai_config.json': JSON.stringify(genai),
      'config.json': JSON.stringify(hf),
    });
    const s = inspectArchitecture({ modelDir: dir });
    assert.equal(s.recognized, true, s.notes.join('\n'));
    const perLayer = 2 * d + d * heads * headDim * 2 + 2 * d * kvHeads * headDim + 3 * d * inter;
    assert.equal(
      s.totals.params,
      vocab * d + layers * perLayer + d + d * vocab,
      'untied LM head counted; scales are not parameters',
    );
    const b = s.parts.find((p) => p.kind === 'block')!;
    assert.equal(b.dtype, `int4 (block ${block}) + fp16`);
    const q = b.tensors.find((t) => t.role === 'q_proj')!;
    assert.deepEqual(q.shape, [d, heads * headDim]);
    assert.equal(q.params, d * heads * headDim);
    assert.equal(q.quant, `int4, block ${block} (MatMulNBits)`);
    assert.equal(
      q.bytes,
      (d * heads * headDim) / 2 + ((d * heads * headDim) / block) * 2,
      'packed int4 plus fp16 scales',
    );
    const a = b.block!.attention;
    assert.equal(a.kind, 'GroupQueryAttention');
    assert.equal(a.headsSource, 'operator');
    assert.equal(a.groupSize, heads / kvHeads);
    assert.deepEqual(a.rope, { theta: 500000, source: 'config' });
    assert.equal(
      s.parts[2].block!.norm1.fusedResidual,
      true,
      'layer 1 input norm is a SkipSimplifiedLayerNormalization',
    );
    assert.equal(b.block!.norm1.kind, 'RMSNorm');
    assert.equal(b.block!.mlp.kind, 'SwiGLU');
    assert.equal(b.block!.mlp.hiddenSize, inter);
    const final = s.parts.find((p) => p.kind === 'final_norm')!;
    assert.equal(final.params, d, 'the final norm at /model/layers.N/final_norm_layernorm is not a block');
    assert.equal(s.parts.filter((p) => p.kind === 'block').length, layers);
    assert.equal(s.cost.kvDtype, 'float16');
    assert.ok(
      s.totals.excluded.some((x) => x.name === 'cos_cache'),
      'RoPE tables are buffers',
    );
  });

  it("a 0.5B-parameter int4 graph with external data is read from its structure (the data file is only stat'ed)", (t) => {
    const { layers, hidden: d, heads, kvHeads, headDim, inter, vocab } = HALF_B_DIMS;
    const spec = genaiBuilderGraph(HALF_B_DIMS, 'model.onnx.data');
    const genai = {
      model: {
        type: 'qwen2',
        vocab_size: vocab,
        context_length: 32768,
        decoder: {
          filename: 'model.onnx',
          head_size: headDim,
          hidden_size: d,
          num_attention_heads: heads,
          num_key_value_heads: kvHeads,
          num_hidden_layers: layers,
          inputs: {},
          outputs: {},
        },
      },
    };
    const hf = {
      model_type: 'qwen2',
      rope_theta: 1000000,
      intermediate_size: inter,
      hidden_act: 'silu',
      tie_word_embeddings: true,
      max_position_embeddings: 32768,
    };
    const dir = folder({
      'model.onnx': modelBytes(spec),
      'genai_config.json': JSON.stringify(genai),
      'config.json': JSON.stringify(hf),
    });
    fs.closeSync(fs.openSync(path.join(dir, 'model.onnx.data'), 'w'));
    fs.truncateSync(path.join(dir, 'model.onnx.data'), spec.dataBytes); // sparse: nothing is read from it
    const start = performance.now();
    const s = inspectArchitecture({ modelDir: dir });
    t.diagnostic(
      `inspect a 0.5B int4 graph with ${(spec.dataBytes / 1e6).toFixed(0)} MB of external data: ${(performance.now() - start).toFixed(0)} ms (${s.graph.nodes} nodes)`,
    );
    const perLayer = 2 * d + 2 * d * heads * headDim + 2 * d * kvHeads * headDim + 3 * d * inter;
    assert.equal(s.totals.params, vocab * d + layers * perLayer + d, 'the tied LM head (config) is counted once');
    assert.ok(s.totals.params > 490e6 && s.totals.params < 500e6);
    assert.equal(s.parts.filter((p) => p.kind === 'block').length, layers);
    assert.equal(s.totals.bytes, spec.dataBytes, 'every stored byte is accounted for');
    assert.equal(s.cost.diskBytes, fs.statSync(path.join(dir, 'model.onnx')).size + spec.dataBytes);
    assert.equal(s.parts.find((p) => p.kind === 'block')!.block!.attention.rope?.theta, 1000000);
  });

  it('an unknown structure still gets an operator summary, parameter totals, and says what it did not recognise', () => {
    const dir = folder({ 'model.onnx': modelBytes(unknownGraph()) });
    const s = inspectArchitecture({ modelDir: dir });
    assert.equal(s.recognized, false);
    assert.equal(s.totals.params, 32 * 48 + 48 + 48 * 10 + 10);
    assert.deepEqual(
      s.ops.map((o) => `${o.op}×${o.count}`),
      ['Add×2', 'MatMul×2', 'Relu×1'],
    );
    assert.match(s.notes.join('\n'), /No decoder blocks recognised/);
    assert.match(s.notes.join('\n'), /No config\.json/);
    assert.equal(s.parts.find((p) => p.kind === 'other')!.params, s.totals.params);
  });

  it('a corrupt protobuf is a clear error naming the file', () => {
    const dir = folder({
      'model.onnx': Buffer.from('this is not a protobuf \u00ff\u00fe garbage'.repeat(40)),
      'config.json': '{}',
    });
    assert.throws(
      () => inspectArchitecture({ modelDir: dir }),
      (e: Coded) =>
        e.code === 'ONNX_INVALID' &&
        e.message.includes(path.join(dir, 'model.onnx')) &&
        /truncated or corrupt/.test(e.message),
    );
  });

  it('a truncated file is the same clear error', () => {
    const bytes = fs.readFileSync(path.join(TEST_MODEL, 'onnx', 'model.onnx'));
    const dir = folder({ 'onnx/model.onnx': bytes.subarray(0, Math.floor(bytes.length / 3)) });
    assert.throws(
      () => inspectArchitecture({ modelDir: dir }),
      (e: Coded) => e.code === 'ONNX_INVALID',
    );
  });

  it("external data is stat'ed, never read; when the data file is missing the structure shows and bytes are unknown", () => {
    const dir = withExternalData(TEST_MODEL, 'onnx/model.onnx');
    dirs.push(dir);
    const ok = inspectArchitecture({ modelDir: dir });
    assert.equal(ok.totals.params, 125_248);
    const dataSize = fs.statSync(path.join(dir, 'onnx', 'model.onnx_data')).size;
    assert.deepEqual(ok.external, [{ file: 'model.onnx_data', bytes: dataSize, missing: false }]);
    assert.equal(ok.cost.diskBytes, fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size + dataSize);

    fs.rmSync(path.join(dir, 'onnx', 'model.onnx_data'));
    const s = inspectArchitecture({ modelDir: dir });
    assert.equal(s.recognized, true);
    assert.equal(s.totals.params, 125_248, 'counts come from the dims');
    assert.equal(s.totals.bytes, null);
    assert.equal(s.cost.diskBytes, null);
    assert.ok(s.parts.filter((p) => p.kind === 'block').every((p) => p.bytes === null));
    assert.deepEqual(s.external, [{ file: 'model.onnx_data', bytes: null, missing: true }]);
    assert.match(s.notes.join('\n'), /model\.onnx_data is missing.*bytes .* unknown/);
  });

  it('without config.json, heads, head dim, RoPE θ and tying are read from the graph itself', () => {
    const dir = copyModel(TEST_MODEL);
    dirs.push(dir);
    fs.rmSync(path.join(dir, 'config.json'));
    const s = inspectArchitecture({ modelDir: dir });
    assert.equal(s.totals.params, 125_248);
    const a = s.parts.find((p) => p.kind === 'block')!.block!.attention;
    assert.equal(a.headsSource, 'graph');
    assert.deepEqual([a.queryHeads, a.kvHeads, a.headDim], [4, 2, 16]);
    assert.deepEqual(a.rope, { theta: 10000, source: 'graph (inverse frequencies)' });
    assert.match(s.parts.find((p) => p.kind === 'lm_head')!.note!, /comparing the stored values/);
    assert.match(s.notes.join('\n'), /No config\.json or genai_config\.json/);
  });

  it('a 20,000-node graph arrives collapsed: the summary and the root view stay small', (t) => {
    const dir = folder({ 'model.onnx': modelBytes(bigGraph(20_000, 40)) });
    const start = performance.now();
    const s = inspectArchitecture({ modelDir: dir });
    t.diagnostic(`inspect 20,000 nodes (40 scoped layers): ${(performance.now() - start).toFixed(0)} ms`);
    assert.equal(s.graph.nodes, 20_000);
    assert.equal(s.parts.filter((p) => p.kind === 'block').length, 40);
    const size = JSON.stringify(s).length;
    t.diagnostic(`summary: ${(size / 1024).toFixed(0)} KB`);
    assert.ok(size < 200_000, `summary ${size} bytes`);
    const root = architectureGraph({ modelDir: dir, scope: '', expanded: [] });
    t.diagnostic(`root view: ${root.nodes.length} boxes, layout ${root.layoutMs.toFixed(0)} ms`);
    assert.ok(root.nodes.length <= 5, `root view has ${root.nodes.length} boxes`);
    assert.equal(root.nodes.find((n) => n.kind === 'scope')!.nodeCount, 20_000);
    const model = architectureGraph({ modelDir: dir, scope: '/model', expanded: [] });
    assert.equal(model.nodes.filter((n) => n.kind === 'scope').length, 40, 'one collapsed box per layer');
    const layer = architectureGraph({ modelDir: dir, scope: '/model/layers.7', expanded: ['/model/layers.7/part_3'] });
    t.diagnostic(
      `one layer with one part expanded: ${layer.nodes.length} boxes, layout ${layer.layoutMs.toFixed(0)} ms`,
    );
    assert.ok(layer.nodes.length < 80);
  });

  it('20,000 nodes without any scopes are cut into runs that expand one at a time', (t) => {
    const dir = folder({ 'model.onnx': modelBytes(bigGraph(20_000, 0)) });
    const s = inspectArchitecture({ modelDir: dir });
    assert.equal(s.recognized, false);
    const root = architectureGraph({ modelDir: dir, scope: '', expanded: [] });
    t.diagnostic(`flat root view: ${root.nodes.length} boxes, layout ${root.layoutMs.toFixed(0)} ms`);
    assert.ok(root.nodes.length <= 110, `${root.nodes.length} boxes`);
    const run = root.nodes.find((n) => n.kind === 'scope')!;
    assert.equal(run.label, 'nodes 1–200');
    const opened = architectureGraph({ modelDir: dir, scope: '', expanded: [run.name] });
    assert.equal(opened.clusters.length, 1);
    assert.equal(opened.nodes.filter((n) => n.kind === 'op').length, 200);
  });
});

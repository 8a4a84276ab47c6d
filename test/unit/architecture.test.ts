/**
 * The architecture explorer reads real exported models: the test model (Optimum layout), its GenAI
 * and fp16 variants, and a GPT-2-style export, and its parameter totals match their configs and
 * model cards exactly.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { clearArchitectureCache, inspectArchitecture } from '../../src/engine/architecture/architecture';
import type { ArchitectureSummary, Part } from '../../src/common/architectureTypes';
import { flopsPerGeneratedToken, flopsPerPromptToken, kvBytesPerToken, kvCacheBytes } from '../../src/common/figures';
import { readModelProto, tensorBytes } from '../../src/engine/onnx/onnxFile';
import { EngineClient } from '../../src/engine/worker/client';
import { FIXTURES, TEST_MODEL } from './helpers';

interface LlamaJson {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
}

const llama = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'config.json'), 'utf8')) as LlamaJson;

/** The card's count: tied embedding + per layer (q, k, v, o, gate, up, down, 2 norms) + final norm. */
function llamaParams(c: LlamaJson): number {
  const d = c.hidden_size,
    hd = c.head_dim;
  const attn = d * c.num_attention_heads * hd * 2 + 2 * d * c.num_key_value_heads * hd;
  const mlp = 3 * d * c.intermediate_size;
  return c.vocab_size * d + c.num_hidden_layers * (attn + mlp + 2 * d) + d;
}

function blocks(s: ArchitectureSummary): Part[] {
  return s.parts.filter((p) => p.kind === 'block');
}

function checkLlama(s: ArchitectureSummary): void {
  assert.equal(s.recognized, true, s.notes.join('\n'));
  assert.equal(s.totals.params, llamaParams(llama));
  assert.deepEqual(
    s.parts.map((p) => p.kind),
    ['embedding', 'block', 'block', 'final_norm', 'lm_head'],
  );
  const head = s.parts.find((p) => p.kind === 'lm_head')!;
  assert.equal(head.tiedTo, 'embedding', 'tied LM head counted once');
  assert.equal(head.params, 0);
  for (const [i, b] of blocks(s).entries()) {
    const info = b.block!;
    assert.equal(info.index, i);
    assert.equal(
      b.params,
      (llamaParams(llama) - llama.vocab_size * llama.hidden_size - llama.hidden_size) / llama.num_hidden_layers,
    );
    assert.equal(info.norm1.kind, 'RMSNorm');
    assert.equal(info.norm2.kind, 'RMSNorm');
    assert.equal(info.attention.queryHeads, 4);
    assert.equal(info.attention.kvHeads, 2);
    assert.equal(info.attention.groupSize, 2);
    assert.equal(info.attention.headDim, 16);
    assert.equal(info.attention.rope?.theta, 10000);
    assert.deepEqual(info.attention.projections, ['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    assert.equal(info.mlp.kind, 'SwiGLU');
    assert.equal(info.mlp.hiddenSize, 176);
    assert.equal(info.residualAdds, 2);
  }
  const shares = s.parts.reduce((a, p) => a + p.share, 0);
  assert.ok(Math.abs(shares - 1) < 1e-9, `shares sum to ${shares}`);
}

describe('architecture: real exports', () => {
  after(() => clearArchitectureCache());

  it("reads the test model: blocks, heads, RoPE, SwiGLU, and the card's exact parameter total", (t) => {
    const s = inspectArchitecture({ modelDir: TEST_MODEL });
    t.diagnostic(`inspect test-tiny: ${s.inspectMs.toFixed(1)} ms`);
    checkLlama(s);
    assert.equal(s.totals.cardParams, 125_248);
    assert.equal(s.totals.params, s.totals.cardParams);
    assert.match(s.family, /RMSNorm, RoPE, grouped-query attention \(4:2\), SwiGLU/);
    assert.equal(s.notes.length, 0, s.notes.join('\n'));
  });

  it('counts bytes from the file: weights as stored, the .onnx on disk, fp32 in memory', () => {
    const s = inspectArchitecture({ modelDir: TEST_MODEL });
    const file = path.join(TEST_MODEL, 'onnx', 'model.onnx');
    const stored = (readModelProto(file).graph!.initializer ?? []).reduce((a, t) => a + tensorBytes(t), 0);
    assert.equal(s.totals.bytes, stored);
    assert.equal(s.cost.weightBytes, stored);
    assert.equal(s.cost.memoryBytes, stored);
    assert.equal(s.cost.diskBytes, fs.statSync(file).size);
    const sum = s.parts.reduce((a, p) => a + (p.bytes ?? 0), 0);
    assert.equal(sum, stored, 'every stored byte belongs to one part (the LM head keeps its transposed copy)');
  });

  it("derives KV-cache bytes and FLOPs from the graph's numbers", () => {
    const { cost } = inspectArchitecture({ modelDir: TEST_MODEL });
    const L = llama.num_hidden_layers,
      kv = llama.num_key_value_heads,
      hd = llama.head_dim,
      H = llama.num_attention_heads;
    assert.equal(kvBytesPerToken(cost).value, 2 * L * kv * hd * 4);
    assert.equal(kvCacheBytes(cost, 512).value, 2 * L * kv * hd * 4 * 512);
    // every linear layer plus the (tied) LM head: all parameters but the embedding lookup and the norms
    const matmul =
      llamaParams(llama) -
      llama.vocab_size * llama.hidden_size -
      (2 * L + 1) * llama.hidden_size +
      llama.vocab_size * llama.hidden_size;
    assert.equal(cost.matmulParams, matmul);
    assert.equal(flopsPerGeneratedToken(cost, 100).value, 2 * matmul + 4 * L * H * hd * 100);
    assert.equal(flopsPerPromptToken(cost, 99).value, 2 * matmul + 2 * L * H * hd * 100);
  });

  it('reads the GenAI layout (combined past_N caches, genai_config.json) to the same totals', () => {
    const s = inspectArchitecture({ modelDir: path.join(FIXTURES, 'tiny-genai') });
    checkLlama(s);
    assert.equal(s.model.configSource, 'genai_config.json');
    assert.equal(s.model.onnxFile, 'model.onnx');
  });

  it('reads the fp16 export: half the bytes on disk, fp32 in memory after ONNX Runtime folds the casts, fp16 KV cache', () => {
    const s = inspectArchitecture({ modelDir: path.join(FIXTURES, 'tiny-fp16') });
    checkLlama(s);
    const fp32 = inspectArchitecture({ modelDir: TEST_MODEL });
    assert.equal(s.cost.weightBytes, fp32.cost.weightBytes! / 2);
    assert.equal(s.cost.memoryBytes, fp32.cost.weightBytes);
    assert.equal(s.cost.kvDtype, 'float16');
    assert.ok(blocks(s).every((b) => b.dtype === 'fp16'));
  });

  it('reads a GPT-2-style export: fused c_attn Gemm on [in, out] weights, LayerNorm, GELU, learned positions, past_N', () => {
    const dir = path.join(FIXTURES, 'tiny-gpt2');
    const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
      vocab_size: number;
      n_embd: number;
      n_layer: number;
      n_positions: number;
      n_head: number;
    };
    const d = c.n_embd;
    const perLayer = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
    const expected = c.vocab_size * d + c.n_positions * d + c.n_layer * perLayer + 2 * d;
    const s = inspectArchitecture({ modelDir: dir });
    assert.equal(s.recognized, true, s.notes.join('\n'));
    assert.equal(s.totals.params, expected);
    assert.equal(s.totals.cardParams, expected);
    assert.deepEqual(
      s.parts.map((p) => p.kind),
      ['embedding', 'position_embedding', 'block', 'block', 'final_norm', 'lm_head'],
    );
    const b = blocks(s)[0].block!;
    assert.equal(b.norm1.kind, 'LayerNorm');
    assert.equal(b.attention.projections[0], 'c_attn (fused q,k,v)');
    assert.equal(b.attention.queryHeads, c.n_head);
    assert.equal(b.attention.groupSize, 1);
    assert.equal(b.attention.rope, null);
    assert.equal(b.mlp.kind, 'GELU');
    assert.equal(b.mlp.hiddenSize, 4 * d);
    assert.equal(blocks(s)[0].params, perLayer);
    assert.equal(
      s.parts.find((p) => p.kind === 'lm_head')!.tiedTo,
      'embedding',
      'GPT-2 ties wte and lm_head (decided by the stored values)',
    );
    assert.ok(
      s.totals.excluded.some((x) => x.name.endsWith('attn.bias')),
      'the causal-mask buffer is not a parameter',
    );
    assert.match(s.family, /LayerNorm, learned positions, multi-head attention, GELU/);
    // Conv1D weights are [in, out]: 2 FLOPs per weight of c_attn, c_proj, c_fc, c_proj, and the LM head
    assert.equal(s.cost.matmulParams, c.n_layer * (3 * d * d + d * d + 8 * d * d) + c.vocab_size * d);
  });

  it("the model folder's training records are optional: the test model has none", () => {
    const s = inspectArchitecture({ modelDir: TEST_MODEL });
    assert.equal(s.training.loss, null);
    assert.equal(s.training.scaling, null);
    assert.equal(s.training.quantization, null);
  });
});

/** Fixtures other recipes build (models/recipe/make_loader_fixtures.py, make_attention_fixtures.py). */
const fixture = (name: string) => path.join(FIXTURES, name);
const absent = (name: string) => (fs.existsSync(fixture(name)) ? false : `${name} not built`);

describe('architecture: quantized and hand-written exports', () => {
  after(() => clearArchitectureCache());

  it(
    'int8 (MatMulInteger + DynamicQuantizeLinear): scales and zero points are bytes, not parameters',
    { skip: absent('tiny-int8') },
    () => {
      const s = inspectArchitecture({ modelDir: fixture('tiny-int8') });
      assert.equal(s.recognized, true, s.notes.join('\n'));
      assert.equal(s.totals.params, llamaParams(llama), 'the same model as test-tiny');
      const q = blocks(s)[0].tensors.find((t) => t.role === 'q_proj')!;
      assert.equal(q.dtype, 'int8');
      assert.equal(q.quant, 'int8 (MatMulInteger)');
      assert.equal(
        q.bytes,
        64 * 64 + 64 * 4 + 64,
        'int8 weight + fp32 scale per channel + int8 zero point per channel',
      );
      assert.equal(
        s.parts.find((p) => p.kind === 'lm_head')!.tiedTo,
        'embedding',
        'the LM head transposes the int8 embedding',
      );
    },
  );

  it(
    'int4 (MatMulNBits, block 32): parameters at the logical [K, N] shape, packed bytes with scales',
    { skip: absent('tiny-q4') },
    () => {
      const dir = fixture('tiny-q4');
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as LlamaJson;
      const s = inspectArchitecture({ modelDir: dir });
      assert.equal(s.recognized, true, s.notes.join('\n'));
      assert.equal(s.totals.params, llamaParams(cfg));
      const b = blocks(s)[0];
      assert.equal(b.dtype, 'int4 (block 32) + fp32');
      const down = b.tensors.find((t) => t.role === 'down_proj')!;
      assert.deepEqual(down.shape, [cfg.intermediate_size, cfg.hidden_size]);
      assert.equal(
        down.bytes,
        (cfg.intermediate_size * cfg.hidden_size) / 2 + ((cfg.intermediate_size * cfg.hidden_size) / 32) * 4,
      );
      assert.equal(b.block!.mlp.hiddenSize, cfg.intermediate_size);
    },
  );

  it(
    'a graph with no name scopes (matmul_21, wq_0) is recognised by following the residual stream',
    { skip: absent('tiny-gqa') },
    () => {
      const s = inspectArchitecture({ modelDir: fixture('tiny-gqa') });
      assert.equal(s.recognized, true, s.notes.join('\n'));
      assert.equal(s.totals.params, llamaParams(llama));
      assert.deepEqual(
        s.parts.map((p) => p.kind),
        ['embedding', 'block', 'block', 'final_norm', 'lm_head'],
      );
      const b = blocks(s)[1];
      assert.equal(b.scope, '#block.1');
      assert.equal(b.block!.attention.kind, 'GroupQueryAttention');
      assert.deepEqual(b.block!.attention.projections, ['q_proj', 'k_proj', 'v_proj', 'o_proj']);
      assert.equal(b.block!.mlp.kind, 'SwiGLU');
      assert.equal(b.block!.norm1.kind, 'RMSNorm');
      assert.match(s.notes.join('\n'), /residual stream/);
    },
  );
});

describe('architecture: in the engine worker', () => {
  const client = new EngineClient();
  after(() => client.dispose());

  it('inspects and lays out a scope without loading a model', async (t) => {
    const start = performance.now();
    const s = await client.call('inspectArchitecture', { modelDir: TEST_MODEL });
    t.diagnostic(
      `worker round trip, cold: ${(performance.now() - start).toFixed(0)} ms (inspect ${s.inspectMs.toFixed(1)} ms)`,
    );
    assert.equal(s.totals.params, 125_248);
    const view = await client.call('architectureGraph', {
      modelDir: TEST_MODEL,
      scope: s.parts[1].scope!,
      expanded: [],
    });
    assert.ok(view.nodes.some((n) => n.kind === 'scope' && n.label === 'self_attn'));
  });

  it('a missing folder is an error that names it, and the worker keeps serving', async () => {
    await assert.rejects(
      client.call('inspectArchitecture', { modelDir: path.join(TEST_MODEL, 'nope') }),
      /Model folder not found/,
    );
    const s = await client.call('inspectArchitecture', { modelDir: TEST_MODEL });
    assert.equal(s.recognized, true);
  });
});

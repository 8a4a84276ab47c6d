// The weight formats real exports ship in, each loaded by the engine and compared with its fp32
// reference within the tolerance its golden.json states (models/recipe/make_loader_fixtures.py):
// int4 MatMulNBits, int8 MatMulInteger, external data, and GroupQueryAttention. fp16 and the GenAI
// layout (int32 ids, past_N) are in modelFolder.test.ts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { generate } from '../../src/engine/generation/generate';
import { isExternal, readModelProto } from '../../src/engine/onnx/onnxFile';
import { FIXTURES, maxAbsDiff, readGolden, type Golden } from './helpers';

interface Quantization {
  scheme: string;
  reference: string;
  logit_atol?: number;
  greedy_min_leading?: number;
}

const fixture = (name: string) => path.join(FIXTURES, name);
const present = (name: string) => fs.existsSync(path.join(fixture(name), 'golden.json'));
const skipUnless = (name: string) =>
  present(name) ? false : `${name} not built: run models/recipe/make_loader_fixtures.py`;

function opTypes(onnxPath: string): Set<string> {
  return new Set(
    (readModelProto(onnxPath).graph?.node ?? []).map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`),
  );
}

/** MatMul nodes that multiply by a weight (an initializer) rather than two activations. */
function weightMatMuls(onnxPath: string): number {
  const g = readModelProto(onnxPath).graph;
  const weights = new Set((g?.initializer ?? []).map((i) => i.name));
  return (g?.node ?? []).filter((n) => n.opType === 'MatMul' && weights.has(n.input?.[1] ?? '')).length;
}

/** Logits at every prompt position and greedy tokens through the cache, against the golden. */
async function compare(model: DecoderModel, golden: Golden) {
  const out = [];
  for (const c of golden.cases) {
    const rows = await model.logits(c.input_ids);
    const diff = Math.max(...rows.map((row, t) => maxAbsDiff(row, c.logits[t])));
    const r = await generate(model, c.input_ids, {
      maxNewTokens: c.greedy_tokens.length,
      stopTokenIds: [],
      reuseCache: false,
    });
    let leading = 0;
    while (leading < r.tokens.length && r.tokens[leading] === c.greedy_tokens[leading]) leading++;
    out.push({ name: c.name, diff, leading, tokens: r.tokens, want: c.greedy_tokens });
  }
  return out;
}

describe('loader formats of real exports', () => {
  it(
    "tiny-q4: int4 MatMulNBits weights give its fp32 reference's logits and greedy tokens",
    { skip: skipUnless('tiny-q4') },
    async (t) => {
      const dir = fixture('tiny-q4');
      const golden = readGolden(dir);
      const q = (golden as Golden & { quantization: Quantization }).quantization;
      const model = await DecoderModel.load(dir);
      try {
        assert.match(model.files.onnxPath, /model_q4\.onnx$/, 'picked by transformers.js_config.dtype "q4"');
        assert.ok(opTypes(model.files.onnxPath).has('com.microsoft.MatMulNBits'));
        assert.equal(weightMatMuls(model.files.onnxPath), 0, 'every linear layer is MatMulNBits');
        for (const c of await compare(model, golden)) {
          assert.ok(c.diff <= golden.atol, `${c.name}: max |Δlogit| ${c.diff} > ${golden.atol}`);
          assert.deepEqual(c.tokens, c.want, c.name);
        }
        t.diagnostic(`reference: ${q.reference}; atol ${golden.atol}`);
      } finally {
        await model.dispose();
      }
    },
  );

  it(
    'tiny-int8: int8 weights stay within the stated tolerance of the fp32 model',
    { skip: skipUnless('tiny-int8') },
    async (t) => {
      const dir = fixture('tiny-int8');
      const golden = readGolden(dir);
      const q = (golden as Golden & { quantization: Quantization }).quantization;
      assert.ok(q?.logit_atol !== undefined && q.greedy_min_leading !== undefined, 'golden.json states the tolerance');
      const model = await DecoderModel.load(dir);
      try {
        assert.match(model.files.onnxPath, /model_quantized\.onnx$/, 'picked by transformers.js_config.dtype "q8"');
        assert.ok(opTypes(model.files.onnxPath).has('MatMulInteger'));
        assert.equal(weightMatMuls(model.files.onnxPath), 0, 'every linear layer is MatMulInteger');
        for (const c of await compare(model, golden)) {
          assert.ok(c.diff <= q.logit_atol!, `${c.name}: max |Δlogit| ${c.diff} > ${q.logit_atol}`);
          assert.ok(
            c.leading >= q.greedy_min_leading!,
            `${c.name}: ${c.leading} leading greedy tokens match, want ≥ ${q.greedy_min_leading}`,
          );
          t.diagnostic(
            `${c.name}: max |Δlogit| ${c.diff.toFixed(3)}, ${c.leading}/${c.want.length} leading greedy tokens match`,
          );
        }
      } finally {
        await model.dispose();
      }
    },
  );

  it(
    'tiny-external-data: weights in onnx/model.onnx_data load and match fp32 exactly',
    { skip: skipUnless('tiny-external-data') },
    async () => {
      const dir = fixture('tiny-external-data');
      const golden = readGolden(dir);
      const proto = readModelProto(path.join(dir, 'onnx', 'model.onnx'));
      assert.ok((proto.graph?.initializer ?? []).every(isExternal), 'every initializer lives in the data file');
      const model = await DecoderModel.load(dir);
      try {
        for (const c of await compare(model, golden)) {
          assert.ok(c.diff <= golden.atol, `${c.name}: max |Δlogit| ${c.diff} > ${golden.atol}`);
          assert.deepEqual(c.tokens, c.want, c.name);
        }
      } finally {
        await model.dispose();
      }
    },
  );

  it(
    'tiny-gqa: a com.microsoft GroupQueryAttention graph gives its golden greedy tokens',
    { skip: skipUnless('tiny-gqa') },
    async () => {
      const dir = fixture('tiny-gqa');
      const golden = readGolden(dir);
      const model = await DecoderModel.load(dir);
      try {
        assert.ok(opTypes(model.files.onnxPath).has('com.microsoft.GroupQueryAttention'));
        assert.ok(model.kvHeads < 4, 'fewer KV heads than query heads');
        for (const c of await compare(model, golden)) {
          assert.ok(c.diff <= golden.atol, `${c.name}: max |Δlogit| ${c.diff} > ${golden.atol}`);
          assert.deepEqual(c.tokens, c.want, c.name);
        }
      } finally {
        await model.dispose();
      }
    },
  );
});

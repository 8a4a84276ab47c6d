// Run an exported decoder in onnxruntime-node and compare it with PyTorch's reference outputs.
//
//   node models/recipe/check_onnx.mjs MODEL.onnx CHECK.json
//
// CHECK.json (written by golden.py): { layout: "optimum"|"genai", dtype: "fp32"|"fp16",
//   num_layers, num_kv_heads, head_dim, cases: [{ input_ids, logits [T][V], greedy_tokens,
//   step_logits [N][V] }], batch: { input_ids [B][T], attention_mask, position_ids, logits [B][T][V] } }
// For each case: prefill with an empty cache (all positions), then greedy decoding one token at a
// time through the cache. Then one left-padded batch. Prints max abs differences as JSON.
import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";

const [modelPath, checkPath] = process.argv.slice(2);
const check = JSON.parse(readFileSync(checkPath, "utf8"));
const { layout, dtype, num_layers: L, num_kv_heads: KV, head_dim: HD } = check;
const session = await ort.InferenceSession.create(modelPath);

// float16 bits -> number
function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
const toFloats = (t) => (t.type === "float16" ? Array.from(t.data, halfToFloat) : Array.from(t.data));
const intTensor = (rows) => {
  const B = rows.length, T = rows[0].length, flat = rows.flat();
  return layout === "genai"
    ? new ort.Tensor("int32", Int32Array.from(flat), [B, T])
    : new ort.Tensor("int64", BigInt64Array.from(flat.map(BigInt)), [B, T]);
};
const cacheType = dtype === "fp16" ? "float16" : "float32";
const emptyCache = (B) => {
  const feeds = {};
  for (let i = 0; i < L; i++) {
    if (layout === "genai") {
      feeds[`past_${i}`] = new ort.Tensor("float32", new Float32Array(0), [2, B, KV, 0, HD]);
    } else {
      const data = cacheType === "float16" ? new Uint16Array(0) : new Float32Array(0);
      feeds[`past_key_values.${i}.key`] = new ort.Tensor(cacheType, data, [B, KV, 0, HD]);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor(cacheType, data, [B, KV, 0, HD]);
    }
  }
  return feeds;
};
const presentsAsPast = (out) => {
  const feeds = {};
  for (let i = 0; i < L; i++) {
    if (layout === "genai") feeds[`past_${i}`] = out[`present_${i}`];
    else {
      feeds[`past_key_values.${i}.key`] = out[`present.${i}.key`];
      feeds[`past_key_values.${i}.value`] = out[`present.${i}.value`];
    }
  }
  return feeds;
};
async function run(ids, mask, positions, past) {
  const feeds = { input_ids: intTensor(ids), attention_mask: intTensor(mask), ...past };
  if (layout !== "genai") feeds.position_ids = intTensor(positions);
  return session.run(feeds);
}
const maxDiff = (got, want) => got.reduce((m, g, i) => Math.max(m, Math.abs(g - want[i])), 0);
const argmax = (xs) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

const report = { cases: [] };
for (const c of check.cases) {
  const T = c.input_ids.length, V = c.logits[0].length;
  let out = await run([c.input_ids], [Array(T).fill(1)], [[...Array(T).keys()]], emptyCache(1));
  const prefill = toFloats(out.logits);
  let prefillDiff = 0;
  for (let t = 0; t < T; t++) prefillDiff = Math.max(prefillDiff, maxDiff(prefill.slice(t * V, (t + 1) * V), c.logits[t]));
  const tokens = [];
  let stepDiff = 0, logits = prefill.slice((T - 1) * V);
  for (let i = 0; i < c.greedy_tokens.length; i++) {
    stepDiff = Math.max(stepDiff, maxDiff(logits, c.step_logits[i]));
    tokens.push(argmax(logits));
    if (i === c.greedy_tokens.length - 1) break;
    const S = T + i + 1;  // cache length after this step
    out = await run([[c.greedy_tokens[i]]], [Array(S).fill(1)], [[S - 1]], presentsAsPast(out));
    logits = toFloats(out.logits);
  }
  report.cases.push({ name: c.name, prefill_max_diff: prefillDiff, step_max_diff: stepDiff,
    greedy_match: tokens.every((t, i) => t === c.greedy_tokens[i]), tokens });
}
if (check.batch) {
  const b = check.batch, V = b.logits[0][0].length, T = b.input_ids[0].length;
  const out = await run(b.input_ids, b.attention_mask, b.position_ids, emptyCache(b.input_ids.length));
  const got = toFloats(out.logits);
  let diff = 0;
  b.input_ids.forEach((_, r) => {
    for (let t = 0; t < T; t++) {
      if (b.attention_mask[r][t] === 0) continue;  // pad rows are not compared
      diff = Math.max(diff, maxDiff(got.slice((r * T + t) * V, (r * T + t + 1) * V), b.logits[r][t]));
    }
  });
  report.batch_max_diff = diff;
}
report.max_diff = Math.max(...report.cases.map((c) => Math.max(c.prefill_max_diff, c.step_max_diff)), report.batch_max_diff ?? 0);
report.greedy_match = report.cases.every((c) => c.greedy_match);
report.inputs = session.inputNames;
report.outputs = session.outputNames;
console.log(JSON.stringify(report));

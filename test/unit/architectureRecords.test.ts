/** Derived figures and the training / scaling / quantization records beside a model. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, describe, it } from 'node:test';
import type { CostInputs } from '../../src/common/architectureTypes';
import { decodeTokensPerSecondBound, formatBytes, formatCount, memoryAtContext } from '../../src/common/figures';
import {
  cardParameterCount,
  fitPowerLaw,
  parseLossLog,
  parseQuantization,
  parseScaling,
  readTrainingInfo,
} from '../../src/engine/architecture/trainingRecords';
import { scratchFolder } from './onnxBuild';

const COST: CostInputs = {
  totalParams: 1000,
  matmulParams: 900,
  weightBytes: 4000,
  memoryBytes: 4000,
  diskBytes: 4100,
  layers: 2,
  queryHeads: 4,
  kvHeads: 2,
  headDim: 8,
  kvDtype: 'float16',
  kvBytesPerElement: 2,
  maxContext: 256,
};

describe('derived figures', () => {
  it('bounds decode speed by bandwidth over the bytes read per token (weights + KV cache)', () => {
    const kv = 2 * 2 * 2 * 8 * 2 * 100; // 2 (K,V) × layers × KV heads × head dim × 2 B × 100 tokens
    const f = decodeTokensPerSecondBound(COST, 10, 100);
    assert.equal(f.value, 10e9 / (4000 + kv));
    assert.match(f.formula, /10 GB\/s ÷ \(4,000 B weights \+ 12,800 B KV cache\)/);
    assert.equal(memoryAtContext(COST, 100).value, 4000 + kv);
  });

  it('says "unknown" rather than guessing when bytes are unknown', () => {
    const f = decodeTokensPerSecondBound({ ...COST, memoryBytes: null }, 10, 100);
    assert.equal(f.value, null);
    assert.equal(formatBytes(null), 'unknown');
  });

  it('formats sizes and counts for the cards', () => {
    assert.equal(formatBytes(631040), '616 KB');
    assert.equal(formatBytes(1536), '1.50 KB');
    assert.equal(formatCount(125248), '125K');
    assert.equal(formatCount(6_912_000), '6.91M');
    assert.equal(formatCount(9999), '9,999');
  });
});

describe('training records', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('reads loss curves from a list of records, phases, or columns', () => {
    const list = parseLossLog([
      { step: 0, train_loss: 5, val_loss: 5.1 },
      { step: 100, train_loss: 3 },
      { step: 200, train_loss: 2.5, val_loss: 2.7 },
    ])!;
    assert.equal(list.xLabel, 'step');
    assert.deepEqual(
      list.series.map((s) => [s.name, s.points.length]),
      [
        ['train_loss', 3],
        ['val_loss', 2],
      ],
    );
    const phases = parseLossLog({
      pretrain: { log: [{ step: 1, loss: 4 }] },
      lora: [{ step: 1, loss: 2, val_loss: 2.2 }],
    })!;
    assert.deepEqual(
      phases.series.map((s) => s.name),
      ['pretrain loss', 'lora loss', 'lora val_loss'],
    );
    const cols = parseLossLog({ step: [0, 10, 20], loss: [3, 2, 1] })!;
    assert.deepEqual(cols.series[0].points, [
      { x: 0, y: 3 },
      { x: 10, y: 2 },
      { x: 20, y: 1 },
    ]);
    assert.equal(parseLossLog({ note: 'nothing here' }), null);
  });

  it('fits L(N) = a·N^(−α) + c to scaling points when the file has no fit', () => {
    const truth = { a: 40, alpha: 0.3, c: 1.5 };
    const points = [1e5, 3e5, 1e6, 3e6, 1e7].map((params) => ({
      params,
      loss: truth.a * params ** -truth.alpha + truth.c,
    }));
    const fit = fitPowerLaw(points)!;
    for (const p of points)
      assert.ok(Math.abs(fit.a * p.params ** -fit.alpha + fit.c - p.loss) < 0.01, JSON.stringify(fit));
    const s = parseScaling({ runs: points.map((p) => ({ n_params: p.params, val_loss: p.loss, tokens: 1e7 })) })!;
    assert.equal(s.points.length, 5);
    assert.match(s.fit!.source, /fitted by Glassbox/);
    const given = parseScaling({
      points: points.map((p) => ({ params: p.params, loss: p.loss })),
      fit: { a: 1, alpha: 0.5, c: 2 },
    })!;
    assert.deepEqual(given.fit, { a: 1, alpha: 0.5, c: 2, source: 'scaling.json' });
  });

  it('reads the quantization table from quantization.json, else from the model card', () => {
    const q = parseQuantization(
      {
        variants: [
          { variant: 'fp32', size_bytes: 100, decode_tps: 50, perplexity: 3.1 },
          { variant: 'int4', size_bytes: 20, decode_tps: 80, perplexity: 3.2 },
        ],
      },
      undefined,
    )!;
    assert.deepEqual(q.columns, ['variant', 'size_bytes', 'decode_tps', 'perplexity']);
    assert.deepEqual(q.rows[1], ['int4', 20, 80, 3.2]);
    const card =
      '# m\n\n| variant | size | tokens/s | perplexity |\n|---|---:|---:|---:|\n| fp32 | 27 MB | 120 | 4.10 |\n| int8 | 7 MB | 150 | 4.15 |\n\nmore text';
    const fromCard = parseQuantization(undefined, card)!;
    assert.equal(fromCard.source, 'README.md (model card)');
    assert.deepEqual(fromCard.rows, [
      ['fp32', '27 MB', '120', '4.10'],
      ['int8', '7 MB', '150', '4.15'],
    ]);
  });

  it("reads the recipe's own files: export_model.py's training_log.json, scaling.py's scaling.json, eval.ts's quantization.json", () => {
    const rec = (step: number, extra: object) => ({
      step,
      tokens: step * 4096,
      train_loss: 6 - step / 1000,
      lr: 1e-3,
      seq_len: 256,
      tok_per_s: 900,
      wall_s: step,
      cpu_s: 2 * step,
      ...extra,
    });
    const dir = scratchFolder({
      'training_log.json': JSON.stringify({
        pretrain: [rec(10, {}), rec(20, { val_loss: 5.9 }), rec(30, {})],
        lora: [rec(1, { val_loss: 3.1 }), rec(2, {})],
      }),
      'scaling.json': JSON.stringify({
        format: 'glassbox-scaling/1',
        params_counted: 'non-embedding (tied embedding / LM head excluded); total_params counts it once',
        points: [1e5, 3e5, 1e6, 3e6].map((n, i) => ({
          name: `s${i}`,
          params: n,
          total_params: n + 5e5,
          embedding_params: 5e5,
          tokens: 1e6,
          flops: 6e6 * (n + 5e5),
          val_loss: 5 - i / 2,
        })),
        fit: {
          a: 30,
          alpha: 0.2,
          c: 1,
          sse: 0.01,
          rmse: 0.05,
          law: 'L(N) = a * N^(-alpha) + c, N = non-embedding params',
        },
        fit_total_params: { a: 40, alpha: 0.25, c: 1.2 },
      }),
      'quantization.json': JSON.stringify({
        format: 'glassbox-quantization/1',
        rule: 'default = smallest variant with validation perplexity within 3% of fp32',
        variants: [
          {
            variant: 'fp32',
            file: 'onnx/model.onnx',
            bytes: 27_000_000,
            prefill_tok_s: 5000,
            prefill_1024_ms: 200,
            decode_tok_s: 300,
            val_ppl: 4.1,
            val_tokens: 32768,
            ppl_vs_fp32: '0.00%',
            default: false,
          },
          {
            variant: 'q4',
            file: 'onnx/model_q4.onnx',
            bytes: 5_000_000,
            prefill_tok_s: 4000,
            prefill_1024_ms: 250,
            decode_tok_s: 400,
            val_ppl: 4.2,
            val_tokens: 32768,
            ppl_vs_fp32: '2.44%',
            default: true,
          },
        ],
      }),
    });
    dirs.push(dir);
    const info = readTrainingInfo(dir);
    assert.deepEqual(
      info.loss!.series.map((x) => `${x.name}:${x.points.length}`),
      ['pretrain train_loss:3', 'pretrain val_loss:1', 'lora train_loss:2', 'lora val_loss:1'],
    );
    assert.equal(info.loss!.xLabel, 'step');
    assert.deepEqual(info.scaling!.fit, { a: 30, alpha: 0.2, c: 1, source: 'scaling.json' });
    assert.match(info.scaling!.note!, /non-embedding/);
    assert.deepEqual(
      info.scaling!.points.map((x) => x.label),
      ['s0', 's1', 's2', 's3'],
    );
    const q = info.quantization!;
    assert.equal(q.columns[0], 'variant');
    assert.deepEqual(
      q.rows.map((r) => r[q.columns.indexOf('default')]),
      [false, true],
    );
    assert.equal(info.notes.length, 0);
  });

  it('a folder without records gives nulls and no error; broken JSON is a note', () => {
    const dir = scratchFolder({
      'scaling.json': '{ not json',
      'README.md': 'A model with | Parameters | 6,912,000 | in a table',
    });
    dirs.push(dir);
    const info = readTrainingInfo(dir);
    assert.equal(info.loss, null);
    assert.equal(info.scaling, null);
    assert.match(info.notes.join('\n'), /scaling\.json is not valid JSON/);
    const card = scratchFolder({ 'README.md': '| Parameters | 6,912,000 |\n' });
    dirs.push(card);
    assert.equal(cardParameterCount(card), 6_912_000);
  });
});

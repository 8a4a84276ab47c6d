import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { generate } from '../../src/engine/generation/generate';
import { copyModel, FIXTURES, maxAbsDiff, readGolden, TEST_MODEL } from './helpers';

type Coded = Error & { code?: string };
const fails =
  (code: string, ...parts: (string | RegExp)[]) =>
  (e: Coded) => {
    assert.equal(e.code, code, e.message);
    for (const p of parts)
      assert.match(e.message, typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
    return true;
  };

describe('model folders in other layouts', () => {
  for (const name of ['tiny-genai', 'tiny-fp16']) {
    it(`${name}: loads and reproduces its golden logits and greedy tokens`, async () => {
      const dir = path.join(FIXTURES, name);
      const golden = readGolden(dir);
      const model = await DecoderModel.load(dir);
      try {
        for (const c of golden.cases) {
          const rows = await model.logits(c.input_ids);
          let worst = 0;
          rows.forEach((row, t) => (worst = Math.max(worst, maxAbsDiff(row, c.logits[t]))));
          assert.ok(worst <= golden.atol, `${c.name}: max |Δlogit| ${worst} > ${golden.atol}`);
          const r = await generate(model, c.input_ids, {
            maxNewTokens: c.greedy_tokens.length,
            stopTokenIds: [],
            reuseCache: false,
          });
          assert.deepEqual(r.tokens, c.greedy_tokens, c.name);
        }
      } finally {
        await model.dispose();
      }
    });
  }

  it('tiny-genai: reads int32 ids, combined past_N caches and no position_ids from the graph', async () => {
    const model = await DecoderModel.load(path.join(FIXTURES, 'tiny-genai'));
    try {
      assert.equal(model.io.idsType, 'int32');
      assert.equal(model.io.kv.kind, 'combined');
      assert.equal(model.io.positionIds, undefined);
      assert.equal(model.contextLength, 512);
    } finally {
      await model.dispose();
    }
  });

  it('tiny-fp16: fp16 caches, picked by transformers.js_config.dtype', async () => {
    const model = await DecoderModel.load(path.join(FIXTURES, 'tiny-fp16'));
    try {
      assert.equal(model.io.kvType, 'float16');
      assert.match(model.files.onnxPath, /model_fp16\.onnx$/);
    } finally {
      await model.dispose();
    }
  });
});

describe('bad model folders', () => {
  it('a folder that does not exist', async () => {
    await assert.rejects(
      DecoderModel.load('/nonexistent/glassbox-model'),
      fails('MODEL_NOT_FOUND', '/nonexistent/glassbox-model'),
    );
  });

  it('a missing .onnx', async () => {
    const dir = copyModel(TEST_MODEL);
    fs.rmSync(path.join(dir, 'onnx'), { recursive: true });
    await assert.rejects(DecoderModel.load(dir), fails('ONNX_MISSING', 'No .onnx file', 'tokenizer.json'));
  });

  it('a truncated .onnx', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'onnx', 'model.onnx');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 3)));
    await assert.rejects(DecoderModel.load(dir), fails('ONNX_INVALID', file, /re-download or re-export/));
  });

  it('a corrupt .onnx (random bytes)', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'onnx', 'model.onnx');
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    await assert.rejects(DecoderModel.load(dir), fails('ONNX_INVALID', file));
  });

  it('an empty .onnx', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'onnx', 'model.onnx');
    fs.writeFileSync(file, '');
    await assert.rejects(DecoderModel.load(dir), fails('ONNX_INVALID', file, '0 bytes'));
  });

  it('a missing tokenizer.json', async () => {
    const dir = copyModel(TEST_MODEL);
    fs.rmSync(path.join(dir, 'tokenizer.json'));
    await assert.rejects(DecoderModel.load(dir), fails('TOKENIZER_MISSING', 'No tokenizer.json', 'config.json'));
  });

  it('a config.json that is not JSON', async () => {
    const dir = copyModel(TEST_MODEL);
    fs.writeFileSync(path.join(dir, 'config.json'), '{ "num_hidden_layers": 2,');
    await assert.rejects(DecoderModel.load(dir), fails('CONFIG_INVALID', path.join(dir, 'config.json')));
  });

  it("a config.json that is another file's text is reported without quoting it (a link to /etc/passwd)", async () => {
    const dir = copyModel(TEST_MODEL);
    fs.writeFileSync(path.join(dir, 'config.json'), 'root:x:0:0:root:/root:/bin/bash\n');
    await assert.rejects(DecoderModel.load(dir), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.match(e.message, /not valid JSON: a syntax error/);
      assert.doesNotMatch(e.message, /root:x/);
      return true;
    });
  });

  it('a config.json that disagrees with the graph', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), num_hidden_layers: 7 }));
    await assert.rejects(DecoderModel.load(dir), fails('CONFIG_INVALID', '7 layers', 'for 2'));
  });

  it('a context length too short for any completion is a config error, not "the prompt is empty"', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), max_position_embeddings: 1 }),
    );
    await assert.rejects(DecoderModel.load(dir), fails('CONFIG_INVALID', 'max_position_embeddings', 'is 1'));
  });

  for (const [field, value, shown] of [
    ['max_position_embeddings', 1e12, '1000000000000'],
    ['max_position_embeddings', 100.5, '100.5'],
    ['vocab_size', -1, '-1'],
    ['num_hidden_layers', 0, '0'],
  ] as const)
    it(`a config.json whose ${field} is ${shown} is refused with what was expected (no crash, no huge allocation)`, async () => {
      const dir = copyModel(TEST_MODEL);
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), [field]: value }));
      await assert.rejects(DecoderModel.load(dir), fails('CONFIG_INVALID', ` is ${shown};`, 'expected a whole number'));
    });

  it('a genai_config.json that names a decoder outside the folder (../../etc/passwd) is refused, never opened', async () => {
    const dir = copyModel(path.join(FIXTURES, 'tiny-genai'));
    const file = path.join(dir, 'genai_config.json');
    const g = JSON.parse(fs.readFileSync(file, 'utf8'));
    g.model.decoder.filename = '../../../../../../etc/passwd';
    fs.writeFileSync(file, JSON.stringify(g));
    await assert.rejects(DecoderModel.load(dir), fails('CONFIG_INVALID', 'outside the model folder'));
    await assert.rejects(
      DecoderModel.load(copyModel(TEST_MODEL), { onnxFile: '/etc/passwd' }),
      fails('CONFIG_INVALID', 'outside the model folder'),
    );
  });

  it('a graph with inputs the engine cannot feed', async () => {
    const dir = path.join(FIXTURES, 'bad-unexpected-input');
    await assert.rejects(DecoderModel.load(dir), fails('GRAPH_UNSUPPORTED', /cannot feed|has no/));
  });

  it('two .onnx files and nothing to choose between them', async () => {
    const dir = copyModel(TEST_MODEL);
    fs.copyFileSync(path.join(dir, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'model_other.onnx'));
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete config['transformers.js_config'];
    fs.writeFileSync(file, JSON.stringify(config));
    await assert.rejects(DecoderModel.load(dir), fails('ONNX_AMBIGUOUS', 'onnx/model.onnx', 'onnx/model_other.onnx'));
    const chosen = await DecoderModel.load(dir, { onnxFile: 'onnx/model_other.onnx' });
    await chosen.dispose();
  });

  it('a file instead of a folder', async () => {
    const file = path.join(os.tmpdir(), `glassbox-not-a-folder-${process.pid}`);
    fs.writeFileSync(file, 'x');
    await assert.rejects(DecoderModel.load(file), fails('MODEL_NOT_FOUND'));
  });
});

/** Paths and loaders shared by the unit tests. Tests run from out/test/unit after `tsc`. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = findRoot(__dirname);
export const TEST_MODEL = path.join(ROOT, 'models', 'test-tiny');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models');

function findRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + from);
    dir = up;
  }
  return dir;
}

export interface GoldenCase {
  name: string;
  prompt: string;
  input_ids: number[];
  logits: number[][];
  greedy_tokens: number[];
  attentions?: number[][][][];
}

export interface Golden {
  format: string;
  onnx: string;
  atol: number;
  cases: GoldenCase[];
}

export function readGolden(modelDir: string): Golden {
  return JSON.parse(fs.readFileSync(path.join(modelDir, 'golden.json'), 'utf8')) as Golden;
}

/** A scratch copy of a model folder that a test may damage. */
export function copyModel(src: string): string {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-model-'));
  fs.cpSync(src, dst, { recursive: true });
  return dst;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

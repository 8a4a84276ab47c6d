// gpt-tokenizer (3.7 MB of bundle, ~90 MB once its two encodings are loaded) is only for the Costs
// view's exact OpenAI counts (issue 31, item 1): the extension host's bundle does not hold it, and
// its worker thread starts on the first count, not when the extension activates.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TokenCounter } from '../../src/costs/tokenCounter';
import { ROOT } from './helpers';

const WORKER = path.join(ROOT, 'out', 'src', 'costs', 'tokenCountWorker.js');

/** The running worker thread, or null: TokenCounter keeps it in its WorkerRpc. */
function runningWorker(counter: TokenCounter): unknown {
  return (counter as unknown as { rpc: { worker: unknown } }).rpc.worker;
}

describe('token counting is loaded lazily', () => {
  it('dist/extension.js does not bundle gpt-tokenizer (it lives in dist/tokenCountWorker.js)', () => {
    const bundle = path.join(ROOT, 'dist', 'extension.js');
    assert.ok(fs.existsSync(bundle), 'dist/extension.js is built (npm run build)');
    // a special token only gpt-tokenizer's encodings define: a string literal survives minifying
    assert.ok(!fs.readFileSync(bundle, 'utf8').includes('<|endofprompt|>'), 'dist/extension.js bundles gpt-tokenizer');
  });

  it('starts its worker on the first count, not before', async () => {
    const counter = new TokenCounter(WORKER);
    try {
      assert.equal(runningWorker(counter), null, 'a worker runs before anything was counted');
      const [counts] = await counter.count(['const x = 1;']);
      assert.ok(counts.o200k !== undefined && counts.o200k > 0, 'exact o200k count');
      assert.notEqual(runningWorker(counter), null);
    } finally {
      counter.dispose();
    }
  });
});

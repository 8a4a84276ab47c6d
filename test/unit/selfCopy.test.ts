/**
 * The cursor never copies itself: the copy sources of a completion never hold the cursor's own
 * line (as the editor holds it, half typed), so the copy cache cannot copy what follows it there
 * (the end of the line). The example of issue 27: at `train(co` the suggestion is `nfig)`, not
 * nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerQueries, stringSource } from '../../src/engine/context/cursorContext';
import { completeAtCursor } from '../../src/engine/context/cursorCompletion';
import { SnippetIndex } from '../../src/engine/context/snippetIndex';
import { Engine } from '../../src/engine/engine';
import { ROOT } from './helpers';

const MODEL = path.join(ROOT, 'models', 'glassbox-code');
const DOC = 'def main(config):\n    load_model(config)\n    load_data(config)\n    train(co';
const cursor = { doc: stringSource(DOC), line: 3, offset: DOC.length, path: 'm.py' };

function workspace() {
  const index = new SnippetIndex();
  index.setFile('m.py', DOC); // the document as the editor holds it
  return { query: (q: Parameters<typeof answerQueries>[1]) => answerQueries(index, q) };
}

describe('the cursor never copies itself', () => {
  it("no copy source holds the cursor's line, however near the hit", async () => {
    const { found } = await completeAtCursor(async () => null, cursor, workspace(), { budgetTokens: 1024 });
    assert.ok(found && found.copySources.length > 0, 'the lines above match `(co`: there are copy sources');
    for (const s of found.copySources) {
      assert.ok(!s.text.includes('train(co'), `a copy source holds the cursor's line: ${JSON.stringify(s.text)}`);
      assert.ok(s.startLine + s.text.split('\n').length - 1 <= 3, `source at ${s.startLine} reaches the cursor's line`);
    }
  });

  describe('on glassbox-code', { skip: !fs.existsSync(path.join(MODEL, 'golden.json')) && 'model not built' }, () => {
    let engine: Engine;
    before(async () => (engine = await Engine.load(MODEL)));
    after(async () => engine.dispose());

    it('completes `train(co` with `nfig)`', async () => {
      const { result } = await completeAtCursor((req) => engine.complete(req), cursor, workspace(), {
        budgetTokens: 1024,
        minConfidence: 0,
      });
      assert.equal(result.text, 'nfig)');
    });
  });
});

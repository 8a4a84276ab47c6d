/**
 * `npm run eval` sees what the editor holds and nothing more: for every line case, the request it
 * makes (the FIM window, the repository snippets, the copy sources) must not contain the untyped
 * rest of the target line where neither the case's document nor the workspace's other files do.
 * An eval that indexes the file's original text lets copy sources quote the answer; this fails then.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleLineCases, type TestFile } from '../../bench/lineCases';
import { STAGES, stageRequest, Workspaces } from '../../bench/lineEval';

/** Two files of one package; every line of a.py is unique (names numbered), so a leak is visible. */
function corpus(): TestFile[] {
  const fn = (i: number) =>
    [
      `def handler_${i}(request_${i}, config_${i}):`,
      `    value_${i} = request_${i}.get("field_${i}", default_${i})`,
      `    result_${i} = transform_${i}(value_${i}, config_${i}.scale_${i})`,
      `    return respond_${i}(result_${i}, status_${i}=200)`,
      '',
    ].join('\n');
  return [
    { package: 'p', path: 'a.py', lang: 'python', text: Array.from({ length: 12 }, (_, i) => fn(i)).join('\n') },
    { package: 'p', path: 'b.py', lang: 'python', text: 'def helper(x):\n    return handler_1(x, None)\n' },
  ];
}

describe('the eval sees only the document as the editor holds it', () => {
  it('no request of any stage holds the untyped rest of the target line', async () => {
    const files = corpus();
    const ws = new Workspaces(files);
    const cases = [...sampleLineCases(files, 30, 1, 'mid'), ...sampleLineCases(files, 10, 2, 'start')];
    let checked = 0;
    for (const c of cases) {
      const doc = c.prefix + c.suffix;
      const rest = c.target;
      // only a rest of line that the editor's document and the other files do not hold can leak
      if (rest.length < 6 || doc.includes(rest) || ws.others(c.file).some((t) => t.includes(rest))) continue;
      for (const stage of STAGES) {
        const req = await ws.withDocument(c.file, doc, (index) => stageRequest(stage, index, files[c.file].path, c));
        const seen = [req.prefix, req.suffix, ...(req.snippets ?? []), ...(req.copySources ?? [])].map((x) =>
          typeof x === 'string' ? x : x.text,
        );
        for (const text of seen)
          assert.ok(
            !text.includes(rest),
            `case at ${c.line + 1} (${stage.name}): the request holds ${JSON.stringify(rest)}`,
          );
      }
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} cases could leak: the corpus no longer tests anything`);
  });
});

/**
 * Notebook context (src/completion/notebookContext.ts): the cells above the cursor's cell, in
 * order and in jupytext's percent format, then the cell itself, through the same context window
 * as any file; and the inline completion provider's document selector. The last test runs the
 * shipped model: a name defined only in a cell above is completed in the cell below.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMPLETION_SCHEMES, completionSelector } from '../../src/completion/selector';
import {
  notebookScriptPath,
  notebookTextAbove,
  withTextAbove,
  type NotebookCellText,
} from '../../src/completion/notebookContext';
import { planAtCursor, requestAt, stringSource } from '../../src/engine';
import { Engine } from '../../src/engine/engine';
import { ROOT } from './helpers';

const code = (text: string, languageId = 'python'): NotebookCellText => ({ kind: 'code', languageId, text });
const markdown = (text: string): NotebookCellText => ({ kind: 'markup', languageId: 'markdown', text });

/** The window the provider builds for a cursor at the end of `cell`, below `above`. */
function windowAt(above: NotebookCellText[], cell: string, budgetTokens: number, languageId = 'python') {
  const text = notebookTextAbove(above, languageId, budgetTokens * 3);
  const { doc, lines } = withTextAbove(text, stringSource(cell));
  const cellLines = cell.split('\n');
  return planAtCursor(
    { doc, line: lines + cellLines.length - 1, offset: text.length + cell.length, path: 'analysis.py' },
    budgetTokens,
  );
}

describe('notebook context', () => {
  it('puts the cells above first, in order, each after a `# %%` line, and the cell last', () => {
    const plan = windowAt(
      [
        code('import pandas as pd\n'),
        markdown('## Sales by region\nOne row per store.'),
        code('sales = pd.read_csv("sales.csv")'),
      ],
      'sales.groupby(',
      1000,
    );
    assert.equal(
      plan.window.prefix,
      [
        '# %%',
        'import pandas as pd',
        '',
        '# %% [markdown]',
        '# ## Sales by region',
        '# One row per store.',
        '',
        '# %%',
        'sales = pd.read_csv("sales.csv")',
        '',
        '# %%',
        'sales.groupby(',
      ].join('\n'),
    );
    assert.equal(plan.window.suffix, '', 'nothing of the cells above reaches the suffix');
  });

  it('keeps the rest of the cursor cell as the suffix, and nothing from other cells', () => {
    const above = notebookTextAbove([code('x = 1')], 'python', 3000);
    const cell = 'def f():\n    return \n\nprint(f())';
    const { doc, lines } = withTextAbove(above, stringSource(cell));
    const offset = above.length + cell.indexOf('return ') + 'return '.length;
    const plan = planAtCursor({ doc, line: lines + 1, offset, path: 'nb.py' }, 1000);
    assert.equal(plan.window.prefix, '# %%\nx = 1\n\n# %%\ndef f():\n    return ');
    assert.equal(plan.window.suffix, '\n\nprint(f())');
  });

  it('leaves out cells in another language and empty cells; comments out IPython magics', () => {
    const text = notebookTextAbove(
      [code('%matplotlib inline\n!pip install rich'), code('SELECT * FROM t', 'sql'), code('   \n'), code('y = 2')],
      'python',
      3000,
    );
    assert.equal(text, '# %%\n# %matplotlib inline\n# !pip install rich\n\n# %%\ny = 2\n\n# %%\n');
  });

  it("writes separators and markdown in the cell's language's comment", () => {
    const text = notebookTextAbove(
      [markdown('Load it'), code('const rows = load();', 'typescript')],
      'typescript',
      3000,
    );
    assert.equal(text, '// %% [markdown]\n// Load it\n\n// %%\nconst rows = load();\n\n// %%\n');
    assert.equal(notebookTextAbove([code('x <- 1', 'r')], 'r', 3000), '# %%\nx <- 1\n\n# %%\n');
    assert.equal(notebookTextAbove([code('x = 1')], 'unknown-lang', 3000), '', 'no comment syntax: the cell alone');
    assert.equal(notebookTextAbove([], 'python', 3000), '', 'the first cell: the cell alone, as before');
  });

  it('keeps to the budget by dropping the earliest cells; the cursor cell stays whole and last', () => {
    const cells = Array.from({ length: 200 }, (_, i) => code(`value_${i} = compute(${i})\nlog(value_${i})`));
    const cell = 'total = value_199 + value_198\nprint(total'; // two lines, typed now
    const plan = windowAt(cells, cell, 256);
    const prefix = plan.window.prefix;
    assert.ok(prefix.endsWith(`# %%\n${cell}`), 'the cursor cell is whole and last');
    assert.ok(prefix.includes('value_198 = compute(198)'), 'the nearest cells are kept');
    assert.ok(!prefix.includes('value_0 '), 'the earliest cells are dropped');
    assert.ok(prefix.length <= 256 * 3, `within the window's characters (${prefix.length})`);
    // the kept cells are in notebook order
    const order = [...prefix.matchAll(/value_(\d+) = compute/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  it('names the notebook as the script its cells make', () => {
    assert.equal(notebookScriptPath('notebooks/analysis.ipynb', 'python'), 'notebooks/analysis.py');
    assert.equal(notebookScriptPath('model.ipynb', 'julia'), 'model.jl');
    assert.equal(notebookScriptPath('model.ipynb', 'brainfuck'), 'model.ipynb');
  });

  it('shifts lines and offsets of the cell by the text above', () => {
    const above = 'a\nbb\n';
    const { doc, lines } = withTextAbove(above, stringSource('cc\nd'));
    assert.equal(lines, 2);
    assert.equal(doc.lineCount, 4);
    assert.deepEqual(
      [0, 1, 2, 3].map((l) => doc.lineStartOffset(l)),
      [0, 2, 5, 8],
    );
    assert.equal(doc.slice(0, doc.length), 'a\nbb\ncc\nd');
    assert.equal(doc.slice(3, 7), 'b\ncc');
    assert.equal(doc.slice(6, 9), 'c\nd');
  });
});

describe('inline completion selector', () => {
  it("serves the documents a user writes, notebook cells included, and not VS Code's own", () => {
    const schemes = completionSelector().map((f) => f.scheme);
    for (const s of ['file', 'untitled', 'vscode-notebook-cell']) assert.ok(schemes.includes(s), s);
    for (const s of ['output', 'git', 'vscode-scm', 'comment', 'vscode-notebook-cell-output', 'vscode-userdata'])
      assert.ok(!schemes.includes(s), `not ${s}`);
    assert.ok(
      completionSelector().every((f) => f.pattern === undefined && f.language === undefined),
      'by scheme only: every language and path',
    );
    assert.deepEqual(schemes, [...COMPLETION_SCHEMES]);
  });
});

const MODEL = path.join(ROOT, 'models', 'glassbox-code');
describe(
  'notebook context with the shipped model',
  { skip: fs.existsSync(path.join(MODEL, 'golden.json')) ? false : 'models/glassbox-code not built yet' },
  () => {
    let engine: Engine;
    before(async () => {
      engine = await Engine.load(MODEL);
    });
    after(() => engine.dispose());

    it('completes a name that only a cell above defines', async () => {
      const above = [
        code('import csv\n'),
        code(
          'def load_quarterly_revenue(path):\n    with open(path) as f:\n        return [float(r["revenue"]) for r in csv.DictReader(f)]\n',
        ),
      ];
      const cell = 'rows = load_q';
      const complete = async (cells: NotebookCellText[]) => {
        const plan = windowAt(cells, cell, 1024);
        const r = await engine.complete(
          requestAt(plan, null, { budgetTokens: 1024, maxNewTokens: 12, minConfidence: 0 }),
        );
        return r.text;
      };
      const alone = await complete([]);
      const withCells = await complete(above);
      assert.match(withCells, /^uarterly_revenue\(/, `with the cells above: ${JSON.stringify(withCells)}`);
      assert.doesNotMatch(alone, /^uarterly_revenue/, `the cell alone cannot know the name: ${JSON.stringify(alone)}`);
    });
  },
);

/**
 * The Attention view's "What it depended on" section, its plain parts: a real ranking on test-tiny
 * turned into the view's rows (verdict while streaming and once done), each span placed in the
 * document a click opens (also in a notebook, whose cells above shift the request's lines), the
 * spans the editor tint marks, the table's sort and filter, the CSV and JSON export, and the
 * messages' guards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dependRanking, spanLocation, spanOrder, tintSpans, TINT_LEVELS } from '../../src/attention/dependenceData';
import type { CompletionRequest } from '../../src/engine/completion/completion';
import type { DependenceResult, PromptSpan, SpanDependence } from '../../src/engine/dependence/types';
import { Engine } from '../../src/engine/engine';
import { dependCsv, dependJson, topRows, visibleRows } from '../../webview/attention/dependRows';
import { isHostToView, isViewToHost, type DependRanking, type DependRow } from '../../webview/attention/protocol';
import { TINY } from './dependenceFixtures';
import { TEST_MODEL } from './helpers';

/** Ten lines of a file above the window, then the window: a function, a cursor inside a call, a suffix. */
const ABOVE = Array.from({ length: 10 }, (_, i) => `x${i} = ${i}`).join('\n') + '\n';
const REQUEST: CompletionRequest = { ...TINY, startLine: 10 };
const PREFIX = REQUEST.prefix;
const SUFFIX = REQUEST.suffix;
/** The document's 0-based line of the cursor. */
const CURSOR_LINE = 15;

describe('a real ranking in the view', () => {
  let engine: Engine;
  let d: DependenceResult;
  const streamed: SpanDependence[] = [];
  before(async () => {
    engine = await Engine.load(TEST_MODEL);
    const generated = engine.model.tokenizer.encode('area(2, 3)');
    // the Engine's own entry (the CLI and benchmarks call it too)
    d = await engine.dependence({ completion: REQUEST, generated }, { onResult: (r) => streamed.push(r) });
  });
  after(() => engine.dispose());

  it('places every line of the window at its line in the document, and the snippet and copy source in their files', () => {
    const doc = (ABOVE + PREFIX + SUFFIX).split('\n');
    assert.equal(doc[CURSOR_LINE], '    print(ar)', 'the fixture: the cursor line');
    const lines = d.spans.filter((s) => s.kind === 'prefix' || s.kind === 'suffix');
    assert.ok(lines.length >= 5);
    for (const s of lines) {
      const at = spanLocation(s, REQUEST, CURSOR_LINE);
      assert.equal(at?.in, 'document', s.text);
      assert.ok(doc[at!.line].includes(s.text.trim()), `${JSON.stringify(s.text)} at ${at!.line}: ${doc[at!.line]}`);
    }
    const snippet = d.spans.find((s) => s.kind === 'snippet')!;
    assert.deepEqual(spanLocation(snippet, REQUEST, CURSOR_LINE), {
      in: 'workspace',
      path: 'lib/shapes.py',
      line: 3,
      lastLine: 4,
    });
    const copy = d.spans.find((s) => s.kind === 'copy')!;
    assert.deepEqual(spanLocation(copy, REQUEST, CURSOR_LINE), {
      in: 'workspace',
      path: 'lib/more.py',
      line: 10,
      lastLine: 10,
    });
  });

  it('in a notebook, shifts the lines by the cells above, and a line in a cell above opens nowhere', () => {
    // the request's text starts with 12 lines of the cells above: the cell's own cursor line is 3
    const main = d.spans.find((s) => s.text.trim() === 'def main():')!;
    assert.deepEqual(spanLocation(main, REQUEST, 3), { in: 'document', line: 2, lastLine: 2 });
    const first = d.spans.find((s) => s.text.trim() === 'def area(width, height):')!;
    assert.equal(spanLocation(first, REQUEST, 3), null);
  });

  it('streams rows with a verdict "so far", and the finished ranking carries the method and baseline', () => {
    const part = dependRanking({
      runId: 1,
      title: 't',
      tokens: ['area', '(', '2'],
      scored: streamed.slice(0, 3),
      openable: () => true,
    });
    assert.equal(part.done, false);
    assert.equal(part.result, undefined);
    assert.equal(part.rows.length, 3);
    assert.deepEqual(
      part.rows.map((r) => r.delta),
      [...streamed.slice(0, 3)].map((r) => r.delta).sort((a, b) => a - b),
      'most depended on first',
    );
    const done = dependRanking({ runId: 1, title: 't', tokens: [], scored: streamed, result: d, openable: () => true });
    assert.ok(done.done);
    assert.equal(done.result!.method, 'mask');
    assert.equal(done.result!.baseline, d.baseline);
    assert.equal(done.result!.spans, d.spans.length);
    assert.deepEqual(
      done.tokens,
      d.tokens.map((t) => t.text),
    );
    assert.deepEqual(
      done.rows.map((r) => r.id),
      d.ranking.map((r) => r.span.id),
    );
    assert.match(done.verdict, /^Mostly /);
    const snippetRow = done.rows.find((r) => r.kind === 'snippet')!;
    assert.equal(snippetRow.label, 'lib/shapes.py:4–5');
  });
});

const span = (id: number, kind: PromptSpan['kind'], firstLine?: number, path = 'a.ts'): PromptSpan => ({
  id,
  kind,
  start: id,
  end: id + 1,
  path,
  ...(firstLine !== undefined ? { firstLine, lastLine: firstLine } : {}),
  text: `span ${id}`,
});

const dep = (s: PromptSpan, delta: number): SpanDependence => ({
  span: s,
  method: s.kind === 'copy' ? 'cache' : 'mask',
  delta,
  tokenDeltas: [delta / 2, delta / 2],
  maxToken: 0,
  maxDelta: delta / 2,
  firstToken: 1,
  sameFirstToken: delta > -3,
});

describe('the table: order, filter, top spans, tint', () => {
  const ranking = [
    dep(span(0, 'snippet', 4, 'src/helpers.ts'), -6.2),
    dep(span(1, 'prefix', 20), -0.1),
    dep(span(2, 'prefix', 3), -1.4),
    dep(span(3, 'suffix', 25), 0.3),
    dep(span(4, 'copy', 9, 'src/helpers.ts'), -2),
  ];
  const r = dependRanking({
    runId: 7,
    title: 'the suggestion "x"',
    tokens: ['a', 'b'],
    scored: ranking,
    openable: () => true,
  });

  it('sorts by Δ (most depended on first) or by position (snippets, the file top to bottom, copy sources)', () => {
    assert.deepEqual(
      visibleRows(r.rows, 'delta', ['line', 'snippet', 'copy']).map((x) => x.id),
      [0, 4, 2, 1, 3],
    );
    assert.deepEqual(
      visibleRows(r.rows, 'position', ['line', 'snippet', 'copy']).map((x) => x.id),
      [0, 2, 1, 3, 4],
    );
    assert.ok(spanOrder(span(9, 'suffix', 2)) < spanOrder(span(8, 'prefix', 3)), 'lines by line, whatever the side');
  });

  it('filters by kind: lines of the window (before and after the cursor), snippets, copy sources', () => {
    assert.deepEqual(
      visibleRows(r.rows, 'delta', ['line']).map((x) => x.kind),
      ['prefix', 'prefix', 'suffix'],
    );
    assert.deepEqual(
      visibleRows(r.rows, 'delta', ['snippet', 'copy']).map((x) => x.id),
      [0, 4],
    );
    assert.deepEqual(visibleRows(r.rows, 'delta', []), []);
  });

  it('shows per-token changes for the top spans that mattered, and tints those', () => {
    assert.deepEqual(
      topRows(r.rows, 0.5).map((x) => x.id),
      [0, 4, 2],
    );
    const tint = tintSpans(ranking);
    assert.deepEqual(
      tint.map((t) => [t.span.span.id, t.level]),
      [
        [0, TINT_LEVELS - 1],
        [4, 1],
        [2, 0],
      ],
    );
    assert.deepEqual(tintSpans([dep(span(0, 'prefix', 1), -0.2)]), [], 'nothing near zero is marked');
  });

  it('exports the rows on screen as CSV (quoted where needed) and JSON with the verdict', () => {
    const withComma: DependRanking = { ...r, tokens: ['a,"b"', 'c'] };
    const rows = visibleRows(r.rows, 'delta', ['snippet', 'copy']);
    const csv = dependCsv(withComma, rows).trim().split('\n');
    assert.equal(csv.length, 3);
    assert.match(csv[0], /^rank,kind,span,method,delta_nats,/);
    assert.equal(csv[1], '1,snippet,src/helpers.ts:4,mask,-6.2000,"a,""b""",-3.1000,false,-3.1000 -3.1000');
    assert.match(csv[2], /^2,copy source,src\/helpers\.ts:9,cache,-2\.0000,/);
    const json = JSON.parse(dependJson(r, rows, { sort: 'delta', shown: ['snippet', 'copy'] })) as Record<
      string,
      unknown
    > & { spans: { span: string; delta: number }[] };
    assert.equal(json.verdict, r.verdict);
    assert.match(String(json.verdict), /^Mostly the snippet from src\/helpers\.ts:4 \(−6\.2 nats without it\)/);
    assert.deepEqual(json.kinds, ['snippet', 'copy']);
    assert.deepEqual(
      json.spans.map((s) => [s.span, s.delta]),
      [
        ['src/helpers.ts:4', -6.2],
        ['src/helpers.ts:9', -2],
      ],
    );
  });

  it('a row says whether it can be opened', () => {
    const none = dependRanking({
      runId: 1,
      title: '',
      tokens: [],
      scored: ranking,
      openable: (s) => s.kind !== 'copy',
    });
    const row = (k: string) => none.rows.find((x: DependRow) => x.kind === k)!;
    assert.equal(row('copy').openable, false);
    assert.equal(row('snippet').openable, true);
  });
});

describe('the section’s messages', () => {
  it('accepts the view’s requests and refuses malformed ones', () => {
    assert.ok(isViewToHost({ type: 'depend' }));
    assert.ok(isViewToHost({ type: 'dependCancel' }));
    assert.ok(isViewToHost({ type: 'dependOpen', runId: 2, span: 0 }));
    assert.ok(!isViewToHost({ type: 'dependOpen', runId: 2, span: -1 }));
    assert.ok(!isViewToHost({ type: 'dependOpen', runId: '2', span: 0 }));
    assert.ok(isViewToHost({ type: 'dependExport', format: 'csv', text: 'a' }));
    assert.ok(!isViewToHost({ type: 'dependExport', format: 'xlsx', text: 'a' }));
    assert.ok(isHostToView({ type: 'depend', state: { phase: 'ready', title: 't' } }));
    assert.ok(!isHostToView({ type: 'depend', state: null }));
  });
});

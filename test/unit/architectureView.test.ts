/** The drill-down: a block's raw operators laid out, with collapsible scopes and propagated shapes. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  architectureGraph,
  clearArchitectureCache,
  inspectArchitecture,
} from '../../src/engine/architecture/architecture';
import type { GraphView, ViewNode } from '../../src/common/architectureTypes';
import { FIXTURES, TEST_MODEL } from './helpers';

const GQA = path.join(FIXTURES, 'tiny-gqa');

function byLabel(v: GraphView, label: string): ViewNode[] {
  return v.nodes.filter((n) => n.label === label);
}

function overlaps(a: ViewNode, b: ViewNode): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('architecture: drill-down views', () => {
  after(() => clearArchitectureCache());
  const scope = inspectArchitecture({ modelDir: TEST_MODEL }).parts.find((p) => p.kind === 'block')!.scope!;

  it('a block opens collapsed: its norm, attention and MLP scopes, and the two residual adds', () => {
    assert.equal(scope, '/model/layers.0');
    const v = architectureGraph({ modelDir: TEST_MODEL, scope, expanded: [] });
    const scopes = v.nodes.filter((n) => n.kind === 'scope').map((n) => n.label);
    assert.deepEqual(scopes.sort(), ['input_layernorm', 'mlp', 'post_attention_layernorm', 'self_attn']);
    assert.equal(byLabel(v, 'Add').length, 2);
    const input = v.nodes.find((n) => n.kind === 'input' && n.name === '/model/embed_tokens/Gather_output_0')!;
    assert.equal(
      input.sublabel,
      '[batch_size, sequence_length, 64]',
      'the embedding output shape, propagated from input_ids',
    );
    assert.ok(v.hiddenOps > 0);
  });

  it('expanding a scope lays out its operators inside a cluster, with weights and shapes', () => {
    const v = architectureGraph({ modelDir: TEST_MODEL, scope, expanded: [`${scope}/self_attn`] });
    assert.equal(v.clusters.length, 1);
    const q = v.nodes.find((n) => n.name === `${scope}/self_attn/q_proj/MatMul`)!;
    assert.equal(q.label, 'q_proj/MatMul');
    assert.equal(q.sublabel, '[64, 64] fp32');
    assert.equal(q.parent, `cluster:${scope}/self_attn`);
    assert.equal(byLabel(v, 'Softmax').length, 1);
    const labels = v.edges.map((e) => e.label);
    assert.ok(labels.includes('[batch_size, sequence_length, 4, 16]'), 'q split into 4 heads of 16');
    assert.ok(labels.includes('[batch_size, sequence_length, 2, 16]'), 'k and v into 2 KV heads');
    const softmax = byLabel(v, 'Softmax')[0];
    assert.deepEqual(softmax.outputs[0].dtype, 'float32');
    const cluster = v.clusters[0];
    const inside = v.nodes.filter((n) => n.parent === cluster.id);
    assert.ok(
      inside.every(
        (n) =>
          n.x >= cluster.x &&
          n.y >= cluster.y &&
          n.x + n.width <= cluster.x + cluster.width + 0.5 &&
          n.y + n.height <= cluster.y + cluster.height + 0.5,
      ),
      'cluster frames its members',
    );
    for (let i = 0; i < v.nodes.length; i++)
      for (let j = i + 1; j < v.nodes.length; j++)
        assert.ok(!overlaps(v.nodes[i], v.nodes[j]), `${v.nodes[i].id} overlaps ${v.nodes[j].id}`);
    assert.ok(v.edges.every((e) => e.points.length >= 2));
  });

  it(
    'a block found by pattern (no name scopes) drills down by its node set',
    { skip: fs.existsSync(GQA) ? false : 'tiny-gqa not built' },
    () => {
      const s = inspectArchitecture({ modelDir: GQA });
      const block = s.parts.find((p) => p.kind === 'block')!;
      assert.equal(block.scope, '#block.0');
      clearArchitectureCache(); // the view must find the pattern blocks again by itself
      const v = architectureGraph({ modelDir: GQA, scope: '#block.0', expanded: [] });
      assert.equal(byLabel(v, 'GroupQueryAttention').length, 1);
      assert.equal(byLabel(v, 'MatMul').length, 7, 'q, k, v, o, gate, up, down');
      assert.throws(() => architectureGraph({ modelDir: GQA, scope: '#block.9', expanded: [] }), /No block #block\.9/);
    },
  );

  it('shape arithmetic is hidden unless asked for', () => {
    const plain = architectureGraph({ modelDir: TEST_MODEL, scope: `${scope}/self_attn`, expanded: [] });
    const all = architectureGraph({
      modelDir: TEST_MODEL,
      scope: `${scope}/self_attn`,
      expanded: [],
      showShapeOps: true,
    });
    assert.ok(all.nodes.length > plain.nodes.length);
    assert.ok(byLabel(all, 'Shape').length > 0 && byLabel(plain, 'Shape').length === 0);
  });
});

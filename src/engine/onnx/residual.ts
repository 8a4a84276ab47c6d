/**
 * The residual stream's joints, found from graph structure rather than node names: an Add of two
 * computed tensors is a residual connection (bias and epsilon Adds have a constant side), and the
 * nearest one above the logits is the last layer's output, before the final norm. Generation
 * slices there (last-position logits); the attention explorer's logit lens starts there.
 */
import { constChecker, type GNode, type GraphIndex, isStandard } from './graphIndex';

/** An Add of two computed tensors: a residual connection. */
export function residualAdd(node: GNode | undefined, isConst: (t: string) => boolean): boolean {
  if (!node || node.op !== 'Add' || !isStandard(node)) return false;
  const [a, b] = node.inputs;
  return !!a && !!b && !isConst(a) && !isConst(b);
}

/** The nearest residual Add above the logits: the last layer's output, before the final norm. */
export function findLastResidual(g: GraphIndex, logits: string): string | undefined {
  const isConst = constChecker(g);
  const seen = new Set<string>([logits]);
  const queue = [logits];
  while (queue.length) {
    const t = queue.shift()!;
    const p = g.producer.get(t);
    if (p === undefined) continue;
    const node = g.nodes[p];
    if (residualAdd(node, isConst)) return t;
    for (const x of node.inputs) {
      if (x && !seen.has(x) && !isConst(x)) {
        seen.add(x);
        queue.push(x);
      }
    }
  }
  return undefined;
}

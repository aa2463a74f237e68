// The planner's fused int8 residuals: a QLinearAdd one of whose operands is an int8 conv's output,
// read by nothing else, becomes part of that conv (Int8Conv.add, the other operand as
// attrs.residual): its kernel applies the add to each requantised tile while the tile is in L1,
// with the qlinearAdd step's arithmetic and operand order, so the results are the same bytes and
// the separate pass over memory disappears (the bottleneck's last conv plus its shortcut). Runs
// after integerConvs; the other operand must already be computed where the conv runs.
import { Graph } from './graph.js';
import type { ConvNode, Node } from './graph.js';
import { valueIndex } from './integer-convs.js';

/** The graph with every such QLinearAdd folded into its conv (the input graph is left as it was). */
export function fuseQConvAdds(source: Graph): Graph {
  const { producer, readers } = valueIndex(source);
  const outputs = new Set(source.outputs.map((o) => o.name));
  const index = new Map(source.nodes.map((n, i) => [n, i]));
  const replace = new Map<Node, Node | null>();
  for (const n of source.nodes) {
    if (n.op !== 'QLinearAdd' || n.inputs[0] === n.inputs[1]) continue;
    // Prefer the conv that runs later, so that the residual is ready when it runs.
    const candidates = [0, 1]
      .map((k) => ({ k, conv: producer.get(n.inputs[k]!) }))
      .filter(({ k, conv }) => {
        if (conv?.op !== 'Conv' || !conv.attrs.int8 || conv.attrs.int8.add || conv.attrs.residual !== undefined || replace.has(conv)) return false;
        const v = n.inputs[k]!;
        if (outputs.has(v) || (readers.get(v) ?? []).length !== 1) return false;
        const other = producer.get(n.inputs[1 - k]!);
        return other === undefined || index.get(other)! < index.get(conv)!;
      })
      .sort((a, b) => index.get(b.conv!)! - index.get(a.conv!)!);
    const pick = candidates[0];
    if (!pick) continue;
    const conv = pick.conv as ConvNode;
    const residual = n.inputs[1 - pick.k]!;
    const inputs = [...conv.inputs];
    while (inputs.length < 3) inputs.push('');
    const fused: ConvNode = {
      ...conv, inputs: [...inputs.slice(0, 3), residual], outputs: [n.outputs[0]!],
      attrs: { ...conv.attrs, residual, int8: { ...conv.attrs.int8!, add: { q: n.attrs, convIsA: pick.k === 0 } } },
    };
    replace.set(conv, fused);
    replace.set(n, null);
  }
  if (replace.size === 0) return source;
  const nodes = source.nodes.flatMap((n) => (replace.has(n) ? (replace.get(n) ? [replace.get(n)!] : []) : [n]));
  return new Graph({ ...source, initializers: new Map(source.initializers), nodes });
}

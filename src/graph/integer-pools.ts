// The planner's int8 max pools: DequantizeLinear → MaxPool → QuantizeLinear with the same scale and
// zero point on both sides runs on the quantized values, as ONNX Runtime's QDQ transformer drops
// such a pair (the max of values on one grid is on that grid, so the QuantizeLinear changes
// nothing). The MaxPool then writes the QuantizeLinear's output itself, marked attrs.int8, which
// lets the plan keep its input and output as u8 NHWC bytes (src/plan/formats.ts). Runs after
// integerConvs, whose int8 convs (and integerAdds' QLinearAdds) write such grids.
import { Graph } from './graph.js';
import type { MaxPoolNode, Node, QuantParams } from './graph.js';
import { valueIndex } from './integer-convs.js';

/** The grid a node's output values lie on: an int8 conv's or QLinearAdd's output quantization, or a QuantizeDequantize's. */
function gridOf(n: Node | undefined): QuantParams | null {
  if (n?.op === 'Conv' && n.attrs.int8) return n.attrs.int8.y;
  if (n?.op === 'QLinearAdd') return n.attrs.y;
  if (n?.op === 'QuantizeDequantize') return n.attrs;
  return null;
}

/** The graph with every such MaxPool marked and its QuantizeLinear dropped (the input graph is left as it was). */
export function integerMaxPools(source: Graph): Graph {
  const { producer, readers } = valueIndex(source);
  const outputs = new Set(source.outputs.map((o) => o.name));
  const replace = new Map<Node, Node | null>();
  for (const n of source.nodes) {
    if (n.op !== 'MaxPool' || n.attrs.int8) continue;
    const grid = gridOf(producer.get(n.inputs[0]!));
    const rs = readers.get(n.outputs[0]!) ?? [];
    const q = rs.length === 1 && rs[0]!.op === 'QuantizeDequantize' ? rs[0] : null;
    if (!grid || !q || outputs.has(n.outputs[0]!)) continue;
    // One grid, one element type, and a range that holds every input value.
    const same = q.attrs.scale === grid.scale && q.attrs.zeroPoint === grid.zeroPoint && (q.attrs.qmin < 0) === (grid.qmin < 0);
    if (!same || q.attrs.qmin > grid.qmin || q.attrs.qmax < grid.qmax) continue;
    const pool: MaxPoolNode = { ...n, outputs: [q.outputs[0]!], attrs: { ...n.attrs, int8: { ...grid } } };
    replace.set(n, pool);
    replace.set(q, null);
  }
  if (replace.size === 0) return source;
  const nodes = source.nodes.flatMap((n) => (replace.has(n) ? (replace.get(n) ? [replace.get(n)!] : []) : [n]));
  return new Graph({ ...source, initializers: new Map(source.initializers), nodes });
}

// DimExprs (a Reshape's shape or a Slice's bounds computed per input shape) written back as the
// ONNX int64 subgraph they were folded from: Shape → Gather per dim read, Add/Sub/Mul/Div, Concat.
import type { DimExpr, Node } from '../graph/graph.js';
import { DataType } from './proto.js';
import type { NodeProtoLike, TensorProtoLike } from './proto.js';

export function int64Tensor(name: string, values: number[]): TensorProtoLike {
  const raw = new Uint8Array(values.length * 8);
  const dv = new DataView(raw.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: raw };
}

/** Nodes computing `exprs` as a 1-D int64 tensor named `${prefix}`, for node `n` (whose inputs the exprs read). */
export function dimExprNodes(n: Node, exprs: readonly DimExpr[], prefix: string, inits: TensorProtoLike[]): NodeProtoLike[] {
  const nodes: NodeProtoLike[] = [];
  let k = 0;
  const fresh = (): string => `${prefix}/${k++}`;
  // Each expr as a 1-element 1-D tensor.
  const emit = (e: DimExpr): string => {
    const out = fresh();
    if (typeof e === 'number') inits.push(int64Tensor(out, [e]));
    else if ('input' in e) {
      const index = `${out}/index`;
      inits.push(int64Tensor(index, [e.dim]));
      nodes.push({ name: `${out}/shape`, opType: 'Shape', input: [n.inputs[e.input]!], output: [`${out}/shape`] });
      nodes.push({ name: out, opType: 'Gather', input: [`${out}/shape`, index], output: [out] });
    } else nodes.push({ name: out, opType: e.op, input: [emit(e.a), emit(e.b)], output: [out] });
    return out;
  };
  const parts = exprs.map(emit);
  nodes.push({ name: prefix, opType: 'Concat', input: parts, output: [prefix], attribute: [{ name: 'axis', type: 2, i: 0 }] });
  return nodes;
}

// torch.onnx (opsets < 17) writes nn.LayerNorm over the last axis decomposed:
//   mean = ReduceMean(x, [-1]); d = x − mean; var = ReduceMean(d², [-1]);
//   y = d / Sqrt(var + eps) · γ + β
// This matches that chain, node by node, and nothing looser (the same eps, the last axis, an
// exponent of exactly 2, γ and β over the last axis, no intermediate read elsewhere), so that it
// imports as the LayerNormalization it was (the same arithmetic, in one step).
import type { Initializer } from '../graph/graph.js';
import type { NodeProtoLike } from './proto.js';

export interface LayerNormMatch {
  /** The ONNX nodes the LayerNormalization replaces (the importer skips them). */
  nodes: NodeProtoLike[];
  x: string;
  epsilon: number;
  scale: Initializer;
  /** The initializer names of γ and β where they are initializers (constants of Constant nodes have none). */
  scaleName?: string;
  bias?: Initializer;
  biasName?: string;
  output: string;
}

export interface PatternContext {
  /** The nodes that read a value (in the ONNX graph). */
  readers(v: string): NodeProtoLike[];
  /** A float constant: an initializer or a Constant node's value. */
  constant(v: string): { t: Initializer; name?: string } | undefined;
  /** The reduced axes of a ReduceMean (attribute, or input from opset 18); null when they are not constant. */
  axes(n: NodeProtoLike): number[] | null;
  keepdims(n: NodeProtoLike): boolean;
  isGraphOutput(v: string): boolean;
}

export function matchDecomposedLayerNorm(mean: NodeProtoLike, c: PatternContext): LayerNormMatch | null {
  const out = (n: NodeProtoLike): string => n.output?.[0] ?? '';
  const lastAxisMean = (n: NodeProtoLike | undefined): boolean => {
    const axes = n?.opType === 'ReduceMean' ? c.axes(n) : null;
    return !!n && axes?.length === 1 && axes[0] === -1 && c.keepdims(n);
  };
  // The one reader of n's output, with op `op`; null when there are others or it is a graph output.
  const only = (n: NodeProtoLike, op: string): NodeProtoLike | null => {
    const r = c.readers(out(n));
    return r.length === 1 && r[0]!.opType === op && !c.isGraphOutput(out(n)) ? r[0]! : null;
  };
  const other = (n: NodeProtoLike, v: string): string | undefined => (n.input?.length === 2 ? (n.input[0] === v ? n.input[1] : n.input[1] === v ? n.input[0] : undefined) : undefined);
  const scalar = (v: string | undefined): number | undefined => {
    const k = v ? c.constant(v) : undefined;
    return k && k.t.data.length === 1 ? k.t.data[0] : undefined;
  };
  const lastAxisVector = (v: string | undefined): { t: Initializer; name?: string } | undefined => {
    const k = v ? c.constant(v) : undefined;
    return k && k.t.dims.length >= 1 && k.t.dims.slice(0, -1).every((d) => d === 1) ? k : undefined;
  };

  if (!lastAxisMean(mean)) return null;
  const x = mean.input?.[0];
  const sub = only(mean, 'Sub');
  if (!x || !sub || sub.input?.[0] !== x || sub.input?.[1] !== out(mean)) return null;
  const subReaders = c.readers(out(sub));
  if (subReaders.length !== 2 || c.isGraphOutput(out(sub))) return null;
  const pow = subReaders.find((n) => n.opType === 'Pow' && n.input?.[0] === out(sub));
  const div = subReaders.find((n) => n.opType === 'Div' && n.input?.[0] === out(sub));
  if (!pow || !div || scalar(pow.input?.[1]) !== 2) return null;
  const variance = only(pow, 'ReduceMean');
  if (!variance || !lastAxisMean(variance)) return null;
  const addEps = only(variance, 'Add');
  const epsilon = addEps ? scalar(other(addEps, out(variance))) : undefined;
  if (!addEps || epsilon === undefined || !(epsilon >= 0)) return null;
  const sqrt = only(addEps, 'Sqrt');
  if (!sqrt || only(sqrt, 'Div') !== div || div.input?.[1] !== out(sqrt)) return null;
  const mul = only(div, 'Mul');
  const gamma = mul ? lastAxisVector(other(mul, out(div))) : undefined;
  if (!mul || !gamma) return null;
  const nodes = [mean, sub, pow, variance, addEps, sqrt, div, mul];
  const add = only(mul, 'Add');
  const beta = add ? lastAxisVector(other(add, out(mul))) : undefined;
  if (add && beta && beta.t.data.length === gamma.t.data.length) nodes.push(add);
  const end = nodes[nodes.length - 1]!;
  return { nodes, x, epsilon, scale: gamma.t, scaleName: gamma.name, bias: end === add ? beta!.t : undefined, biasName: end === add ? beta!.name : undefined, output: out(end) };
}

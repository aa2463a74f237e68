// The graph IR: a small, typed, inference-only graph of ResNet-style ops.
//
// Conventions:
// - Activations are NCHW float32 (float16 graph inputs/outputs are converted at
//   the model's edge). Any dim of a graph input may be dynamic (batch, height,
//   width): it is written -1 and propagates as -1 through shapes until a run's
//   input dims fix it (plans are made per input shape).
// - Weights are initializers (float32). Every weight-bearing input (Conv W/B,
//   BN params, Gemm W/B) must name an initializer.
// - Conv pads are resolved at import: [top, left, bottom, right].
// - Gemm is always y = x·Wᵀ + b with W: [nOut, k] (ONNX transB=1 form).
// - A fused Conv carries attrs.residual (also appended as inputs[3], with
//   inputs[2] = '' when there is no bias) and attrs.relu:
//   y = relu?(conv(x) + bias + residual).
// - Nodes are kept in topological order by every function that returns a Graph.
import { convOutputSize, elementCount, poolOutputSize } from '../shapes.js';
import { ModelError } from '../errors.js';

export interface ValueInfo {
  name: string;
  /** -1 marks a dynamic dim (batch, height, width). */
  dims: number[];
  /** The element type callers see at the model's edge; float32 when absent (the graph computes in float32). */
  elemType?: 'float32' | 'float16';
}

export interface Initializer {
  dims: number[];
  data: Float32Array;
}

export interface ConvAttrs {
  kernelShape: [number, number];
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  groups: number;
  /** Fused shortcut: value added before the activation. Also inputs[3]. */
  residual?: string;
  /** Fused ReLU. */
  relu?: boolean;
  /** Fused Clip(min, max) (ReLU6), after the residual; never with relu (src/graph/passes.ts fuseConvClip). */
  clip?: [number, number];
  /** Fused elementwise activation (SiLU, HardSwish, ...), after the residual; never with relu or clip (fuseConvActivation). */
  act?: { op: ConvActivationOp; alpha: number; beta: number };
  /** Set when the model stores the weights quantized (see WeightQuant). */
  weightQuant?: WeightQuant;
  /** Set where the backend runs int8 convs (src/graph/integer-convs.ts): see Int8Conv. */
  int8?: Int8Conv;
  /** Runs on float32 NHWC values: x, the residual and y (src/plan/formats.ts assignF32Nhwc). */
  nhwc?: boolean;
  /** Reads float32 NCHW x and writes NHWC y (a stem feeding NHWC layers; src/plan/formats.ts assignF32Nhwc). */
  nhwcOut?: boolean;
}
/**
 * An int8 conv (inputs [x, W, B | '']; groups 1, no dilation): x and y hold dequantized values of
 * the activations quantized by x and y, W the int8 weights' integers, B the int32 bias's;
 * y = (clamp(roundHalfEven(acc · multipliers[c]) + y.zeroPoint, y.qmin, y.qmax) − y.zeroPoint) · y.scale
 * with acc = B[c] + Σ W · (q_x − x.zeroPoint), exact in int32 (a fused ReLU raised y.qmin to y.zeroPoint).
 */
export interface Int8Conv {
  x: QuantParams;
  y: QuantParams;
  /** One per output channel. */
  multipliers: number[];
  /**
   * A residual QLinearAdd fused into the conv's epilogue (src/graph/integer-residuals.ts): the
   * conv's output (quantized by y) is the add's operand a (convIsA) or b, attrs.residual the other
   * (also inputs[3]), and the node writes the add's output.
   */
  add?: QConvAdd;
}
export interface QConvAdd {
  q: QLinearAddParams;
  convIsA: boolean;
}
/**
 * How a quantized model stores a Conv or Gemm's weights, along the output
 * channel (one scale, or one per channel): the IR holds their dequantized
 * float32 values, and the exporter writes them back as int8/uint8 (and the
 * bias as int32 with scale biasScales) behind DequantizeLinear, so that ONNX
 * Runtime runs the node in int8 as the original model had it.
 */
export interface WeightQuant {
  type: 'int8' | 'uint8';
  scales: number[];
  zeroPoints: number[];
  /** The int32 bias's scales (zero point 0), when the bias is quantized. */
  biasScales?: number[];
}
export interface PoolAttrs {
  kernelShape: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  ceilMode: boolean;
}
export interface AveragePoolAttrs extends PoolAttrs {
  countIncludePad: boolean;
}

interface NodeBase<Op extends string, A> {
  name: string;
  op: Op;
  inputs: string[];
  outputs: string[];
  attrs: A;
}

/** inputs [x, W, B | '' , residual?] */
export type ConvNode = NodeBase<'Conv', ConvAttrs>;
/** inputs [x, scale, bias, mean, var] */
export type BatchNormNode = NodeBase<'BatchNormalization', { epsilon: number }>;
export type ReluNode = NodeBase<'Relu', Record<string, never>>;
/** Same-shape add; relu fuses a following Relu. */
export type AddNode = NodeBase<'Add', { relu?: boolean }>;
/**
 * int8: x and y hold dequantized values of this quantization, and the QuantizeLinear that read the
 * output was dropped (the max of values on one grid is on it: ONNX Runtime's QDQ MaxPool).
 */
/** nhwc (set by src/plan/formats.ts assignF32Nhwc): the float32 pool reads and writes NHWC values. */
export type MaxPoolNode = NodeBase<'MaxPool', PoolAttrs & { int8?: QuantParams; nhwc?: boolean }>;
export type AveragePoolNode = NodeBase<'AveragePool', AveragePoolAttrs & { nhwc?: boolean }>;
/** int8: ONNX Runtime's QLinearGlobalAveragePool (Int8Pool). nhwc: the float32 pool reads NHWC values (y is [n, c] either way). */
export type GlobalAveragePoolNode = NodeBase<'GlobalAveragePool', { int8?: Int8Pool; nhwc?: boolean }>;
/**
 * A quantized global average pool: x holds dequantized values of x's quantization, and
 * y = (clamp(roundHalfEven(S · multiplier) + y.zeroPoint, y.qmin, y.qmax) − y.zeroPoint) · y.scale
 * with S = Σ (q_x − x.zeroPoint) over h·w, exact in int32, and multiplier x.scale / (y.scale · h·w)
 * in float32 as ONNX Runtime forms it.
 */
export interface Int8Pool {
  x: QuantParams;
  y: QuantParams;
  multiplier: number;
}
/** Output [prod(dims[0..axis)), prod(dims[axis..])]. */
export type FlattenNode = NodeBase<'Flatten', { axis: number }>;
/**
 * A dim that an ONNX shape subgraph (Shape → Gather → … → Reshape) computes from dims known only
 * once a plan's input dims are (a dynamic batch, height or width): a number; dim `dim` of the
 * node's input `input` (an input of the node, so that passes which rename values keep it); or
 * int64 arithmetic on two of them (Div truncates, as ONNX's integer Div).
 */
export type DimExpr = number | { input: number; dim: number } | { op: 'Add' | 'Sub' | 'Mul' | 'Div'; a: DimExpr; b: DimExpr };
/**
 * shape uses ONNX semantics: 0 copies the input dim, one -1 is inferred. With shapeExpr, the
 * shape is computed per input shape (shape is then unused); inputs[1..] are the values it reads dims of.
 */
export type ReshapeNode = NodeBase<'Reshape', { shape: number[]; shapeExpr?: DimExpr[] }>;
/**
 * inputs [x, W, B?]; x: [M, K], W: [N, K]; y = x·Wᵀ + b. With overLastAxis (an ONNX MatMul) x may
 * be [..., K]: a GEMM of its leading dims flattened (ConvNeXt's Linear on NHWC).
 */
export type GemmNode = NodeBase<'Gemm', { relu?: boolean; weightQuant?: WeightQuant; overLastAxis?: boolean }>;
/** y = permute(x, perm) (ONNX Transpose; Gemm with transA=1 imports as Transpose [1, 0] → Gemm). */
export type TransposeNode = NodeBase<'Transpose', { perm: number[] }>;
/**
 * An ONNX QuantizeLinear → DequantizeLinear pair on an activation (per tensor):
 * y = (clamp(roundHalfEven(x / scale) + zeroPoint, qmin, qmax) − zeroPoint) · scale,
 * in float32. The values between the two are the model's int8/uint8 tensor.
 */
export type QuantizeDequantizeNode = NodeBase<'QuantizeDequantize', QuantParams>;
/**
 * Integer-exact requantization (what an int8 kernel's epilogue does), per channel c of NCHW (dims[1]):
 * y = (clamp(roundHalfEven(x · multipliers[c] / divisor) + zeroPoint, qmin, qmax) − zeroPoint) · outScale.
 * With divisor = the input's scale and multipliers [1] it turns dequantized values into the integers
 * q − zeroPoint; after a Conv/Gemm on integer weights it turns the int32 sums into the next quantized tensor.
 */
export type RequantizeNode = NodeBase<'Requantize', { multipliers: number[]; divisor: number; zeroPoint: number; qmin: number; qmax: number; outScale: number }>;
/**
 * A quantized residual Add (DQ → Add → Q) in ONNX Runtime's QLinearAdd arithmetic, on same-shape
 * operands that hold dequantized values of uint8/int8 tensors; y is dequantized again. The
 * coefficients are formed once by src/quant/qlinear-add.ts (see there for the formula).
 */
export type QLinearAddNode = NodeBase<'QLinearAdd', QLinearAddParams>;
export interface QLinearAddParams {
  /** The operands' quantization (their values are (q − zeroPoint) · scale). */
  aScale: number;
  aZeroPoint: number;
  bScale: number;
  bZeroPoint: number;
  /** ORT's float32 coefficients: c = roundHalfEven(fma(qa', ratioA, fma(qb', ratioB, fixed))) − shift, q' = q + shift. */
  ratioA: number;
  ratioB: number;
  fixed: number;
  /** 128 for int8 tensors (ORT runs them as uint8 shifted by 128), else 0. */
  shift: number;
  /** The output's quantization (relu: qmin is raised to zeroPoint). */
  y: QuantParams;
}
export interface QuantParams {
  scale: number;
  zeroPoint: number;
  /** The quantized type's range: [0, 255] (uint8) or [-128, 127] (int8). */
  qmin: number;
  qmax: number;
}
/**
 * Elementwise functions of one input: Sigmoid, HardSigmoid (max(0, min(1, alpha·x + beta))),
 * HardSwish (x·HardSigmoid(x) with 1/6, 1/2), Clip (min(max(x, alpha), beta)), Erf, and
 * Silu (x·sigmoid(x), fused from Mul(x, Sigmoid(x)); exported back as the pair), and Gelu
 * ((x·(erf(x / alpha) + 1))·beta, fused from PyTorch's Div/Erf/Add/Mul/Mul; alpha √2, beta 1/2).
 */
/** The unary ops a Conv can fuse as its output activation (ConvAttrs.act). */
export type ConvActivationOp = 'Sigmoid' | 'Silu' | 'HardSigmoid' | 'HardSwish';
export type UnaryOp = 'Sigmoid' | 'HardSigmoid' | 'HardSwish' | 'Clip' | 'Erf' | 'Silu' | 'Gelu';
export const UNARY_OPS: readonly UnaryOp[] = ['Sigmoid', 'HardSigmoid', 'HardSwish', 'Clip', 'Erf', 'Silu', 'Gelu'];
export type UnaryNode = NodeBase<UnaryOp, { alpha: number; beta: number }>;
/** numpy-broadcast elementwise a ∘ b (Add is its own node: it also fuses into Conv). */
export type BinaryOp = 'Mul' | 'Sub' | 'Div';
export type BinaryNode = NodeBase<BinaryOp, { relu?: boolean }>;
/**
 * A layout change of a float32 value between steps that read it in different layouts (inserted by
 * src/plan/formats.ts assignF32Nhwc): y holds x's tensor (same dims, NCHW order) stored NHWC (to
 * 'nhwc') or NCHW. Exported as Identity.
 */
export type ReorderNode = NodeBase<'Reorder', { to: 'nhwc' | 'nchw' }>;
/** Concatenation of every input along axis. */
export type ConcatNode = NodeBase<'Concat', { axis: number }>;
/**
 * ONNX Slice with constant axes/steps (Split imports as one Slice per output). startsExpr/endsExpr,
 * where present, replace starts/ends with values computed per input shape (see DimExpr).
 */
export type SliceNode = NodeBase<'Slice', { starts: number[]; ends: number[]; axes: number[]; steps: number[]; startsExpr?: DimExpr[]; endsExpr?: DimExpr[] }>;
/** Softmax along axis; legacy (opset < 13): over the flattened dims [axis, rank). */
export type SoftmaxNode = NodeBase<'Softmax', { axis: number; legacy: boolean }>;
/** inputs [x, scale, bias?]: normalises over dims [axis, rank). */
export type LayerNormNode = NodeBase<'LayerNormalization', { axis: number; epsilon: number }>;

export type Node =
  | ConvNode
  | BatchNormNode
  | ReluNode
  | AddNode
  | MaxPoolNode
  | AveragePoolNode
  | GlobalAveragePoolNode
  | FlattenNode
  | ReshapeNode
  | GemmNode
  | TransposeNode
  | QuantizeDequantizeNode
  | RequantizeNode
  | QLinearAddNode
  | ReorderNode
  | UnaryNode
  | BinaryNode
  | ConcatNode
  | SliceNode
  | SoftmaxNode
  | LayerNormNode;
export type OpType = Node['op'];
export const OP_TYPES: readonly OpType[] = [
  'Conv', 'BatchNormalization', 'Relu', 'Add', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Reshape', 'Gemm', 'Transpose',
  ...UNARY_OPS, 'Mul', 'Sub', 'Div', 'Concat', 'Slice', 'Softmax', 'LayerNormalization',
];

export interface GraphInit {
  name?: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: Map<string, Initializer>;
  nodes: Node[];
}

/** Thrown for a malformed graph (cycle, missing value, shape mismatch). */
export class GraphError extends ModelError {
  override name = 'GraphError';
}

/**
 * Graph → ONNX bytes, installed by src/onnx/export.ts when it loads: the IR does
 * not import the exporter (nor, through it, the protobuf schema), so that
 * layers point one way. The builders and the importer load the exporter.
 */
let onnxWriter: ((graph: Graph) => Uint8Array) | undefined;
export function setOnnxWriter(write: (graph: Graph) => Uint8Array): void {
  onnxWriter = write;
}

export class Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Initializer>;
  nodes: Node[];

  constructor(init: GraphInit) {
    this.name = init.name ?? 'resnode';
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    this.initializers = init.initializers ?? new Map();
    this.nodes = init.nodes;
  }

  /** ONNX bytes (opset 13, IR 8) that ONNX Runtime loads; fused nodes are expanded. */
  toOnnx(): Uint8Array {
    if (!onnxWriter) throw new ModelError("Graph.toOnnx: the ONNX exporter is not loaded; import 'resnode' (or src/onnx/export.ts) first");
    return onnxWriter(this);
  }

  /** Copy of the structure; initializer data arrays are shared, not copied. */
  clone(): Graph {
    return new Graph({
      name: this.name,
      inputs: this.inputs.map((v) => ({ ...v, dims: [...v.dims] })),
      outputs: this.outputs.map((v) => ({ ...v, dims: [...v.dims] })),
      initializers: new Map(this.initializers),
      nodes: this.nodes.map(cloneNode),
    });
  }

  /** Shapes of every value (activations and initializers); see inferShapes. */
  shapes(inputDims?: Record<string, number[]>): Map<string, number[]> {
    return inferShapes(this, inputDims);
  }

  /** Learnable parameters: every initializer except BN running mean/var (as PyTorch counts). */
  parameterCount(): number {
    const buffers = new Set<string>();
    for (const n of this.nodes) if (n.op === 'BatchNormalization') { buffers.add(n.inputs[3]!); buffers.add(n.inputs[4]!); }
    let total = 0;
    for (const [name, t] of this.initializers) if (!buffers.has(name)) total += t.data.length;
    return total;
  }
}

export function cloneNode<N extends Node>(n: N): N {
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n.attrs)) attrs[k] = Array.isArray(v) ? [...v] : v;
  return { name: n.name, op: n.op, inputs: [...n.inputs], outputs: [...n.outputs], attrs } as N;
}

/**
 * Nodes in topological order (stable: keeps the given order where it is valid).
 * Throws GraphError naming the nodes on a cycle, a value produced twice, or a
 * value that nothing produces.
 */
export function topoSort(graph: Graph): Node[] {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (producer.has(o) || graph.initializers.has(o) || graph.inputs.some((v) => v.name === o)) {
        throw new GraphError(`Value "${o}" is produced more than once (node "${n.name}")`);
      }
      producer.set(o, i);
    }
  });
  const graphInputs = new Set(graph.inputs.map((v) => v.name));
  const indeg = new Array<number>(graph.nodes.length).fill(0);
  const consumers: number[][] = graph.nodes.map(() => []);
  graph.nodes.forEach((n, i) => {
    for (const inp of n.inputs) {
      if (inp === '' || graph.initializers.has(inp) || graphInputs.has(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined) throw new GraphError(`Node "${n.name}" (${n.op}) reads "${inp}", which no node, input or initializer provides`);
      indeg[i]!++;
      consumers[p]!.push(i);
    }
  });
  // Min-index ready queue keeps the original order where possible.
  const ready: number[] = [];
  indeg.forEach((d, i) => { if (d === 0) ready.push(i); });
  const order: Node[] = [];
  while (ready.length > 0) {
    let k = 0;
    for (let j = 1; j < ready.length; j++) if (ready[j]! < ready[k]!) k = j;
    const i = ready.splice(k, 1)[0]!;
    order.push(graph.nodes[i]!);
    for (const c of consumers[i]!) if (--indeg[c]! === 0) ready.push(c);
  }
  if (order.length !== graph.nodes.length) {
    const stuck = graph.nodes.filter((_, i) => indeg[i]! > 0).map((n) => `"${n.name}" (${n.op})`);
    throw new GraphError(`Graph has a cycle through ${stuck.length} node(s): ${stuck.join(', ')}`);
  }
  for (const o of graph.outputs) {
    if (!producer.has(o.name) && !graphInputs.has(o.name)) throw new GraphError(`Graph output "${o.name}" is not produced by any node`);
  }
  return order;
}

function dimsStr(d: readonly number[]): string {
  return `[${d.map((x, i) => (x >= 0 ? x : i === 0 ? 'N' : '?')).join(', ')}]`;
}

function mulDim(a: number, b: number): number {
  return a < 0 || b < 0 ? -1 : a * b;
}

/**
 * Output dims of one node from its input dims (dims[0] may be -1 = dynamic batch).
 * `get` returns the dims of any input (activation or initializer).
 */
export function inferNode(node: Node, get: (name: string) => number[]): number[] {
  const fail = (msg: string): never => { throw new GraphError(`Node "${node.name}" (${node.op}): ${msg}`); };
  const x = get(node.inputs[0]!);
  switch (node.op) {
    case 'Conv': {
      const w = get(node.inputs[1]!);
      if (x.length !== 4) fail(`expects a 4-D input, got ${dimsStr(x)}`);
      if (w.length !== 4) fail(`expects a 4-D weight, got ${dimsStr(w)}`);
      const a = node.attrs;
      checkWindowAttrs(a, fail);
      if (!Number.isSafeInteger(a.groups) || a.groups < 1) fail(`group must be a positive integer, got ${a.groups}`);
      if (x[1]! >= 0 && x[1]! !== w[1]! * a.groups) fail(`input has ${x[1]} channels but weight ${dimsStr(w)} with groups=${a.groups} expects ${w[1]! * a.groups}`);
      if (w[0]! % a.groups !== 0) fail(`output channels ${w[0]} not divisible by groups=${a.groups}`);
      if (w[2] !== a.kernelShape[0] || w[3] !== a.kernelShape[1]) fail(`kernel_shape ${dimsStr(a.kernelShape)} does not match weight ${dimsStr(w)}`);
      const b = node.inputs[2];
      if (b) { const bd = get(b); if (elementCount(bd) !== w[0]) fail(`bias has ${elementCount(bd)} elements, expected ${w[0]}`); }
      const oh = x[2]! < 0 ? -1 : convOutputSize(x[2]!, w[2]!, a.strides[0], a.pads[0], a.pads[2], a.dilations[0]);
      const ow = x[3]! < 0 ? -1 : convOutputSize(x[3]!, w[3]!, a.strides[1], a.pads[1], a.pads[3], a.dilations[1]);
      if (oh === 0 || ow === 0 || oh < -1 || ow < -1) fail(`output would be empty for input ${dimsStr(x)}`);
      const y = [x[0]!, w[0]!, oh, ow];
      if (a.residual !== undefined) {
        const r = get(a.residual);
        if (!sameDims(r, y)) fail(`residual ${dimsStr(r)} does not match output ${dimsStr(y)}`);
      }
      return y;
    }
    case 'BatchNormalization': {
      if (x.length < 2) fail(`expects at least 2-D input, got ${dimsStr(x)}`);
      for (let i = 1; i < 5; i++) {
        const d = get(node.inputs[i]!);
        if (x[1]! >= 0 && elementCount(d) !== x[1]) fail(`parameter "${node.inputs[i]}" has ${elementCount(d)} elements, expected ${x[1]} (channels)`);
      }
      return [...x];
    }
    case 'Relu':
    case 'QuantizeDequantize':
    case 'Reorder':
      return [...x];
    case 'QLinearAdd': {
      const b = get(node.inputs[1]!);
      if (!sameDims(x, b)) fail(`operands must have the same shape, got ${dimsStr(x)} and ${dimsStr(b)}`);
      return [...x];
    }
    case 'Requantize': {
      const m = node.attrs.multipliers.length;
      if (m !== 1 && (x.length < 2 || x[1] !== m)) fail(`has ${m} multipliers but input ${dimsStr(x)} has ${x[1]} channels`);
      return [...x];
    }
    case 'Add':
    case 'Mul':
    case 'Sub':
    case 'Div': {
      const b = get(node.inputs[1]!);
      const y = broadcastDims(x, b);
      if (!y) fail(`operands must have the same shape or broadcast to one (numpy rules), got ${dimsStr(x)} and ${dimsStr(b)}`);
      return y!;
    }
    case 'Sigmoid':
    case 'HardSigmoid':
    case 'HardSwish':
    case 'Clip':
    case 'Erf':
    case 'Silu':
    case 'Gelu':
      return [...x];
    case 'Concat': {
      const all = node.inputs.map(get);
      const axis = normAxis(node.attrs.axis, x.length, fail);
      const y = [...x];
      for (const d of all.slice(1)) {
        if (d.length !== x.length || d.some((v, i) => i !== axis && v !== x[i] && v >= 0 && x[i]! >= 0)) fail(`inputs ${all.map(dimsStr).join(', ')} differ outside axis ${axis}`);
        y[axis] = y[axis]! < 0 || d[axis]! < 0 ? -1 : y[axis]! + d[axis]!;
      }
      return y;
    }
    case 'Slice': {
      const a = resolvedSlice(node, get);
      // Until the plan's input dims are known, a slice of a dynamic dim (or by a computed bound) is dynamic.
      if (!a || a.axes.some((ax) => (x[ax < 0 ? ax + x.length : ax] ?? 0) < 0)) return x.map((d, i) => (node.attrs.axes.some((ax) => (ax < 0 ? ax + x.length : ax) === i) ? -1 : d));
      return sliceRanges(x, a, fail).map((r) => r.count);
    }
    case 'Softmax':
      normAxis(node.attrs.axis, x.length, fail);
      return [...x];
    case 'LayerNormalization': {
      const axis = normAxis(node.attrs.axis, x.length, fail);
      const norm = x.slice(axis).reduce(mulDim, 1);
      for (const i of [1, 2]) {
        const p = node.inputs[i];
        if (p && norm >= 0 && elementCount(get(p)) !== norm) fail(`${i === 1 ? 'scale' : 'bias'} "${p}" has ${elementCount(get(p))} elements, expected ${norm} (the normalised dims ${dimsStr(x.slice(axis))})`);
      }
      return [...x];
    }
    case 'MaxPool':
    case 'AveragePool': {
      if (x.length !== 4) fail(`expects a 4-D input, got ${dimsStr(x)}`);
      const a = node.attrs;
      checkWindowAttrs(a, fail);
      a.pads.forEach((p, i) => {
        const extent = a.dilations[i % 2]! * (a.kernelShape[i % 2]! - 1) + 1;
        if (p >= extent) fail(`pads [${a.pads.join(', ')}] must be smaller than the window extent ${extent} (a window would lie wholly in the padding)`);
      });
      const oh = x[2]! < 0 ? -1 : poolOutputSize(x[2]!, a.kernelShape[0], a.strides[0], a.pads[0], a.pads[2], a.dilations[0], a.ceilMode);
      const ow = x[3]! < 0 ? -1 : poolOutputSize(x[3]!, a.kernelShape[1], a.strides[1], a.pads[1], a.pads[3], a.dilations[1], a.ceilMode);
      if (oh === 0 || ow === 0 || oh < -1 || ow < -1) fail(`output would be empty for input ${dimsStr(x)}`);
      return [x[0]!, x[1]!, oh, ow];
    }
    case 'GlobalAveragePool':
      if (x.length !== 4) fail(`expects a 4-D input, got ${dimsStr(x)}`);
      return [x[0]!, x[1]!, 1, 1];
    case 'Flatten': {
      const axis = node.attrs.axis < 0 ? node.attrs.axis + x.length : node.attrs.axis;
      if (axis < 0 || axis > x.length) fail(`axis ${node.attrs.axis} out of range for ${dimsStr(x)}`);
      return [x.slice(0, axis).reduce(mulDim, 1), x.slice(axis).reduce(mulDim, 1)];
    }
    case 'Reshape': {
      if (!node.attrs.shapeExpr) return reshapeDims(x, node.attrs.shape, fail);
      const shape = node.attrs.shapeExpr.map((e) => evalDim(e, node, get));
      if (shape.every((d) => d !== undefined) && x.slice(1).every((d) => d >= 0)) return reshapeDims(x, shape as number[], fail);
      // Until the plan's input dims are known: what is known, -1 elsewhere (checked per input shape).
      return shape.map((d, i) => (d === undefined || d === -1 ? -1 : d === 0 ? x[i] ?? fail(`shape copies dim ${i} that input ${dimsStr(x)} lacks`) : d));
    }
    case 'Transpose': {
      const perm = node.attrs.perm;
      if (perm.length !== x.length || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) fail(`perm [${perm.join(', ')}] is not a permutation of the ${x.length} dims of ${dimsStr(x)}`);
      return perm.map((p) => x[p]!);
    }
    case 'Gemm': {
      const w = get(node.inputs[1]!);
      const k = x[x.length - 1]!;
      if (!node.attrs.overLastAxis && x.length !== 2) fail(`expects a 2-D input [M, K], got ${dimsStr(x)}`);
      if (x.length < 2) fail(`expects an input of 2 or more dims [..., K], got ${dimsStr(x)}`);
      if (w.length !== 2 || (k >= 0 && w[1] !== k)) fail(`weight ${dimsStr(w)} does not match input ${dimsStr(x)} (expected [N, ${k}])`);
      const b = node.inputs[2];
      if (b) { const bd = get(b); if (elementCount(bd) !== w[0]) fail(`bias has ${elementCount(bd)} elements, expected ${w[0]}`); }
      return [...x.slice(0, -1), w[0]!];
    }
  }
}

/** numpy broadcasting of two shapes (-1: unknown, matches anything); null when they do not broadcast. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const y: number[] = [];
  for (let i = 0; i < rank; i++) {
    const p = a[a.length - rank + i] ?? 1, q = b[b.length - rank + i] ?? 1;
    if (p === q || q === 1) y.push(p);
    else if (p === 1) y.push(q);
    else if (p < 0 || q < 0) y.push(p < 0 ? q : p);
    else return null;
  }
  return y;
}

function normAxis(axis: number, rank: number, fail: (m: string) => never): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(`axis ${axis} out of range for a ${rank}-D input`);
  return a;
}

/**
 * The value of a DimExpr for node's input dims; undefined while a dim it reads is dynamic (-1).
 * Throws GraphError for a dim out of range or a division by zero.
 */
export function evalDim(e: DimExpr, node: Node, get: (name: string) => number[]): number | undefined {
  if (typeof e === 'number') return e;
  if ('input' in e) {
    const v = node.inputs[e.input];
    const d = v === undefined ? undefined : get(v);
    const i = d && e.dim < 0 ? e.dim + d.length : e.dim;
    if (!d || i < 0 || i >= d.length) throw new GraphError(`Node "${node.name}" (${node.op}): its shape reads dim ${e.dim} of input ${e.input}${d ? `, which has ${d.length} dims` : ', which it lacks'}`);
    return d[i]! < 0 ? undefined : d[i]!;
  }
  const a = evalDim(e.a, node, get), b = evalDim(e.b, node, get);
  if (a === undefined || b === undefined) return undefined;
  switch (e.op) {
    case 'Add': return a + b;
    case 'Sub': return a - b;
    case 'Mul': return a * b;
    case 'Div':
      if (b === 0) throw new GraphError(`Node "${node.name}" (${node.op}): its shape divides by zero`);
      return Math.trunc(a / b);
  }
}

/** A Slice's starts and ends, computed where they are DimExprs; undefined while one reads a dynamic dim. */
export function resolvedSlice(node: SliceNode, get: (name: string) => number[]): SliceNode['attrs'] | undefined {
  const a = node.attrs;
  const starts = a.startsExpr ? a.startsExpr.map((e) => evalDim(e, node, get)) : a.starts;
  const ends = a.endsExpr ? a.endsExpr.map((e) => evalDim(e, node, get)) : a.ends;
  if (starts.some((v) => v === undefined) || ends.some((v) => v === undefined)) return undefined;
  return { starts: starts as number[], ends: ends as number[], axes: a.axes, steps: a.steps };
}

/** Per dim of x: the first index, step and element count a Slice takes (ONNX clamping rules). */
export function sliceRanges(x: readonly number[], a: SliceNode['attrs'], fail: (m: string) => never): { start: number; step: number; count: number }[] {
  const r = x.map((d) => ({ start: 0, step: 1, count: d }));
  if (a.starts.length !== a.ends.length || a.axes.length !== a.starts.length || a.steps.length !== a.starts.length) fail('starts, ends, axes and steps must have the same length');
  const seen = new Set<number>();
  a.axes.forEach((ax0, k) => {
    const ax = normAxis(ax0, x.length, fail);
    if (seen.has(ax)) fail(`axis ${ax0} appears twice`);
    seen.add(ax);
    const d = x[ax]!, step = a.steps[k]!;
    if (!Number.isSafeInteger(step) || step === 0) fail(`steps must be non-zero integers, got ${step}`);
    if (d < 0) fail(`cannot slice dim ${ax} while it is dynamic`);
    const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const start = step > 0 ? clamp(a.starts[k]!, 0, d) : clamp(a.starts[k]!, -1, d - 1);
    const end = step > 0 ? clamp(a.ends[k]!, 0, d) : clamp(a.ends[k]!, -1, d - 1);
    const count = Math.max(0, Math.ceil((end - start) / step));
    r[ax] = { start, step, count };
  });
  if (r.some((v) => v.count === 0)) fail(`the slice of ${dimsStr(x)} is empty`);
  return r;
}

const MAX_WINDOW_ATTR = 2 ** 31 - 1;

/** kernel_shape/strides/dilations: 2 integers ≥ 1; pads: 4 integers ≥ 0 (all < 2^31), as the kernels require. */
function checkWindowAttrs(a: { kernelShape: number[]; strides: number[]; pads: number[]; dilations: number[] }, fail: (m: string) => never): void {
  const check = (what: string, v: number[], len: number, min: number): void => {
    if (!Array.isArray(v) || v.length !== len || v.some((d) => !Number.isSafeInteger(d) || d < min || d > MAX_WINDOW_ATTR)) {
      fail(`${what} must be ${len} integers in [${min}, ${MAX_WINDOW_ATTR}], got [${Array.isArray(v) ? v.join(', ') : String(v)}]`);
    }
  };
  check('kernel_shape', a.kernelShape, 2, 1);
  check('strides', a.strides, 2, 1);
  check('dilations', a.dilations, 2, 1);
  check('pads', a.pads, 4, 0);
}

function reshapeDims(x: number[], shape: number[], fail: (m: string) => never): number[] {
  const target = `[${shape.join(', ')}]`;
  if (shape.some((s) => !Number.isInteger(s) || s < -1)) fail(`shape ${target} is invalid`);
  if (shape.filter((s) => s === -1).length > 1) fail(`shape ${target} has more than one -1`);
  shape.forEach((s, i) => { if (s === 0 && i >= x.length) fail(`shape ${target} copies dim ${i} that input ${dimsStr(x)} lacks`); });
  // A dynamic height/width (Reshape [0, -1] of an NCHW input): dynamic where it depends on them until the plan's dims are known.
  if (x.slice(1).some((d) => d < 0)) return shape.map((s, i) => (s === 0 ? x[i]! : s));
  const dynamic = x[0]! < 0;
  if (dynamic) {
    // Symbolic only while the batch stays in dim 0 (copied with 0, or inferred with -1) and the rest is fixed.
    const k = elementCount(x.slice(1));
    const rest = shape.slice(1).map((s, i) => (s === 0 ? x[i + 1]! : s));
    const m = rest.indexOf(-1);
    if (m >= 0 && shape[0] === 0) {
      const other = rest.reduce((a, b, i) => (i === m ? a : a * b), 1);
      if (other > 0 && k % other === 0) rest[m] = k / other;
    }
    if (!((shape[0] === 0 || shape[0] === -1) && rest.every((d) => d > 0) && elementCount(rest) === k)) {
      fail(`shape ${target} cannot be applied to input ${dimsStr(x)} with a dynamic batch (the batch must stay in dim 0)`);
    }
    return [-1, ...rest];
  }
  const total = elementCount(x);
  const out = shape.map((s, i) => (s === 0 ? x[i]! : s));
  const m = out.indexOf(-1);
  if (m >= 0) {
    const other = out.reduce((a, b, i) => (i === m ? a : a * b), 1);
    if (other === 0 || total % other !== 0) fail(`cannot reshape ${dimsStr(x)} to ${target}`);
    out[m] = total / other;
  }
  if (elementCount(out) !== total) fail(`cannot reshape ${dimsStr(x)} (${total} elements) to ${target}`);
  return out;
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Dims of every value in the graph, in the node order given (call topoSort first
 * if unsure). `inputDims` may fix the dynamic batch (or override whole input
 * dims; non-batch dims must match the declared ones). Initializers are included.
 */
export function inferShapes(graph: Graph, inputDims?: Record<string, number[]>): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [name, t] of graph.initializers) shapes.set(name, t.dims);
  for (const v of graph.inputs) {
    const given = inputDims?.[v.name];
    if (given) {
      const ok = given.length === v.dims.length && given.every((d, i) => v.dims[i]! < 0 || d === v.dims[i]);
      if (!ok) throw new GraphError(`Input "${v.name}" expects shape ${dimsStr(v.dims)} but received ${dimsStr(given)}`);
      shapes.set(v.name, [...given]);
    } else shapes.set(v.name, [...v.dims]);
  }
  const get = (node: Node) => (name: string): number[] => {
    const s = shapes.get(name);
    if (!s) throw new GraphError(`Node "${node.name}" (${node.op}) reads "${name}" before it is computed (nodes not in topological order?)`);
    return s;
  };
  for (const node of graph.nodes) {
    const y = inferNode(node, get(node));
    shapes.set(node.outputs[0]!, y);
  }
  return shapes;
}

/** Throws GraphError if the graph is not well formed; returns the shapes. */
export function checkGraph(graph: Graph): Map<string, number[]> {
  const seen = new Set<string>();
  for (const v of graph.inputs) {
    if (v.dims.some((d) => d < 1 && d !== -1) || v.dims.length === 0) throw new GraphError(`Input "${v.name}" has shape ${dimsStr(v.dims)}: every dim must be a positive size or -1 (dynamic)`);
  }
  for (const n of graph.nodes) {
    if (!OP_TYPES.includes(n.op)) throw new GraphError(`Node "${n.name}" has unknown op "${(n as { op: string }).op}"`);
    if (seen.has(n.name)) throw new GraphError(`Two nodes are named "${n.name}"`);
    seen.add(n.name);
    if (n.op !== 'Concat' && n.inputs.length === 0) throw new GraphError(`Node "${n.name}" (${n.op}) has no inputs`);
    if (n.outputs.length !== 1) throw new GraphError(`Node "${n.name}" (${n.op}) must have exactly one output`);
    const weightSlots = n.op === 'Conv' || n.op === 'Gemm' || n.op === 'LayerNormalization' ? [1, 2] : n.op === 'BatchNormalization' ? [1, 2, 3, 4] : [];
    for (const i of weightSlots) {
      const w = n.inputs[i];
      if (w && !graph.initializers.has(w)) throw new GraphError(`Node "${n.name}" (${n.op}) input ${i} "${w}" must be an initializer (constant)`);
    }
    if (n.op === 'Conv' && n.attrs.residual !== undefined && n.inputs[3] !== n.attrs.residual) {
      throw new GraphError(`Node "${n.name}": fused residual must also be inputs[3]`);
    }
  }
  const sorted = topoSort(graph);
  return inferShapes(new Graph({ ...graph, nodes: sorted }));
}

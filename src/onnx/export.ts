// Graph → ONNX bytes (opset 13, or the first opset with every op used; IR version 8). Fused nodes are expanded back to
// standard ops (Conv+Add+Relu, Add+Relu, Gemm+Relu), so ONNX Runtime runs the result.
import type { Graph, Node } from '../graph/graph.js';
import { inferShapes, setOnnxWriter, topoSort } from '../graph/graph.js';
import { AttrType, DataType, ModelProto, float32ToLE } from './proto.js';
import type { AttributeProtoLike, NodeProtoLike, TensorProtoLike, ValueInfoProtoLike } from './proto.js';
import { quantizedWeightInputs } from './export-qdq.js';
import { dimExprNodes, int64Tensor } from './export-shape.js';

export const EXPORT_OPSET = 13;
export const EXPORT_IR_VERSION = 8;

export interface ExportOptions {
  /** Extra values to expose as graph outputs (e.g. every node output for layer-wise validation). */
  extraOutputs?: string[];
  /** Symbolic name used for a dynamic batch dimension. Default 'N'. */
  batchParam?: string;
  producerName?: string;
}

const ints = (name: string, v: readonly number[]): AttributeProtoLike => ({ name, type: AttrType.INTS, ints: [...v] });
const int = (name: string, v: number): AttributeProtoLike => ({ name, type: AttrType.INT, i: v });
const float = (name: string, v: number): AttributeProtoLike => ({ name, type: AttrType.FLOAT, f: v });

/** What expanding a node may add besides its nodes: initializers, and the float initializers written quantized instead. */
interface ExportExtras { graph: Graph; shapes: Map<string, number[]>; inits: TensorProtoLike[]; replaced: Set<string> }

/** An opset-11+ Clip of x to [lo, hi], its bounds as scalar initializers named after the node. */
function clipNode(name: string, x: string, out: string, lo: number, hi: number, extraInits: TensorProtoLike[]): NodeProtoLike {
  const input = [x];
  for (const [v, what] of [[lo, 'min'], [hi, 'max']] as const) {
    const c = `${name}/${what}`;
    extraInits.push({ name: c, dims: [], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.of(v)) });
    input.push(c);
  }
  return { name, opType: 'Clip', input, output: [out] };
}

/** Expand one IR node into ONNX nodes. */
function expandNode(n: Node, x: ExportExtras): NodeProtoLike[] {
  const extraInits = x.inits;
  const out = n.outputs[0]!;
  switch (n.op) {
    case 'Conv': {
      const a = n.attrs;
      const inputs = n.inputs.slice(0, 3);
      const nodes: NodeProtoLike[] = [];
      if (a.weightQuant) {
        const q = quantizedWeightInputs(n, a.weightQuant, x.graph, extraInits, x.replaced);
        nodes.push(...q.nodes);
        inputs[1] = q.w;
        inputs[2] = q.b;
      }
      if (inputs[2] === '' || inputs[2] === undefined) inputs.length = 2;
      const attribute = [
        ints('kernel_shape', a.kernelShape), ints('strides', a.strides), ints('pads', a.pads), ints('dilations', a.dilations), int('group', a.groups),
      ];
      const act = a.relu || a.clip !== undefined || a.act !== undefined;
      let cur = a.residual !== undefined || act ? `${out}/conv` : out;
      nodes.push({ name: n.name, opType: 'Conv', input: inputs, output: [cur], attribute });
      if (a.residual !== undefined) {
        const next = act ? `${out}/add` : out;
        nodes.push({ name: `${n.name}/add`, opType: 'Add', input: [cur, a.residual], output: [next] });
        cur = next;
      }
      if (a.relu) nodes.push({ name: `${n.name}/relu`, opType: 'Relu', input: [cur], output: [out] });
      if (a.clip) nodes.push(clipNode(`${n.name}/clip`, cur, out, a.clip[0], a.clip[1], extraInits));
      if (a.act) nodes.push(...expandNode({ name: `${n.name}/act`, op: a.act.op, inputs: [cur], outputs: [out], attrs: { alpha: a.act.alpha, beta: a.act.beta } }, x));
      return nodes;
    }
    case 'BatchNormalization':
      return [{ name: n.name, opType: 'BatchNormalization', input: n.inputs.slice(0, 5), output: [out], attribute: [float('epsilon', n.attrs.epsilon)] }];
    case 'Relu':
    case 'GlobalAveragePool':
      return [{ name: n.name, opType: n.op, input: [n.inputs[0]!], output: [out] }];
    case 'Add':
      if (!n.attrs.relu) return [{ name: n.name, opType: 'Add', input: n.inputs.slice(0, 2), output: [out] }];
      return [
        { name: n.name, opType: 'Add', input: n.inputs.slice(0, 2), output: [`${out}/add`] },
        { name: `${n.name}/relu`, opType: 'Relu', input: [`${out}/add`], output: [out] },
      ];
    case 'MaxPool':
    case 'AveragePool': {
      const a = n.attrs;
      const attribute = [ints('kernel_shape', a.kernelShape), ints('strides', a.strides), ints('pads', a.pads), int('ceil_mode', a.ceilMode ? 1 : 0)];
      if (n.op === 'MaxPool') attribute.push(ints('dilations', a.dilations));
      else {
        if (a.dilations.some((d) => d !== 1)) throw new Error(`Node "${n.name}": AveragePool with dilations cannot be exported at opset ${EXPORT_OPSET}`);
        attribute.push(int('count_include_pad', n.attrs.countIncludePad ? 1 : 0));
      }
      return [{ name: n.name, opType: n.op, input: [n.inputs[0]!], output: [out], attribute }];
    }
    case 'Flatten':
      return [{ name: n.name, opType: 'Flatten', input: [n.inputs[0]!], output: [out], attribute: [int('axis', n.attrs.axis)] }];
    case 'Reshape': {
      const shapeName = `${n.name}/shape`;
      const pre = n.attrs.shapeExpr ? dimExprNodes(n, n.attrs.shapeExpr, shapeName, extraInits) : [];
      if (!n.attrs.shapeExpr) extraInits.push(int64Tensor(shapeName, n.attrs.shape));
      return [...pre, { name: n.name, opType: 'Reshape', input: [n.inputs[0]!, shapeName], output: [out] }];
    }
    case 'Transpose':
      return [{ name: n.name, opType: 'Transpose', input: [n.inputs[0]!], output: [out], attribute: [ints('perm', n.attrs.perm)] }];
    case 'HardSwish':
      // ONNX's HardSwish has HardSigmoid's default slope 1/6 and offset 0.5; others (a fused x·HardSigmoid(x)) stay that pair.
      if (n.attrs.alpha !== 1 / 6 || n.attrs.beta !== 0.5) {
        return [
          { name: `${n.name}/gate`, opType: 'HardSigmoid', input: [n.inputs[0]!], output: [`${out}/gate`], attribute: [float('alpha', n.attrs.alpha), float('beta', n.attrs.beta)] },
          { name: n.name, opType: 'Mul', input: [n.inputs[0]!, `${out}/gate`], output: [out] },
        ];
      }
      return [{ name: n.name, opType: n.op, input: [n.inputs[0]!], output: [out] }];
    case 'Sigmoid':
    case 'Erf':
      return [{ name: n.name, opType: n.op, input: [n.inputs[0]!], output: [out] }];
    case 'HardSigmoid':
      return [{ name: n.name, opType: 'HardSigmoid', input: [n.inputs[0]!], output: [out], attribute: [float('alpha', n.attrs.alpha), float('beta', n.attrs.beta)] }];
    case 'Gelu': {
      const c = (what: string, v: number): string => {
        extraInits.push({ name: `${n.name}/${what}`, dims: [], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.of(v)) });
        return `${n.name}/${what}`;
      };
      const x = n.inputs[0]!;
      return [
        { name: `${n.name}/div`, opType: 'Div', input: [x, c('divisor', n.attrs.alpha)], output: [`${out}/div`] },
        { name: `${n.name}/erf`, opType: 'Erf', input: [`${out}/div`], output: [`${out}/erf`] },
        { name: `${n.name}/add`, opType: 'Add', input: [`${out}/erf`, c('one', 1)], output: [`${out}/add`] },
        { name: `${n.name}/mul`, opType: 'Mul', input: [x, `${out}/add`], output: [`${out}/mul`] },
        { name: n.name, opType: 'Mul', input: [`${out}/mul`, c('scale', n.attrs.beta)], output: [out] },
      ];
    }
    case 'Silu':
      return [
        { name: `${n.name}/sigmoid`, opType: 'Sigmoid', input: [n.inputs[0]!], output: [`${out}/sigmoid`] },
        { name: n.name, opType: 'Mul', input: [n.inputs[0]!, `${out}/sigmoid`], output: [out] },
      ];
    case 'Clip':
      return [clipNode(n.name, n.inputs[0]!, out, n.attrs.alpha, n.attrs.beta, extraInits)];
    case 'Mul':
    case 'Sub':
    case 'Div':
      if (!n.attrs.relu) return [{ name: n.name, opType: n.op, input: n.inputs.slice(0, 2), output: [out] }];
      return [
        { name: n.name, opType: n.op, input: n.inputs.slice(0, 2), output: [`${out}/${n.op.toLowerCase()}`] },
        { name: `${n.name}/relu`, opType: 'Relu', input: [`${out}/${n.op.toLowerCase()}`], output: [out] },
      ];
    case 'Concat':
      return [{ name: n.name, opType: 'Concat', input: [...n.inputs], output: [out], attribute: [int('axis', n.attrs.axis)] }];
    case 'Slice': {
      const a = n.attrs;
      const pre: NodeProtoLike[] = [];
      const names = (['starts', 'ends', 'axes', 'steps'] as const).map((k) => {
        const e = k === 'starts' ? a.startsExpr : k === 'ends' ? a.endsExpr : undefined;
        if (e) pre.push(...dimExprNodes(n, e, `${n.name}/${k}`, extraInits));
        else extraInits.push(int64Tensor(`${n.name}/${k}`, a[k]));
        return `${n.name}/${k}`;
      });
      return [...pre, { name: n.name, opType: 'Slice', input: [n.inputs[0]!, ...names], output: [out] }];
    }
    case 'Softmax':
      if (n.attrs.legacy) throw new Error(`Node "${n.name}": an opset < 13 Softmax over the flattened dims cannot be exported at opset ${EXPORT_OPSET}`);
      return [{ name: n.name, opType: 'Softmax', input: [n.inputs[0]!], output: [out], attribute: [int('axis', n.attrs.axis)] }];
    case 'LayerNormalization':
      return [{ name: n.name, opType: 'LayerNormalization', input: n.inputs.filter((v, i) => i < 2 || v !== ''), output: [out], attribute: [int('axis', n.attrs.axis), float('epsilon', n.attrs.epsilon)] }];
    case 'Requantize': {
      // One multiplier of 1 over an int8/uint8 range (a DequantizeLinear with its own scale, or MatMulInteger's
      // integer input): a QuantizeLinear → DequantizeLinear pair whose scales differ. Per-channel ones are the
      // planner's integer form, which has no ONNX equivalent.
      const a = n.attrs;
      const int8 = a.qmin === -128 && a.qmax === 127;
      if (a.multipliers.length !== 1 || a.multipliers[0] !== 1 || !(int8 || (a.qmin === 0 && a.qmax === 255))) {
        throw new Error(`Node "${n.name}": Requantize is the integer form a loaded model runs quantized convolutions in; export the model's graph before load() optimises it`);
      }
      return quantizeDequantize(n.name, n.inputs[0]!, out, a.divisor, a.outScale, a.zeroPoint, int8, extraInits);
    }
    case 'Reorder':
      // The same tensor in another layout: nothing in ONNX's terms.
      return [{ name: n.name, opType: 'Identity', input: [n.inputs[0]!], output: [out] }];
    case 'QLinearAdd':
      throw new Error(`Node "${n.name}": QLinearAdd is the integer form a loaded model runs quantized adds in; export the model's graph before load() optimises it`);
    case 'QuantizeDequantize': {
      const a = n.attrs;
      return quantizeDequantize(n.name, n.inputs[0]!, out, a.scale, a.scale, a.zeroPoint, a.qmin < 0, extraInits);
    }
    case 'Gemm': {
      let inputs = n.inputs.slice(0, 3);
      const pre: NodeProtoLike[] = [];
      if (n.attrs.weightQuant) {
        const q = quantizedWeightInputs(n, n.attrs.weightQuant, x.graph, extraInits, x.replaced);
        pre.push(...q.nodes);
        inputs[1] = q.w;
        inputs[2] = q.b;
      }
      inputs = inputs.filter((s, i) => i < 2 || (s !== '' && s !== undefined));
      // Over the last axis of an N-D input: a Gemm of the leading dims flattened, reshaped back.
      const rank = x.shapes.get(n.inputs[0]!)?.length ?? 2;
      const flat = rank > 2 ? `${out}/rows` : out;
      if (rank > 2) {
        const k = x.graph.initializers.get(n.inputs[1]!)!.dims;
        extraInits.push(int64Tensor(`${flat}/shape`, [-1, k[1]!]), int64Tensor(`${out}/ends`, [-1]), int64Tensor(`${out}/starts`, [0]), int64Tensor(`${out}/n`, [k[0]!]));
        pre.push({ name: `${n.name}/rows`, opType: 'Reshape', input: [inputs[0]!, `${flat}/shape`], output: [`${flat}/in`] });
        inputs[0] = `${flat}/in`;
      }
      const g: NodeProtoLike = { name: n.name, opType: 'Gemm', input: inputs, output: [n.attrs.relu ? `${flat}/gemm` : flat], attribute: [int('transB', 1)] };
      const post: NodeProtoLike[] = n.attrs.relu ? [{ name: `${n.name}/relu`, opType: 'Relu', input: [`${flat}/gemm`], output: [flat] }] : [];
      if (rank > 2) {
        post.push(
          { name: `${n.name}/shape`, opType: 'Shape', input: [n.inputs[0]!], output: [`${out}/xshape`] },
          { name: `${n.name}/lead`, opType: 'Slice', input: [`${out}/xshape`, `${out}/starts`, `${out}/ends`], output: [`${out}/lead`] },
          { name: `${n.name}/outshape`, opType: 'Concat', input: [`${out}/lead`, `${out}/n`], output: [`${out}/outshape`], attribute: [int('axis', 0)] },
          { name: `${n.name}/unflatten`, opType: 'Reshape', input: [flat, `${out}/outshape`], output: [out] },
        );
      }
      return [...pre, g, ...post];
    }
  }
}

/** QuantizeLinear(x, quantizeScale, zp) → DequantizeLinear(·, dequantizeScale, zp), per tensor. */
function quantizeDequantize(name: string, x: string, out: string, quantizeScale: number, dequantizeScale: number, zp: number, int8: boolean, extraInits: TensorProtoLike[]): NodeProtoLike[] {
  const scale = `${name}/scale`, zeroPoint = `${name}/zero_point`;
  const dqScale = dequantizeScale === quantizeScale ? scale : `${name}/dequantize_scale`;
  extraInits.push({ name: scale, dims: [], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.of(quantizeScale)) });
  if (dqScale !== scale) extraInits.push({ name: dqScale, dims: [], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.of(dequantizeScale)) });
  extraInits.push({ name: zeroPoint, dims: [], dataType: int8 ? DataType.INT8 : DataType.UINT8, rawData: Uint8Array.of(zp & 0xff) });
  return [
    { name: `${name}/quantize`, opType: 'QuantizeLinear', input: [x, scale, zeroPoint], output: [`${out}/q`] },
    { name, opType: 'DequantizeLinear', input: [`${out}/q`, dqScale, zeroPoint], output: [out] },
  ];
}

/** A dynamic dim 0 is the batch (batchParam); other dynamic dims (height, width) get names of their own. */
function valueInfo(name: string, dims: number[], batchParam: string): ValueInfoProtoLike {
  const param = (i: number): string => (i === 0 ? batchParam : `${name}_dim${i}`);
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d, i) => (d < 0 ? { dimParam: param(i) } : { dimValue: d })) } } },
  };
}

/** The lowest opset at or above EXPORT_OPSET that defines every op of the graph (HardSwish: 14, LayerNormalization: 17). */
function exportOpset(nodes: readonly Node[]): number {
  const since: Partial<Record<Node['op'], number>> = { HardSwish: 14, LayerNormalization: 17 };
  return Math.max(EXPORT_OPSET, ...nodes.map((n) => since[n.op] ?? 0));
}

/** Encode a graph as an ONNX ModelProto. */
export function toOnnx(graph: Graph, options: ExportOptions = {}): Uint8Array {
  const batchParam = options.batchParam ?? 'N';
  const nodes = topoSort(graph);
  const shapes = inferShapes({ ...graph, nodes } as Graph);
  const extras: ExportExtras = { graph, shapes, inits: [], replaced: new Set() };
  const extraInits = extras.inits;
  const onnxNodes = nodes.flatMap((n) => expandNode(n, extras));
  const initializer: TensorProtoLike[] = [];
  const stillRead = new Set(onnxNodes.flatMap((n) => n.input ?? []));
  for (const [name, t] of graph.initializers) {
    if (extras.replaced.has(name) && !stillRead.has(name)) continue; // written quantized instead
    initializer.push({ name, dims: t.dims, dataType: DataType.FLOAT, rawData: float32ToLE(t.data) });
  }
  initializer.push(...extraInits);
  const outNames = new Set(graph.outputs.map((o) => o.name));
  const outputs = graph.outputs.map((o) => valueInfo(o.name, shapes.get(o.name) ?? o.dims, batchParam));
  for (const name of options.extraOutputs ?? []) {
    if (outNames.has(name)) continue;
    const d = shapes.get(name);
    if (!d || graph.initializers.has(name)) throw new Error(`extraOutputs: "${name}" is not an activation of the graph`);
    outNames.add(name);
    outputs.push(valueInfo(name, d, batchParam));
  }
  const model = {
    irVersion: EXPORT_IR_VERSION,
    producerName: options.producerName ?? 'resnode',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: exportOpset(nodes) }],
    graph: {
      name: graph.name,
      node: onnxNodes,
      initializer,
      input: graph.inputs.map((v) => valueInfo(v.name, v.dims, batchParam)),
      output: outputs,
    },
  };
  return ModelProto.encode(model as never).finish();
}

// Graph.toOnnx() writes through this module (see setOnnxWriter in graph.ts).
setOnnxWriter((graph) => toOnnx(graph));

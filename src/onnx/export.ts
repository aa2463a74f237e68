// Graph → ONNX bytes (opset 13, or the first opset with every op used; IR version 8). Fused nodes are expanded back to
// standard ops (Conv+Add+Relu, Add+Relu, Gemm+Relu), so ONNX Runtime runs the result.
import type { Graph, Node } from '../graph/graph.js';
import { inferShapes, setOnnxWriter, topoSort } from '../graph/graph.js';
import { AttrType, DataType, ModelProto, float32ToLE } from './proto.js';
import type { AttributeProtoLike, NodeProtoLike, TensorProtoLike, ValueInfoProtoLike } from './proto.js';
import { quantizedWeightInputs } from './export-qdq.js';

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

function int64Tensor(name: string, values: number[]): TensorProtoLike {
  const raw = new Uint8Array(values.length * 8);
  const dv = new DataView(raw.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: raw };
}

/** What expanding a node may add besides its nodes: initializers, and the float initializers written quantized instead. */
interface ExportExtras { graph: Graph; inits: TensorProtoLike[]; replaced: Set<string> }

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
      let cur = a.residual !== undefined || a.relu ? `${out}/conv` : out;
      nodes.push({ name: n.name, opType: 'Conv', input: inputs, output: [cur], attribute });
      if (a.residual !== undefined) {
        const next = a.relu ? `${out}/add` : out;
        nodes.push({ name: `${n.name}/add`, opType: 'Add', input: [cur, a.residual], output: [next] });
        cur = next;
      }
      if (a.relu) nodes.push({ name: `${n.name}/relu`, opType: 'Relu', input: [cur], output: [out] });
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
      extraInits.push(int64Tensor(shapeName, n.attrs.shape));
      return [{ name: n.name, opType: 'Reshape', input: [n.inputs[0]!, shapeName], output: [out] }];
    }
    case 'Transpose':
      return [{ name: n.name, opType: 'Transpose', input: [n.inputs[0]!], output: [out], attribute: [ints('perm', n.attrs.perm)] }];
    case 'Sigmoid':
    case 'Erf':
    case 'HardSwish':
      return [{ name: n.name, opType: n.op, input: [n.inputs[0]!], output: [out] }];
    case 'HardSigmoid':
      return [{ name: n.name, opType: 'HardSigmoid', input: [n.inputs[0]!], output: [out], attribute: [float('alpha', n.attrs.alpha), float('beta', n.attrs.beta)] }];
    case 'Silu':
      return [
        { name: `${n.name}/sigmoid`, opType: 'Sigmoid', input: [n.inputs[0]!], output: [`${out}/sigmoid`] },
        { name: n.name, opType: 'Mul', input: [n.inputs[0]!, `${out}/sigmoid`], output: [out] },
      ];
    case 'Clip': {
      const bounds = [[n.attrs.alpha, 'min'], [n.attrs.beta, 'max']] as const;
      const input = [n.inputs[0]!];
      for (const [v, what] of bounds) {
        const c = `${n.name}/${what}`;
        extraInits.push({ name: c, dims: [], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.of(v)) });
        input.push(c);
      }
      return [{ name: n.name, opType: 'Clip', input, output: [out] }];
    }
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
      const names = (['starts', 'ends', 'axes', 'steps'] as const).map((k) => {
        extraInits.push(int64Tensor(`${n.name}/${k}`, a[k]));
        return `${n.name}/${k}`;
      });
      return [{ name: n.name, opType: 'Slice', input: [n.inputs[0]!, ...names], output: [out] }];
    }
    case 'Softmax':
      if (n.attrs.legacy) throw new Error(`Node "${n.name}": an opset < 13 Softmax over the flattened dims cannot be exported at opset ${EXPORT_OPSET}`);
      return [{ name: n.name, opType: 'Softmax', input: [n.inputs[0]!], output: [out], attribute: [int('axis', n.attrs.axis)] }];
    case 'LayerNormalization':
      return [{ name: n.name, opType: 'LayerNormalization', input: n.inputs.filter((v, i) => i < 2 || v !== ''), output: [out], attribute: [int('axis', n.attrs.axis), float('epsilon', n.attrs.epsilon)] }];
    case 'Requantize':
    case 'QLinearAdd':
      throw new Error(`Node "${n.name}": ${n.op} is the integer form a loaded model runs quantized convolutions and adds in; export the model's graph before load() optimises it`);
    case 'QuantizeDequantize': {
      const a = n.attrs;
      const scale = `${n.name}/scale`, zeroPoint = `${n.name}/zero_point`;
      const int8 = a.qmin < 0;
      extraInits.push({ name: scale, dims: [], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.of(a.scale)) });
      extraInits.push({ name: zeroPoint, dims: [], dataType: int8 ? DataType.INT8 : DataType.UINT8, rawData: Uint8Array.of(a.zeroPoint & 0xff) });
      return [
        { name: `${n.name}/quantize`, opType: 'QuantizeLinear', input: [n.inputs[0]!, scale, zeroPoint], output: [`${out}/q`] },
        { name: n.name, opType: 'DequantizeLinear', input: [`${out}/q`, scale, zeroPoint], output: [out] },
      ];
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
      const g: NodeProtoLike = { name: n.name, opType: 'Gemm', input: inputs, output: [n.attrs.relu ? `${out}/gemm` : out], attribute: [int('transB', 1)] };
      if (!n.attrs.relu) return [...pre, g];
      return [...pre, g, { name: `${n.name}/relu`, opType: 'Relu', input: [`${out}/gemm`], output: [out] }];
    }
  }
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
  const extras: ExportExtras = { graph, inits: [], replaced: new Set() };
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

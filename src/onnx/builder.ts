// Hand-craft raw ONNX models (any op, any opset) without going through the
// Graph IR: used by the tests to exercise the importer on ops and attribute
// forms our exporter never writes (Identity, Sum, Pad, auto_pad, float_data …).
import { AttrType, DataType, ModelProto, float32ToLE } from './proto.js';
import type { AttributeProtoLike, NodeProtoLike, TensorProtoLike, ValueInfoProtoLike } from './proto.js';

export type AttrValue = number | number[] | string | { floats: number[] } | { float: number } | { tensor: TensorProtoLike };

export interface RawNodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Integers become INT(S); use { float } / { floats } for FLOAT(S). */
  attrs?: Record<string, AttrValue>;
}

export interface RawModelSpec {
  opset?: number;
  irVersion?: number;
  /** dims: numbers, or a string for a symbolic dim. */
  inputs: { name: string; dims: (number | string)[]; elemType?: number }[];
  outputs: { name: string; dims?: (number | string)[] }[];
  nodes: RawNodeSpec[];
  initializers?: TensorProtoLike[];
}

function attr(name: string, v: AttrValue): AttributeProtoLike {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  return { name, type: AttrType.TENSOR, t: v.tensor };
}

function vi(name: string, dims: (number | string)[] | undefined, elemType = DataType.FLOAT): ValueInfoProtoLike {
  return { name, type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } : {}) } } };
}

/** A float tensor stored as raw_data (default) or float_data. */
export function floatTensor(name: string, dims: number[], data: ArrayLike<number>, as: 'raw' | 'float_data' = 'raw'): TensorProtoLike {
  const f = Float32Array.from(data);
  return as === 'raw' ? { name, dims, dataType: DataType.FLOAT, rawData: float32ToLE(f) } : { name, dims, dataType: DataType.FLOAT, floatData: [...f] };
}

/** An int64 tensor stored as raw_data (default) or int64_data. */
export function int64Tensor(name: string, dims: number[], data: number[], as: 'raw' | 'int64_data' = 'raw'): TensorProtoLike {
  if (as === 'int64_data') return { name, dims, dataType: DataType.INT64, int64Data: data };
  const raw = new Uint8Array(data.length * 8);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: DataType.INT64, rawData: raw };
}

/** An INT8, UINT8 or INT32 tensor (quantized weights, zero points, biases) stored as raw_data. */
export function integerTensor(name: string, dims: number[], data: number[], dataType: DataType.INT8 | DataType.UINT8 | DataType.INT32): TensorProtoLike {
  const bytes = dataType === DataType.INT32 ? new Uint8Array(Int32Array.from(data).buffer) : dataType === DataType.INT8 ? new Uint8Array(Int8Array.from(data).buffer) : Uint8Array.from(data);
  return { name, dims, dataType, rawData: bytes };
}

export function encodeRawModel(spec: RawModelSpec): Uint8Array {
  const model = {
    irVersion: spec.irVersion ?? 8,
    producerName: 'resnode-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'crafted',
      node: spec.nodes.map((n, i): NodeProtoLike => ({
        name: n.name ?? `${n.op}_${i}`, opType: n.op, domain: n.domain ?? '', input: n.inputs, output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
      })),
      initializer: spec.initializers ?? [],
      input: spec.inputs.map((v) => vi(v.name, v.dims, v.elemType)),
      output: spec.outputs.map((v) => vi(v.name, v.dims)),
    },
  };
  return ModelProto.encode(model as never).finish();
}

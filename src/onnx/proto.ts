// The ONNX protobuf schema, loaded from the committed descriptor (no .proto at
// run time, no network), plus the plain-object shapes we read and write.
import protobuf from 'protobufjs';
import { onnxSchema } from './onnx-schema.js';

const root = protobuf.Root.fromJSON(onnxSchema);
export const ModelProto = root.lookupType('onnx.ModelProto');
export const TensorProto = root.lookupType('onnx.TensorProto');

/** protobufjs gives int64 as number or Long. */
export type Int64 = number | { toNumber(): number; low: number; high: number };
export function toNum(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export const enum AttrType { FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7, STRINGS = 8 }
export const enum DataType { FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, BOOL = 9, FLOAT16 = 10, DOUBLE = 11, BFLOAT16 = 16 }
export const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

export interface TensorProtoLike {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  rawData?: Uint8Array;
  dataLocation?: number;
  externalData?: { key?: string; value?: string }[];
}
export interface AttributeProtoLike {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProtoLike;
  floats?: number[];
  ints?: Int64[];
  g?: unknown;
}
export interface NodeProtoLike {
  name?: string;
  opType?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProtoLike[];
}
export interface DimLike { dimValue?: Int64; dimParam?: string }
export interface ValueInfoProtoLike {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: DimLike[] } } };
}
export interface GraphProtoLike {
  name?: string;
  node?: NodeProtoLike[];
  initializer?: TensorProtoLike[];
  sparseInitializer?: unknown[];
  input?: ValueInfoProtoLike[];
  output?: ValueInfoProtoLike[];
  valueInfo?: ValueInfoProtoLike[];
}
export interface ModelProtoLike {
  irVersion?: Int64;
  opsetImport?: { domain?: string; version?: Int64 }[];
  producerName?: string;
  producerVersion?: string;
  graph?: GraphProtoLike;
  functions?: unknown[];
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a Float32Array in little-endian order (a view when the host is LE). */
export function float32ToLE(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return out;
}

// Reads ONNX's backend test cases (model.onnx + test_data_set_*/{input,output}_*.pb)
// from Debian's libonnx-testdata, for the conformance runner.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { onnxSchema } from '../../src/onnx/onnx-schema.js';
import type { ModelProtoLike, TensorProtoLike } from '../../src/onnx/proto.js';

export const TESTDATA_ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
const root = protobuf.Root.fromJSON(onnxSchema);
const TensorProto = root.lookupType('onnx.TensorProto');
const ModelProto = root.lookupType('onnx.ModelProto');

export const testdataAvailable = (): boolean => existsSync(join(TESTDATA_ROOT, 'node'));

export interface ConformanceCase {
  /** e.g. "node/test_conv_with_strides_padding" */
  id: string;
  expect: 'pass' | 'unsupported';
  reason?: string;
}

/** Lines "node/test_x  pass" or "node/test_y  unsupported: why"; '#' starts a comment. */
export function readCaseList(path: string): ConformanceCase[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const m = /^(\S+)\s+(pass|unsupported)(?::\s*(.*))?$/.exec(l);
      if (!m) throw new Error(`bad line in ${path}: ${l}`);
      return { id: m[1]!, expect: m[2] as 'pass' | 'unsupported', reason: m[3] };
    });
}

/** The values of a FLOAT tensor; empty for other types, which the importer refuses on its own. */
function tensorFloats(t: TensorProtoLike): Float32Array {
  if (t.dataType !== 1) return new Float32Array(0);
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

const dimsOf = (t: TensorProtoLike) => (t.dims ?? []).map(Number);

/** Which inputs of each op are weights: our runtime packs these at load, so they must be constants. */
const WEIGHT_SLOTS: Record<string, number[]> = {
  Conv: [1, 2],
  Gemm: [1, 2],
  MatMul: [1],
  BatchNormalization: [1, 2, 3, 4],
  Reshape: [1],
  // Bounds, index lists and affine parameters: constants in the models resnode runs.
  Clip: [1, 2],
  Slice: [1, 2, 3, 4],
  Split: [1],
  LayerNormalization: [1, 2],
};

export interface LoadedCase {
  /** The model with weight-slot graph inputs bound to their test values as initializers. */
  bytes: Uint8Array;
  feeds: { name: string; dims: number[]; data: Float32Array }[];
  outputs: { name: string; dims: number[]; data: Float32Array }[];
}

export function loadCase(id: string): LoadedCase {
  const dir = join(TESTDATA_ROOT, id);
  const model = ModelProto.toObject(ModelProto.decode(readFileSync(join(dir, 'model.onnx'))), { longs: Number }) as ModelProtoLike;
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const graphInputs = (g.input ?? []).filter((v) => !inits.has(v.name));
  const data = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort()[0];
  if (!data) throw new Error(`${id} has no test_data_set_*`);
  const read = (f: string) => TensorProto.toObject(TensorProto.decode(readFileSync(join(dir, data, f))), { longs: Number }) as TensorProtoLike;

  const weightInputs = new Set<string>();
  for (const n of g.node ?? []) for (const i of WEIGHT_SLOTS[n.opType ?? ''] ?? []) if (n.input?.[i]) weightInputs.add(n.input[i]!);

  const feeds: LoadedCase['feeds'] = [];
  graphInputs.forEach((v, k) => {
    const t = read(`input_${k}.pb`);
    if (weightInputs.has(v.name!)) {
      (g.initializer ??= []).push({ ...t, name: v.name });
      g.input = g.input!.filter((x) => x.name !== v.name);
    } else feeds.push({ name: v.name!, dims: dimsOf(t), data: tensorFloats(t) });
  });
  const outputs = (g.output ?? []).map((v, k) => {
    const t = read(`output_${k}.pb`);
    return { name: v.name!, dims: dimsOf(t), data: tensorFloats(t) };
  });
  return { bytes: ModelProto.encode(ModelProto.fromObject(model)).finish(), feeds, outputs };
}

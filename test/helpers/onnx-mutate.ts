// Editing a serialized ONNX model as a plain object, for tests of malformed models.
import { ModelProto } from '../../src/onnx/proto.js';

export type ModelObj = {
  graph: {
    initializer: Record<string, unknown>[];
    input: Record<string, unknown>[];
    node: { opType: string; input: string[]; attribute?: Record<string, unknown>[] }[];
  };
};

export function mutate(bytes: Uint8Array, edit: (m: ModelObj) => void): Uint8Array {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { defaults: false }) as ModelObj;
  edit(m);
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

/** The initializer called name (throws when there is none, so that a renamed fixture fails loudly). */
export function init(m: ModelObj, name: string): Record<string, unknown> {
  const t = m.graph.initializer.find((i) => i.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  return t;
}

/** The little-endian bytes of float32 values (raw_data). */
export const floatBytes = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

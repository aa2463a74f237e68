// Every way an ONNX model can fail to load gives one clear OnnxImportError.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromOnnx, OnnxImportError } from '../src/onnx/import.js';
import { encodeRawModel, floatTensor } from '../src/onnx/builder.js';
import { ModelError } from '../src/errors.js';
import { resnet } from '../src/graph/resnet.js';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
const resnet18 = resnet({ depth: 18, seed: 0 }).toOnnx();
const plain = new Uint8Array(readFileSync(join(MODELS, 'plain.onnx')));

const importError = (t: import('ava').ExecutionContext, bytes: Uint8Array, re: RegExp) => {
  const err = t.throws(() => fromOnnx(bytes), { instanceOf: OnnxImportError, message: re });
  t.true(err instanceof ModelError);
  t.false(/\n\s+at .*protobufjs/.test(err!.message), 'no protobuf stack in the message');
  return err as OnnxImportError;
};

test('truncated files say so, wherever they are cut', (t) => {
  for (const n of [2, 5, 10, 1000, resnet18.length >> 1, resnet18.length - 3, resnet18.length - 1]) {
    importError(t, resnet18.subarray(0, n), /^Cannot load ONNX model: the file is truncated or corrupt/);
  }
  importError(t, plain.subarray(0, plain.length - 3), /truncated/);
});

test('bytes that are not ONNX say so', (t) => {
  const cases: Uint8Array[] = [
    new TextEncoder().encode('hello world, this is not onnx\n'),
    new TextEncoder().encode('{"a": 1}'),
    new Uint8Array(readFileSync(join(MODELS, 'plain.input.npy'))),
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    new Uint8Array(100),
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24),
  ];
  for (const b of cases) importError(t, b, /^Cannot load ONNX model: the data is not an ONNX model/);
  importError(t, new Uint8Array(0), /empty/);
  t.throws(() => fromOnnx('model.onnx' as unknown as Uint8Array), { instanceOf: TypeError, message: /Expected a Uint8Array/ });
});

test('unsupported ops: one error listing every unsupported node, plus other problems', (t) => {
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [1, 3, 4, 4] }],
    outputs: [{ name: 'y' }],
    initializers: [floatTensor('w', [3, 3, 1, 1], new Float32Array(9))],
    nodes: [
      { op: 'LRN', name: 'norm1', inputs: ['x'], outputs: ['a'], attrs: { size: 3 } },
      { op: 'Conv', name: 'conv_dyn_weight', inputs: ['a', 'a'], outputs: ['b'] },
      { op: 'Hardmax', name: 'prob', inputs: ['b'], outputs: ['c'] },
      { op: 'Celu', name: 'gate', inputs: ['c'], outputs: ['d'] },
      { op: 'FusedConv', domain: 'com.microsoft', name: 'ms_conv', inputs: ['d', 'w'], outputs: ['e'] },
      { op: 'Hardmax', name: 'prob2', inputs: ['e'], outputs: ['y'] },
    ],
  });
  const err = importError(t, bytes, /5 node\(s\) use unsupported ops \(LRN, Hardmax, Celu, com\.microsoft::FusedConv\)/);
  for (const n of ['LRN (node "norm1")', 'Hardmax (node "prob")', 'Celu (node "gate")', 'com.microsoft::FusedConv (node "ms_conv")', 'Hardmax (node "prob2")']) {
    t.true(err.message.includes(n), n);
  }
  t.regex(err.message, /node "conv_dyn_weight" \(Conv\): weight \(input 1 "a"\) must be a constant float initializer/);
  t.deepEqual(err.unsupported.map((u) => u.node), ['norm1', 'prob', 'gate', 'ms_conv', 'prob2']);
});

test('external data in bytes (no path to read it from) is rejected with the file it points to', (t) => {
  const bytes = encodeRawModel({
    inputs: [{ name: 'x', dims: [1, 3, 4, 4] }],
    outputs: [{ name: 'y' }],
    initializers: [{ name: 'w', dims: [3, 3, 1, 1], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }] }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }],
  });
  importError(t, bytes, /initializer "w" \("weights\.bin"\) uses external data, which needs the model's path: call load\(path\)/);
});

test('other unloadable models: opset, element types, dynamic dims, bad data sizes, training BN, shape errors', (t) => {
  const conv = (extra: Partial<Parameters<typeof encodeRawModel>[0]> = {}) => encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [1, 3, 4, 4] }],
    outputs: [{ name: 'y' }],
    initializers: [floatTensor('w', [2, 3, 1, 1], new Float32Array(6))],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }],
    ...extra,
  });
  importError(t, conv({ opset: 22 }), /opset 22 is not supported \(supported: 1–21\)/);
  importError(t, conv({ opset: 30 }), /opset 30 is not supported/);
  importError(t, conv({ inputs: [{ name: 'x', dims: [1, 3, 4, 4], elemType: 7 }] }), /input "x" has element type INT64; only FLOAT/);
  // Dynamic batch, height and width load (issue 18); a negative stated dim does not.
  t.deepEqual(fromOnnx(conv({ inputs: [{ name: 'x', dims: ['N', 3, 'H', 'W'] }] })).inputs[0]!.dims, [-1, 3, -1, -1]);
  importError(t, conv({ inputs: [{ name: 'x', dims: [1, 3, -4, 4] }] }), /input "x" has dim -4 at index 2; a stated dim must be a positive size/);
  importError(t, conv({ initializers: [floatTensor('w', [2, 3, 1, 1], new Float32Array(5))] }), /initializer "w" raw_data has 20 bytes but dims \[2, 3, 1, 1\] need 24/);
  importError(t, conv({ initializers: [{ name: 'w', dims: [2, 3, 1, 1], dataType: 8, rawData: new Uint8Array(12) }] }), /initializer "w" has data type STRING; only FLOAT, FLOAT16, BFLOAT16 and DOUBLE/);
  importError(t, conv({ initializers: [floatTensor('w', [2, 5, 1, 1], new Float32Array(10))] }), /input has 3 channels but weight \[2, 5, 1, 1\]/);
  importError(t, conv({ outputs: [{ name: 'y', dims: [1, 7, 4, 4] }] }), /output "y" is declared \[1, 7, 4, 4\] but computes to \[1, 2, 4, 4\]/);
  importError(t, encodeRawModel({
    opset: 15, inputs: [{ name: 'x', dims: [1, 1, 2, 2] }], outputs: [{ name: 'y' }],
    initializers: ['s', 'b', 'm', 'v'].map((n) => floatTensor(n, [1], [1])),
    nodes: [{ op: 'BatchNormalization', name: 'bn', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { training_mode: 1 } }],
  }), /node "bn" \(BatchNormalization\): training_mode=1 is not supported/);
  importError(t, encodeRawModel({
    opset: 13, inputs: [{ name: 'x', dims: [1, 2] }], outputs: [{ name: 'y' }],
    nodes: [{ op: 'Relu', name: 'A', inputs: ['y'], outputs: ['z'] }, { op: 'Relu', name: 'B', inputs: ['z'], outputs: ['y'] }],
  }), /cycle/);
});

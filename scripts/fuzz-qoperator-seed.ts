// The fuzzer's QOperator seed: a small quantized network in ONNX Runtime's
// QOperator form (QuantizeLinear → QLinearConv → MaxPool on uint8 →
// QLinearConv → QLinearAdd → QLinearConcat → QLinearGlobalAveragePool →
// Flatten → QGemm and QLinearMatMul → DequantizeLinear), built from raw nodes
// so that its structure and parameters can be mutated.
import { encodeRawModel, floatTensor, integerTensor } from '../src/onnx/builder.js';
import type { RawNodeSpec } from '../src/onnx/builder.js';
import type { TensorProtoLike } from '../src/onnx/proto.js';
import { DataType } from '../src/onnx/proto.js';

export function qoperatorSeed(): Uint8Array {
  const inits: TensorProtoLike[] = [];
  const nodes: RawNodeSpec[] = [];
  /** A (scale, uint8 zero point) pair named after the value it quantizes. */
  const params = (v: string, scale: number, zp: number): [string, string] => {
    inits.push(floatTensor(`${v}.s`, [], [scale]), integerTensor(`${v}.z`, [], [zp], DataType.UINT8));
    return [`${v}.s`, `${v}.z`];
  };
  /** int8 weights (per channel along axis 0 with `channels` rows, or per tensor) and an int32 bias. */
  const weights = (v: string, dims: number[], perChannel: boolean): string[] => {
    const n = dims.reduce((a, b) => a * b, 1);
    const channels = perChannel ? dims[0]! : 1;
    inits.push(integerTensor(`${v}.q`, dims, Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.7) * 100)), DataType.INT8));
    inits.push(floatTensor(`${v}.s`, perChannel ? [channels] : [], Array.from({ length: channels }, (_, i) => 0.01 + i * 0.001)));
    inits.push(integerTensor(`${v}.z`, perChannel ? [channels] : [], new Array(channels).fill(0), DataType.INT8));
    inits.push(integerTensor(`${v}.b`, [dims[0]!], Array.from({ length: dims[0]! }, (_, i) => i * 37 - 50), DataType.INT32));
    return [`${v}.q`, `${v}.s`, `${v}.z`, `${v}.b`];
  };
  const ms = 'com.microsoft';
  const [xs, xz] = params('x', 0.02, 128);
  nodes.push({ op: 'QuantizeLinear', inputs: ['x', xs, xz], outputs: ['xq'] });
  const [w1, w1s, w1z, b1] = weights('c1', [4, 3, 3, 3], true);
  const [a1s, a1z] = params('a1', 0.03, 0);
  nodes.push({ op: 'QLinearConv', inputs: ['xq', xs, xz, w1!, w1s!, w1z!, a1s, a1z, b1!], outputs: ['a1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] } });
  nodes.push({ op: 'MaxPool', inputs: ['a1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
  const [w2, w2s, w2z, b2] = weights('c2', [4, 2, 1, 1], false);
  const [a2s, a2z] = params('a2', 0.04, 120);
  nodes.push({ op: 'QLinearConv', inputs: ['p1', a1s, a1z, w2!, w2s!, w2z!, a2s, a2z, b2!], outputs: ['a2'], attrs: { kernel_shape: [1, 1], group: 2 } });
  const [a3s, a3z] = params('a3', 0.05, 0);
  nodes.push({ op: 'QLinearAdd', domain: ms, inputs: ['a2', a2s, a2z, 'p1', a1s, a1z, a3s, a3z], outputs: ['a3'] });
  const [a4s, a4z] = params('a4', 0.05, 10);
  nodes.push({ op: 'QLinearConcat', domain: ms, inputs: [a4s, a4z, 'a3', a3s, a3z, 'p1', a1s, a1z], outputs: ['a4'], attrs: { axis: 1 } });
  const [a5s, a5z] = params('a5', 0.01, 5);
  nodes.push({ op: 'QLinearGlobalAveragePool', domain: ms, inputs: ['a4', a4s, a4z, a5s, a5z], outputs: ['a5'], attrs: { channels_last: 0 } });
  nodes.push({ op: 'Flatten', inputs: ['a5'], outputs: ['f'], attrs: { axis: 1 } });
  const [w3, w3s, w3z, b3] = weights('fc', [5, 8], true);
  const [ys, yz] = params('y', 0.1, 128);
  nodes.push({ op: 'QGemm', domain: ms, inputs: ['f', a5s, a5z, w3!, w3s!, w3z!, b3!, ys, yz], outputs: ['yq'], attrs: { transB: 1 } });
  nodes.push({ op: 'DequantizeLinear', inputs: ['yq', ys, yz], outputs: ['y'] });
  inits.push(integerTensor('mm.q', [8, 3], Array.from({ length: 24 }, (_, i) => (i * 29) % 255 - 127), DataType.INT8), floatTensor('mm.s', [], [0.02]), integerTensor('mm.z', [], [0], DataType.INT8));
  const [zs, zz] = params('z', 0.1, 100);
  nodes.push({ op: 'QLinearMatMul', inputs: ['f', a5s, a5z, 'mm.q', 'mm.s', 'mm.z', zs, zz], outputs: ['zq'] });
  nodes.push({ op: 'DequantizeLinear', inputs: ['zq', zs, zz], outputs: ['z'] });
  return encodeRawModel({ inputs: [{ name: 'x', dims: ['N', 3, 8, 8] }], outputs: [{ name: 'y' }, { name: 'z' }], nodes, initializers: inits });
}

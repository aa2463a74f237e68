// The exporter's side of quantized weights: a Conv or Gemm whose attrs carry
// WeightQuant has its weight written as int8/uint8 (and its bias as int32)
// behind DequantizeLinear, as ONNX Runtime's quantize_static writes QDQ
// models, so that ORT runs the node in int8 rather than on float weights.
import type { ConvNode, GemmNode, Graph, WeightQuant } from '../graph/graph.js';
import { QUANT_RANGES, quantizeValue } from '../quant/linear.js';
import { AttrType, DataType, float32ToLE } from './proto.js';
import type { NodeProtoLike, TensorProtoLike } from './proto.js';

function scaleTensor(name: string, scales: readonly number[]): TensorProtoLike {
  return { name, dims: scales.length === 1 ? [] : [scales.length], dataType: DataType.FLOAT, rawData: float32ToLE(Float32Array.from(scales)) };
}

/** data quantized along axis 0 (rows of `inner` elements) with per-row or one scale/zero point. */
function quantizeRows(data: Float32Array, scales: readonly number[], zeroPoints: readonly number[], qmin: number, qmax: number): number[] {
  const inner = data.length / (scales.length === 1 ? 1 : scales.length);
  return Array.from(data, (v, i) => {
    const k = scales.length === 1 ? 0 : Math.floor(i / inner);
    return quantizeValue(v, scales[k]!, zeroPoints[k]!, qmin, qmax);
  });
}

/**
 * Writes n's weight (and bias) quantized: pushes their initializers to
 * `inits`, records the float initializers they replace in `replaced`, and
 * returns the DequantizeLinear nodes and the names the node reads instead.
 */
export function quantizedWeightInputs(n: ConvNode | GemmNode, wq: WeightQuant, graph: Graph, inits: TensorProtoLike[], replaced: Set<string>): { nodes: NodeProtoLike[]; w: string; b: string } {
  const axis = wq.scales.length === 1 ? [] : [{ name: 'axis', type: AttrType.INT, i: 0 }];
  const wName = n.inputs[1]!;
  const w = graph.initializers.get(wName)!;
  const { qmin, qmax } = QUANT_RANGES[wq.type];
  const q = quantizeRows(w.data, wq.scales, wq.zeroPoints, qmin, qmax);
  const bytes = wq.type === 'int8' ? new Uint8Array(Int8Array.from(q).buffer) : Uint8Array.from(q);
  const dataType = wq.type === 'int8' ? DataType.INT8 : DataType.UINT8;
  const zps = wq.type === 'int8' ? new Uint8Array(Int8Array.from(wq.zeroPoints).buffer) : Uint8Array.from(wq.zeroPoints);
  const base = `${n.name}/weight`;
  inits.push({ name: `${base}.quantized`, dims: w.dims, dataType, rawData: bytes });
  inits.push(scaleTensor(`${base}.scale`, wq.scales));
  inits.push({ name: `${base}.zero_point`, dims: wq.scales.length === 1 ? [] : [wq.scales.length], dataType, rawData: zps });
  const nodes: NodeProtoLike[] = [
    { name: `${base}/dequantize`, opType: 'DequantizeLinear', input: [`${base}.quantized`, `${base}.scale`, `${base}.zero_point`], output: [base], attribute: axis },
  ];
  replaced.add(wName);
  const bName = n.inputs[2] ?? '';
  if (!bName || !wq.biasScales) return { nodes, w: base, b: bName };
  const bias = graph.initializers.get(bName)!;
  const bq = quantizeRows(bias.data, wq.biasScales, wq.biasScales.map(() => 0), QUANT_RANGES.int32.qmin, QUANT_RANGES.int32.qmax);
  const bBase = `${n.name}/bias`;
  inits.push({ name: `${bBase}.quantized`, dims: bias.dims, dataType: DataType.INT32, rawData: new Uint8Array(Int32Array.from(bq).buffer) });
  inits.push(scaleTensor(`${bBase}.scale`, wq.biasScales));
  nodes.push({ name: `${bBase}/dequantize`, opType: 'DequantizeLinear', input: [`${bBase}.quantized`, `${bBase}.scale`], output: [bBase], attribute: wq.biasScales.length === 1 ? [] : axis });
  replaced.add(bName);
  return { nodes, w: base, b: bBase };
}

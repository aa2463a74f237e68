// Static post-training quantization: a float model and calibration batches in,
// a standard QDQ ONNX model out (as ONNX Runtime's quantize_static lays one
// out: uint8 activations per tensor, int8 symmetric weights per tensor or per
// output channel, int32 biases with scale = input scale × weight scale), which
// resnode and onnxruntime-node both run.
import { Graph, type ConvNode, type GemmNode, type Node, type QuantParams, type WeightQuant } from '../graph/graph.js';
import { fuseRelu } from '../graph/passes.js';
import { load } from '../model.js';
import { loadOnnxFile, fromOnnx } from '../onnx/import.js';
import { plainObject, oneOf, invalid } from '../is.js';
import { Tensor } from '../tensor.js';
import { QUANT_RANGES, dequantizeValue, quantizeValue } from './linear.js';
import { activationRange, newRange, type CalibrationMethod, type RangeAccumulator } from './calibrate.js';

export interface QuantizeOptions {
  /** Calibration batches for the model's (single) input, each [N, ...input dims]. */
  calibration: readonly Tensor[];
  /** One weight scale per output channel (default: one per tensor). */
  perChannel?: boolean;
  /** How an activation's range is chosen from the calibration values (default 'minmax'). */
  method?: CalibrationMethod;
  /** Called after each calibration batch (for progress bars). */
  onBatch?: (done: number, total: number) => void;
  threads?: number;
}

const METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];
/** Ops whose output is quantized with its own calibrated range. */
const CALIBRATED = new Set<Node['op']>(['Conv', 'Add', 'Gemm', 'AveragePool', 'GlobalAveragePool', 'Relu']);
/** Ops that move or select values: their output keeps their input's quantization. */
const PASS_THROUGH = new Set<Node['op']>(['MaxPool', 'Flatten', 'Reshape', 'Transpose']);

/** Activation quantization parameters (uint8, zero point in range) from a range that includes 0. */
export function activationParams(lo: number, hi: number): QuantParams {
  const { qmin, qmax } = QUANT_RANGES.uint8;
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  const scale = b > a ? Math.fround((b - a) / (qmax - qmin)) : 1;
  const zeroPoint = Math.min(qmax, Math.max(qmin, Math.round(qmin - a / scale)));
  return { scale, zeroPoint, qmin, qmax };
}

/** Symmetric int8 weights along the output channel; rewrites `data` to their dequantized values. */
function quantizeWeights(data: Float32Array, rows: number, perChannel: boolean): number[] {
  const inner = data.length / rows;
  const groups = perChannel ? rows : 1;
  const scales: number[] = [];
  for (let gi = 0; gi < groups; gi++) {
    let amax = 0;
    const from = perChannel ? gi * inner : 0, to = perChannel ? from + inner : data.length;
    for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(data[i]!));
    const s = amax > 0 ? Math.fround(amax / 127) : 1;
    scales.push(s);
    for (let i = from; i < to; i++) data[i] = dequantizeValue(quantizeValue(data[i]!, s, 0, -127, 127), s, 0);
  }
  return scales;
}

/** Quantizes `source` (a path, ONNX bytes or a Graph) and returns the QDQ model's ONNX bytes. */
export async function quantize(source: string | Uint8Array | Graph, options: QuantizeOptions): Promise<Uint8Array> {
  const where = 'quantize';
  const o = plainObject(where, 'options', options);
  const method = oneOf(where, 'options.method', o.method, METHODS, 'minmax');
  const perChannel = o.perChannel ?? false;
  if (typeof perChannel !== 'boolean') throw invalid(where, 'options.perChannel', 'a boolean', perChannel);
  if (o.onBatch !== undefined && typeof o.onBatch !== 'function') throw invalid(where, 'options.onBatch', 'a function', o.onBatch);
  const onBatch = options.onBatch;
  const threads = options.threads;
  const batches = o.calibration;
  if (!Array.isArray(batches) || batches.length === 0 || !batches.every((b) => b instanceof Tensor)) {
    throw invalid(where, 'options.calibration', 'a non-empty array of Tensor batches', batches);
  }
  const input = typeof source === 'string' ? await loadOnnxFile(source) : source instanceof Uint8Array ? fromOnnx(source) : source;
  if (input.nodes.some((n) => n.op === 'QuantizeDequantize')) throw new RangeError(`${where}: the model is already quantized (it has QuantizeLinear/DequantizeLinear nodes)`);
  if (input.inputs.length !== 1) throw new RangeError(`${where}: the model has ${input.inputs.length} inputs; only single-input models can be calibrated`);
  // BatchNorm folded, ReLUs fused into what they follow; residual adds stay separate (their inputs are quantized).
  const base = await load(input, { optimize: false, threads });
  const graph = fuseRelu(base.graph);
  await base.dispose();
  const model = await load(graph, { optimize: false, threads });
  const calibrated = [graph.inputs[0]!.name, ...graph.nodes.filter((n) => CALIBRATED.has(n.op)).map((n) => n.outputs[0]!)];
  const ranges = new Map<string, RangeAccumulator>(calibrated.map((v) => [v, newRange(method)]));
  try {
    for (const [i, batch] of batches.entries()) {
      const values = await model.run({ [graph.inputs[0]!.name]: batch }, { fetchIntermediates: true });
      for (const [name, r] of ranges) {
        const v = name === graph.inputs[0]!.name ? batch : values[name];
        if (!v) throw new Error(`quantize: calibration did not produce "${name}"`);
        if (v.type !== 'float32') throw new TypeError(`${where}: "${name}" is ${v.type}; calibration needs a float32 model`);
        r.add(v.data as Float32Array);
      }
      onBatch?.(i + 1, batches.length);
    }
  } finally {
    await model.dispose();
  }
  return quantizedGraph(graph, (name) => { const [lo, hi] = activationRange(ranges.get(name)!); return activationParams(lo, hi); }, perChannel).toOnnx();
}

/**
 * The QDQ graph: a QuantizeDequantize after the input and after every
 * calibrated node, pass-through nodes keeping their input's parameters, and
 * Conv/Gemm weights and biases quantized (their dequantized values replace
 * the float ones, so that resnode's run and ORT's int8 run compute the same).
 */
export function quantizedGraph(graph: Graph, paramsOf: (value: string) => QuantParams, perChannel: boolean): Graph {
  const nodes: Node[] = [];
  const initializers = new Map(graph.initializers);
  const rename = new Map<string, string>(); // float value → its quantized stand-in
  const params = new Map<string, QuantParams>();
  const addQdq = (value: string, q: QuantParams): void => {
    const out = `${value}/qdq`;
    nodes.push({ name: `${value}/QuantizeDequantize`, op: 'QuantizeDequantize', inputs: [value], outputs: [out], attrs: { ...q } });
    rename.set(value, out);
    params.set(out, q);
  };
  const inputName = graph.inputs[0]!.name;
  addQdq(inputName, paramsOf(inputName));
  for (const node of graph.nodes) {
    const n = { ...node, inputs: node.inputs.map((i) => rename.get(i) ?? i), attrs: { ...node.attrs } } as Node;
    if (n.op === 'Conv' || n.op === 'Gemm') quantizeNodeWeights(n, initializers, params.get(n.inputs[0]!), perChannel);
    nodes.push(n);
    const out = n.outputs[0]!;
    if (CALIBRATED.has(n.op)) addQdq(out, paramsOf(out));
    else if (PASS_THROUGH.has(n.op) && params.has(n.inputs[0]!)) addQdq(out, params.get(n.inputs[0]!)!);
  }
  // Graph outputs keep their names: the last QuantizeDequantize of each writes it.
  const outputs = graph.outputs.map((v) => ({ ...v }));
  for (const v of outputs) {
    const q = rename.get(v.name);
    if (!q) continue;
    for (const n of nodes) {
      if (n.outputs[0] === v.name) n.outputs[0] = `${v.name}/float`;
      if (n.inputs[0] === v.name) n.inputs[0] = `${v.name}/float`;
      n.inputs = n.inputs.map((i) => (i === q ? v.name : i));
      if (n.outputs[0] === q) n.outputs[0] = v.name;
    }
  }
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const name of initializers.keys()) if (!read.has(name)) initializers.delete(name); // the float weights replaced
  return new Graph({ name: graph.name, inputs: graph.inputs.map((v) => ({ ...v })), outputs, initializers, nodes });
}

function quantizeNodeWeights(n: ConvNode | GemmNode, initializers: Map<string, { dims: number[]; data: Float32Array }>, input: QuantParams | undefined, perChannel: boolean): void {
  if (!input) return; // its input is not quantized: the node stays float
  const wName = n.inputs[1]!;
  const w = initializers.get(wName)!;
  const data = Float32Array.from(w.data);
  const scales = quantizeWeights(data, w.dims[0]!, perChannel);
  const qw = `${n.name}.weight_int8`;
  initializers.set(qw, { dims: [...w.dims], data });
  n.inputs[1] = qw;
  const wq: WeightQuant = { type: 'int8', scales, zeroPoints: scales.map(() => 0) };
  const bName = n.inputs[2];
  if (bName) {
    const b = initializers.get(bName)!;
    const biasScales = Array.from({ length: b.data.length }, (_, c) => Math.fround(input.scale * scales[perChannel ? c : 0]!));
    const { qmin, qmax } = QUANT_RANGES.int32;
    const bd = Float32Array.from(b.data, (v, c) => dequantizeValue(quantizeValue(v, biasScales[c]!, 0, qmin, qmax), biasScales[c]!, 0));
    const qb = `${n.name}.bias_int32`;
    initializers.set(qb, { dims: [...b.dims], data: bd });
    n.inputs[2] = qb;
    wq.biasScales = perChannel ? biasScales : biasScales.slice(0, 1);
  }
  n.attrs.weightQuant = wq;
}

// ONNX bytes → Graph. Opsets 1–21 of the default domain (tested 1 and 9–18), the ops
// torchvision's ResNet/ResNeXt/Wide-ResNet exports and hand-built models use.
// Everything that can't be loaded is collected and reported in ONE error.
import { readFile } from 'node:fs/promises';
import { Graph, GraphError, inferNode, topoSort, sameDims } from '../graph/graph.js';
import { elementCount } from '../shapes.js';
// Graphs imported here may be written back out (Graph.toOnnx): load the exporter.
import './export.js';
import { dirname } from 'node:path';
import type { ConvNode, Initializer, Node, PoolAttrs, ValueInfo } from '../graph/graph.js';
import { prune } from '../graph/passes.js';
import { ModelError } from '../errors.js';
import { ModelProto, TensorProto, toNum, DATA_TYPE_NAMES, DataType, LITTLE_ENDIAN } from './proto.js';
import { externalDataReader, type ExternalDataReader } from './external-data.js';
import { bfloat16BytesToFloat32, bitsToFloat32, float16BytesToFloat32 } from './half.js';
import { ProblemList } from './problems.js';
import { importIntegersOf, importQdqNode, INTERNAL_DOMAIN, weightQuantOf, type DequantizedConst, type IntConst, type QuantizedValue } from './import-qdq.js';
import { expandQOperators, MICROSOFT_QOPERATOR_OPS, QOPERATOR_OPS } from './import-qoperator.js';
import { matchDecomposedLayerNorm, type PatternContext } from './layernorm-pattern.js';
import { FoldError, SHAPE_OPS, ShapeFolder, foldShapeInputs, type ShapeInputs } from './shape-fold.js';
import type { AttributeProtoLike, ModelProtoLike, NodeProtoLike, TensorProtoLike, ValueInfoProtoLike } from './proto.js';

export const MIN_OPSET = 1;
/** The most elements a float ConstantOfShape may fill (64 MiB). */
const MAX_FILLED_CONSTANT = 1 << 24;
export const MAX_OPSET = 21;

/** The one error the importer throws. `problems` lists each reason; `unsupported` each unsupported node. */
export class OnnxImportError extends ModelError {
  override name = 'OnnxImportError';
  readonly problems: string[];
  readonly unsupported: { op: string; node: string }[];
  constructor(message: string, problems: string[] = [], unsupported: { op: string; node: string }[] = []) {
    super(message);
    this.problems = problems;
    this.unsupported = unsupported;
  }
}

export const SUPPORTED_ONNX_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'Add', 'Sum', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Reshape',
  'Gemm', 'MatMul', 'Identity', 'Dropout', 'Constant', 'Clip', 'Pad', 'ReduceMean', 'QuantizeLinear', 'DequantizeLinear',
  'Sigmoid', 'HardSigmoid', 'HardSwish', 'Erf', 'Mul', 'Sub', 'Div', 'Concat', 'Split', 'Slice', 'Transpose', 'Softmax', 'LayerNormalization',
  'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Cast', 'ConstantOfShape', 'Range', 'Expand',
] as const;



function decodeModel(bytes: Uint8Array): ModelProtoLike {
  if (bytes.length === 0) throw new OnnxImportError('Cannot load ONNX model: the data is empty (0 bytes)');
  let model: ModelProtoLike;
  try {
    model = ModelProto.decode(bytes) as unknown as ModelProtoLike;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (looksLikeOnnxStart(bytes)) {
      throw new OnnxImportError(`Cannot load ONNX model: the file is truncated or corrupt: it starts like an ONNX model but the protobuf data ends or breaks in the middle of a field (${bytes.length} bytes; ${msg})`);
    }
    throw new OnnxImportError(`Cannot load ONNX model: the data is not an ONNX model (${bytes.length} bytes starting ${hexStart(bytes)} do not decode as an ONNX ModelProto: ${msg})`);
  }
  const problems: string[] = [];
  if (!model.irVersion || toNum(model.irVersion) <= 0) problems.push('no ir_version');
  if (!model.graph) problems.push('no graph');
  if (problems.length > 0) {
    const why = looksLikeOnnxStart(bytes) ? 'the file is truncated or corrupt' : 'the data is not an ONNX model';
    throw new OnnxImportError(`Cannot load ONNX model: ${why} (it decodes with ${problems.join(' and ')}; ${bytes.length} bytes starting ${hexStart(bytes)})`);
  }
  return model;
}

/** ModelProto files start with ir_version (field 1, varint: 0x08, value 1..12). */
function looksLikeOnnxStart(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x08 && b[1]! >= 1 && b[1]! <= 12;
}

function hexStart(b: Uint8Array): string {
  return [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

function attrMap(n: NodeProtoLike): Map<string, AttributeProtoLike> {
  const m = new Map<string, AttributeProtoLike>();
  for (const a of n.attribute ?? []) if (a.name) m.set(a.name, a);
  return m;
}

const attrInts = (a: Map<string, AttributeProtoLike>, k: string): number[] | undefined => {
  const v = a.get(k);
  return v ? (v.ints ?? []).map(toNum) : undefined;
};
const attrInt = (a: Map<string, AttributeProtoLike>, k: string, d: number): number => {
  const v = a.get(k);
  return v ? toNum(v.i) : d;
};
const attrFloat = (a: Map<string, AttributeProtoLike>, k: string, d: number): number => {
  const v = a.get(k);
  return v ? v.f ?? 0 : d;
};
const attrString = (a: Map<string, AttributeProtoLike>, k: string, d: string): string => {
  const v = a.get(k);
  return v && v.s ? new TextDecoder().decode(v.s) : d;
};

type Parsed =
  | { kind: 'float'; t: Initializer }
  | { kind: 'int'; t: IntConst }
  | { kind: 'error'; msg: string }
  /** A cause that many tensors can share (see ProblemList.group). */
  | { kind: 'shared'; cause: string; detail: string };

function alignedCopy(raw: Uint8Array): ArrayBuffer {
  const buf = new ArrayBuffer(raw.byteLength);
  new Uint8Array(buf).set(raw);
  return buf;
}

/** Bytes per element of the data types a tensor may have. */
const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.FLOAT16]: 2, [DataType.BFLOAT16]: 2, [DataType.INT64]: 8, [DataType.INT32]: 4, [DataType.INT8]: 1, [DataType.UINT8]: 1 };

/** A tensor as a subject of messages: noun "name". */
interface TensorSubject { noun: string; name: string }

function parseTensor(t: TensorProtoLike, who: TensorSubject, external?: ExternalDataReader): Parsed {
  const what = `${who.noun} "${who.name}"`;
  const dims = (t.dims ?? []).map(toNum);
  const n = elementCount(dims);
  const dt = t.dataType ?? 0;
  const size = ELEMENT_BYTES[dt];
  if (size === undefined) {
    return { kind: 'shared', cause: `have data type ${DATA_TYPE_NAMES[dt] ?? dt}; only FLOAT, FLOAT16, BFLOAT16 and DOUBLE (and INT64/INT32 shape constants, INT8/UINT8/INT32 quantized tensors) are supported`, detail: '' };
  }
  let raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    if (!external) return { kind: 'shared', cause: 'use external data, which is not supported here', detail: '' };
    const r = external.read(t.externalData ?? [], n * size);
    if (!r.ok) return { kind: 'shared', cause: r.cause, detail: r.detail };
    raw = r.bytes;
  }
  const count = (len: number): Parsed | null => (len === n ? null : { kind: 'error', msg: `${what} has ${len} values but dims [${dims.join(', ')}] need ${n}` });
  if (raw && raw.length !== n * size) return { kind: 'error', msg: `${what} raw_data has ${raw.length} bytes but dims [${dims.join(', ')}] need ${n * size}` };
  if (dt === DataType.FLOAT || dt === DataType.DOUBLE) {
    let data: Float32Array;
    if (raw) {
      if (dt === DataType.FLOAT && LITTLE_ENDIAN) data = new Float32Array(alignedCopy(raw));
      else {
        const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = dt === DataType.FLOAT ? dv.getFloat32(i * 4, true) : dv.getFloat64(i * 8, true);
      }
    } else {
      const src = dt === DataType.FLOAT ? t.floatData ?? [] : t.doubleData ?? [];
      const e = count(src.length);
      if (e) return e;
      data = Float32Array.from(src);
    }
    return { kind: 'float', t: { dims, data } };
  }
  if (dt === DataType.FLOAT16 || dt === DataType.BFLOAT16) {
    // Widened to float32 once, here: every half and bfloat16 value is exactly a float32.
    const bf16 = dt === DataType.BFLOAT16;
    if (raw) return { kind: 'float', t: { dims, data: bf16 ? bfloat16BytesToFloat32(raw, n) : float16BytesToFloat32(raw, n) } };
    const bits = t.int32Data ?? [];
    const e = count(bits.length);
    if (e) return e;
    return { kind: 'float', t: { dims, data: bitsToFloat32(bits, bf16) } };
  }
  let data: number[];
  if (raw) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    // One loop per type over a presized array: quantized weights run to tens of millions of values.
    data = new Array<number>(n);
    if (dt === DataType.INT8) for (let i = 0; i < n; i++) data[i] = dv.getInt8(i);
    else if (dt === DataType.UINT8) for (let i = 0; i < n; i++) data[i] = dv.getUint8(i);
    else if (dt === DataType.INT64) for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
    else for (let i = 0; i < n; i++) data[i] = dv.getInt32(i * 4, true);
  } else {
    data = dt === DataType.INT64 ? (t.int64Data ?? []).map(toNum) : [...(t.int32Data ?? [])];
    const e = count(data.length);
    if (e) return e;
  }
  return { kind: 'int', t: { dims, data, dataType: dt } };
}

/** A parse failure as one sentence (for single tensors). */
function parsedError(p: Extract<Parsed, { kind: 'error' | 'shared' }>, who: TensorSubject): string {
  if (p.kind === 'error') return p.msg;
  const list = new ProblemList();
  list.group(who.noun, who.name, p.cause, p.detail);
  return list.lines()[0]!;
}

/** The element type of a graph input or output: float16 ones are converted at the model's edge. */
function valueElemType(v: ValueInfoProtoLike): 'float32' | 'float16' {
  return v.type?.tensorType?.elemType === DataType.FLOAT16 ? 'float16' : 'float32';
}

function edgeType(v: ValueInfoProtoLike): { elemType?: 'float16' } {
  return valueElemType(v) === 'float16' ? { elemType: 'float16' } : {};
}

function valueDims(v: ValueInfoProtoLike, what: string, problems: { add(m: string): void }): number[] | null {
  const tt = v.type?.tensorType;
  if (!tt) { problems.add(`${what} "${v.name}" is not a tensor`); return null; }
  if (tt.elemType !== undefined && tt.elemType !== DataType.FLOAT && tt.elemType !== DataType.FLOAT16) { problems.add(`${what} "${v.name}" has element type ${DATA_TYPE_NAMES[tt.elemType] ?? tt.elemType}; only FLOAT and FLOAT16 are supported`); return null; }
  if (!tt.shape) return null;
  // A symbolic, absent or 0 dim (protobuf's default, which some writers leave for "unknown") is
  // dynamic, -1; a negative stated size is malformed.
  const dims = (tt.shape.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? toNum(d.dimValue) : 0));
  const bad = dims.findIndex((x) => x < 0);
  if (bad >= 0) { problems.add(`${what} "${v.name}" has dim ${dims[bad]} at index ${bad}; a stated dim must be a positive size (or symbolic, for a dynamic one)`); return null; }
  return dims.map((x) => (x > 0 ? x : -1));
}

/** What a node still needs from its input's dims, resolved once shapes are inferred. */
interface Pending {
  autoPad?: string;
  copy?: boolean;
  /** A Split without sizes: this Slice is part `index` of `parts` equal parts along its axis. */
  splitPart?: { index: number; parts: number };
  /** A Transpose without perm: reverse the dims. */
  reversePerm?: boolean;
  /** A Reshape's shape or a Slice's bounds that a shape subgraph computes (folded once dims are inferred). */
  shapeInputs?: ShapeInputs;
}

export interface ImportOptions {
  /**
   * Graph inputs to bind as constants (e.g. the weights of ONNX's node tests,
   * which are graph inputs with input_*.pb data). Float32Array → float
   * initializer; number[] → integer constant (shapes, pads, axes).
   */
  constants?: Record<string, { dims: number[]; data: Float32Array | number[] }>;
  /**
   * The folder of the .onnx file, where tensors saved as external data are read from
   * (load(path) sets it). Without it, a model with external data is refused.
   */
  baseDir?: string;
}

/** A decoded TensorProto (e.g. ONNX test data input_0.pb): float data as Float32Array, integers as number[]. */
export interface DecodedTensor {
  name: string;
  dims: number[];
  data: Float32Array | number[];
}

/** Decode a serialized onnx.TensorProto (the input_N.pb / output_N.pb files of ONNX test data sets). */
export function decodeTensorProto(bytes: Uint8Array): DecodedTensor {
  let t: TensorProtoLike;
  try {
    t = TensorProto.decode(bytes) as unknown as TensorProtoLike;
  } catch (err) {
    throw new OnnxImportError(`Cannot decode TensorProto (${bytes.length} bytes): ${err instanceof Error ? err.message : String(err)}`);
  }
  const who = { noun: 'tensor', name: t.name ?? '' };
  const p = parseTensor(t, who);
  if (p.kind === 'error' || p.kind === 'shared') throw new OnnxImportError(`Cannot decode TensorProto: ${parsedError(p, who)}`);
  return { name: t.name ?? '', dims: p.t.dims, data: p.t.data };
}

/** Parse ONNX bytes into a Graph (nodes topologically sorted, shapes checked). */
export function fromOnnx(bytes: Uint8Array, options: ImportOptions = {}): Graph {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array for ONNX bytes but received ${bytes === null ? 'null' : typeof bytes}`);
  const model = decodeModel(bytes);
  const external = externalDataReader(options.baseDir);
  try {
    return importGraph(model, options, external);
  } finally {
    external.close();
  }
}

function importGraph(model: ModelProtoLike, options: ImportOptions, external: ExternalDataReader): Graph {
  const gp = model.graph!;
  const problems = new ProblemList();
  const unsupported: { op: string; node: string }[] = [];

  // Opset of the default domain.
  const defaultOpset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = defaultOpset ? toNum(defaultOpset.version) : 0;
  if (!defaultOpset) problems.add('the model imports no opset for the default ONNX domain (is the file truncated?)');
  else if (opset < MIN_OPSET || opset > MAX_OPSET) problems.add(`opset ${opset} is not supported (supported: ${MIN_OPSET}–${MAX_OPSET})`);
  if ((gp.sparseInitializer ?? []).length > 0) problems.add('sparse initializers are not supported');

  const floats = new Map<string, Initializer>();
  const ints = new Map<string, IntConst>();
  // Values whose definition already failed: what reads them reports nothing more.
  const failed = new Set<string>();
  const report = (p: Extract<Parsed, { kind: 'error' | 'shared' }>, who: TensorSubject): void => {
    failed.add(who.name);
    if (p.kind === 'error') problems.add(p.msg);
    else problems.group(who.noun, who.name, p.cause, p.detail);
  };
  for (const t of gp.initializer ?? []) {
    const who = { noun: 'initializer', name: t.name ?? '' };
    const p = parseTensor(t, who, external);
    if (p.kind === 'float') floats.set(who.name, p.t);
    else if (p.kind === 'int') ints.set(who.name, p.t);
    else report(p, who);
  }
  for (const [name, c] of Object.entries(options.constants ?? {})) {
    if (!(gp.input ?? []).some((v) => v.name === name)) throw new RangeError(`Expected a graph input name for constants but received "${name}"`);
    if (c.data.length !== elementCount(c.dims)) throw new RangeError(`Expected ${elementCount(c.dims)} values for constant "${name}" but received ${c.data.length}`);
    if (c.data instanceof Float32Array) floats.set(name, { dims: [...c.dims], data: c.data });
    else ints.set(name, { dims: [...c.dims], data: [...c.data] });
  }

  const inputs: ValueInfo[] = [];
  for (const v of gp.input ?? []) {
    const name = v.name ?? '';
    if (floats.has(name) || ints.has(name)) continue; // IR < 4 lists initializers as inputs
    const before = problems.length;
    const dims = valueDims(v, 'input', problems);
    if (!dims) { if (problems.length === before) problems.add(`input "${name}" has no shape`); continue; }
    inputs.push({ name, dims, ...edgeType(v) });
  }

  // QOperator nodes (QLinearConv ...) become their QDQ form here, so that what follows sees one form.
  const expanded = expandQOperators(gp.node ?? [], floats, ints, (m) => problems.add(m));

  // Use counts in the ONNX graph (for pattern checks) and consumers.
  const rawUses = new Map<string, NodeProtoLike[]>();
  for (const n of expanded.nodes) for (const i of n.input ?? []) if (i) (rawUses.get(i) ?? rawUses.set(i, []).get(i)!).push(n);
  const graphOutputNames = new Set((gp.output ?? []).map((o) => o.name ?? ''));
  const used = (name: string | undefined): boolean => !!name && (rawUses.has(name) || graphOutputNames.has(name));
  const patterns = patternContext(expanded.nodes, rawUses, graphOutputNames, floats, ints, opset);
  // ONNX nodes that a pattern already imported (a decomposed LayerNorm's chain).
  const consumed = new Set<NodeProtoLike>();

  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    for (let hops = 0; alias.has(n); hops++) {
      // An Identity/Dropout/Sum that (through others) reads its own output: a cycle, not an endless loop.
      if (hops > alias.size) { problems.add(`value "${name}" is defined through itself (a cycle of Identity/Dropout/Sum nodes)`); return name; }
      n = alias.get(n)!;
    }
    return n;
  };
  const nodes: Node[] = [];
  const pending = new Map<Node, Pending>();
  const padsOf = new Map<string, { input: string; pads: [number, number, number, number] }>();
  const names = new Set<string>();
  const producedBy = new Map<string, Node>();
  // Outputs of QuantizeLinear on activations, waiting for their DequantizeLinear.
  const quantized = new Map<string, QuantizedValue>();
  const dequantized = new Map<string, DequantizedConst>();
  const folder = new ShapeFolder(ints);
  const renamed = new Map<string, string>();

  const push = (n: Node, p?: Pending): void => {
    nodes.push(n);
    producedBy.set(n.outputs[0]!, n);
    if (p) pending.set(n, p);
  };

  expanded.nodes.forEach((np, index) => {
    if (consumed.has(np)) return;
    const op = np.opType ?? '';
    const from = expanded.origin.get(np);
    let name = np.name || `${op}_${index}`;
    while (names.has(name)) name = `${name}_${index}`;
    names.add(name);
    const a = attrMap(np);
    const ins = (np.input ?? []).map((i) => (i ? resolve(i) : ''));
    const out = np.output?.[0] ?? '';
    const bad = (msg: string): void => { problems.add(from ? `node "${from.name}" (${from.op}, ${from.part}): ${msg}` : `node "${name}" (${op}): ${msg}`); };
    const unsupportedNode = (): void => { unsupported.push({ op: np.domain && np.domain !== 'ai.onnx' ? `${np.domain}::${op}` : op, node: name }); };
    const needFloat = (i: number, what: string): string | null => {
      const v = ins[i];
      if (v && failed.has(v)) return null; // already reported where it was defined
      if (!v || !floats.has(v)) { bad(`${what} (input ${i}${v ? ` "${v}"` : ''}) must be a constant float initializer`); return null; }
      return v;
    };
    const needInt = (v: string | undefined, what: string): number[] | null => {
      if (v && failed.has(v)) return null;
      if (v && folder.isInt(v) && !ints.has(v)) { bad(`${what} "${v}" depends on a dynamic dim here, which is not supported`); return null; }
      if (!v || !ints.has(v)) { bad(`${what}${v ? ` "${v}"` : ''} must be a constant integer initializer or Constant`); return null; }
      return ints.get(v)!.data;
    };
    const notConst = (i: number): boolean => {
      const v = ins[i];
      if (!v) { bad(`input ${i} is missing`); return false; }
      if (floats.has(v) || ints.has(v)) { bad(`input ${i} "${v}" is a constant; only activations are supported there`); return false; }
      return true;
    };
    // A numpy-broadcast elementwise op: activations or float constants, but not two constants.
    const binaryOperands = (): boolean => {
      if (ins.length !== 2 || !ins[0] || !ins[1]) { bad('expects two inputs'); return false; }
      if (ins.some((v) => failed.has(v))) return false;
      if (ins.some((v) => ints.has(v))) { bad('integer operands are not supported'); return false; }
      if (ins.every((v) => floats.has(v))) { bad('both operands are constants (fold them before export)'); return false; }
      return true;
    };
    const extraOutputsUnused = (): void => {
      (np.output ?? []).slice(1).forEach((o, k) => { if (used(o)) bad(`output ${k + 1} "${o}" is used, but only the first output is supported`); });
    };

    if (np.domain === INTERNAL_DOMAIN) { importIntegersOf({ name, ins, out, ints, failed, quantized, bad, push }); return; }
    if (np.domain && np.domain !== 'ai.onnx') { unsupportedNode(); return; }
    if (isShapeNode(op, ins, folder)) {
      // Integer (shape) values are folded, not graph nodes; those that read no dims fold now.
      if (ins.some((v) => failed.has(v))) { failed.add(out); return; }
      if (op === 'ConstantOfShape' && a.get('value')?.t && a.get('value')!.t!.dataType !== DataType.INT64 && a.get('value')!.t!.dataType !== DataType.INT32) {
        const p = parseTensor(a.get('value')!.t!, { noun: 'ConstantOfShape value', name });
        const shape = ins[0] ? folder.constant(ins[0]) : undefined;
        if (p.kind !== 'float' || !shape) { bad('only a float ConstantOfShape of a constant shape is supported'); return; }
        // A constant the file does not store: bounded, so a crafted shape cannot ask for unbounded memory.
        if (shape.data.some((d) => !Number.isSafeInteger(d) || d < 0) || elementCount(shape.data) > MAX_FILLED_CONSTANT) { bad(`shape [${shape.data.join(', ')}] is invalid or has more than ${MAX_FILLED_CONSTANT} elements`); return; }
        floats.set(out, { dims: shape.data, data: new Float32Array(elementCount(shape.data)).fill(p.t.data[0] ?? 0) });
        return;
      }
      const fill = a.get('value')?.t ? parseTensor(a.get('value')!.t!, { noun: 'ConstantOfShape value', name }) : undefined;
      folder.record(op, name, ins, out, {
        axis: attrInt(a, 'axis', 0), axes: attrInts(a, 'axes'), start: a.has('start') ? attrInt(a, 'start', 0) : undefined,
        end: a.has('end') ? attrInt(a, 'end', 0) : undefined, to: attrInt(a, 'to', 0), fill: fill?.kind === 'int' ? fill.t.data[0] : 0,
      });
      try {
        const c = folder.constant(out);
        if (c) ints.set(out, c);
      } catch (err) {
        if (!(err instanceof FoldError)) throw err;
        failed.add(out);
        problems.add(`node "${err.node}" (${err.op}): ${err.message}`);
      }
      return;
    }
    switch (op) {
      case 'Identity':
      case 'Dropout': {
        if (op === 'Dropout') {
          extraOutputsUnused();
          if (ins[2]) { const tm = ints.get(ins[2]); if (!tm || tm.data[0]) bad('training_mode must be a constant false'); }
          if (attrInt(a, 'is_test', 1) === 0 && opset < 7) bad('is_test=0 (training) is not supported');
        }
        if (!ins[0]) { bad('input 0 is missing'); return; }
        if (floats.has(ins[0])) { floats.set(out, floats.get(ins[0])!); return; }
        alias.set(out, ins[0]);
        return;
      }
      case 'Constant': {
        const v = a.get('value');
        if (v?.t) {
          const p = parseTensor(v.t, { noun: 'Constant', name });
          if (p.kind === 'float') floats.set(out, p.t);
          else if (p.kind === 'int') ints.set(out, p.t);
          else report(p, { noun: 'Constant', name: out });
        } else if (a.has('value_float')) floats.set(out, { dims: [], data: Float32Array.of(attrFloat(a, 'value_float', 0)) });
        else if (a.has('value_floats')) { const f = a.get('value_floats')!.floats ?? []; floats.set(out, { dims: [f.length], data: Float32Array.from(f) }); }
        else if (a.has('value_int')) ints.set(out, { dims: [], data: [attrInt(a, 'value_int', 0)] });
        else if (a.has('value_ints')) { const v2 = attrInts(a, 'value_ints')!; ints.set(out, { dims: [v2.length], data: v2 }); }
        else bad('only value, value_float(s) and value_int(s) constants are supported');
        return;
      }
      case 'Conv': {
        if (!notConst(0)) return;
        const w = needFloat(1, 'weight');
        const b = ins[2] ? needFloat(2, 'bias') : '';
        if (w === null || b === null) return;
        const wd = floats.get(w)!.dims;
        if (wd.length !== 4) { bad(`only 2-D convolution is supported (weight dims [${wd.join(', ')}])`); return; }
        const ks = attrInts(a, 'kernel_shape') ?? [wd[2]!, wd[3]!];
        if (ks[0] !== wd[2] || ks[1] !== wd[3]) { bad(`kernel_shape [${ks.join(', ')}] does not match weight [${wd.join(', ')}]`); return; }
        let x = ins[0]!;
        const pads = (attrInts(a, 'pads') ?? [0, 0, 0, 0]) as [number, number, number, number];
        const extra = padsOf.get(x);
        if (extra) { x = extra.input; for (let i = 0; i < 4; i++) pads[i]! += extra.pads[i]!; }
        const autoPad = attrString(a, 'auto_pad', 'NOTSET');
        if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) { bad(`unknown auto_pad "${autoPad}"`); return; }
        const node: ConvNode = {
          name, op: 'Conv', inputs: [x, w, b], outputs: [out],
          attrs: { kernelShape: [wd[2]!, wd[3]!], strides: two(attrInts(a, 'strides')), pads, dilations: two(attrInts(a, 'dilations')), groups: attrInt(a, 'group', 1) },
        };
        const wq = weightQuantOf(dequantized, w, b, 0);
        if (wq) node.attrs.weightQuant = wq;
        push(node, autoPad !== 'NOTSET' ? { autoPad } : undefined);
        return;
      }
      case 'BatchNormalization': {
        if (!notConst(0)) return;
        const p = [1, 2, 3, 4].map((i) => needFloat(i, ['scale', 'bias', 'mean', 'var'][i - 1]!));
        if (p.some((x) => x === null)) return;
        if (attrInt(a, 'training_mode', 0) !== 0) { bad('training_mode=1 is not supported (export the model in eval mode)'); return; }
        if (opset < 7 && attrInt(a, 'is_test', 0) === 0 && used(np.output?.[1])) { bad('is_test=0 (training) is not supported'); return; }
        if (opset < 9 && attrInt(a, 'spatial', 1) === 0) { bad('spatial=0 is not supported'); return; }
        extraOutputsUnused();
        push({ name, op: 'BatchNormalization', inputs: [ins[0]!, ...(p as string[])], outputs: [out], attrs: { epsilon: attrFloat(a, 'epsilon', 1e-5) } });
        return;
      }
      case 'Relu':
      case 'GlobalAveragePool':
        if (!notConst(0)) return;
        push({ name, op, inputs: [ins[0]!], outputs: [out], attrs: {} });
        return;
      case 'Clip': {
        if (!notConst(0)) return;
        let lo: number | undefined, hi: number | undefined;
        if (opset < 11) { lo = a.has('min') ? attrFloat(a, 'min', 0) : undefined; hi = a.has('max') ? attrFloat(a, 'max', 0) : undefined; }
        else {
          if (ins[1]) { const t = floats.get(ins[1]); if (!t || t.data.length !== 1) { bad('min must be a constant scalar'); return; } lo = t.data[0]; }
          if (ins[2]) { const t = floats.get(ins[2]); if (!t || t.data.length !== 1) { bad('max must be a constant scalar'); return; } hi = t.data[0]; }
        }
        // Clip(0, +inf) is a ReLU, which fuses into the op before it.
        if (lo === 0 && (hi === undefined || hi === Infinity)) push({ name, op: 'Relu', inputs: [ins[0]!], outputs: [out], attrs: {} });
        else push({ name, op: 'Clip', inputs: [ins[0]!], outputs: [out], attrs: { alpha: lo ?? -Infinity, beta: hi ?? Infinity } });
        return;
      }
      case 'Sigmoid':
      case 'Erf':
      case 'HardSwish':
      case 'HardSigmoid': {
        if (!notConst(0)) return;
        const [alpha, beta] = op === 'HardSigmoid' ? [attrFloat(a, 'alpha', 0.2), attrFloat(a, 'beta', 0.5)] : op === 'HardSwish' ? [1 / 6, 0.5] : [0, 0];
        push({ name, op, inputs: [ins[0]!], outputs: [out], attrs: { alpha, beta } });
        return;
      }
      case 'Mul':
      case 'Sub':
      case 'Div': {
        if (opset < 7 && attrInt(a, 'broadcast', 0) === 1) { bad('broadcast=1 (opset < 7) is not supported'); return; }
        if (!binaryOperands()) return;
        push({ name, op, inputs: [ins[0]!, ins[1]!], outputs: [out], attrs: {} });
        return;
      }
      case 'Concat': {
        const axis = attrInt(a, 'axis', NaN);
        if (Number.isNaN(axis)) { bad('axis is required'); return; }
        if (ins.length === 0 || ins.some((i) => i === '')) { bad('every input must be given'); return; }
        if (ins.some((i) => ints.has(i))) { bad('integer (shape) Concat inputs are only supported when every input is a constant'); return; }
        push({ name, op: 'Concat', inputs: [...ins], outputs: [out], attrs: { axis } });
        return;
      }
      case 'Split': {
        if (!notConst(0)) return;
        const axis = attrInt(a, 'axis', 0);
        const sizes = opset < 13 ? attrInts(a, 'split') ?? null : ins[1] ? needInt(ins[1], 'split') : null;
        if (opset >= 13 && ins[1] && !sizes) return;
        const outs = np.output ?? [];
        if (sizes && sizes.length !== outs.length) { bad(`split has ${sizes.length} sizes for ${outs.length} outputs`); return; }
        let start = 0;
        outs.forEach((o, k) => {
          const node: Node = { name: k === 0 ? name : uniqueNodeName(names, `${name}/${k}`), op: 'Slice', inputs: [ins[0]!], outputs: [o], attrs: { starts: [start], ends: [start + (sizes?.[k] ?? 0)], axes: [axis], steps: [1] } };
          if (sizes) start += sizes[k]!;
          if (o) push(node, sizes ? undefined : { splitPart: { index: k, parts: outs.length } });
        });
        return;
      }
      case 'Slice': {
        if (!notConst(0)) return;
        let starts: number[] | null, ends: number[] | null, axes: number[] | null, steps: number[] | null;
        if (opset < 10) { starts = attrInts(a, 'starts') ?? null; ends = attrInts(a, 'ends') ?? null; axes = attrInts(a, 'axes') ?? null; steps = null; }
        else if ([ins[1], ins[2]].some((v) => v && folder.isInt(v) && !ints.has(v))) {
          axes = ins[3] ? needInt(ins[3], 'axes') : null; steps = ins[4] ? needInt(ins[4], 'steps') : null;
          if ((ins[3] && !axes) || (ins[4] && !steps)) return;
          const sources = new Set([...folder.sources(ins[1] ?? ''), ...folder.sources(ins[2] ?? '')]);
          const n = ins[1] && ints.has(ins[1]) ? ints.get(ins[1])!.data.length : ins[2] && ints.has(ins[2]) ? ints.get(ins[2])!.data.length : axes?.length ?? 1;
          push({ name, op: 'Slice', inputs: [ins[0]!, ...sources], outputs: [out], attrs: { starts: [], ends: [], axes: axes ? [...axes] : Array.from({ length: n }, (_, i) => i), steps: steps ? [...steps] : new Array<number>(n).fill(1) } },
            { shapeInputs: { starts: ins[1], ends: ins[2] } });
          return;
        } else { starts = needInt(ins[1], 'starts'); ends = needInt(ins[2], 'ends'); axes = ins[3] ? needInt(ins[3], 'axes') : null; steps = ins[4] ? needInt(ins[4], 'steps') : null; }
        if (!starts || !ends || (opset >= 10 && ((ins[3] && !axes) || (ins[4] && !steps)))) { if (opset < 10) bad('starts and ends are required'); return; }
        push({ name, op: 'Slice', inputs: [ins[0]!], outputs: [out], attrs: { starts: [...starts], ends: [...ends], axes: axes ? [...axes] : starts.map((_, i) => i), steps: steps ? [...steps] : starts.map(() => 1) } });
        return;
      }
      case 'Transpose': {
        if (!notConst(0)) return;
        const perm = attrInts(a, 'perm');
        push({ name, op: 'Transpose', inputs: [ins[0]!], outputs: [out], attrs: { perm: perm ?? [] } }, perm ? undefined : { reversePerm: true });
        return;
      }
      case 'Softmax': {
        if (!notConst(0)) return;
        push({ name, op: 'Softmax', inputs: [ins[0]!], outputs: [out], attrs: { axis: attrInt(a, 'axis', opset < 13 ? 1 : -1), legacy: opset < 13 } });
        return;
      }
      case 'LayerNormalization': {
        if (!notConst(0)) return;
        extraOutputsUnused();
        const scale = needFloat(1, 'scale');
        const bias = ins[2] ? needFloat(2, 'bias') : '';
        if (scale === null || bias === null) return;
        if (attrInt(a, 'stash_type', 1) !== 1) { bad('only stash_type=1 (float32 statistics) is supported'); return; }
        push({ name, op: 'LayerNormalization', inputs: [ins[0]!, scale, bias], outputs: [out], attrs: { axis: attrInt(a, 'axis', -1), epsilon: attrFloat(a, 'epsilon', 1e-5) } });
        return;
      }
      case 'Add':
      case 'Sum': {
        const operands = ins.filter((i) => i !== '');
        if (operands.length === 0) { bad('no inputs'); return; }
        if (op === 'Add' && opset < 7 && attrInt(a, 'broadcast', 0) === 1) { bad('broadcast=1 (opset < 7) is not supported'); return; }
        if (op === 'Add' && operands.length === 2) {
          // MatMul + Add(bias) → Gemm with bias.
          const ci = operands.findIndex((i) => floats.has(i));
          if (ci >= 0) {
            const other = operands[1 - ci]!;
            const g = producedBy.get(other);
            const bias = floats.get(operands[ci]!)!;
            if (g && g.op === 'Gemm' && !g.inputs[2] && (rawUses.get(other)?.length ?? 0) === 1 && !graphOutputNames.has(other)) {
              const nOut = floats.get(g.inputs[1]!)!.dims[0]!;
              if (elementCount(bias.dims) === nOut) {
                const bn = uniqueName(floats, `${g.name}.bias`);
                floats.set(bn, { dims: [nOut], data: bias.data });
                g.inputs[2] = bn;
                alias.set(out, other);
                return;
              }
            }
            if (!binaryOperands()) return;
            push({ name, op: 'Add', inputs: [ins[0]!, ins[1]!], outputs: [out], attrs: {} });
            return;
          }
        }
        if (!ins.every((v, i) => v === '' || notConst(i))) return;
        if (operands.length === 1) { alias.set(out, operands[0]!); return; }
        let acc = operands[0]!;
        for (let k = 1; k < operands.length; k++) {
          const last = k === operands.length - 1;
          const o = last ? out : `${out}/sum${k}`;
          push({ name: last ? name : `${name}/sum${k}`, op: 'Add', inputs: [acc, operands[k]!], outputs: [o], attrs: {} });
          acc = o;
        }
        return;
      }
      case 'MaxPool':
      case 'AveragePool': {
        if (!notConst(0)) return;
        extraOutputsUnused();
        const ks = attrInts(a, 'kernel_shape');
        if (!ks || ks.length !== 2) { bad(`only 2-D pooling is supported (kernel_shape [${(ks ?? []).join(', ')}])`); return; }
        const autoPad = attrString(a, 'auto_pad', 'NOTSET');
        if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) { bad(`unknown auto_pad "${autoPad}"`); return; }
        const dil = two(attrInts(a, 'dilations'));
        const base: PoolAttrs = { kernelShape: [ks[0]!, ks[1]!], strides: two(attrInts(a, 'strides')), pads: (attrInts(a, 'pads') ?? [0, 0, 0, 0]) as PoolAttrs['pads'], dilations: dil, ceilMode: attrInt(a, 'ceil_mode', 0) === 1 };
        const p = autoPad !== 'NOTSET' ? { autoPad } : undefined;
        if (op === 'MaxPool') {
          if (attrInt(a, 'storage_order', 0) !== 0 && used(np.output?.[1])) bad('storage_order=1 is not supported');
          push({ name, op: 'MaxPool', inputs: [ins[0]!], outputs: [out], attrs: base }, p);
        } else {
          if (dil[0] !== 1 || dil[1] !== 1) { bad('AveragePool with dilations is not supported'); return; }
          // A zero Pad before it (Inception v3's branch pools): its zeros are values the average counts.
          const extra = padsOf.get(ins[0]!);
          let x = ins[0]!;
          let countIncludePad = attrInt(a, 'count_include_pad', 0) === 1;
          if (extra) {
            x = extra.input;
            for (let i = 0; i < 4; i++) base.pads[i]! += extra.pads[i]!;
            countIncludePad = true;
          }
          push({ name, op: 'AveragePool', inputs: [x], outputs: [out], attrs: { ...base, countIncludePad } }, p);
        }
        return;
      }
      case 'ReduceMean': {
        if (!notConst(0)) return;
        const ln = matchDecomposedLayerNorm(np, patterns);
        if (ln) {
          const param = (t: Initializer, given: string | undefined, what: string): string => {
            if (given && floats.has(given)) return given;
            const k = uniqueName(floats, `${name}.${what}`);
            floats.set(k, t);
            return k;
          };
          const scale = param(ln.scale, ln.scaleName, 'scale');
          const bias = ln.bias ? param(ln.bias, ln.biasName, 'bias') : '';
          ln.nodes.forEach((n) => consumed.add(n));
          push({ name, op: 'LayerNormalization', inputs: [resolve(ln.x), scale, bias], outputs: [ln.output], attrs: { axis: -1, epsilon: ln.epsilon } });
          return;
        }
        const axes = opset >= 18 ? (ins[1] ? needInt(ins[1], 'axes') : null) : attrInts(a, 'axes') ?? null;
        const norm = axes?.map((x) => (x < 0 ? x + 4 : x)).sort();
        if (!norm || norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) { bad(`only ReduceMean over axes [2, 3] of a 4-D tensor is supported (a global average pool), got axes ${axes ? `[${axes.join(', ')}]` : 'all'}`); return; }
        const keep = attrInt(a, 'keepdims', 1) === 1;
        push({ name, op: 'GlobalAveragePool', inputs: [ins[0]!], outputs: [keep ? out : `${out}/gap`], attrs: {} });
        if (!keep) push({ name: `${name}/flatten`, op: 'Flatten', inputs: [`${out}/gap`], outputs: [out], attrs: { axis: 1 } });
        return;
      }
      case 'Pad': {
        if (!notConst(0)) return;
        const mode = attrString(a, 'mode', 'constant');
        const pads = opset < 11 ? attrInts(a, 'pads') ?? attrInts(a, 'paddings') ?? null : needInt(ins[1], 'pads');
        if (!pads) { if (opset < 11) bad('pads missing'); return; }
        // A Pad of nothing (PyTorch writes one before DenseNet's average pools): whatever its mode, an identity.
        if (pads.every((p) => p === 0) && (opset < 11 || !ins[3])) { alias.set(out, ins[0]!); return; }
        const value = opset < 11 ? attrFloat(a, 'value', 0) : ins[2] ? floats.get(ins[2])?.data[0] ?? NaN : 0;
        const consumers = rawUses.get(out) ?? [];
        const ok = mode === 'constant' && value === 0 && pads.length === 8 && pads[0] === 0 && pads[1] === 0 && pads[4] === 0 && pads[5] === 0
          && pads.every((p) => p >= 0) && consumers.length > 0 && consumers.every((c) => c.opType === 'Conv' || takesPadAsOwn(c)) && !graphOutputNames.has(out)
          && (opset < 11 || !ins[3]);
        if (!ok) { bad('only a constant zero Pad of the spatial dims of a 4-D tensor that feeds Conv or AveragePool nodes is supported (it is folded into their pads)'); return; }
        // Folded into the pads of every consumer (all were checked to be Convs, or AveragePools that count padding).
        padsOf.set(out, { input: ins[0]!, pads: [pads[2]!, pads[3]!, pads[6]!, pads[7]!] });
        return;
      }
      case 'Flatten':
        if (!notConst(0)) return;
        push({ name, op: 'Flatten', inputs: [ins[0]!], outputs: [out], attrs: { axis: attrInt(a, 'axis', 1) } });
        return;
      case 'Reshape': {
        if (!notConst(0)) return;
        if (opset >= 5 && ins[1] && folder.isInt(ins[1]) && !ints.has(ins[1])) {
          push({ name, op: 'Reshape', inputs: [ins[0]!, ...folder.sources(ins[1])], outputs: [out], attrs: { shape: [] } }, { shapeInputs: { shape: ins[1] } });
          return;
        }
        const shape = opset < 5 ? attrInts(a, 'shape') ?? null : needInt(ins[1], 'shape');
        if (!shape) return;
        if (attrInt(a, 'allowzero', 0) === 1 && shape.includes(0)) { bad('allowzero=1 with a 0 in the shape is not supported'); return; }
        push({ name, op: 'Reshape', inputs: [ins[0]!], outputs: [out], attrs: { shape: [...shape] } });
        return;
      }
      case 'Gemm':
      case 'MatMul': {
        if (!notConst(0)) return;
        const bName = needFloat(1, 'B');
        if (bName === null) return;
        const B = floats.get(bName)!;
        if (B.dims.length !== 2) { bad(`B must be 2-D, got [${B.dims.join(', ')}]`); return; }
        const transA = op === 'Gemm' ? attrInt(a, 'transA', 0) : 0;
        const transB = op === 'Gemm' ? attrInt(a, 'transB', 0) : 0;
        const alpha = op === 'Gemm' ? attrFloat(a, 'alpha', 1) : 1;
        const beta = op === 'Gemm' ? attrFloat(a, 'beta', 1) : 1;
        const [n, k] = transB ? [B.dims[0]!, B.dims[1]!] : [B.dims[1]!, B.dims[0]!];
        let wName = bName;
        if (!transB || alpha !== 1) {
          const w = new Float32Array(n * k);
          if (transB) for (let i = 0; i < n * k; i++) w[i] = alpha * B.data[i]!;
          else for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) w[c * k + r] = alpha * B.data[r * n + c]!;
          wName = uniqueName(floats, `${name}.weight`);
          floats.set(wName, { dims: [n, k], data: w });
        }
        let cName = '';
        if (op === 'Gemm' && ins[2] && beta !== 0) {
          const C = floats.get(ins[2]);
          if (!C) { bad(`C "${ins[2]}" must be a constant float initializer`); return; }
          const cn = elementCount(C.dims);
          if (cn !== n && cn !== 1) { bad(`C [${C.dims.join(', ')}] must have ${n} or 1 elements (a per-output bias)`); return; }
          if (cn === n && beta === 1) cName = ins[2];
          else {
            const bias = new Float32Array(n);
            for (let i = 0; i < n; i++) bias[i] = beta * C.data[cn === 1 ? 0 : i]!;
            cName = uniqueName(floats, `${name}.bias`);
            floats.set(cName, { dims: [n], data: bias });
          }
        }
        let gemmInput = ins[0]!;
        if (transA) {
          gemmInput = `${name}/transA`;
          push({ name: `${name}/transpose`, op: 'Transpose', inputs: [ins[0]!], outputs: [gemmInput], attrs: { perm: [1, 0] } });
        }
        // Quantized weights keep their int8 form for export where they reach W [n, k] unscaled.
        const wq = alpha === 1 ? weightQuantOf(dequantized, bName, cName === ins[2] ? cName : '', transB ? 0 : 1) : undefined;
        // ONNX MatMul multiplies over the last axis of an input of any rank; Gemm's is 2-D.
        const attrs = { ...(wq ? { weightQuant: wq } : {}), ...(op === 'MatMul' ? { overLastAxis: true } : {}) };
        push({ name, op: 'Gemm', inputs: [gemmInput, wName, cName], outputs: [out], attrs });
        return;
      }
      case 'QuantizeLinear':
      case 'DequantizeLinear':
        importQdqNode({ op, name, ins, out, axis: attrInt(a, 'axis', 1), opset, floats, ints, failed, quantized, dequantized, bad, push,
          readers: (v) => (graphOutputNames.has(v) ? null : rawUses.get(v) ?? []) });
        return;
      default:
        unsupportedNode();
    }
  });

  // Graph outputs: resolve aliases left by Identity/Dropout/Sum.
  const outputs: ValueInfo[] = [];
  const inputNames = new Set(inputs.map((v) => v.name));
  for (const o of gp.output ?? []) {
    const name = o.name ?? '';
    const src = resolve(name);
    if (src !== name) {
      const p = producedBy.get(src);
      if (!p || graphOutputNames.has(src) || inputNames.has(src)) {
        // A graph output that copies a graph input or another output: an explicit copy
        // (Reshape to the same dims; the dims are filled in once the rank is known).
        if (floats.has(src) || ints.has(src)) { problems.add(`graph output "${name}" is a constant, which is not supported`); continue; }
        push({ name: uniqueNodeName(names, `${name}/copy`), op: 'Reshape', inputs: [src], outputs: [name], attrs: { shape: [] } }, { copy: true });
        outputs.push({ name, dims: [], ...edgeType(o) });
        continue;
      }
      // Rename src → name everywhere (the shape values read it by its old name).
      renamed.set(src, name);
      p.outputs[0] = name;
      producedBy.delete(src);
      producedBy.set(name, p);
      for (const n of nodes) {
        n.inputs = n.inputs.map((i) => (i === src ? name : i));
        if (n.op === 'Conv' && n.attrs.residual === src) n.attrs.residual = name;
      }
      for (const [k, v] of alias) if (v === src) alias.set(k, name);
    } else if (floats.has(name) || ints.has(name)) {
      problems.add(`graph output "${name}" is a constant, which is not supported`);
      continue;
    }
    outputs.push({ name, dims: [], ...edgeType(o) });
  }

  if (unsupported.length > 0 || problems.length > 0) {
    const lines: string[] = [];
    if (unsupported.length > 0) {
      const ops = [...new Set(unsupported.map((u) => u.op))];
      lines.push(`${unsupported.length} node(s) use unsupported ops (${ops.join(', ')}):`);
      for (const u of unsupported) lines.push(`  - ${u.op} (node "${u.node}")`);
      lines.push(`  Supported ops: ${[...SUPPORTED_ONNX_OPS, ...QOPERATOR_OPS, ...MICROSOFT_QOPERATOR_OPS.map((o) => `com.microsoft::${o}`)].join(', ')}.`);
    }
    const reasons = problems.lines();
    for (const p of reasons) lines.push(`- ${p}`);
    throw new OnnxImportError(`Cannot load ONNX model (opset ${opset || '?'}):\n${lines.join('\n')}`, reasons, unsupported);
  }

  const initializers = new Map<string, Initializer>(floats);
  let graph = new Graph({ name: gp.name || 'onnx', inputs, outputs, initializers, nodes });
  try {
    graph.nodes = topoSort(graph);
    // Resolve auto_pad with the (static) spatial dims, check shapes.
    const shapes = new Map<string, number[]>();
    for (const [n, t] of initializers) shapes.set(n, t.dims);
    for (const v of inputs) shapes.set(v.name, v.dims);
    for (const n of graph.nodes) {
      const p = pending.get(n);
      if (p?.copy && n.op === 'Reshape') n.attrs.shape = shapes.get(n.inputs[0]!)!.map(() => 0);
      if (n.op === 'Softmax' && n.attrs.legacy) {
        // Over the flattened dims [axis, rank): the same as over one axis when that axis is the last.
        const rank = shapes.get(n.inputs[0]!)!.length;
        if ((n.attrs.axis < 0 ? n.attrs.axis + rank : n.attrs.axis) === rank - 1) n.attrs = { axis: rank - 1, legacy: false };
      }
      if (p?.shapeInputs && (n.op === 'Reshape' || n.op === 'Slice')) foldShapeInputs(n, p.shapeInputs, folder, (v) => shapes.get(v), (v) => renamed.get(v) ?? v);
      if (p?.reversePerm && n.op === 'Transpose') n.attrs.perm = shapes.get(n.inputs[0]!)!.map((_, i, d) => d.length - 1 - i);
      if (p?.splitPart && n.op === 'Slice') {
        const x = shapes.get(n.inputs[0]!)!;
        const axis = n.attrs.axes[0]! < 0 ? n.attrs.axes[0]! + x.length : n.attrs.axes[0]!;
        const d = x[axis] ?? -1;
        if (d < 0 || d % p.splitPart.parts !== 0) throw new GraphError(`node "${n.name}" (Split): cannot split dim ${axis} of [${x.join(', ')}] into ${p.splitPart.parts} equal parts`);
        const part = d / p.splitPart.parts;
        n.attrs.starts = [p.splitPart.index * part];
        n.attrs.ends = [(p.splitPart.index + 1) * part];
      }
      if (p?.autoPad && (n.op === 'Conv' || n.op === 'MaxPool' || n.op === 'AveragePool')) {
        const x = shapes.get(n.inputs[0]!)!;
        const k = n.attrs.kernelShape;
        for (let ax = 0; ax < 2; ax++) {
          const [b, e] = autoPadding(p.autoPad, x[2 + ax]!, k[ax]!, n.attrs.strides[ax]!, n.attrs.dilations[ax]!);
          n.attrs.pads[ax] = b;
          n.attrs.pads[ax + 2] = e;
        }
        if (n.op !== 'Conv' && p.autoPad !== 'VALID') n.attrs.ceilMode = false;
      }
      shapes.set(n.outputs[0]!, inferNode(n, (v) => shapes.get(v)!));
    }
    for (const o of outputs) o.dims = shapes.get(o.name) ?? [];
    for (const o of gp.output ?? []) {
      const declared = valueDims(o, 'output', { add: () => {} });
      const got = shapes.get(o.name ?? '');
      if (declared && got && declared.length > 0 && !sameDims(declared.map((d, i) => (d < 0 ? got[i]! : d)), got)) {
        throw new GraphError(`output "${o.name}" is declared [${declared.join(', ')}] but computes to [${got.join(', ')}]`);
      }
    }
  } catch (err) {
    if (err instanceof GraphError) throw new OnnxImportError(`Cannot load ONNX model: ${err.message}`, [err.message]);
    throw err;
  }
  graph = prune(graph);
  return graph;
}


/** What the LayerNorm pattern reads of the ONNX graph: readers, float constants (initializers or Constant nodes), ReduceMean's axes. */
function patternContext(nodes: NodeProtoLike[], rawUses: Map<string, NodeProtoLike[]>, outputs: Set<string>, floats: Map<string, Initializer>, ints: Map<string, IntConst>, opset: number): PatternContext {
  const producer = new Map<string, NodeProtoLike>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  return {
    readers: (v) => rawUses.get(v) ?? [],
    constant: (v) => {
      const f = floats.get(v);
      if (f) return { t: f, name: v };
      const p = producer.get(v);
      const t = p?.opType === 'Constant' ? attrMap(p).get('value')?.t : undefined;
      const parsed = t ? parseTensor(t, { noun: 'Constant', name: v }) : undefined;
      return parsed?.kind === 'float' ? { t: parsed.t } : undefined;
    },
    axes: (n) => (opset >= 18 ? (n.input?.[1] ? ints.get(n.input[1])?.data ?? null : null) : attrInts(attrMap(n), 'axes') ?? null),
    keepdims: (n) => attrInt(attrMap(n), 'keepdims', 1) === 1,
    isGraphOutput: (v) => outputs.has(v),
  };
}

/** Whether a node computes an integer (shape) value: Shape itself, or a shape op on integer inputs. */
function isShapeNode(op: string, ins: string[], folder: ShapeFolder): boolean {
  if (!(SHAPE_OPS as readonly string[]).includes(op)) return false;
  if (op === 'Shape' || op === 'ConstantOfShape' || op === 'Range') return true;
  if (op === 'Concat' || op === 'Mul' || op === 'Add' || op === 'Sub' || op === 'Div') return ins.some((v) => v !== '' && folder.isInt(v));
  return ins[0] !== undefined && ins[0] !== '' && folder.isInt(ins[0]);
}

/** Read and parse an .onnx file. */
export async function loadOnnxFile(path: string): Promise<Graph> {
  const bytes = await readFile(path);
  return fromOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { baseDir: dirname(path) });
}

/**
 * Whether an AveragePool can take a zero Pad before it as its own pads: exact when the pool
 * counts padding (or has none of its own) and has no ceil mode or auto_pad to interact with.
 */
function takesPadAsOwn(c: NodeProtoLike): boolean {
  if (c.opType !== 'AveragePool') return false;
  const a = attrMap(c);
  const own = attrInts(a, 'pads') ?? [0, 0, 0, 0];
  return attrString(a, 'auto_pad', 'NOTSET') === 'NOTSET' && attrInt(a, 'ceil_mode', 0) === 0
    && (attrInt(a, 'count_include_pad', 0) === 1 || own.every((p) => p === 0));
}

function two(v: number[] | undefined): [number, number] {
  if (!v || v.length === 0) return [1, 1];
  return [v[0]!, v[1] ?? v[0]!];
}

function uniqueNodeName(names: Set<string>, base: string): string {
  let n = base;
  for (let k = 1; names.has(n); k++) n = `${base}_${k}`;
  names.add(n);
  return n;
}

function uniqueName(m: Map<string, unknown>, base: string): string {
  let n = base;
  for (let k = 1; m.has(n); k++) n = `${base}_${k}`;
  return n;
}

/** [padBegin, padEnd] for an ONNX auto_pad mode along one axis. */
export function autoPadding(mode: string, input: number, kernel: number, stride: number, dilation: number): [number, number] {
  if (mode === 'VALID' || mode === 'NOTSET') return [0, 0];
  const out = Math.ceil(input / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - input);
  const small = Math.floor(total / 2);
  return mode === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
}

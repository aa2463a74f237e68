// Fuzzes ONNX import + load + run with fast-check: generated models with
// absurd attributes and shapes, and mutations (bytes and structure) of real
// ones. Every case must either load and run, or throw a resnode error
// (ModelError and subclasses, or a TypeError/RangeError with a message of ours),
// within a time bound and a memory limit.
//
//   npm run fuzz                      10,000 cases, seed from the clock
//   npm run fuzz -- --runs 50000 --seed 42 [--backend js] [--timeout-ms 20000]
//   npm run fuzz -- --describe --seed 42 --skip 1254 --runs 1   (print and run one case in-process)
//
// The cases run in a child process watched by this one: a crash (signal) or a
// hang (no progress for --timeout-ms) is reported with the seed and case index,
// and the exact case can be replayed with --seed S --skip I --runs 1.
// test/fuzz-onnx.test.ts runs 500 of the same cases in `npm test`.
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { load } from '../src/model.js';
import { ModelError } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { resnet } from '../src/graph/resnet.js';
import { encodeRawModel, floatTensor, int64Tensor } from '../src/onnx/builder.js';
import type { RawModelSpec, RawNodeSpec, AttrValue } from '../src/onnx/builder.js';
import { ModelProto } from '../src/onnx/proto.js';
import { optimize } from '../src/graph/passes.js';
import { quantizedGraph } from '../src/quant/quantize.js';
import { qoperatorSeed } from './fuzz-qoperator-seed.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------
// Seed corpus: small real models (ours and the committed PyTorch exports).

let corpusCache: { name: string; bytes: Uint8Array }[] | undefined;
export function corpus(): { name: string; bytes: Uint8Array }[] {
  if (corpusCache) return corpusCache;
  const c: { name: string; bytes: Uint8Array }[] = [
    // A full ResNet-18 topology at width 8 (all 20 convs, shortcuts, pools, fc): small enough to mutate fast.
    { name: 'resnet18-w8', bytes: resnet({ depth: 18, width: 8, inputSize: 32, numClasses: 10, seed: 1 }).toOnnx() },
    { name: 'resnet50-w4', bytes: resnet({ depth: 50, width: 4, inputSize: 32, numClasses: 10, seed: 2 }).toOnnx() },
    // The same topology as a QDQ model (QuantizeLinear/DequantizeLinear, int8 weights, int32 biases), fixed activation ranges.
    {
      name: 'resnet18-w8-qdq',
      bytes: quantizedGraph(optimize(resnet({ depth: 18, width: 8, inputSize: 32, numClasses: 10, seed: 1 }), { fuseResidual: false }), () => ({ scale: 0.05, zeroPoint: 64, qmin: 0, qmax: 255 }), true).toOnnx(),
    },
    // The QOperator form (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd/QLinearConcat/QLinearGlobalAveragePool/QGemm).
    { name: 'qoperator', bytes: qoperatorSeed() },
  ];
  for (const m of ['bn_unfolded', 'conv1x1', 'plain']) {
    const p = join(root, 'models', `${m}.onnx`);
    if (existsSync(p)) c.push({ name: m, bytes: new Uint8Array(readFileSync(p)) });
  }
  // Plain Uint8Array copies: toOnnx() gives a Node Buffer, whose slice() is a view (mutations would corrupt the seed).
  corpusCache = c.map(({ name, bytes }) => ({ name, bytes: new Uint8Array(bytes) }));
  return c;
}

// ---------------------------------------------------------------------------
// Arbitraries.

const absurdInt = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -3, max: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 65536, 1e9) },
);
const absurdInts = fc.array(absurdInt, { minLength: 0, maxLength: 6 });

/** Attribute values: mostly sensible, often absurd. */
function attrArb(name: string): fc.Arbitrary<AttrValue> {
  switch (name) {
    case 'auto_pad': return fc.constantFrom('NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'BOGUS', '');
    case 'alpha': case 'beta': case 'epsilon':
      return fc.oneof(fc.constantFrom(0, 1, -1, NaN, Infinity, 1e-5, 1e30), fc.float({ noDefaultInfinity: false })).map((f) => ({ float: f }));
    case 'kernel_shape': case 'strides': case 'pads': case 'dilations':
      return fc.oneof(absurdInts, fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 4 }));
    default: return absurdInt;
  }
}

const CONV_ATTRS = ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad'];
const POOL_ATTRS = ['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'auto_pad', 'count_include_pad'];
const ALL_ATTRS = [...new Set([...CONV_ATTRS, ...POOL_ATTRS, 'axis', 'transA', 'transB', 'alpha', 'beta', 'epsilon', 'allowzero', 'keepdims', 'axes'])];

/**
 * A chain model built from raw ONNX nodes: sane attributes (strides, pads,
 * dilations, kernels) by default, often overridden with absurd ones; sometimes
 * absurd input dims, lying weight dims, a dropped initializer or a cycle.
 */
const layerArb = fc.record({
  op: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('Conv', 'Conv', 'Conv', 'Relu', 'MaxPool', 'AveragePool', 'Add', 'BatchNormalization', 'Identity', 'Pad', 'Clip', 'Sum') },
    { weight: 1, arbitrary: fc.constantFrom('Bogus', 'Gemm', 'Flatten', 'Reshape', 'GlobalAveragePool') },
  ),
  cOut: fc.integer({ min: 1, max: 6 }),
  k: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: absurdInt }),
  stride: fc.integer({ min: 1, max: 2 }),
  pad: fc.integer({ min: 0, max: 2 }),
  dilation: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
  group: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(-1) }), // -1: depthwise
  absurd: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Record<string, AttrValue>>({}) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...ALL_ATTRS), fc.constant(0), { minKeys: 1, maxKeys: 2 }).chain((d) =>
      fc.record(Object.fromEntries(Object.keys(d).map((k) => [k, attrArb(k)])) as Record<string, fc.Arbitrary<AttrValue>>)) },
  ),
  weightDimsLie: fc.oneof({ weight: 15, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.array(absurdInt, { minLength: 0, maxLength: 5 }) }),
  dropInit: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  readEarlier: fc.nat(),
  selfLoop: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const generatedArb: fc.Arbitrary<{ kind: 'generated'; spec: RawModelSpec }> = fc.record({
  batch: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<number | string>('N', 1, 2) }, { weight: 1, arbitrary: absurdInt }),
  c: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: absurdInt }),
  h: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: absurdInt }),
  w: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: absurdInt }),
  extraDims: fc.oneof({ weight: 12, arbitrary: fc.constant<number[]>([]) }, { weight: 1, arbitrary: fc.array(absurdInt, { maxLength: 3 }) }),
  layers: fc.array(layerArb, { minLength: 1, maxLength: 6 }),
  head: fc.boolean(),
  classes: fc.integer({ min: 1, max: 5 }),
  opset: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(13, 11, 9, 17) }, { weight: 1, arbitrary: absurdInt }),
}).map(({ batch, c, h, w, extraDims, layers, head, classes, opset }) => {
  const nodes: RawNodeSpec[] = [];
  const initializers: ReturnType<typeof floatTensor>[] = [];
  let x = 'input';
  let ch = c > 0 && c <= 64 ? c : 3; // the channel count we believe x has (a guess for absurd inputs, which is fine)
  const values = ['input'];
  const addInit = (name: string, dims: number[], l: { weightDimsLie: number[] | null; dropInit: boolean }, i: number) => {
    if (l.dropInit) return;
    const n = dims.reduce((a, b) => a * b, 1);
    const real = n > 0 && n <= 4096 ? n : 1;
    initializers.push(floatTensor(name, l.weightDimsLie ?? dims, Array.from({ length: real }, (_, k) => Math.sin(k + i) * 0.5)));
  };
  const all = [...layers];
  if (head) all.push({ ...layers[0]!, op: 'GlobalAveragePool', absurd: {}, weightDimsLie: null, dropInit: false, selfLoop: false }, { ...layers[0]!, op: 'Flatten', absurd: {}, weightDimsLie: null, dropInit: false, selfLoop: false }, { ...layers[0]!, op: 'Gemm', cOut: classes, absurd: {}, weightDimsLie: null, dropInit: false, selfLoop: false });
  all.forEach((l, i) => {
    const out = `v${i}`;
    const wName = `w${i}`;
    let attrs: Record<string, AttrValue> = {};
    let inputs = [x];
    switch (l.op) {
      case 'Conv': {
        const k = l.k > 0 && l.k < 8 ? l.k : 1;
        const groups = l.group < 0 ? ch : 1;
        const cOut = l.group < 0 ? ch : l.cOut;
        addInit(wName, [cOut, ch / groups, k, k], l, i);
        if (l.cOut % 2) addInit(`${wName}b`, [cOut], l, i + 100);
        inputs = l.cOut % 2 ? [x, wName, `${wName}b`] : [x, wName];
        attrs = { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], dilations: [l.dilation, l.dilation], group: groups };
        ch = cOut;
        break;
      }
      case 'BatchNormalization':
        for (const p of ['s', 'b', 'm', 'v']) addInit(`${wName}${p}`, [ch], l, i);
        inputs = [x, `${wName}s`, `${wName}b`, `${wName}m`, `${wName}v`];
        break;
      case 'MaxPool': case 'AveragePool':
        attrs = { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: Array(4).fill(Math.min(l.pad, Math.max(0, l.k - 1))) };
        break;
      case 'Gemm':
        addInit(wName, [l.cOut, ch], l, i);
        inputs = [x, wName];
        attrs = { transB: 1 };
        ch = l.cOut;
        break;
      case 'Reshape':
        initializers.push(int64Tensor(`${wName}shape`, [2], [l.k, -1]));
        inputs = [x, `${wName}shape`];
        break;
      case 'Pad':
        initializers.push(int64Tensor(`${wName}pads`, [8], [0, 0, l.pad, l.pad, 0, 0, l.pad, l.stride]));
        inputs = [x, `${wName}pads`];
        break;
      case 'Clip':
        initializers.push(floatTensor(`${wName}min`, [], [0]));
        inputs = [x, `${wName}min`];
        break;
      case 'Add': case 'Sum':
        inputs = [x, l.readEarlier % 3 === 0 ? values[l.readEarlier % values.length]! : x];
        break;
    }
    attrs = { ...attrs, ...l.absurd };
    if (l.selfLoop) inputs[0] = out; // a cycle: the node reads its own output
    nodes.push({ op: l.op, inputs, outputs: [out], attrs });
    values.push(out);
    x = out;
  });
  const spec: RawModelSpec = {
    opset,
    inputs: [{ name: 'input', dims: [batch, c, h, w, ...extraDims] }],
    outputs: [{ name: x }],
    nodes,
    initializers,
  };
  return { kind: 'generated' as const, spec };
});

type ByteMutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; bytes: number[] };

const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x08, 0x12, 0x1a, 0x3a) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
);

const bytesCaseArb = fc.record({
  kind: fc.constant('bytes' as const),
  seed: fc.nat(),
  // Bias positions to the header and to a random region so flips land in structure, not only in weights.
  mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 6 }),
  headerBias: fc.boolean(),
});

type StructMutation = { op: string; a: number; b: number; v: number; vs: number[] };
const STRUCT_OPS = [
  'initDims', 'initDimsAdd', 'dropInit', 'rawSize', 'attr', 'attrDrop', 'inputDims', 'inputRank', 'inputSymbolic', 'cycle', 'dupOutput',
  'opType', 'removeNode', 'swapInputs', 'dataType', 'outputDims', 'opset', 'renameInput', 'emptyName', 'clearInputs',
] as const;
const structMutationArb: fc.Arbitrary<StructMutation> = fc.record({
  op: fc.constantFrom(...STRUCT_OPS),
  a: fc.nat(), b: fc.nat(), v: absurdInt, vs: absurdInts,
});
const structCaseArb = fc.record({
  kind: fc.constant('struct' as const),
  seed: fc.nat(),
  mutations: fc.array(structMutationArb, { minLength: 1, maxLength: 4 }),
});

export type FuzzCase =
  | { kind: 'generated'; spec: RawModelSpec } | { kind: 'bytes'; seed: number; mutations: ByteMutation[]; headerBias: boolean } | { kind: 'struct'; seed: number; mutations: StructMutation[] };

export const caseArb: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 3, arbitrary: generatedArb },
  { weight: 3, arbitrary: bytesCaseArb },
  { weight: 4, arbitrary: structCaseArb },
);

// ---------------------------------------------------------------------------
// Case → bytes.

function mutateBytes(src: Uint8Array, ms: ByteMutation[], headerBias: boolean): Uint8Array {
  let b: Uint8Array = new Uint8Array(src); // a copy (src.slice() is a view when src is a Buffer)
  const pos = (at: number, len: number) => (len === 0 ? 0 : headerBias ? at % Math.min(len, 256) : at % len);
  for (const m of ms) {
    const len = b.length;
    switch (m.op) {
      case 'truncate': b = b.slice(0, pos(m.at, len + 1)); break;
      case 'flip': if (len) { const p = pos(m.at, len); b[p] = b[p]! ^ (1 << m.bit); } break;
      case 'set': if (len) b[pos(m.at, len)] = m.value; break;
      case 'delete': { const p = pos(m.at, len); b = Uint8Array.from([...b.slice(0, p), ...b.slice(p + m.len)]); break; }
      case 'insert': { const p = pos(m.at, len + 1); b = Uint8Array.from([...b.slice(0, p), ...m.bytes, ...b.slice(p)]); break; }
    }
  }
  return Uint8Array.from(b);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function mutateStruct(src: Uint8Array, ms: StructMutation[]): Uint8Array {
  const m: any = ModelProto.decode(src);
  const g: any = m.graph;
  const pick = <T>(arr: T[] | undefined, i: number): T | undefined => (arr && arr.length ? arr[i % arr.length] : undefined);
  for (const mu of ms) {
    const node: any = pick(g.node, mu.a);
    const init: any = pick(g.initializer, mu.a);
    switch (mu.op) {
      case 'initDims': if (init) { if (!init.dims.length) init.dims = [mu.v]; else init.dims[mu.b % init.dims.length] = mu.v; } break;
      case 'initDimsAdd': if (init) init.dims = mu.vs; break;
      case 'dropInit': if (g.initializer.length) g.initializer.splice(mu.a % g.initializer.length, 1); break;
      case 'rawSize': if (init && init.rawData?.length) init.rawData = init.rawData.subarray(0, Math.max(0, init.rawData.length - 1 - (mu.b % 8))); break;
      case 'attr': if (node) {
        const name = ALL_ATTRS[mu.b % ALL_ATTRS.length]!;
        const existing = node.attribute.find((x: any) => x.name === name);
        const isList = ['kernel_shape', 'strides', 'pads', 'dilations', 'axes'].includes(name);
        const attr = isList ? { name, type: 7, ints: mu.vs } : name === 'auto_pad' ? { name, type: 3, s: new TextEncoder().encode(['SAME_UPPER', 'VALID', 'X'][mu.v & 1 ? 0 : 1]!) } : { name, type: 2, i: mu.v };
        if (existing) Object.assign(existing, attr); else node.attribute.push(attr);
      } break;
      case 'attrDrop': if (node && node.attribute.length) node.attribute.splice(mu.b % node.attribute.length, 1); break;
      case 'inputDims': { const v: any = pick(g.input, mu.a); const d = v?.type?.tensorType?.shape?.dim; if (d?.length) d[mu.b % d.length] = { dimValue: mu.v }; break; }
      case 'inputRank': { const v: any = pick(g.input, mu.a); const s = v?.type?.tensorType?.shape; if (s) s.dim = mu.vs.map((x) => ({ dimValue: x })); break; }
      case 'inputSymbolic': { const v: any = pick(g.input, mu.a); const d = v?.type?.tensorType?.shape?.dim; if (d?.length) d[mu.b % d.length] = { dimParam: 'sym' }; break; }
      case 'cycle': { const n2: any = pick(g.node, mu.b); if (node && n2 && node.input.length && n2.output.length) node.input[0] = n2.output[0]; break; }
      case 'dupOutput': { const n2: any = pick(g.node, mu.b); if (node && n2 && n2.output.length) node.output[0] = n2.output[0]; break; }
      case 'opType': {
        const ops = ['Conv', 'Relu', 'Add', 'MaxPool', 'Gemm', 'Flatten', 'Reshape', 'BatchNormalization', 'GlobalAveragePool', 'Identity', 'LSTM', '', 'QuantizeLinear', 'DequantizeLinear',
          'QLinearConv', 'QLinearMatMul', 'QLinearAdd', 'QGemm', 'QLinearConcat', 'QLinearGlobalAveragePool'];
        if (node) node.opType = ops[mu.b % ops.length];
        break;
      }
      case 'removeNode': if (g.node.length) g.node.splice(mu.a % g.node.length, 1); break;
      case 'swapInputs': if (node && node.input.length >= 2) node.input.reverse(); break;
      case 'dataType': if (init) init.dataType = [0, 2, 6, 7, 10, 11, 16, 99][mu.b % 8]; break;
      case 'outputDims': { const v: any = pick(g.output, mu.a); const s = v?.type?.tensorType?.shape; if (s) s.dim = mu.vs.map((x) => ({ dimValue: x })); else if (v) v.type = { tensorType: { elemType: 1, shape: { dim: mu.vs.map((x) => ({ dimValue: x })) } } }; break; }
      case 'opset': if (m.opsetImport?.[0]) m.opsetImport[0].version = mu.v; break;
      case 'renameInput': { const v: any = pick(g.input, mu.a); if (v) v.name = `renamed${mu.b % 3}`; break; }
      case 'emptyName': if (node && node.input.length) node.input[mu.b % node.input.length] = ''; break;
      case 'clearInputs': if (node) node.input = []; break;
    }
  }
  return ModelProto.encode(m).finish();
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export function caseBytes(c: FuzzCase): Uint8Array {
  const cs = corpus();
  switch (c.kind) {
    case 'generated': return encodeRawModel(c.spec);
    case 'bytes': return mutateBytes(cs[c.seed % cs.length]!.bytes, c.mutations, c.headerBias);
    case 'struct': return mutateStruct(cs[c.seed % cs.length]!.bytes, c.mutations);
  }
}

export function describeCase(c: FuzzCase): string {
  if (c.kind === 'generated') return `generated ${c.spec.nodes.map((n) => n.op).join('→')} input ${JSON.stringify(c.spec.inputs[0]!.dims)}`;
  const base = corpus()[c.seed % corpus().length]!.name;
  return `${c.kind} of ${base}: ${c.mutations.map((m) => m.op).join(', ')}`;
}

// ---------------------------------------------------------------------------
// Running one case.

/** V8's own messages: a TypeError/RangeError with one of these is a resnode bug, not a clean rejection. */
const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not a constructor|Invalid array length|Invalid typed array length|Array buffer allocation failed|Maximum call stack|Invalid string length|out of memory|Cannot convert|undefined|NaN/;

export interface CaseResult {
  outcome: 'ran' | 'rejected';
  error?: string;
  ms: number;
}

export interface RunCaseOptions {
  backend?: 'native' | 'js';
  /** Memory limit handed to load() (default 64 MiB). */
  maxMemoryBytes?: number;
  /** Inputs larger than this many elements are not allocated by the harness (default 2^22). */
  maxInputElements?: number;
  threads?: number;
}

/** Throws (a plain Error describing the bug) if the case ends in anything but a clean load+run or a clean rejection. */
export async function runCase(bytes: Uint8Array, o: RunCaseOptions = {}): Promise<CaseResult> {
  const start = performance.now();
  const ms = () => performance.now() - start;
  let model: Awaited<ReturnType<typeof load>> | undefined;
  try {
    model = await load(bytes, { backend: o.backend ?? 'native', threads: o.threads ?? 1, maxMemoryBytes: o.maxMemoryBytes ?? 64 * 2 ** 20 });
    const feeds: Record<string, Tensor> = {};
    for (const inp of model.inputs) {
      const dims = inp.dims.map((d) => (d < 0 ? 1 : d));
      const n = dims.reduce((a, b) => a * b, 1);
      if (n > (o.maxInputElements ?? 2 ** 22)) return { outcome: 'ran', ms: ms() }; // loaded; too big for the harness to feed
      const t = Tensor.zeros(dims);
      for (let i = 0; i < n; i++) t.data[i] = Math.sin(i * 0.37);
      feeds[inp.name] = t;
    }
    const out = (bytes.length & 1) ? model.runSync(feeds) : await model.run(feeds);
    for (const o2 of model.outputs) if (!(out[o2.name] instanceof Tensor)) throw new Error(`BUG: output "${o2.name}" missing from the results`);
    return { outcome: 'ran', ms: ms() };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('BUG:')) throw err;
    if (!isCleanError(err)) {
      const e = err as Error;
      throw new Error(`BUG: not a clean resnode error: ${e?.name}: ${e?.message}\n${e?.stack?.split('\n').slice(1, 6).join('\n')}`);
    }
    return { outcome: 'rejected', error: `${(err as Error).name}: ${(err as Error).message}`, ms: ms() };
  } finally {
    await model?.dispose();
  }
}

export function isCleanError(err: unknown): boolean {
  if (!(err instanceof Error) || err.message.length < 10) return false;
  if (err instanceof ModelError) return !/Cannot read propert|is not a function|is not iterable/.test(err.message);
  if (err instanceof TypeError || err instanceof RangeError) return !INTERNAL.test(err.message);
  return false;
}

// ---------------------------------------------------------------------------
// CLI: a watchdog parent and a worker child.

function arg(name: string, d?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
}

async function child(): Promise<void> {
  const runs = Number(arg('runs', '10000'));
  const seed = Number(arg('seed', '1'));
  const skip = Number(arg('skip', '0'));
  const backend = (arg('backend', 'native') as 'native' | 'js');
  const samples = fc.sample(caseArb, { seed, numRuns: skip + runs });
  const stats = { ran: 0, rejected: 0, maxMs: 0, byKind: {} as Record<string, number> };
  const reasons = new Map<string, number>();
  for (let i = skip; i < skip + runs; i++) {
    const c = samples[i]!;
    process.stdout.write(`@case ${i}\n`);
    if (process.argv.includes('--describe')) process.stdout.write(`${describeCase(c)}\n${JSON.stringify(c).slice(0, 4000)}\n`);
    let bytes: Uint8Array;
    try { bytes = caseBytes(c); } catch { continue; } // the mutation itself could not be encoded
    const r = await runCase(bytes, { backend: c.kind === 'generated' && i % 4 === 0 ? 'js' : backend });
    stats[r.outcome]++;
    stats.byKind[c.kind] = (stats.byKind[c.kind] ?? 0) + 1;
    stats.maxMs = Math.max(stats.maxMs, r.ms);
    if (r.outcome === 'ran') stats.byKind[`${c.kind}:ran`] = (stats.byKind[`${c.kind}:ran`] ?? 0) + 1;
    if (r.error) { const ls = r.error.split('\n'); const k = (ls[0]!.endsWith(':') && ls[1] ? ls[1] : ls[0]!).replace(/"[^"]*"/g, '"…"').replace(/\d+/g, '#').slice(0, 110); reasons.set(k, (reasons.get(k) ?? 0) + 1); }
  }
  process.stdout.write(`@done ${JSON.stringify({ ...stats, topReasons: [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12) })}\n`);
}

async function parent(): Promise<void> {
  const runs = Number(arg('runs', '10000'));
  const seed = Number(arg('seed', String(Date.now() % 2 ** 31)));
  const timeoutMs = Number(arg('timeout-ms', '20000'));
  const chunk = Number(arg('chunk', '2000'));
  const backend = arg('backend', 'native')!;
  console.log(`fuzz: ${runs} cases, seed ${seed}, backend ${backend}, per-case bound ${timeoutMs} ms, chunks of ${chunk}`);
  const t0 = Date.now();
  let total = { ran: 0, rejected: 0, maxMs: 0 };
  for (let from = 0; from < runs; from += chunk) {
    const n = Math.min(chunk, runs - from);
    const res = await new Promise<{ ok: boolean; msg: string; stats?: typeof total }>((resolve) => {
      const p = spawn(process.execPath, ['--import=tsx', fileURLToPath(import.meta.url), '--child', '--seed', String(seed), '--skip', String(from), '--runs', String(n), '--backend', backend], { stdio: ['ignore', 'pipe', 'pipe'] });
      let last = -1, out = '', err = '';
      let timer = setTimeout(onHang, timeoutMs);
      function onHang() { p.kill('SIGKILL'); resolve({ ok: false, msg: `HANG: case ${last} made no progress for ${timeoutMs} ms (replay: --seed ${seed} --skip ${last} --runs 1)` }); }
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const lines = out.split('\n'); out = lines.pop()!;
        for (const l of lines) {
          if (l.startsWith('@case ')) { last = Number(l.slice(6)); clearTimeout(timer); timer = setTimeout(onHang, timeoutMs); }
          else if (l.startsWith('@done ')) { clearTimeout(timer); const s = JSON.parse(l.slice(6)); console.log(`  cases ${from}–${from + n - 1}: ${JSON.stringify(s)}`); resolve({ ok: true, msg: '', stats: s }); }
          else if (l.trim()) console.log(l);
        }
      });
      p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      p.on('exit', (code, sig) => {
        clearTimeout(timer);
        if (code !== 0) resolve({ ok: false, msg: `${sig ? `CRASH (signal ${sig})` : `FAILURE (exit ${code})`} at case ${last} (replay: --seed ${seed} --skip ${last} --runs 1)\n${err.slice(-4000)}` });
      });
    });
    if (!res.ok) { console.error(res.msg); process.exit(1); }
    total = { ran: total.ran + res.stats!.ran, rejected: total.rejected + res.stats!.rejected, maxMs: Math.max(total.maxMs, res.stats!.maxMs) };
  }
  console.log(`fuzz: OK, ${runs} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${total.ran} loaded and ran, ${total.rejected} rejected cleanly; slowest case ${total.maxMs.toFixed(0)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  (process.argv.includes('--child') || process.argv.includes('--describe') ? child() : parent()).catch((e) => { console.error(e); process.exit(1); });
}

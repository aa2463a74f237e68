// Ours against ONNX Runtime on the same model and inputs, output by output and,
// on request, layer by layer, naming the first layer that diverges.
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { loadOrt } from './optional-deps.js';
import { Graph } from './graph/graph.js';
import { load, type Feeds, type Model } from './model.js';
import { ModelProto, type ModelProtoLike } from './onnx/proto.js';
import { bool, invalid, nonNegativeInt, oneOf, plainObject, positiveInt } from './is.js';
import { Tensor } from './tensor.js';
import { ModelError } from './errors.js';
import { BACKEND_NAMES, type BackendName } from './backend/name.js';
import { checkMode, MODES, type Mode } from './modes.js';

export interface ValidateOptions {
  backend?: BackendName;
  /** The numerical mode ours runs in (src/modes.ts); it sets the default rtol and atol. */
  mode?: Mode;
  /** Inputs to feed; seeded uniform [-1, 1) noise of batch `batch` when absent. */
  inputs?: Feeds;
  batch?: number;
  seed?: number;
  /** Pass when max|ours − ort| ≤ atol + rtol · max|ort| for each value. */
  rtol?: number;
  atol?: number;
  /** Compare every intermediate value the two runtimes share, not only the outputs. */
  layers?: boolean;
  threads?: number;
}

export interface Comparison {
  name: string;
  /** The op that produced the value (ours), for layer reports. */
  op?: string;
  dims: number[];
  maxAbsError: number;
  /** maxAbsError / max|expected| */
  relError: number;
  maxAbsExpected: number;
  ok: boolean;
}

export interface ValidationReport {
  ok: boolean;
  backend: string;
  mode: Mode;
  rtol: number;
  atol: number;
  outputs: Comparison[];
  layers?: Comparison[];
  /** The first value, in execution order, that exceeds the tolerance. */
  firstDivergence?: Comparison;
  oursMs: number;
  ortMs: number;
}


/** Deterministic uniform [-1, 1) noise (mulberry32). */
export function seededTensor(dims: number[], seed: number): Tensor {
  const t = Tensor.zeros(dims);
  let a = seed >>> 0;
  for (let i = 0; i < t.size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    t.data[i] = (((r ^ (r >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return t;
}

export function compare(name: string, actual: Float32Array, expected: Float32Array, dims: number[], rtol: number, atol: number, op?: string): Comparison {
  let maxAbsError = actual.length === expected.length ? 0 : Infinity;
  let maxAbsExpected = 0;
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
    const e = expected[i]!;
    const d = Math.abs(actual[i]! - e);
    if (!(d <= maxAbsError)) maxAbsError = Number.isNaN(d) ? Infinity : d;
    if (Math.abs(e) > maxAbsExpected) maxAbsExpected = Math.abs(e);
  }
  const relError = maxAbsExpected > 0 ? maxAbsError / maxAbsExpected : maxAbsError;
  return { name, op, dims, maxAbsError, relError, maxAbsExpected, ok: maxAbsError <= atol + rtol * maxAbsExpected };
}

/** The model with every node output also declared as a graph output, so ORT returns them. */
function exposeAllValues(bytes: Uint8Array): Uint8Array {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false }) as ModelProtoLike;
  const g = m.graph!;
  const have = new Set((g.output ?? []).map((o) => o.name));
  for (const n of g.node ?? []) {
    for (const o of n.output ?? []) {
      if (o && !have.has(o)) {
        (g.output ??= []).push({ name: o, type: { tensorType: { elemType: 1 } } });
        have.add(o);
      }
    }
  }
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

async function modelBytes(source: string | Uint8Array | Graph): Promise<Uint8Array> {
  if (source instanceof Graph) return source.toOnnx();
  if (source instanceof Uint8Array) return source;
  if (typeof source === 'string') return new Uint8Array(await readFile(source));
  throw invalid('validate', 'model', 'a file path, ONNX bytes (Uint8Array) or a Graph', source);
}

function defaultFeeds(model: Model, batch: number, seed: number): Feeds {
  const feeds: Feeds = {};
  model.inputs.forEach((meta, i) => {
    const dims = meta.dims.map((d, k) => (d < 0 ? (k === 0 ? batch : 1) : d));
    feeds[meta.name] = seededTensor(dims, seed + i);
  });
  return feeds;
}

export async function validate(source: string | Uint8Array | Graph, options: ValidateOptions = {}): Promise<ValidationReport> {
  const where = 'validate';
  const o = plainObject(where, 'options', options);
  const backend = oneOf(where, 'options.backend', o.backend, BACKEND_NAMES, 'native');
  const mode = checkMode(where, o.mode, backend);
  const rtol = o.rtol === undefined ? MODES[mode].validate.rtol : nonNegativeNumber(where, 'options.rtol', o.rtol);
  const atol = o.atol === undefined ? MODES[mode].validate.atol : nonNegativeNumber(where, 'options.atol', o.atol);
  const layers = bool(where, 'options.layers', o.layers, false);
  const batch = o.batch === undefined ? 1 : positiveInt(where, 'options.batch', o.batch);
  const seed = o.seed === undefined ? 0 : nonNegativeInt(where, 'options.seed', o.seed);
  const threads = o.threads === undefined ? undefined : positiveInt(where, 'options.threads', o.threads);

  const ort = await loadOrt(where);
  const bytes = await modelBytes(source);
  const model = await load(bytes, { backend, mode, threads });
  try {
    const feeds = (o.inputs as Feeds | undefined) ?? defaultFeeds(model, batch, seed);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(layers ? exposeAllValues(bytes) : bytes, { graphOptimizationLevel: layers ? 'disabled' : 'all', intraOpNumThreads: threads ?? model.threads });
    } catch (err) {
      throw new ModelError(`${where}: ONNX Runtime could not load the model: ${(err as Error).message}`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, [...t.dims]);
    let start = performance.now();
    const expected = await session.run(ortFeeds);
    const ortMs = performance.now() - start;
    start = performance.now();
    const actual = await model.run(feeds, { fetchIntermediates: layers });
    const oursMs = performance.now() - start;
    await session.release();

    const outputs = model.outputs.map((meta) => {
      const e = expected[meta.name];
      if (!e) throw new ModelError(`${where}: ONNX Runtime produced no output named "${meta.name}"`);
      return compare(meta.name, actual[meta.name]!.data, e.data as Float32Array, [...actual[meta.name]!.dims], rtol, atol);
    });
    const report: ValidationReport = { ok: outputs.every((c) => c.ok), backend, mode, rtol, atol, outputs, oursMs, ortMs };
    if (layers) {
      report.layers = [];
      for (const node of model.graph.nodes) {
        const name = node.outputs[0]!;
        const e = expected[name];
        const a = actual[name];
        if (!e || !a) continue;
        report.layers.push(compare(name, a.data, e.data as Float32Array, [...a.dims], rtol, atol, node.op));
      }
      report.firstDivergence = report.layers.find((c) => !c.ok);
      report.ok &&= report.firstDivergence === undefined;
    }
    return report;
  } finally {
    await model.dispose();
  }
}

function nonNegativeNumber(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw invalid(where, name, 'a finite non-negative number', v);
  return v;
}

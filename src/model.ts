// A compiled, runnable graph: weights packed once at load, activation buffers
// planned by liveness and reused, runs safe to overlap.
import { dirname } from 'node:path';
import { createBackend } from './backend/index.js';
import { BACKEND_NAMES } from './backend/name.js';
import type { KernelBackend, PackedWeights, PlanExecutor } from './backend/types.js';
import { ModelError } from './errors.js';
import { Graph, GraphError, inferShapes, type Node } from './graph/graph.js';
import { elementCount } from './shapes.js';
import { optimize, planMemory } from './graph/passes.js';
import { PlanCache, type CachedPlan } from './plan/cache.js';
import { hostKernels, interpretPlan, profileSteps, runStep } from './plan/interpret.js';
import { assignF32Nhwc, f32NhwcWanted, readValue } from './plan/formats.js';
import { lower, type LoweredPlan } from './plan/lower.js';
import { fromOnnx } from './onnx/import.js';
import { bool, describe, invalid, oneOf, plainObject, positiveInt } from './is.js';
import { asFloat16Tensor, asTensor, Tensor, type Float16TensorLike, type TensorLike, type TensorType } from './tensor.js';
import { float16ToFloat32, float32ToFloat16 } from './onnx/half.js';
import { currentThreads } from './threads.js';
import { checkMode, type Mode } from './modes.js';
import { checkBeforeOptimize, checkMemory, hasDynamicSpatialDims, inputDimsAt, maxMemoryOption, weightBytes } from './limits.js';
import { readModelFile } from './source.js';
import { requireModeSupported } from './mode-support.js';

export interface LoadOptions {
  backend?: 'native' | 'js' | 'cuda';
  /** Threads for native kernels; defaults to setThreads()'s value (the number of cores). */
  threads?: number;
  /**
   * 'exact' (default) computes every conv directly; 'fast' also uses Winograd
   * F(4×4,3×3) or F(2×2,3×3) for 3×3 stride-1 convolutions (error bounds in src/modes.ts).
   */
  mode?: Mode;
  /** Keep BatchNormalization and activations as separate nodes (for layer-by-layer debugging). */
  optimize?: boolean;
  /** Reject a model (at load, batch 1 if dynamic) or a run whose weights + planned activations exceed this; default min(8 GiB, totalmem/2). */
  maxMemoryBytes?: number;
}

export interface RunOptions {
  /** Also return every intermediate value that survives optimisation, by its ONNX name. */
  fetchIntermediates?: boolean;
}

export interface ValueMetadata {
  name: string;
  /** float16: the model takes or returns Tensor('float16', Uint16Array) there (it computes in float32). */
  type: TensorType;
  /** -1 marks a dynamic dimension (batch, height, width). */
  dims: readonly number[];
}

/** Model.profile's answer: one row per step of the plan, in execution order. */
export type LayerTimes = { name: string; op: string; output: string; ms: number; kernel?: string }[];

/**
 * Inputs by name: Tensors, or any object of ONNX Runtime's Tensor shape (an ort.Tensor,
 * { type: 'float32', data, dims }); a float16 input takes { type: 'float16', data: Uint16Array, dims }.
 */
export type Feeds = Record<string, Tensor<TensorType> | TensorLike | Float16TensorLike>;
/** Outputs by name: Tensor('float32', …), or Tensor('float16', Uint16Array) for a float16 output (see Model.outputs). */
export type Results = Record<string, Tensor>;

/**
 * One input shape's lowered plan, its backend executor and its host arenas.
 * An arena is the complete buffer list of one run: copies of the graph inputs
 * (so a caller that detaches or mutates its tensors mid-run cannot reach the
 * addon's memory), one buffer per memory-plan slot, then the constants.
 */
interface ShapePlan extends CachedPlan {
  readonly lowered: LoweredPlan;
  readonly executor: PlanExecutor;
  /** Arenas not in use by a run; a run takes one and gives it back. */
  readonly free: Float32Array[][];
}

export class Model {
  readonly graph: Graph;
  readonly backend: KernelBackend;
  readonly threads: number;
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  private readonly packed = new Map<string, PackedWeights>();
  private readonly plans: PlanCache<ShapePlan>;
  private inFlight = 0;
  private disposed = false;
  private idle: (() => void)[] = [];

  /**
   * @internal use load(); inPlace: false (load with optimize: false) keeps every Concat a copy step
   * and gives every elementwise output a buffer of its own (PlanOptions.concatInPlace, elementwiseInPlace).
   */
  constructor(graph: Graph, backend: KernelBackend, threads: number, readonly maxMemoryBytes = Infinity, readonly mode: Mode = 'exact', private readonly inPlace = true) {
    this.graph = graph;
    this.backend = backend;
    this.threads = threads;
    this.inputs = graph.inputs.map((v) => Object.freeze({ name: v.name, type: v.elemType ?? 'float32', dims: Object.freeze([...v.dims]) }));
    const shapes = inferShapes(graph);
    this.outputs = graph.outputs.map((v) => Object.freeze({ name: v.name, type: v.elemType ?? 'float32', dims: Object.freeze([...(shapes.get(v.name) ?? v.dims)]) }));
    this.plans = new PlanCache<ShapePlan>(maxMemoryBytes, 2 * weightBytes(graph), (plan) => {
      plan.free.length = 0;
      plan.executor.release?.();
    });
    for (const node of graph.nodes) this.packNode(node);
  }

  /** @internal Weights (×2, for the packed copy) plus every cached arena, as counted against maxMemoryBytes. */
  get memoryBytes(): number {
    return this.plans.totalBytes;
  }

  /** @internal How many input shapes have a plan cached now. */
  get cachedPlans(): number {
    return this.plans.size;
  }

  private packNode(node: Node): void {
    const init = (name: string | undefined) => (name ? this.graph.initializers.get(name) ?? null : null);
    if (node.op === 'Conv' && node.attrs.int8) {
      const w = init(node.inputs[1])!;
      const [cOut, cIn, kh, kw] = w.dims as [number, number, number, number];
      const { x, y, multipliers } = node.attrs.int8;
      this.packed.set(node.name, this.backend.packQConv2d!(w.data, init(node.inputs[2])?.data ?? null, Float32Array.from(multipliers), cOut, cIn, kh, kw, { x, y }));
    } else if (node.op === 'Conv' && node.attrs.nhwc) {
      const w = init(node.inputs[1])!;
      const [cOut, cIn, kh, kw] = w.dims as [number, number, number, number];
      this.packed.set(node.name, this.backend.packConv2dNhwc!(w.data, init(node.inputs[2])?.data ?? null, cOut, cIn, kh, kw));
    } else if (node.op === 'Conv') {
      const w = init(node.inputs[1])!;
      const [cOut, cInPerGroup, kh, kw] = w.dims as [number, number, number, number];
      this.packed.set(node.name, this.backend.packConv2d(w.data, init(node.inputs[2])?.data ?? null, cOut, cInPerGroup, kh, kw, node.attrs.groups, this.mode));
    } else if (node.op === 'Gemm') {
      const w = init(node.inputs[1])!;
      this.packed.set(node.name, this.backend.packGemm(w.data, init(node.inputs[2])?.data ?? null, w.dims[0]!, w.dims[1]!));
    }
  }

  private checkFeeds(where: string, feeds: unknown): Map<string, Tensor<TensorType>> {
    if (this.disposed) throw new ModelError(`${where}: the model has been disposed`);
    const f = plainObject(where, 'feeds', feeds);
    const known = new Set(this.inputs.map((i) => i.name));
    for (const k of Object.keys(f)) {
      if (!known.has(k)) throw new RangeError(`${where}: unknown input "${k}"; the model's inputs are ${[...known].map((n) => `"${n}"`).join(', ')}`);
    }
    const out = new Map<string, Tensor<TensorType>>();
    for (const meta of this.inputs) {
      const t = f[meta.name];
      if (t === undefined) throw invalid(where, `feeds["${meta.name}"]`, 'a Tensor', t);
      const checked = meta.type === 'float16' ? asFloat16Tensor(where, `feeds["${meta.name}"]`, t) : asTensor(where, `feeds["${meta.name}"]`, t);
      const dims = checked.dims;
      const ok = dims.length === meta.dims.length && dims.every((d, i) => (meta.dims[i]! < 0 ? d >= 1 : d === meta.dims[i]));
      if (!ok) {
        const expected = `[${meta.dims.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;
        throw new RangeError(`${where}: input "${meta.name}" expects dims ${expected} but received ${describe(dims)}`);
      }
      out.set(meta.name, checked);
    }
    return out;
  }

  /** Copies a feed into its arena buffer, widening float16 (in the backend's native kernel where it has one). */
  private copyFeed(t: Tensor<TensorType>, dst: Float32Array): void {
    if (t.type === 'float32') dst.set(t.data as Float32Array);
    else (this.backend.float16ToFloat32 ?? float16ToFloat32)(t.data as Uint16Array, dst);
  }

  /** The plan for these feeds' dims (lowered and compiled on first use, then cached) and an arena holding copies of the feeds. */
  private prepare(where: string, feeds: Map<string, Tensor<TensorType>>): { plan: ShapePlan; arena: Float32Array[] } {
    const inputDims: Record<string, number[]> = {};
    for (const meta of this.inputs) inputDims[meta.name] = [...feeds.get(meta.name)!.dims];
    const key = JSON.stringify(inputDims);
    let plan = this.plans.get(key);
    if (!plan) {
      const planned = planMemory(this.graph, inputDims, { residualInPlace: this.backend.residualInPlace ?? false, concatInPlace: this.inPlace && (this.backend.concatInPlace ?? false), elementwiseInPlace: this.inPlace && (this.backend.elementwiseInPlace ?? false) });
      const memory = checkMemory(where, this.graph, inputDims, this.maxMemoryBytes, planned).plan;
      const lowered = lower({ graph: this.graph, inputNames: this.inputs.map((v) => v.name), packed: this.packed, backend: this.backend, threads: this.threads }, memory);
      const executor = this.backend.compilePlan?.(lowered) ?? interpretPlan(this.backend, lowered);
      const inputFloats = this.inputs.reduce((sum, v) => sum + elementCount(inputDims[v.name]!), 0);
      plan = { lowered, executor, free: [], arenas: 0, inUse: 0, arenaBytes: 4 * (inputFloats + memory.totalFloats) };
      this.plans.add(key, plan);
    }
    let arena = plan.free.pop();
    if (!arena) {
      this.plans.takeArena(where, plan);
      const l = plan.lowered;
      const own = [...this.inputs.map((v) => new Float32Array(elementCount(inputDims[v.name]!))), ...l.slotSizes.map((n) => new Float32Array(n))];
      arena = [...own, ...l.views.map((v) => own[v.base]!.subarray(v.offset, v.offset + v.length)), ...l.constants];
    }
    plan.inUse++;
    // Copied now, on the JS thread: the run reads these, never the caller's buffers.
    this.inputs.forEach((v, i) => this.copyFeed(feeds.get(v.name)!, arena[i]!));
    return { plan, arena };
  }

  private giveBack(plan: ShapePlan, arena: Float32Array[]): void {
    plan.inUse--;
    if (plan.arenas > plan.free.length + plan.inUse) plan.free.push(arena); // else the plan was evicted meanwhile
  }

  private collect(plan: ShapePlan, arena: Float32Array[], names: Iterable<string>): Results {
    const results: Results = {};
    const half = new Set(this.outputs.filter((o) => o.type === 'float16').map((o) => o.name));
    for (const name of names) {
      const dims = plan.lowered.memory.shapes.get(name)!;
      // A copy, as float32 NCHW (a value the plan keeps as u8 NHWC comes back dequantized).
      const data = readValue(plan.lowered.formats.get(name), arena[plan.lowered.bufferOf.get(name)!]!, dims);
      if (!half.has(name)) { results[name] = new Tensor('float32', data, dims); continue; }
      const bits = new Uint16Array(data.length);
      (this.backend.float32ToFloat16 ?? float32ToFloat16)(data, bits);
      // A float16 output is a Tensor<'float16'>; Results types every value as the float32 default.
      results[name] = new Tensor('float16', bits, dims) as unknown as Tensor;
    }
    return results;
  }

  private outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  private begin(): void {
    this.inFlight++;
  }

  private end(): void {
    if (--this.inFlight === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Runs the model off the JS thread; resolves with every graph output. The feeds are copied before it returns. */
  async run(feeds: Feeds, options: RunOptions = {}): Promise<Results> {
    const inputs = this.checkFeeds('run', feeds);
    const fetchAll = bool('run', 'options.fetchIntermediates', plainObject('run', 'options', options).fetchIntermediates, false);
    const { plan, arena } = this.prepare('run', inputs);
    this.begin();
    try {
      if (!fetchAll) {
        await plan.executor.run(arena);
        return this.collect(plan, arena, this.outputNames());
      }
      // Step by step through the same plan, keeping every value.
      const kernels = hostKernels(this.backend, false);
      const extra: Results = {};
      for (const [i, step] of plan.lowered.steps.entries()) {
        await runStep(kernels, step, arena);
        Object.assign(extra, this.collect(plan, arena, plan.lowered.completed[i]!));
      }
      return { ...extra, ...this.collect(plan, arena, this.outputNames()) };
    } finally {
      this.giveBack(plan, arena);
      this.end();
    }
  }

  /** Runs the model on the calling thread. */
  runSync(feeds: Feeds, options: RunOptions = {}): Results {
    if (this.backend.asyncOnly) throw new ModelError(`runSync: the ${this.backend.name} backend runs asynchronously; use run()`);
    const inputs = this.checkFeeds('runSync', feeds);
    const fetchAll = bool('runSync', 'options.fetchIntermediates', plainObject('runSync', 'options', options).fetchIntermediates, false);
    const { plan, arena } = this.prepare('runSync', inputs);
    try {
      if (!fetchAll) {
        plan.executor.runSync!(arena);
        return this.collect(plan, arena, this.outputNames());
      }
      const kernels = hostKernels(this.backend, true);
      const extra: Results = {};
      for (const [i, step] of plan.lowered.steps.entries()) {
        runStep(kernels, step, arena);
        Object.assign(extra, this.collect(plan, arena, plan.lowered.completed[i]!));
      }
      return { ...extra, ...this.collect(plan, arena, this.outputNames()) };
    } finally {
      this.giveBack(plan, arena);
    }
  }

  /**
   * Wall time of each step of the plan in one synchronous run, in execution
   * order (for `resnode bench --layers`), each step run by the backend's own
   * plan executor where it has one, with the micro-kernel it runs, where the
   * backend names one.
   */
  profile(feeds: Feeds): LayerTimes {
    const inputs = this.checkFeeds('profile', feeds);
    const { plan, arena } = this.prepare('profile', inputs);
    try {
      return profileSteps(this.backend, plan.lowered, arena).map((t, i) => {
        const node = plan.lowered.nodes[i]!;
        return { name: node.name, op: node.op, output: node.outputs[0]!, ...t };
      });
    } finally {
      this.giveBack(plan, arena);
    }
  }

  /** Frees buffers and packed weights once runs in flight have finished; later runs throw. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
    // Free native memory now rather than at garbage collection (a no-op for the JS backend).
    this.plans.clear();
    if (this.backend.release) for (const p of this.packed.values()) this.backend.release(p);
    this.packed.clear();
    this.backend.dispose?.();
  }
}

/** Loads an ONNX file (path or bytes) or a Graph, optimises it and packs its weights. */
export async function load(source: string | Uint8Array | Graph, options: LoadOptions = {}): Promise<Model> {
  const where = 'load';
  const o = plainObject(where, 'options', options);
  const backendName = oneOf(where, 'options.backend', o.backend, BACKEND_NAMES, 'native');
  const threads = o.threads === undefined ? currentThreads() : positiveInt(where, 'options.threads', o.threads);
  const fuse = bool(where, 'options.optimize', o.optimize, true);
  const maxMemoryBytes = maxMemoryOption(where, o.maxMemoryBytes);
  let graph: Graph;
  if (source instanceof Graph) graph = source.clone();
  else if (source instanceof Uint8Array) graph = fromOnnx(source);
  else if (typeof source === 'string') graph = fromOnnx(await readModelFile(where, source, maxMemoryBytes), { baseDir: dirname(source) });
  else throw invalid(where, 'source', 'a file path, ONNX bytes (Uint8Array) or a Graph', source);
  const mode = checkMode(where, o.mode, backendName);
  requireModeSupported(where, mode, backendName);
  const backend = createBackend(where, backendName, mode);
  checkBeforeOptimize(where, graph, maxMemoryBytes); // the passes copy weights and may expand 2-D BatchNorms
  // A graph imported here is ours alone: its weights may be folded in place.
  const fused = optimize(graph, { fuseResidual: fuse, fuseRelu: fuse, inPlace: !(source instanceof Graph), int8Convs: backend.packQConv2d !== undefined });
  const optimized = f32NhwcWanted(where, backend.packConv2dNhwc !== undefined, mode) ? assignF32Nhwc(fused) : fused;
  try {
    checkMemory(where, optimized, inputDimsAt(optimized, 1), maxMemoryBytes); // before packing or any buffer
  } catch (err) {
    // A dynamic height or width set to 1 may be no valid input (ConvNeXt's 4x4 stride-4 stem): each
    // input shape's arena is checked when its plan is made (PlanCache.takeArena), and its shapes then.
    if (!(hasDynamicSpatialDims(optimized) && err instanceof GraphError)) throw err;
  }
  return new Model(optimized, backend, threads, maxMemoryBytes, mode, fuse);
}

// A compiled, runnable graph: weights packed once at load, activation buffers
// planned by liveness and reused, runs safe to overlap.
import { readFile } from 'node:fs/promises';
import { getBackend } from './backend/index.js';
import { CudaModelRunner, createCudaBackend, type CudaMode } from './backend/cuda.js';
import type { BackendPlan, ConvParams, KernelBackend, PackedWeights, PlanStep, PoolParams } from './backend/types.js';
import { ModelError } from './errors.js';
import { Graph, inferShapes, numel, type ConvNode, type Node } from './graph/graph.js';
import { optimize, planMemory, type MemoryPlan } from './graph/passes.js';
import { importOnnx } from './onnx/import.js';
import { bool, describe, invalid, oneOf, plainObject, positiveInt } from './is.js';
import { asTensor, Tensor, type TensorLike } from './tensor.js';
import { currentThreads } from './threads.js';
import type { Mode } from './modes.js';
import { checkBeforeOptimize, checkMemory, inputDimsAt, maxMemoryOption } from './limits.js';

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
  type: 'float32';
  /** -1 marks the dynamic batch dimension. */
  dims: readonly number[];
}

/** Inputs by name: Tensors, or any object of ONNX Runtime's Tensor shape (an ort.Tensor, { type: 'float32', data, dims }). */
export type Feeds = Record<string, Tensor | TensorLike>;
export type Results = Record<string, Tensor>;

type Buffers = Float32Array[];
type Step = (buffers: Buffers, inputs: Map<string, Float32Array>, sync: boolean) => Promise<void> | void;

interface Plan {
  shapes: Map<string, number[]>;
  memory: MemoryPlan;
  /** kernel: the backend's micro-kernel for the node (profiles only), where it names one. */
  steps: { node: Node; run: Step; kernel?: () => string }[];
  /** Arenas not in use by a run; a run takes one and gives it back. */
  free: Buffers[];
  /**
   * The whole graph as one backend call (native): its buffer list is the graph
   * inputs (in `Model.inputs` order), then the arena slots, then `constants`
   * (initializers read as activations, not as weights).
   */
  whole?: { plan: BackendPlan; constants: Float32Array[] };
}

type Reader = (buffers: Buffers, inputs: Map<string, Float32Array>) => Float32Array;

/** Where a value lives during a run: a feed, a constant, or a slot of the arena. */
function reader(plan: MemoryPlan, inputNames: Set<string>, graph: Graph) {
  return (name: string): Reader => {
    if (inputNames.has(name)) return (_b, inputs) => inputs.get(name)!;
    const constant = graph.initializers.get(name);
    if (constant) return () => constant.data;
    const slot = plan.slotOf.get(name);
    if (slot === undefined) throw new ModelError(`value "${name}" has no buffer in the memory plan`);
    return (b) => b[slot]!;
  };
}

export class Model {
  readonly graph: Graph;
  readonly backend: KernelBackend;
  readonly threads: number;
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  private readonly packed = new Map<string, PackedWeights>();
  private readonly plans = new Map<string, Plan>();
  private readonly cuda?: { runner: CudaModelRunner; mode: CudaMode };
  private inFlight = 0;
  private disposed = false;
  private idle: (() => void)[] = [];

  /** @internal use load() */
  constructor(graph: Graph, backend: KernelBackend, threads: number, readonly maxMemoryBytes = Infinity, readonly mode: Mode = 'exact') {
    this.graph = graph;
    this.backend = backend;
    this.threads = threads;
    this.inputs = graph.inputs.map((v) => Object.freeze({ name: v.name, type: 'float32' as const, dims: Object.freeze([...v.dims]) }));
    const shapes = inferShapes(graph);
    this.outputs = graph.outputs.map((v) => Object.freeze({ name: v.name, type: 'float32' as const, dims: Object.freeze([...(shapes.get(v.name) ?? v.dims)]) }));
    for (const node of graph.nodes) this.packNode(node);
    if (backend.name === 'cuda') {
      const cb = backend as ReturnType<typeof createCudaBackend>;
      this.cuda = { runner: new CudaModelRunner(graph, graph.nodes, this.packed, cb), mode: cb.mode };
    }
  }

  private packNode(node: Node): void {
    const init = (name: string | undefined) => (name ? this.graph.initializers.get(name) ?? null : null);
    if (node.op === 'Conv') {
      const w = init(node.inputs[1])!;
      const [cOut, cInPerGroup, kh, kw] = w.dims as [number, number, number, number];
      this.packed.set(node.name, this.backend.packConv2d(w.data, init(node.inputs[2])?.data ?? null, cOut, cInPerGroup, kh, kw, node.attrs.groups, this.mode));
    } else if (node.op === 'Gemm') {
      const w = init(node.inputs[1])!;
      this.packed.set(node.name, this.backend.packGemm(w.data, init(node.inputs[2])?.data ?? null, w.dims[0]!, w.dims[1]!));
    }
  }

  private checkFeeds(where: string, feeds: unknown): Map<string, Float32Array> {
    if (this.disposed) throw new ModelError(`${where}: the model has been disposed`);
    const f = plainObject(where, 'feeds', feeds);
    const known = new Set(this.inputs.map((i) => i.name));
    for (const k of Object.keys(f)) {
      if (!known.has(k)) throw new RangeError(`${where}: unknown input "${k}"; the model's inputs are ${[...known].map((n) => `"${n}"`).join(', ')}`);
    }
    const out = new Map<string, Float32Array>();
    for (const meta of this.inputs) {
      const t = f[meta.name];
      if (t === undefined) throw invalid(where, `feeds["${meta.name}"]`, 'a Tensor', t);
      const dims = asTensor(where, `feeds["${meta.name}"]`, t).dims;
      const ok = dims.length === meta.dims.length && dims.every((d, i) => (meta.dims[i]! < 0 ? d >= 1 : d === meta.dims[i]));
      if (!ok) {
        const expected = `[${meta.dims.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;
        throw new RangeError(`${where}: input "${meta.name}" expects dims ${expected} but received ${describe(dims)}`);
      }
      out.set(meta.name, (t as Tensor).data);
    }
    return out;
  }

  private planFor(feeds: Map<string, Float32Array>, dimsOf: (name: string) => readonly number[]): Plan {
    const inputDims: Record<string, number[]> = {};
    for (const meta of this.inputs) inputDims[meta.name] = [...dimsOf(meta.name)];
    const key = JSON.stringify(inputDims);
    let plan = this.plans.get(key);
    if (!plan) {
      const planned = planMemory(this.graph, inputDims, { residualInPlace: this.backend.residualInPlace ?? false });
      const memory = checkMemory('run', this.graph, inputDims, this.maxMemoryBytes, planned).plan;
      const shapes = memory.shapes;
      const where = reader(memory, new Set(feeds.keys()), this.graph);
      const steps = memory.order.map((node) => ({ node, run: this.compileStep(node, shapes, memory, where), kernel: this.kernelOf(node, shapes) }));
      plan = { shapes, memory, free: [], steps };
      if (this.backend.createPlan && !this.cuda) plan.whole = this.compileWhole(shapes, memory);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** The params of a Conv node's kernel call, for its step and the whole-model plan. */
  private convParams(node: ConvNode, shapes: Map<string, number[]>): ConvParams {
    const a = node.attrs;
    const xDims = shapes.get(node.inputs[0]!)!;
    const yDims = shapes.get(node.outputs[0]!)!;
    const w = this.graph.initializers.get(node.inputs[1]!)!;
    return {
      inputDims: xDims, cOut: w.dims[0]!, kh: a.kernelShape[0], kw: a.kernelShape[1], groups: a.groups,
      strides: a.strides, pads: a.pads, dilations: a.dilations, outDims: [yDims[2]!, yDims[3]!], relu: a.relu ?? false, threads: this.threads,
    };
  }

  private kernelOf(node: Node, shapes: Map<string, number[]>): (() => string) | undefined {
    const be = this.backend;
    const packed = this.packed.get(node.name);
    if (!packed) return undefined;
    if (node.op === 'Conv' && be.convKernel) {
      const p = this.convParams(node, shapes);
      return () => be.convKernel!(packed, p);
    }
    if (node.op === 'Gemm' && be.gemmKernel) {
      const m = shapes.get(node.inputs[0]!)![0]!;
      return () => be.gemmKernel!(packed, m);
    }
    return undefined;
  }

  private compileStep(node: Node, shapes: Map<string, number[]>, memory: MemoryPlan, where: ReturnType<typeof reader>): Step {
    const be = this.backend;
    const threads = this.threads;
    const x = where(node.inputs[0]!);
    const out = memory.slotOf.get(node.outputs[0]!)!;
    const xDims = shapes.get(node.inputs[0]!)!;
    const yDims = shapes.get(node.outputs[0]!)!;
    switch (node.op) {
      case 'Conv': {
        const packed = this.packed.get(node.name)!;
        const residual = node.attrs.residual ? where(node.attrs.residual) : null;
        const p = this.convParams(node, shapes);
        return (b, i, sync) => {
          const r = residual ? residual(b, i) : null;
          return sync ? be.conv2dSync(packed, x(b, i), r, b[out]!, p) : be.conv2d(packed, x(b, i), r, b[out]!, p);
        };
      }
      case 'Gemm': {
        const packed = this.packed.get(node.name)!;
        const relu = node.attrs.relu ?? false;
        const m = xDims[0]!;
        return (b, i, sync) => (sync ? be.gemmSync(packed, x(b, i), m, relu, b[out]!, threads) : be.gemm(packed, x(b, i), m, relu, b[out]!, threads));
      }
      case 'Add': {
        const y = where(node.inputs[1]!);
        const relu = node.attrs.relu ?? false;
        return (b, i, sync) => (sync ? be.addSync(x(b, i), y(b, i), b[out]!, relu, threads) : be.add(x(b, i), y(b, i), b[out]!, relu, threads));
      }
      case 'MaxPool':
      case 'AveragePool': {
        const a = node.attrs;
        const p: PoolParams = { inputDims: xDims, kernel: a.kernelShape, strides: a.strides, pads: a.pads, dilations: a.dilations, outDims: [yDims[2]!, yDims[3]!], threads };
        if (node.op === 'MaxPool') return (b, i, sync) => (sync ? be.maxPoolSync(x(b, i), b[out]!, p) : be.maxPool(x(b, i), b[out]!, p));
        const cip = node.attrs.countIncludePad;
        return (b, i, sync) => (sync ? be.averagePoolSync(x(b, i), b[out]!, p, cip) : be.averagePool(x(b, i), b[out]!, p, cip));
      }
      case 'GlobalAveragePool': {
        const [n, c, h, w] = xDims as [number, number, number, number];
        return (b, i, sync) => (sync ? be.globalAveragePoolSync(x(b, i), b[out]!, n, c, h * w, threads) : be.globalAveragePool(x(b, i), b[out]!, n, c, h * w, threads));
      }
      case 'Flatten':
      case 'Reshape':
        return (b, i) => void b[out]!.set(x(b, i).subarray(0, numel(yDims)));
      case 'Transpose': {
        const [rows, cols] = xDims as [number, number];
        return (b, i) => {
          const src = x(b, i);
          const dst = b[out]!;
          for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c]!;
        };
      }
      case 'Relu':
        return (b, i) => {
          const src = x(b, i);
          const dst = b[out]!;
          for (let k = 0; k < dst.length; k++) dst[k] = src[k]! > 0 ? src[k]! : 0;
        };
      case 'BatchNormalization':
        throw new ModelError(`BatchNormalization node "${node.name}" survived optimisation; load with optimize: true`);
    }
  }

  /** The steps of `memory.order` as one backend plan (see Plan.whole). */
  private compileWhole(shapes: Map<string, number[]>, memory: MemoryPlan): Plan['whole'] {
    const nIn = this.inputs.length;
    const nSlots = memory.slotSizes.length;
    const inputIndex = new Map(this.inputs.map((v, i) => [v.name, i]));
    const constants: Float32Array[] = [];
    const constantIndex = new Map<string, number>();
    const buffer = (name: string): number => {
      const i = inputIndex.get(name);
      if (i !== undefined) return i;
      const slot = memory.slotOf.get(name);
      if (slot !== undefined) return nIn + slot;
      let k = constantIndex.get(name);
      if (k === undefined) {
        const t = this.graph.initializers.get(name);
        if (!t) throw new ModelError(`value "${name}" has no buffer in the memory plan`);
        k = nIn + nSlots + constants.length;
        constants.push(t.data);
        constantIndex.set(name, k);
      }
      return k;
    };
    const threads = this.threads;
    const steps: PlanStep[] = memory.order.map((node): PlanStep => {
      const xDims = shapes.get(node.inputs[0]!)!;
      const yDims = shapes.get(node.outputs[0]!)!;
      const io = { inputs: [buffer(node.inputs[0]!)], output: buffer(node.outputs[0]!) };
      switch (node.op) {
        case 'Conv': {
          if (node.attrs.residual) io.inputs.push(buffer(node.attrs.residual));
          return { op: 'conv', ...io, packed: this.packed.get(node.name)!, p: this.convParams(node, shapes) };
        }
        case 'Gemm':
          return { op: 'gemm', ...io, packed: this.packed.get(node.name)!, m: xDims[0]!, relu: node.attrs.relu ?? false, threads };
        case 'Add':
          io.inputs.push(buffer(node.inputs[1]!));
          return { op: 'add', ...io, count: numel(yDims), relu: node.attrs.relu ?? false, threads };
        case 'MaxPool':
        case 'AveragePool': {
          const a = node.attrs;
          const p: PoolParams = { inputDims: xDims, kernel: a.kernelShape, strides: a.strides, pads: a.pads, dilations: a.dilations, outDims: [yDims[2]!, yDims[3]!], threads };
          return node.op === 'MaxPool' ? { op: 'maxPool', ...io, p } : { op: 'averagePool', ...io, p, countIncludePad: node.attrs.countIncludePad };
        }
        case 'GlobalAveragePool':
          return { op: 'globalAveragePool', ...io, n: xDims[0]!, c: xDims[1]!, hw: xDims[2]! * xDims[3]!, threads };
        case 'Flatten':
        case 'Reshape':
          return { op: 'copy', ...io, count: numel(yDims) };
        case 'Transpose':
          return { op: 'transpose', ...io, rows: xDims[0]!, cols: xDims[1]! };
        case 'Relu':
          return { op: 'relu', ...io, count: numel(yDims) };
        case 'BatchNormalization':
          throw new ModelError(`BatchNormalization node "${node.name}" survived optimisation; load with optimize: true`);
      }
    });
    return { plan: this.backend.createPlan!(steps), constants };
  }

  /** The buffer list of Plan.whole for one run. */
  private wholeBuffers(plan: Plan, buffers: Buffers, inputs: Map<string, Float32Array>): Float32Array[] {
    return [...this.inputs.map((v) => inputs.get(v.name)!), ...buffers, ...plan.whole!.constants];
  }

  private acquire(plan: Plan): Buffers {
    return plan.free.pop() ?? plan.memory.slotSizes.map((n) => new Float32Array(n));
  }

  private collect(plan: Plan, buffers: Buffers, inputs: Map<string, Float32Array>, names: Iterable<string>): Results {
    const results: Results = {};
    for (const name of names) {
      const dims = plan.shapes.get(name)!;
      const src = inputs.get(name) ?? buffers[plan.memory.slotOf.get(name)!]!;
      results[name] = new Tensor('float32', src.slice(0, numel(dims)), dims);
    }
    return results;
  }

  private begin(): void {
    this.inFlight++;
  }

  private end(): void {
    if (--this.inFlight === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Runs the model off the JS thread (native backend); resolves with every graph output. */
  async run(feeds: Feeds, options: RunOptions = {}): Promise<Results> {
    const inputs = this.checkFeeds('run', feeds);
    const fetchAll = bool('run', 'options.fetchIntermediates', plainObject('run', 'options', options).fetchIntermediates, false);
    const plan = this.planFor(inputs, (n) => feeds[n]!.dims);
    if (this.cuda) return this.runOnDevice(plan, inputs, fetchAll);
    const buffers = this.acquire(plan);
    this.begin();
    try {
      if (plan.whole && !fetchAll) {
        await this.backend.runPlan!(plan.whole.plan, this.wholeBuffers(plan, buffers, inputs));
        return this.collect(plan, buffers, inputs, this.outputs.map((o) => o.name));
      }
      const extra: Results = {};
      for (const step of plan.steps) {
        await step.run(buffers, inputs, false);
        if (fetchAll) Object.assign(extra, this.collect(plan, buffers, inputs, step.node.outputs));
      }
      return { ...extra, ...this.collect(plan, buffers, inputs, this.outputs.map((o) => o.name)) };
    } finally {
      plan.free.push(buffers);
      this.end();
    }
  }

  /** The whole graph on the GPU: one upload, ops enqueued on the model's stream, one download. */
  private async runOnDevice(plan: Plan, inputs: Map<string, Float32Array>, fetchAll: boolean): Promise<Results> {
    this.begin();
    try {
      const names = [...new Set([...(fetchAll ? plan.steps.flatMap((s) => s.node.outputs) : []), ...this.outputs.map((o) => o.name)])];
      const out = await this.cuda!.runner.run(plan.shapes, inputs, this.cuda!.mode, names);
      return Object.fromEntries(names.map((n) => [n, new Tensor('float32', out.get(n)!, plan.shapes.get(n)!)]));
    } finally {
      this.end();
    }
  }

  /** Runs the model on the calling thread. */
  runSync(feeds: Feeds, options: RunOptions = {}): Results {
    if (this.cuda) throw new ModelError('runSync: the cuda backend runs asynchronously; use run()');
    const inputs = this.checkFeeds('runSync', feeds);
    const fetchAll = bool('runSync', 'options.fetchIntermediates', plainObject('runSync', 'options', options).fetchIntermediates, false);
    const plan = this.planFor(inputs, (n) => feeds[n]!.dims);
    const buffers = this.acquire(plan);
    try {
      if (plan.whole && !fetchAll) {
        this.backend.runPlanSync!(plan.whole.plan, this.wholeBuffers(plan, buffers, inputs));
        return this.collect(plan, buffers, inputs, this.outputs.map((o) => o.name));
      }
      const extra: Results = {};
      for (const step of plan.steps) {
        step.run(buffers, inputs, true);
        if (fetchAll) Object.assign(extra, this.collect(plan, buffers, inputs, step.node.outputs));
      }
      return { ...extra, ...this.collect(plan, buffers, inputs, this.outputs.map((o) => o.name)) };
    } finally {
      plan.free.push(buffers);
    }
  }

  /**
   * Wall time of each node in one synchronous run, in execution order (for `resnode bench --layers`),
   * with the micro-kernel that ran it where the backend names one.
   */
  profile(feeds: Feeds): { name: string; op: string; output: string; ms: number; kernel?: string }[] {
    const inputs = this.checkFeeds('profile', feeds);
    const plan = this.planFor(inputs, (n) => feeds[n]!.dims);
    const buffers = this.acquire(plan);
    try {
      return plan.steps.map((step) => {
        const start = performance.now();
        step.run(buffers, inputs, true);
        const ms = performance.now() - start;
        const kernel = step.kernel?.();
        return { name: step.node.name, op: step.node.op, output: step.node.outputs[0]!, ms, ...(kernel ? { kernel } : {}) };
      });
    } finally {
      plan.free.push(buffers);
    }
  }

  /** Frees buffers and packed weights once runs in flight have finished; later runs throw. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
    // Free native memory now rather than at garbage collection (a no-op for the JS backend).
    if (this.backend.release) {
      for (const plan of this.plans.values()) if (plan.whole) this.backend.release(plan.whole.plan);
      for (const p of this.packed.values()) this.backend.release(p);
    }
    this.plans.clear();
    this.packed.clear();
    this.cuda?.runner.dispose();
  }
}

/** Loads an ONNX file (path or bytes) or a Graph, optimises it and packs its weights. */
export async function load(source: string | Uint8Array | Graph, options: LoadOptions = {}): Promise<Model> {
  const where = 'load';
  const o = plainObject(where, 'options', options);
  const backendName = oneOf(where, 'options.backend', o.backend, ['native', 'js', 'cuda'] as const, 'native');
  const threads = o.threads === undefined ? currentThreads() : positiveInt(where, 'options.threads', o.threads);
  const fuse = bool(where, 'options.optimize', o.optimize, true);
  const maxMemoryBytes = maxMemoryOption(where, o.maxMemoryBytes);
  let graph: Graph;
  if (source instanceof Graph) graph = source.clone();
  else if (source instanceof Uint8Array) graph = importOnnx(source);
  else if (typeof source === 'string') graph = importOnnx(new Uint8Array(await readFile(source)));
  else throw invalid(where, 'source', 'a file path, ONNX bytes (Uint8Array) or a Graph', source);
  const mode = oneOf(where, 'options.mode', o.mode, ['exact', 'fast'] as const, 'exact');
  // Each CUDA model gets its own context (stream + arena); 'fast' lets it use the tensor cores (TF32).
  const backend = backendName === 'cuda' ? createCudaBackend(where, mode === 'fast' ? 'tf32' : 'fp32') : getBackend(where, backendName);
  checkBeforeOptimize(where, graph, maxMemoryBytes); // the passes copy weights and may expand 2-D BatchNorms
  // A graph imported here is ours alone: its weights may be folded in place.
  const optimized = optimize(graph, { fuseResidual: fuse, fuseRelu: fuse, inPlace: !(source instanceof Graph) });
  checkMemory(where, optimized, inputDimsAt(optimized, 1), maxMemoryBytes); // before packing or any buffer
  return new Model(optimized, backend, threads, maxMemoryBytes, mode);
}

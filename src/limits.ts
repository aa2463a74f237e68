// Resource limits: a model's memory is estimated from its graph BEFORE weights
// are packed or activation buffers are allocated, and a model (or a run at a
// given batch) whose estimate exceeds the limit is rejected with the figures.
import { totalmem } from 'node:os';
import { ModelError } from './errors.js';
import { Graph, GraphError, inferShapes, topoSort } from './graph/graph.js';
import { elementCount } from './shapes.js';
import { planMemory, type MemoryPlan } from './graph/passes.js';

const GiB = 1024 ** 3;

/** Default limit: 8 GiB or half the machine's memory, whichever is smaller. */
export function defaultMaxMemoryBytes(): number {
  return Math.min(8 * GiB, Math.floor(totalmem() / 2));
}

/** Thrown when a model or a run would need more memory than `maxMemoryBytes`. */
export class MemoryLimitError extends ModelError {
  override name = 'MemoryLimitError';
  readonly requiredBytes: number;
  readonly limitBytes: number;
  constructor(message: string, requiredBytes: number, limitBytes: number) {
    super(message);
    this.requiredBytes = requiredBytes;
    this.limitBytes = limitBytes;
  }
}

export interface MemoryEstimate {
  /** float32 initializers (kept by the graph; packing makes about one more copy). */
  weightBytes: number;
  /** The activation arena of one run at the given input dims (liveness plan). */
  activationBytes: number;
  /** weightBytes × 2 (graph copy + packed copy) + activationBytes. */
  totalBytes: number;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n, u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** Bytes of the float32 initializers (computed from dims, so nothing is touched). */
export function weightBytes(graph: Graph): number {
  let total = 0;
  for (const t of graph.initializers.values()) total += 4 * elementCount(t.dims);
  return total;
}

/** The activation arena of a memory plan, in bytes. */
export function planBytes(plan: MemoryPlan): number {
  return 4 * plan.totalFloats;
}

/**
 * Whether a graph input has a dynamic dim past the batch (height, width): inputDimsAt sets it to 1,
 * which may be no valid input (an unpadded stem), so what is checked at load is checked per plan.
 */
export function hasDynamicSpatialDims(graph: Graph): boolean {
  return graph.inputs.some((v) => v.dims.slice(1).some((d) => d < 0));
}

/** Input dims with the dynamic batch fixed to `batch` (the declared dims otherwise). */
export function inputDimsAt(graph: Graph, batch = 1): Record<string, number[]> {
  const dims: Record<string, number[]> = {};
  for (const v of graph.inputs) dims[v.name] = v.dims.map((d) => (d < 0 ? batch : d));
  return dims;
}

/** Checks a limit value (a positive number of bytes; Infinity switches the check off). */
export function maxMemoryOption(where: string, v: unknown): number {
  if (v === undefined) return defaultMaxMemoryBytes();
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
    throw new TypeError(`${where}: Expected a positive number of bytes (or Infinity) for options.maxMemoryBytes but received ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/**
 * Estimate (weights + the activation plan at `inputDims`) and throw
 * MemoryLimitError if it exceeds `limit`. Returns the estimate and the plan.
 */
export function checkMemory(where: string, graph: Graph, inputDims: Record<string, number[]>, limit: number, plan?: MemoryPlan): MemoryEstimate & { plan: MemoryPlan } {
  const p = plan ?? planMemory(graph, inputDims);
  const w = weightBytes(graph);
  const a = planBytes(p);
  const total = 2 * w + a;
  if (!(total <= limit)) {
    const shape = Object.entries(inputDims).map(([k, d]) => `"${k}" [${d.join(', ')}]`).join(', ');
    throw new MemoryLimitError(
      `${where}: the model needs about ${formatBytes(total)} (weights ${formatBytes(w)} ×2 for the packed copy, activations ${formatBytes(a)} for input ${shape}), `
      + `more than maxMemoryBytes = ${formatBytes(limit)} (${limit} bytes); raise options.maxMemoryBytes or use a smaller input`,
      total, limit,
    );
  }
  return { weightBytes: w, activationBytes: a, totalBytes: total, plan: p };
}

/**
 * Before optimize(): the passes copy folded weights, and a BatchNormalization on
 * a 2-D input becomes a dense C×C Gemm, so a 1 MB file can ask for 10+ GiB.
 * Reject that (weights ×2 + expansions over the limit) before the passes run.
 */
export function checkBeforeOptimize(where: string, graph: Graph, limit: number): void {
  const w = weightBytes(graph);
  let expansion = 0;
  const shapesAt1 = (): Map<string, number[]> | undefined => {
    try {
      return inferShapes(new Graph({ ...graph, nodes: topoSort(graph) }), inputDimsAt(graph, 1));
    } catch (err) {
      // No 1x1 input (a dynamic height/width and an unpadded stem): this guard is skipped; each plan's arena is still checked.
      if (hasDynamicSpatialDims(graph) && err instanceof GraphError) return undefined;
      throw err;
    }
  };
  const shapes = graph.nodes.some((n) => n.op === 'BatchNormalization') ? shapesAt1() : undefined;
  if (shapes) {
    for (const n of graph.nodes) {
      if (n.op !== 'BatchNormalization') continue;
      const x = shapes.get(n.inputs[0]!);
      if (x && x.length === 2) expansion += 4 * x[1]! * x[1]!;
    }
  }
  const total = 2 * w + expansion;
  // Without an expansion the passes allocate no more than the weights again: checkMemory() after optimize() reports that, with the activations.
  if (expansion > 0 && !(total <= limit)) {
    throw new MemoryLimitError(
      `${where}: optimising the model needs about ${formatBytes(total)} (weights ${formatBytes(w)} ×2, `
      + `${formatBytes(expansion)} for BatchNormalization on 2-D inputs expanded to dense C×C weights), `
      + `more than maxMemoryBytes = ${formatBytes(limit)} (${limit} bytes)`,
      total, limit,
    );
  }
}

// The things a benchmark races: our backends (per mode) and ONNX Runtime, each
// loaded once and run many times on the same input.
import type * as ort from 'onnxruntime-node';
import { loadOrt } from '../optional-deps.js';
import { load, type LayerTimes, type Model } from '../model.js';
import type { Mode } from '../modes.js';
import type { Tensor } from '../tensor.js';

/** One profiled run: each layer's time, in graph order. */
/** Per-layer times (and kernels) of one profiled run: what Model.profile returns. */
export type { LayerTimes };

export type ContenderKind = 'native' | 'js' | 'cuda' | 'ort';

export interface Contender {
  /** e.g. "native", "native (fast)", "js", "onnxruntime-node" */
  label: string;
  kind: ContenderKind;
  loadMs: number;
  run(): Promise<void>;
  layers?(): Promise<LayerTimes>;
  dispose(): Promise<void>;
}

export async function ours(bytes: Uint8Array, kind: 'native' | 'js' | 'cuda', x: Tensor, threads: number, mode: Mode): Promise<Contender> {
  const start = performance.now();
  const model: Model = await load(bytes, { backend: kind, threads, mode });
  const loadMs = performance.now() - start;
  const name = model.inputs[0]!.name;
  return {
    label: mode === 'exact' ? kind : `${kind} (${mode})`,
    kind,
    loadMs,
    run: async () => void (await model.run({ [name]: x })),
    layers: async () => model.profile({ [name]: x }),
    dispose: () => model.dispose(),
  };
}

/**
 * ORT's session options as a user who sets only the thread count gets them:
 * graph optimisation 'all' and ORT's default threading (its intra-op pool
 * spins between parallel sections). `spinning: false` parks the pool at once:
 * only for in-process comparisons (the --layers profile), where a spinning
 * pool would steal the cores from the contender that runs next.
 */
export function ortSessionOptions(threads: number, spinning = true): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

export async function onnxRuntime(bytes: Uint8Array, x: Tensor, threads: number, o: { profilePrefix?: string; spinning?: boolean } = {}): Promise<Contender & { session: ort.InferenceSession; options: ort.InferenceSession.SessionOptions }> {
  const ort = await loadOrt('bench');
  const options = ortSessionOptions(threads, o.spinning ?? true);
  const start = performance.now();
  const session = await ort.InferenceSession.create(bytes, {
    ...options,
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
  });
  const loadMs = performance.now() - start;
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.data, [...x.dims]) };
  return {
    label: 'onnxruntime-node',
    kind: 'ort',
    loadMs,
    session,
    options,
    run: async () => void (await session.run(feeds)),
    dispose: () => session.release(),
  };
}

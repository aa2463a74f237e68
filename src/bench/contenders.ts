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

export async function onnxRuntime(bytes: Uint8Array, x: Tensor, threads: number, profilePrefix?: string): Promise<Contender & { session: ort.InferenceSession }> {
  const ort = await loadOrt('bench');
  const start = performance.now();
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  });
  const loadMs = performance.now() - start;
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.data, [...x.dims]) };
  return {
    label: 'onnxruntime-node',
    kind: 'ort',
    loadMs,
    session,
    run: async () => void (await session.run(feeds)),
    dispose: () => session.release(),
  };
}

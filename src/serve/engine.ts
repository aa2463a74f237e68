// What the server runs batches on: the model in this thread, or a pool of worker threads
// each holding a copy. Either way the same small interface, with `live` for health checks.
import { Graph } from '../graph/graph.js';
import { invalid } from '../is.js';
import { load, Model, type Results, type ValueMetadata } from '../model.js';
import type { Tensor } from '../tensor.js';
import { WorkerPool } from '../workers/pool.js';
import type { Mode } from '../modes.js';

export interface Engine {
  inputs: readonly ValueMetadata[];
  outputs: readonly ValueMetadata[];
  /** Batches that can run at once. */
  concurrency: number;
  /** Workers able to run now (1 for the main thread). */
  live(): number;
  run(x: Tensor): Promise<Results>;
  dispose(): Promise<void>;
  /** The pool, when there is one (tests and metrics). */
  pool?: WorkerPool;
}

export interface EngineOptions {
  workers: number;
  backend?: 'native' | 'js' | 'cuda';
  threads?: number;
  /** Undefined: 'exact', or a given Model's own mode. */
  mode?: Mode;
}

export async function startEngine(source: string | Uint8Array | Graph | Model, o: EngineOptions): Promise<Engine> {
  if (o.workers > 0) {
    if (source instanceof Model) throw invalid('serve', 'source', 'a file path, ONNX bytes or a Graph when options.workers > 0', source);
    const pool = await WorkerPool.create(source, { size: o.workers, backend: o.backend, threads: o.threads, mode: o.mode });
    const name = pool.inputs[0]!.name;
    return {
      inputs: pool.inputs,
      outputs: pool.outputs,
      concurrency: o.workers,
      live: () => pool.live,
      run: (x) => pool.runTransfer({ [name]: x }),
      dispose: () => pool.close(),
      pool,
    };
  }
  if (source instanceof Model && o.mode !== undefined && source.mode !== o.mode) {
    throw invalid('serve', 'options.mode', `the mode the Model was loaded with ('${source.mode}')`, o.mode);
  }
  const model = source instanceof Model ? source : await load(source, { backend: o.backend, threads: o.threads, mode: o.mode });
  const name = model.inputs[0]!.name;
  return {
    inputs: model.inputs,
    outputs: model.outputs,
    concurrency: 1,
    live: () => 1,
    run: (x) => model.run({ [name]: x }),
    dispose: source instanceof Model ? async () => {} : () => model.dispose(),
  };
}

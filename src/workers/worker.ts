// A worker thread that loads one model and runs the batches its pool sends it.
// Each worker has its own Model (and its own instance of the native addon's state).
import { parentPort, workerData } from 'node:worker_threads';
import { load, type Model } from '../model.js';
import { Tensor } from '../tensor.js';
import type { FromWorker, ToWorker, WireTensor, WorkerInit } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('resnode: src/workers/worker is a worker_threads entry point, not a module to import');

const init = workerData as WorkerInit;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let model: Model;
try {
  model = await load(init.model, { backend: init.backend, threads: init.threads, mode: init.mode });
  post({
    type: 'ready',
    inputs: model.inputs.map((v) => ({ name: v.name, dims: [...v.dims] })),
    outputs: model.outputs.map((v) => ({ name: v.name, dims: [...v.dims] })),
  });
} catch (err) {
  const e = err as Error;
  post({ type: 'error', id: null, name: e.name ?? 'Error', message: e.message ?? String(err) });
  process.exit(1);
}

port.on('message', (m: ToWorker) => {
  if (m.type !== 'run') return;
  void (async () => {
    try {
      const feeds: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new Tensor('float32', t.data, t.dims);
      const results = await model.run(feeds);
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [k, t] of Object.entries(results)) {
        outputs[k] = { dims: [...t.dims], data: t.data };
        transfer.push(t.data.buffer as ArrayBuffer);
      }
      post({ type: 'result', id: m.id, outputs }, transfer);
    } catch (err) {
      const e = err as Error;
      post({ type: 'error', id: m.id, name: e.name ?? 'Error', message: e.message ?? String(err) });
    }
  })();
});

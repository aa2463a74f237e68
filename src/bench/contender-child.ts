// A child process of `resnode bench --contention`: loads one contender (ours,
// native exact; or ONNX Runtime with its default threading, spinning on) and
// answers each { runs } message with that many back-to-back run latencies (ms).
// Usage (by contention.ts): contender-child <native|ort> <model.onnx> <threads>
import { readFile } from 'node:fs/promises';
import { load } from '../model.js';
import { loadOrt } from '../optional-deps.js';
import { fromOnnx } from '../onnx/import.js';
import { seededTensor } from '../validate.js';

const [side, path, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const bytes = new Uint8Array(await readFile(path!));
const input = fromOnnx(bytes).inputs[0]!;
const x = seededTensor(input.dims.map((d, i) => (d < 0 || i === 0 ? 1 : d)), 1);
let runOnce: () => Promise<unknown>;
if (side === 'native') {
  const model = await load(bytes, { backend: 'native', threads });
  runOnce = () => model.run({ [input.name]: x });
} else {
  const ort = await loadOrt('bench --contention');
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1 });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.data, [...x.dims]) };
  runOnce = () => session.run(feeds);
}
for (let i = 0; i < 2; i++) await runOnce();
process.on('message', async (m: { runs: number }) => {
  const ms: number[] = [];
  for (let i = 0; i < m.runs; i++) {
    const t0 = performance.now();
    await runOnce();
    ms.push(performance.now() - t0);
  }
  process.send!(ms);
});
process.send!('ready');

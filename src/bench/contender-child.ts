// A child process of the benchmark harness (contender-process.ts): loads one
// contender (one of our backends in one mode, or ONNX Runtime with its default
// threading) from the spec in argv[2], warms it, and answers each { runs }
// message with that many back-to-back run latencies (ms) and the wall-clock
// interval they took, so the parent can show that no two contenders ran at once.
import { readFile } from 'node:fs/promises';
import { fromOnnx } from '../onnx/import.js';
import { seededTensor } from '../validate.js';
import { onnxRuntime, ours, type Contender } from './contenders.js';
import type { ChildReady, ChildTimes, ContenderSpec } from './contender-process.js';

const spec = JSON.parse(process.argv[2]!) as ContenderSpec;
const bytes = new Uint8Array(await readFile(spec.modelPath));
const input = fromOnnx(bytes).inputs[0]!;
const x = seededTensor(input.dims.map((d, i) => (d < 0 || i === 0 ? spec.batch : d)), spec.batch);
const c: Contender & { options?: object } = spec.kind === 'ort'
  ? await onnxRuntime(bytes, x, spec.threads)
  : await ours(bytes, spec.kind, x, spec.threads, spec.mode);
for (let i = 0; i < spec.warmupRuns; i++) await c.run();
const now = () => performance.timeOrigin + performance.now();
process.on('message', async (m: { runs: number }) => {
  const ms: number[] = [];
  const start = now();
  for (let i = 0; i < m.runs; i++) {
    const t0 = performance.now();
    await c.run();
    ms.push(performance.now() - t0);
  }
  const reply: ChildTimes = { ms, start, end: now() };
  process.send!(reply);
});
process.on('disconnect', () => void c.dispose().finally(() => process.exit(0)));
const ready: ChildReady = { ready: true, pid: process.pid, label: c.label, loadMs: c.loadMs, ortOptions: c.options };
process.send!(ready);

// Runs in a child process so each contender's load time and peak RSS are its own:
// argv = [kind, modelPath, batch, threads, mode]. Prints one JSON line.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { onnxRuntime, ours } from './contenders.js';
import type { Mode } from '../modes.js';
import { seededTensor } from '../validate.js';
import { fromOnnx } from '../onnx/import.js';

const [kind, path, batchText, threadsText, mode] = process.argv.slice(2) as [string, string, string, string, Mode];
const batch = Number(batchText);
const threads = Number(threadsText);
const bytes = new Uint8Array(await readFile(path));
// VmHWM, not resourceUsage().maxRSS: Linux carries ru_maxrss across exec, so a
// child would report its parent's peak. VmHWM belongs to this address space.
const peakKb = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const baselineKb = peakKb();
const dims = fromOnnx(bytes).inputs[0]!.dims.map((d, i) => (d < 0 || i === 0 ? batch : d));
const x = seededTensor(dims, 1);
const c = kind === 'ort' ? await onnxRuntime(bytes, x, threads) : await ours(bytes, kind as 'native' | 'js' | 'cuda', x, threads, mode);
for (let i = 0; i < (kind === 'js' ? 1 : 3); i++) await c.run();
console.log(JSON.stringify({ loadMs: c.loadMs, peakRssMb: peakKb() / 1024, baselineRssMb: baselineKb / 1024 }));
await c.dispose();

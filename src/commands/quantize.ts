// `resnode quantize <model> -o <out> --calibrate <folder of images | .npy>`:
// static post-training quantization to a QDQ model (src/quant/quantize.ts),
// with a progress bar over the calibration batches.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { loadOnnxFile } from '../onnx/import.js';
import { preprocess } from '../preprocess.js';
import { quantize } from '../quant/quantize.js';
import type { CalibrationMethod } from '../quant/calibrate.js';
import { Tensor } from '../tensor.js';
import { positiveInt } from './args.js';
import { readTensor } from './tensor-file.js';

interface QuantizeFlags { output: string; calibrate: string; perChannel?: boolean; method: CalibrationMethod; batchSize: number; threads?: number; progress: boolean }

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);

/** Splits a [N, ...] tensor into batches of at most `size`. */
function batchesOf(t: Tensor, size: number): Tensor[] {
  const n = t.dims[0]!;
  const per = t.data.length / n;
  const out: Tensor[] = [];
  for (let i = 0; i < n; i += size) {
    const m = Math.min(size, n - i);
    out.push(new Tensor('float32', t.data.slice(i * per, (i + m) * per), [m, ...t.dims.slice(1)]));
  }
  return out;
}

/** Calibration batches from a .npy batch or a folder of images (resized and cropped to the model's input). */
async function calibrationBatches(path: string, inputDims: readonly number[], batchSize: number): Promise<Tensor[]> {
  if ((await stat(path)).isDirectory()) {
    const files = (await readdir(path)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
    if (files.length === 0) throw new RangeError(`quantize: --calibrate folder ${path} has no images (${[...IMAGE_EXTENSIONS].join(', ')})`);
    const size: [number, number] = [inputDims[2]!, inputDims[3]!];
    const out: Tensor[] = [];
    for (let i = 0; i < files.length; i += batchSize) out.push(await preprocess(files.slice(i, i + batchSize).map((f) => join(path, f)), { size }));
    return out;
  }
  const t = await readTensor(path);
  if (t.dims.length !== inputDims.length || t.dims.slice(1).some((d, i) => d !== inputDims[i + 1])) {
    throw new RangeError(`quantize: --calibrate ${path} has dims [${t.dims.join(', ')}] but the model's input is [N, ${inputDims.slice(1).join(', ')}]`);
  }
  return batchesOf(t, batchSize);
}

export function register(program: Command): void {
  program
    .command('quantize <model>')
    .description('quantize a float32 model to int8 (a standard QDQ ONNX model) from calibration data')
    .requiredOption('-o, --output <file>', 'where to write the quantized .onnx')
    .requiredOption('--calibrate <path>', 'calibration data: a folder of images, or a .npy batch [N, C, H, W]')
    .option('--per-channel', 'one weight scale per output channel (default: one per tensor)')
    .option('--method <name>', 'activation ranges: minmax | percentile', (v) => {
      if (v !== 'minmax' && v !== 'percentile') throw new RangeError(`--method must be minmax or percentile, got ${v}`);
      return v;
    }, 'minmax')
    .option('--batch-size <n>', 'calibration batch size', positiveInt, 16)
    .option('--threads <n>', 'threads', positiveInt)
    .option('--no-progress', 'no progress bar')
    .action(async (model: string, f: QuantizeFlags) => {
      const graph = await loadOnnxFile(model);
      const batches = await calibrationBatches(f.calibrate, graph.inputs[0]!.dims, f.batchSize);
      const bar = f.progress ? new cliProgress.SingleBar({ stream: process.stderr, noTTYOutput: true, notTTYSchedule: 30000, format: 'calibrating [{bar}] {value}/{total} batches' }, cliProgress.Presets.shades_classic) : null;
      bar?.start(batches.length, 0);
      const bytes = await quantize(graph, { calibration: batches, perChannel: f.perChannel === true, method: f.method, threads: f.threads, onBatch: (done) => bar?.update(done) });
      bar?.stop();
      await writeFile(f.output, bytes);
      console.log(`wrote ${f.output} (${(bytes.length / 1024).toFixed(0)} KiB): int8 ${f.perChannel ? 'per-channel' : 'per-tensor'} weights, uint8 activations (${f.method}, ${batches.length} calibration batch${batches.length === 1 ? '' : 'es'})`);
    });
}

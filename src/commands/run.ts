// `resnode run <model> --input x.npy`: run a model on a tensor (.npy or raw
// float32 with --shape); `resnode run <model> <images...>`: classify images
// (JPEG, PNG, WebP, … preprocessed by src/preprocess.ts) as one batch and
// print each one's top-k classes.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BackendName } from '../backend/name.js';
import { classify, defaultLabels, type Prediction } from '../classify.js';
import { loadLabels } from '../labels.js';
import { load, type Model } from '../model.js';
import type { Mode } from '../modes.js';
import { toNpy } from '../npy.js';
import { BACKEND_HELP, backendName, dims, MODE_HELP, modeName, positiveInt } from './args.js';
import { readTensor } from './tensor-file.js';
import { EXIT_ERROR } from './exit-codes.js';

interface RunFlags {
  input?: string;
  output?: string;
  shape?: number[];
  backend: BackendName;
  mode: Mode;
  threads?: number;
  json?: boolean;
  top: number;
  labels?: string;
}

export function formatPredictions(image: string, predictions: readonly Prediction[]): string {
  const lines = [image];
  predictions.forEach((p, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${(100 * p.probability).toFixed(2).padStart(6)}%  ${p.label} (${p.index})`));
  return lines.join('\n');
}

async function runTensor(model: Model, o: RunFlags & { input: string }): Promise<void> {
  const x = await readTensor(o.input, o.shape);
  const start = performance.now();
  const results = await model.run({ [model.inputs[0]!.name]: x });
  const ms = performance.now() - start;
  const first = results[model.outputs[0]!.name]!;
  if (o.output) await writeFile(o.output, toNpy(first));
  if (o.json) console.log(JSON.stringify({ ms, mode: model.mode, outputs: Object.fromEntries(Object.entries(results).map(([k, t]) => [k, { dims: t.dims }])) }));
  else console.log(`ran in ${ms.toFixed(1)} ms (${model.mode}); ${model.outputs[0]!.name}: [${first.dims.join(', ')}]${o.output ? ` → ${o.output}` : ''}`);
}

async function runClassify(model: Model, images: string[], o: RunFlags): Promise<void> {
  const classes = model.outputs[0]!.dims.at(-1)!;
  const labels = o.labels ? await loadLabels(o.labels) : defaultLabels(classes);
  if (labels && labels.length !== classes) console.error(`resnode: warning: ${labels.length} labels for a model with ${classes} classes`);
  const start = performance.now();
  const results = await classify(model, images, { top: o.top, labels });
  const ms = performance.now() - start;
  if (o.json) console.log(JSON.stringify({ ms, results: images.map((image, i) => ({ image, predictions: results[i] })) }));
  else {
    for (const [i, image] of images.entries()) console.log(formatPredictions(images.length > 1 ? image : basename(image), results[i]!));
    console.log(`${images.length} image${images.length > 1 ? 's' : ''} in one batch: ${ms.toFixed(1)} ms`);
  }
}

export function register(program: Command): void {
  program
    .command('run <model> [images...]')
    .description('run a model on an input tensor; or classify images (JPEG, PNG, WebP, …) as one batch and print the top-k classes')
    .option('-i, --input <file>', 'input tensor (.npy, or raw float32 with --shape); required without images')
    .option('-o, --output <file>', 'write the first output as .npy')
    .option('--shape <dims>', 'dims of a raw float32 input, e.g. 1x3x224x224', dims)
    .option('--backend <name>', BACKEND_HELP, backendName, 'native')
    .option('--mode <name>', MODE_HELP, modeName, 'exact')
    .option('--threads <n>', 'native threads', positiveInt)
    .option('--json', 'machine-readable output')
    .option('--top <k>', 'classes to print per image', positiveInt, 5)
    .option('--labels <spec>', "'imagenet' or a labels file (one per line); default ImageNet's for 1000-class models")
    .action(async (path: string, images: string[], o: RunFlags, cmd: Command) => {
      if (images.length > 0 && o.input) cmd.error('error: give either --input <tensor> or image paths, not both', { exitCode: EXIT_ERROR });
      if (images.length === 0 && !o.input) cmd.error('error: give image paths to classify, or --input <tensor.npy> to run on a tensor', { exitCode: EXIT_ERROR });
      const model = await load(path, { backend: o.backend, mode: o.mode, threads: o.threads });
      try {
        if (images.length > 0) await runClassify(model, images, o);
        else await runTensor(model, { ...o, input: o.input! });
      } finally {
        await model.dispose();
      }
    });
}

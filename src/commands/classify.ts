// `resnode run <model> <images...>`: classification mode of the `run` command.
//
// There is one `run` command. With image paths after the model it preprocesses them
// (src/preprocess.ts), runs them as one batch and prints each image's top-k classes;
// without them it hands the same arguments to the original `run` (the --input .npy mode
// defined in src/cli.ts), unchanged.
import { Command, InvalidArgumentError, Option } from 'commander';
import { basename } from 'node:path';
import { classify, defaultLabels, type Prediction } from '../classify.js';
import { loadLabels } from '../labels.js';
import { load } from '../model.js';

interface ClassifyFlags {
  input?: string;
  top: number;
  labels?: string;
  backend?: 'native' | 'js' | 'cuda';
  threads?: number;
  json?: boolean;
}

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export function formatPredictions(image: string, predictions: readonly Prediction[]): string {
  const lines = [image];
  predictions.forEach((p, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${(100 * p.probability).toFixed(2).padStart(6)}%  ${p.label} (${p.index})`));
  return lines.join('\n');
}

async function runClassify(modelPath: string, images: string[], o: ClassifyFlags): Promise<void> {
  if (o.input) throw new InvalidArgumentError('give either --input <tensor> or image paths, not both');
  const model = await load(modelPath, { backend: o.backend ?? 'native', threads: o.threads });
  try {
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
  } finally {
    await model.dispose();
  }
}

/** Replaces the `run` command with one that also takes image paths; the --input mode is delegated unchanged. */
export function register(program: Command): void {
  const original = program.commands.find((c) => c.name() === 'run');
  if (original) (program.commands as Command[]).splice(program.commands.indexOf(original), 1);

  const run = program
    .command('run <model> [images...]')
    .description(`${original?.description() ?? 'run a model on an input tensor'}; or classify images (JPEG, PNG, WebP, …) as one batch and print the top-k classes`);
  for (const opt of original?.options ?? []) {
    const copy = new Option(opt.flags, opt.description);
    if (opt.defaultValue !== undefined) copy.default(opt.defaultValue, opt.defaultValueDescription);
    if (opt.parseArg) copy.argParser(opt.parseArg);
    run.addOption(copy); // --input is required only without images; the original command still checks that
  }
  if (!original) run.option('--json', 'machine-readable output').option('--threads <n>', 'native threads', positive);
  run
    .option('--top <k>', 'classes to print per image', positive, 5)
    .option('--labels <spec>', "'imagenet' or a labels file (one per line); default ImageNet's for 1000-class models")
    .action(async (modelPath: string, images: string[], o: ClassifyFlags, cmd: Command) => {
      if (images.length > 0) return runClassify(modelPath, images, o);
      if (!original) throw new InvalidArgumentError('give image paths to classify');
      // One help text: without images or --input, this command's, not the tensor mode's.
      if (!o.input) run.error('error: give image paths to classify, or --input <tensor.npy> to run on a tensor', { exitCode: 2 });
      // The tensor mode: parse the same arguments with the original command.
      await original.parseAsync(cmd.parent!.args.slice(1), { from: 'user' });
    });
}

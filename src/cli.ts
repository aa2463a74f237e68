#!/usr/bin/env node
// resnode <info|run|validate|export|demo>: tensors in and out as .npy (or raw
// float32 with --shape); --json for machines; a non-zero exit means failure or mismatch.
import { Command, InvalidArgumentError } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { info } from './info.js';
import { load } from './model.js';
import { parseNpy, toNpy } from './npy.js';
import { resnet, type ResNetDepth } from './graph/resnet.js';
import { validate, type ValidationReport } from './validate.js';
import { Tensor } from './tensor.js';
import { formatTable } from './table.js';
import { runDemo } from './demo.js';
import { register as registerClassify } from './commands/classify.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerGradflow } from './commands/gradflow.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerBuildNative } from './commands/build-native.js';
import { EXIT_CODES_HELP, EXIT_ERROR } from './commands/exit-codes.js';
import { VERSION } from './version.js';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
};
const shape = (v: string): number[] => {
  const dims = v.split(/[x,]/).map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new InvalidArgumentError('expected dims like 1x3x224x224');
  return dims;
};
const backendOpt = (v: string): 'native' | 'js' | 'cuda' => {
  if (v !== 'native' && v !== 'js' && v !== 'cuda') throw new InvalidArgumentError("expected 'native', 'js' or 'cuda'");
  return v;
};

async function readTensor(path: string, dims?: number[]): Promise<Tensor> {
  const bytes = new Uint8Array(await readFile(path));
  if (!dims) return parseNpy(bytes, path);
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${path}: raw float32 data must be a multiple of 4 bytes, found ${bytes.byteLength}`);
  return new Tensor('float32', new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), dims);
}

function fmt(x: number): string {
  return x === 0 ? '0' : x.toExponential(2);
}

export function printReport(r: ValidationReport): void {
  const rows = r.outputs.map((c) => [c.name, `[${c.dims.join(', ')}]`, fmt(c.maxAbsError), fmt(c.relError), fmt(c.maxAbsExpected), c.ok ? 'ok' : 'MISMATCH']);
  console.log(formatTable(['output', 'dims', 'max |err|', 'err / max|e|', 'max |e|', 'result'], rows));
  if (r.layers) {
    console.log(`\n${r.layers.length} intermediate values compared.`);
    if (r.firstDivergence) {
      const d = r.firstDivergence;
      console.log(`First divergence: "${d.name}" (${d.op}) max |err| ${fmt(d.maxAbsError)}, err / max|e| ${fmt(d.relError)}`);
    } else console.log('No layer diverges.');
  }
  console.log(`\n${r.ok ? 'PASS' : 'FAIL'}: backend ${r.backend}, tolerance atol ${r.atol} + rtol ${r.rtol}·max|e|; ours ${r.oursMs.toFixed(1)} ms, ONNX Runtime ${r.ortMs.toFixed(1)} ms`);
}

export function buildProgram(): Command {
  const program = new Command('resnode').description('Fast ResNet inference for Node.js, checked against ONNX Runtime').showHelpAfterError()
    .version(VERSION).addHelpText('after', EXIT_CODES_HELP);

  program
    .command('info')
    .description('the SIMD path, threads and CUDA availability')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const i = info();
      if (o.json) console.log(JSON.stringify(i));
      else {
        console.log(`isa:      ${i.isa ?? 'none (addon not built)'} (detected ${i.detectedIsa ?? 'n/a'})`);
        console.log(`addon:    ${i.addon ?? i.nativeProblem}`);
        console.log(`threads:  ${i.threads}`);
        console.log(`cuda:     ${i.cuda.available ? `available (${i.cuda.device})` : i.cuda.compiled ? 'compiled, no device' : 'not compiled'}`);
      }
    });

  program
    .command('run <model>')
    .description('run a model on an input tensor')
    .requiredOption('-i, --input <file>', 'input tensor (.npy, or raw float32 with --shape)')
    .option('-o, --output <file>', 'write the first output as .npy')
    .option('--shape <dims>', 'dims of a raw float32 input, e.g. 1x3x224x224', shape)
    .option('--backend <name>', 'native | js | cuda', backendOpt, 'native')
    .option('--threads <n>', 'native threads', int)
    .option('--json', 'machine-readable output')
    .action(async (path: string, o: { input: string; output?: string; shape?: number[]; backend: 'native' | 'js'; threads?: number; json?: boolean }) => {
      const model = await load(path, { backend: o.backend, threads: o.threads });
      const x = await readTensor(o.input, o.shape);
      const start = performance.now();
      const results = await model.run({ [model.inputs[0]!.name]: x });
      const ms = performance.now() - start;
      const first = results[model.outputs[0]!.name]!;
      if (o.output) await writeFile(o.output, toNpy(first));
      if (o.json) console.log(JSON.stringify({ ms, outputs: Object.fromEntries(Object.entries(results).map(([k, t]) => [k, { dims: t.dims }])) }));
      else console.log(`ran in ${ms.toFixed(1)} ms; ${model.outputs[0]!.name}: [${first.dims.join(', ')}]${o.output ? ` → ${o.output}` : ''}`);
      await model.dispose();
    });

  program
    .command('validate <model>')
    .description('compare resnode with ONNX Runtime (exit 1 on a mismatch)')
    .option('-i, --input <file>', 'input tensor (.npy); seeded noise if absent')
    .option('-r, --reference <file>', 'expected first output (.npy), checked too')
    .option('--backend <name>', 'native | js | cuda', backendOpt, 'native')
    .option('--rtol <x>', 'relative tolerance, times max|expected|', num)
    .option('--atol <x>', 'absolute tolerance', num)
    .option('--layers', 'compare every intermediate value and name the first that diverges')
    .option('--threads <n>', 'native threads', int)
    .option('--json', 'machine-readable output')
    .action(async (path: string, o: { input?: string; reference?: string; backend: 'native' | 'js'; rtol?: number; atol?: number; layers?: boolean; threads?: number; json?: boolean }) => {
      const bytes = new Uint8Array(await readFile(path));
      let inputs: Record<string, Tensor> | undefined;
      if (o.input) {
        const probe = await load(bytes, { backend: 'js' });
        inputs = { [probe.inputs[0]!.name]: await readTensor(o.input) };
        await probe.dispose();
      }
      const report = await validate(bytes, { backend: o.backend, inputs, rtol: o.rtol, atol: o.atol, layers: o.layers, threads: o.threads });
      if (o.reference && inputs) {
        const { compare } = await import('./validate.js');
        const ref = await readTensor(o.reference);
        const model = await load(bytes, { backend: o.backend, threads: o.threads });
        const ours = (await model.run(inputs))[model.outputs[0]!.name]!;
        const c = compare(`${model.outputs[0]!.name} vs ${o.reference}`, ours.data, ref.data, [...ours.dims], report.rtol, report.atol);
        report.outputs.push(c);
        report.ok &&= c.ok;
        await model.dispose();
      }
      if (o.json) console.log(JSON.stringify(report));
      else printReport(report);
      process.exitCode = report.ok ? 0 : 1;
    });

  program
    .command('export <arch>')
    .description('export a built-in ResNet (resnet18|34|50|101|152) as ONNX')
    .requiredOption('-o, --output <file>', 'the .onnx file to write')
    .option('--plain', 'drop every shortcut (a plain network)')
    .option('--classes <n>', 'number of classes', int, 1000)
    .option('--seed <n>', 'weight seed', (v) => Number(v), 0)
    .action(async (arch: string, o: { output: string; plain?: boolean; classes: number; seed: number }) => {
      const m = /^resnet(18|34|50|101|152)$/.exec(arch);
      if (!m) throw new InvalidArgumentError(`unknown architecture "${arch}"; expected resnet18, resnet34, resnet50, resnet101 or resnet152`);
      const g = resnet({ depth: Number(m[1]) as ResNetDepth, plain: o.plain ?? false, numClasses: o.classes, seed: o.seed });
      const bytes = g.toOnnx();
      await writeFile(o.output, bytes);
      console.log(`wrote ${o.output} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB, ${(g.parameterCount() / 1e6).toFixed(2)} M parameters)`);
      console.log(`its weights are random (seed ${o.seed}), not trained: its outputs, and \`resnode run\` classes, mean nothing; export trained weights from PyTorch (models/) to classify`);
    });

  program
    .command('demo', { isDefault: false })
    .description('build ResNet-50, validate it against ONNX Runtime, and time native, JS and ONNX Runtime')
    .option('--depth <n>', 'ResNet depth', int, 50)
    .option('--threads <n>', 'native and ORT threads', int)
    .action(async (o: { depth: number; threads?: number }) => {
      process.exitCode = (await runDemo({ depth: o.depth as ResNetDepth, threads: o.threads })) ? 0 : 1;
    });

  registerBench(program);
  registerClassify(program); // after `run`: adds image classification to it
  registerServe(program);
  registerGradflow(program);
  registerTrain(program);
  registerBuildNative(program);

  return program;
}

function invokedDirectly(): boolean {
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const isMain = invokedDirectly();
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: Error) => {
      console.error(`resnode: ${err.message}`);
      process.exitCode = EXIT_ERROR;
    });
}

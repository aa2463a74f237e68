// `resnode validate <model>`: ours against ONNX Runtime (exit 1 on a mismatch),
// optionally against a reference output too.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { BackendName } from '../backend/name.js';
import { load } from '../model.js';
import type { Mode } from '../modes.js';
import { formatTable } from '../table.js';
import type { Tensor } from '../tensor.js';
import { compare, validate, type ValidationReport } from '../validate.js';
import { BACKEND_HELP, backendName, MODE_HELP, modeName, nonNegativeNumber, positiveInt } from './args.js';
import { readTensor } from './tensor-file.js';

interface ValidateFlags {
  input?: string;
  reference?: string;
  backend: BackendName;
  mode: Mode;
  rtol?: number;
  atol?: number;
  layers?: boolean;
  threads?: number;
  json?: boolean;
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
  console.log(`\n${r.ok ? 'PASS' : 'FAIL'}: backend ${r.backend}, mode ${r.mode}, tolerance atol ${r.atol} + rtol ${r.rtol}·max|e|; ours ${r.oursMs.toFixed(1)} ms, ONNX Runtime ${r.ortMs.toFixed(1)} ms`);
}

export function register(program: Command): void {
  program
    .command('validate <model>')
    .description('compare resnode with ONNX Runtime (exit 1 on a mismatch)')
    .option('-i, --input <file>', 'input tensor (.npy); seeded noise if absent')
    .option('-r, --reference <file>', 'expected first output (.npy), checked too')
    .option('--backend <name>', BACKEND_HELP, backendName, 'native')
    .option('--mode <name>', `${MODE_HELP}; sets the default tolerance`, modeName, 'exact')
    .option('--rtol <x>', "relative tolerance, times max|expected| (default: the mode's)", nonNegativeNumber)
    .option('--atol <x>', "absolute tolerance (default: the mode's)", nonNegativeNumber)
    .option('--layers', 'compare every intermediate value and name the first that diverges')
    .option('--threads <n>', 'native threads', positiveInt)
    .option('--json', 'machine-readable output')
    .action(async (path: string, o: ValidateFlags) => {
      const bytes = new Uint8Array(await readFile(path));
      let inputs: Record<string, Tensor> | undefined;
      if (o.input) {
        const probe = await load(bytes, { backend: 'js' });
        inputs = { [probe.inputs[0]!.name]: await readTensor(o.input) };
        await probe.dispose();
      }
      const report = await validate(bytes, { backend: o.backend, mode: o.mode, inputs, rtol: o.rtol, atol: o.atol, layers: o.layers, threads: o.threads });
      if (o.reference && inputs) {
        const ref = await readTensor(o.reference);
        const model = await load(bytes, { backend: o.backend, mode: o.mode, threads: o.threads });
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
}

// `resnode export resnet50 -o r50.onnx`: a built-in ResNet as ONNX.
import { InvalidArgumentError, type Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resnet, type ResNetDepth } from '../graph/resnet.js';
import { positiveInt } from './args.js';

export function register(program: Command): void {
  program
    .command('export <arch>')
    .description('export a built-in ResNet (resnet18|34|50|101|152) as ONNX')
    .requiredOption('-o, --output <file>', 'the .onnx file to write')
    .option('--plain', 'drop every shortcut (a plain network)')
    .option('--classes <n>', 'number of classes', positiveInt, 1000)
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
}

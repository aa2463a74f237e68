// `resnode demo`: build ResNet-50, validate it against ONNX Runtime, time native, JS and ORT.
import type { Command } from 'commander';
import { runDemo } from '../demo.js';
import type { ResNetDepth } from '../graph/resnet.js';
import { positiveInt } from './args.js';

export function register(program: Command): void {
  program
    .command('demo', { isDefault: false })
    .description('build ResNet-50, validate it against ONNX Runtime, and time native, JS and ONNX Runtime')
    .option('--depth <n>', 'ResNet depth', positiveInt, 50)
    .option('--threads <n>', 'native and ORT threads', positiveInt)
    .action(async (o: { depth: number; threads?: number }) => {
      process.exitCode = (await runDemo({ depth: o.depth as ResNetDepth, threads: o.threads })) ? 0 : 1;
    });
}

#!/usr/bin/env node
// resnode <info|run|validate|bench|export|serve|demo|…>: tensors in and out as
// .npy (or raw float32 with --shape); --json for machines; a non-zero exit
// means failure or mismatch. Each command is registered once, by its own file
// under src/commands/.
import { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register as registerInfo } from './commands/info.js';
import { register as registerRun } from './commands/run.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerExport } from './commands/export.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerGradflow } from './commands/gradflow.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerBuildNative } from './commands/build-native.js';
import { register as registerQuantize } from './commands/quantize.js';
import { EXIT_CODES_HELP, EXIT_ERROR } from './commands/exit-codes.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('resnode').description('Fast ResNet inference for Node.js, checked against ONNX Runtime').showHelpAfterError()
    .version(VERSION).addHelpText('after', EXIT_CODES_HELP);
  for (const register of [registerInfo, registerRun, registerValidate, registerExport, registerDemo, registerBench, registerServe, registerGradflow, registerTrain, registerQuantize, registerBuildNative]) {
    register(program);
  }
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

if (invokedDirectly()) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: Error) => {
      console.error(`resnode: ${err.message}`);
      process.exitCode = EXIT_ERROR;
    });
}

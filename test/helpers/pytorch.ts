// Whether Debian's PyTorch, torchvision and onnx are there to generate reference models.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

/** Why the reference models cannot be generated here, or undefined when they can. */
export const pytorchMissing: string | undefined = (() => {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'PyTorch or onnx is missing';
  }
})();

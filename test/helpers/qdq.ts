// Shared by the QDQ model tests (int8-qdq, int8-qconv): models/make_qdq.py's input and output step.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Graph, Tensor } from '../../src/index.js';
import { rng } from './rng.js';

/** A [n, 3, 16, 16] input, uniform in ±2.5 (past the calibrated range too). */
export function randomInput(n: number, seed: number): Tensor {
  const rand = rng(seed);
  const data = new Float32Array(n * 3 * 16 * 16);
  for (let i = 0; i < data.length; i++) data[i] = (rand() * 2 - 1) * 2.5; // past the calibrated range too
  return new Tensor('float32', data, [n, 3, 16, 16]);
}

/** The quantization step of a graph output: the scale of the QuantizeDequantize that writes it. */
export function outputStep(g: Graph, name: string): number {
  const n = g.nodes.find((m) => m.outputs[0] === name);
  if (n?.op !== 'QuantizeDequantize') throw new Error(`output ${name} is not written by a QuantizeDequantize`);
  return n.attrs.scale;
}

/** Why models/make_qdq.py cannot run here (python, PyTorch or onnx missing), or undefined. */
export function pythonMissing(python: string): string | undefined {
  if (!existsSync(python)) return `${python} is missing`;
  try {
    execFileSync(python, ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'PyTorch or onnx is missing';
  }
}

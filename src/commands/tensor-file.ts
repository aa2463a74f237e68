// Tensors in files, for the commands: .npy, or raw little-endian float32 with given dims.
import { readFile } from 'node:fs/promises';
import { parseNpy } from '../npy.js';
import { Tensor } from '../tensor.js';

export async function readTensor(path: string, dims?: number[]): Promise<Tensor> {
  const bytes = new Uint8Array(await readFile(path));
  if (!dims) return parseNpy(bytes, path);
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${path}: raw float32 data must be a multiple of 4 bytes, found ${bytes.byteLength}`);
  return new Tensor('float32', new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), dims);
}

// NumPy .npy (format 1.0–3.0) for float32 tensors: what PyTorch scripts and
// `numpy.save` write. Little-endian '<f4' only; float64 input is narrowed.
import { ModelError } from './errors.js';
import { Tensor } from './tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(bytes: Uint8Array, label = '.npy data'): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new ModelError(`${label} is not a .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new ModelError(`${label} is truncated (header)`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new ModelError(`${label} has a malformed header: ${header.trim()}`);
  if (fortran === 'True') throw new ModelError(`${label} is in Fortran order; save it C-contiguous`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ModelError(`${label} has a bad shape (${shapeText})`);
  const count = dims.reduce((a, b) => a * b, 1);
  const body = start + headerLen;
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (width === 0) throw new ModelError(`${label} has dtype ${descr}; only little-endian float32 ('<f4') or float64 ('<f8') is supported`);
  if (bytes.length - body < count * width) throw new ModelError(`${label} is truncated: ${count} elements need ${count * width} bytes, found ${bytes.length - body}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = width === 4 ? view.getFloat32(body + 4 * i, true) : view.getFloat64(body + 8 * i, true);
  return new Tensor('float32', data, dims);
}

export function toNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.size * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < t.size; i++) view.setFloat32(4 * i, t.data[i]!, true);
  return out;
}

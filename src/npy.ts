// NumPy .npy (format 1.0–3.0) for float32 tensors: what PyTorch scripts and
// `numpy.save` write. Little-endian '<f4' only; float64 input is narrowed.
//
// The header is a Python dict literal. It is read by a single left-to-right pass over
// at most MAX_HEADER_BYTES, so a hostile header costs linear time (a backtracking
// regex over a header that repeats "'shape': (" without a ")" was quadratic).
import { ModelError } from './errors.js';
import { Tensor } from './tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** numpy writes headers of a few hundred bytes and itself refuses to read more than 10,000 (max_header_size). */
export const MAX_HEADER_BYTES = 10_000;

interface NpyHeader {
  descr: string;
  fortran: boolean;
  dims: number[];
}

/**
 * Reads `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`: string keys;
 * values that are a quoted string, True/False, or a tuple of integers. One pass, no backtracking.
 */
function parseHeader(text: string, label: string): NpyHeader {
  const bad = (why: string) => new ModelError(`${label} has a malformed header (${why})`);
  let i = 0;
  const skip = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expect = (c: string) => {
    skip();
    if (text[i] !== c) throw bad(`expected '${c}' at byte ${i}`);
    i++;
  };
  const quoted = (): string => {
    skip();
    const q = text[i];
    if (q !== "'" && q !== '"') throw bad(`expected a quoted string at byte ${i}`);
    const end = text.indexOf(q, i + 1);
    if (end < 0) throw bad('an unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const word = (): string => {
    skip();
    const start = i;
    while (i < text.length && /[A-Za-z]/.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  const tuple = (): number[] => {
    expect('(');
    const dims: number[] = [];
    for (;;) {
      skip();
      if (text[i] === ')') {
        i++;
        return dims;
      }
      const start = i;
      while (i < text.length && text[i]! >= '0' && text[i]! <= '9') i++;
      if (i === start || i - start > 15) throw bad(`expected a dimension at byte ${start}`);
      const d = Number(text.slice(start, i));
      dims.push(d);
      skip();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') throw bad(`expected ',' or ')' in the shape at byte ${i}`);
    }
  };

  const seen: Partial<NpyHeader> = {};
  expect('{');
  for (;;) {
    skip();
    if (text[i] === '}') break;
    const key = quoted();
    expect(':');
    if (key === 'descr') seen.descr = quoted();
    else if (key === 'fortran_order') {
      const w = word();
      if (w !== 'True' && w !== 'False') throw bad(`fortran_order is ${JSON.stringify(w)}, not True or False`);
      seen.fortran = w === 'True';
    } else if (key === 'shape') seen.dims = tuple();
    else throw bad(`unknown key ${JSON.stringify(key)}`);
    skip();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw bad(`expected ',' or '}' at byte ${i}`);
  }
  if (seen.descr === undefined || seen.fortran === undefined || seen.dims === undefined) throw bad("it needs 'descr', 'fortran_order' and 'shape'");
  return seen as NpyHeader;
}

export function parseNpy(bytes: Uint8Array, label = '.npy data'): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new ModelError(`${label} is not a .npy file (bad magic)`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new ModelError(`${label} has .npy format version ${major}; versions 1 to 3 are supported`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) throw new ModelError(`${label} is truncated (header)`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > MAX_HEADER_BYTES) throw new ModelError(`${label} has a ${headerLen}-byte header; the limit is ${MAX_HEADER_BYTES}`);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new ModelError(`${label} is truncated (header)`);
  const { descr, fortran, dims } = parseHeader(new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen)), label);
  if (fortran) throw new ModelError(`${label} is in Fortran order; save it C-contiguous`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw new ModelError(`${label} has a bad shape (${dims.join(', ')})`);
  const body = start + headerLen;
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (width === 0) throw new ModelError(`${label} has dtype ${descr}; only little-endian float32 ('<f4') or float64 ('<f8') is supported`);
  if (bytes.length - body < count * width) throw new ModelError(`${label} is truncated: ${count} elements need ${count * width} bytes, found ${bytes.length - body}`);
  const data = new Float32Array(count);
  // '<f4' on a little-endian host is a byte copy (the common case, and 50× faster on the event loop).
  if (width === 4 && LITTLE_ENDIAN) new Uint8Array(data.buffer).set(bytes.subarray(body, body + 4 * count));
  else for (let i = 0; i < count; i++) data[i] = width === 4 ? view.getFloat32(body + 4 * i, true) : view.getFloat64(body + 8 * i, true);
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

// Tensors in JSON request bodies, read without recursion: a client controls the nesting,
// so nothing here (nor the error messages) walks it with the call stack.
import { Tensor } from '../tensor.js';
import { HttpError } from './http.js';

/** A one-level description of a client value (describe() in is.ts recurses into arrays). */
export function shallow(v: unknown): string {
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Deeper than any request needs (object → inputs → tensor → 8 levels of data); JSON.parse takes seconds on millions of levels. */
export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of arrays and objects in JSON text, by one pass over the bytes (strings skipped). */
export function jsonDepth(bytes: Uint8Array, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c /* \\ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max && (max = depth) > stopAbove) return max;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return max;
}

export function parseJsonBody(bytes: Uint8Array, what = 'the body'): unknown {
  if (jsonDepth(bytes, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new HttpError(400, `${what} nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Checks a shape: an array of at most 8 non-negative (or, with `positive`, positive) integers. */
export function readShape(v: unknown, name: string, positive: boolean): number[] {
  const ok = Array.isArray(v) && v.length <= 8 && v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && (positive ? d > 0 : d >= 0));
  if (!ok) throw new HttpError(400, `expected ${name} to be an array of at most 8 ${positive ? 'positive' : 'non-negative'} integers but received ${shallow(v)}`);
  const count = (v as number[]).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw new HttpError(400, `${name} [${(v as number[]).join(', ')}] has too many elements`);
  return v as number[];
}

/**
 * Row-major numbers of a tensor of `dims`, given flat ([1, 2, 3, 4]) or nested
 * ([[1, 2], [3, 4]]) as the inference protocol allows. Iterative: an explicit stack of
 * (array, next index), never deeper than dims.length.
 */
export function flattenNumbers(data: unknown, dims: readonly number[], name: string): Float32Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Array.isArray(data)) throw new HttpError(400, `expected ${name} to be an array of numbers but received ${shallow(data)}`);
  const out = new Float32Array(count);
  if (data.length === count && (count === 0 || typeof data[0] === 'number')) {
    for (let i = 0; i < count; i++) {
      const x = data[i];
      if (typeof x !== 'number') throw new HttpError(400, `${name}[${i}] is ${shallow(x)}, not a number`);
      out[i] = x;
    }
    return out;
  }
  // Nested: every level's length must match its dim.
  const arrays: unknown[][] = [data];
  const index: number[] = [0];
  let n = 0;
  if (data.length !== dims[0]) throw new HttpError(400, `${name} has ${data.length} entries; shape ${JSON.stringify(dims)} needs ${count} numbers flat or ${dims[0]} nested`);
  while (arrays.length > 0) {
    const depth = arrays.length - 1;
    const top = arrays[depth]!;
    const i = index[depth]!;
    if (i === top.length) {
      arrays.pop();
      index.pop();
      continue;
    }
    index[depth] = i + 1;
    const x = top[i];
    if (depth === dims.length - 1) {
      if (typeof x !== 'number') throw new HttpError(400, `${name} holds ${shallow(x)} at depth ${depth + 1}, where shape ${JSON.stringify(dims)} puts numbers`);
      out[n++] = x;
    } else {
      if (!Array.isArray(x) || x.length !== dims[depth + 1]) {
        throw new HttpError(400, `${name} holds ${shallow(x)} at depth ${depth + 1}, where shape ${JSON.stringify(dims)} needs an array of length ${dims[depth + 1]}`);
      }
      arrays.push(x);
      index.push(0);
    }
  }
  return out;
}

/** The body of /v1/infer in JSON: { "dims": [...], "data": [...] } (data flat, row-major). */
export function parseDimsDataTensor(body: Uint8Array): Tensor {
  const v = parseJsonBody(body);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'expected a JSON object { "dims": [...], "data": [...] }');
  const { dims, data } = v as { dims?: unknown; data?: unknown };
  const shape = readShape(dims, '"dims"', true);
  if (!Array.isArray(data)) throw new HttpError(400, `expected "data" to be an array of numbers but received ${shallow(data)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new HttpError(400, `"data" has ${data.length} numbers but dims [${shape.join(', ')}] need ${count}`);
  return new Tensor('float32', flattenNumbers(data, shape, '"data"'), shape);
}

// The request parsers in linear time (issue 17): the .npy header tokenizer against files
// numpy itself writes, and adversarial .npy headers and JSON tensors at the 16 MiB body
// limit, timed (a generous bound: the old header regex took 7.8 s on 320 KB).
import test from 'ava';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAX_HEADER_BYTES, parseNpy, toNpy } from '../src/npy.js';
import { HttpError } from '../src/serve/http.js';
import { flattenNumbers, jsonDepth, parseDimsDataTensor } from '../src/serve/tensor-json.js';
import { Tensor } from '../src/tensor.js';

const exec = promisify(execFile);
const BODY_LIMIT = 16 * 2 ** 20;

/** A .npy file with the given header text (version 1 if it fits in 16 bits, else 2) and body. */
function npyWithHeader(header: string, body = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const v1 = h.length < 0x10000;
  const pre = v1 ? 10 : 12;
  const out = new Uint8Array(pre + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v1 ? 1 : 2, 0]);
  const view = new DataView(out.buffer);
  if (v1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(body, pre + h.length);
  return out;
}

function timed<T>(f: () => T): { ms: number; value?: T; error?: unknown } {
  const start = performance.now();
  try {
    const value = f();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

test('parseNpy reads what numpy writes: versions 1–3, float32 and float64, 0-d to 4-d, empty dims', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-npy-'));
  const script = `
import numpy as np, sys
from numpy.lib import format as F
d = sys.argv[1]
cases = [((), 'f4', (1,0)), ((5,), 'f4', (1,0)), ((2, 3), 'f8', (1,0)), ((0, 3), 'f4', (1,0)), ((1, 3, 4, 2), 'f4', (2,0)), ((3, 1), 'f8', (3,0))]
for i, (shape, dt, ver) in enumerate(cases):
    a = (np.arange(int(np.prod(shape)), dtype=np.float64) * 0.37 - 1.5).astype('<' + dt).reshape(shape)
    with open(f'{d}/{i}.npy', 'wb') as f:
        F.write_array(f, a, version=ver)
print(len(cases))
`;
  const { stdout } = await exec('/usr/bin/python3', ['-c', script, dir]);
  const shapes = [[], [5], [2, 3], [0, 3], [1, 3, 4, 2], [3, 1]];
  t.is(Number(stdout.trim()), shapes.length);
  for (const [i, dims] of shapes.entries()) {
    const x = parseNpy(new Uint8Array(await readFile(join(dir, `${i}.npy`))));
    t.deepEqual([...x.dims], dims);
    const want = Array.from({ length: x.size }, (_, k) => Math.fround(k * 0.37 - 1.5));
    t.deepEqual([...x.data], want);
  }
});

test('parseNpy ∘ toNpy is the identity on random tensors', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.integer(), (dims, seed) => {
      const size = dims.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: size }, (_, i) => Math.fround(Math.sin(seed + i)));
      const y = parseNpy(toNpy(new Tensor('float32', data, dims)));
      return y.dims.join() === dims.join() && y.data.every((v, i) => v === data[i]);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('malformed .npy headers are refused with a reason', (t) => {
  const bad: [string, RegExp][] = [
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", /expected ',' or '\)'|expected a dimension/],
    ["{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", /not True or False/],
    ["{'descr': '<f4', 'shape': (2,), }", /needs 'descr', 'fortran_order' and 'shape'/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", /expected a dimension/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", /expected a dimension/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", /unknown key/],
    ["{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", /dtype <i4/],
    ["{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", /Fortran/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (4000000, 4000000, 4000000), }", /bad shape|truncated/],
  ];
  for (const [header, why] of bad) t.throws(() => parseNpy(npyWithHeader(header)), { message: why }, header);
  t.throws(() => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")), { message: /truncated: 2 elements need 8 bytes/ });
});

test('adversarial .npy headers are rejected in linear time, at the cap and at the body limit', (t) => {
  // Within the cap: the pattern that made the old regex quadratic.
  const within = "{'descr': '<f4', " + "'shape': (".repeat(Math.floor((MAX_HEADER_BYTES - 40) / 10));
  t.true(within.length <= MAX_HEADER_BYTES);
  // Past the cap, at the body limit: refused from the length field alone.
  const huge = npyWithHeader("{'shape': (".repeat(Math.floor((BODY_LIMIT - 12) / 11)));
  t.true(huge.length > BODY_LIMIT - 16);
  // The size of the reported attack: 320 KB took the old regex 7.8 s.
  const reported = npyWithHeader("{'descr': '<f4', " + "'shape': (".repeat(32_000));
  for (const [name, bytes] of [['within the cap', npyWithHeader(within)], ['320 KB', reported], ['16 MiB', huge]] as const) {
    const r = timed(() => parseNpy(bytes));
    t.truthy(r.error, name);
    t.true(r.ms < 200, `${name}: ${r.ms.toFixed(1)} ms`);
  }
  t.regex((timed(() => parseNpy(huge)).error as Error).message, /header; the limit is 10000/);
});

test('adversarial JSON tensors at the body limit are refused in bounded time, without recursion', (t) => {
  const depth = BODY_LIMIT / 2 - 100;
  const nested = '['.repeat(depth) + ']'.repeat(depth);
  // Nesting is refused by a linear pre-scan, before JSON.parse (which took 6 s on this).
  for (const [name, text] of [['nested dims', `{"dims": ${nested}}`], ['nested data', `{"dims": [1], "data": ${nested}}`]]) {
    const body = new TextEncoder().encode(text);
    t.true(body.length <= BODY_LIMIT);
    const r = timed(() => parseDimsDataTensor(body));
    t.true(r.error instanceof HttpError && r.error.status === 400, `${name}: ${String(r.error)}`);
    t.regex((r.error as Error).message, /deeper than 32 levels/);
    t.true(r.ms < 200, `${name}: ${r.ms.toFixed(0)} ms`);
  }
  // A flat body costs what JSON.parse costs (linear) plus a linear check: within 2× of JSON.parse alone.
  const long = new TextEncoder().encode(`{"dims": [${Array(BODY_LIMIT / 2 - 100).fill('1').join(',')}], "data": []}`);
  t.true(long.length <= BODY_LIMIT);
  const parseOnly = timed(() => JSON.parse(new TextDecoder().decode(long))).ms;
  const r = timed(() => parseDimsDataTensor(long));
  t.true(r.error instanceof HttpError && r.error.status === 400);
  t.regex((r.error as Error).message, /at most 8 positive integers but received an array of length 8388508/);
  t.true(r.ms < 2 * parseOnly + 200, `long dims: ${r.ms.toFixed(0)} ms; JSON.parse alone ${parseOnly.toFixed(0)} ms`);
});

test('flattenNumbers: nested and flat data agree; wrong nesting names the depth', (t) => {
  const flat = flattenNumbers([1, 2, 3, 4, 5, 6], [2, 3], 'data');
  const nested = flattenNumbers([[1, 2, 3], [4, 5, 6]], [2, 3], 'data');
  t.deepEqual([...nested], [...flat]);
  t.deepEqual([...flattenNumbers([[[1], [2]]], [1, 2, 1], 'data')], [1, 2]);
  t.throws(() => flattenNumbers([[1, 2], [3]], [2, 2], 'data'), { message: /depth 1.*length 2/ });
  t.throws(() => flattenNumbers([[[1], [2]], [[3], [4]]], [2, 2], 'data'), { message: /depth 2.*puts numbers/ });
  t.throws(() => flattenNumbers([1, 'x', 3, 4], [2, 2], 'data'), { message: /data\[1\] is "x"/ });
  // Deep nesting is walked with an explicit stack, bounded by the shape's rank.
  let deep: unknown = [7];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  t.throws(() => flattenNumbers(deep, [1, 1], 'data'), { message: /depth 2/ });
});

test('jsonDepth counts nesting outside strings', (t) => {
  const enc = (s: string) => new TextEncoder().encode(s);
  t.is(jsonDepth(enc('{"a": [1, [2, {"b": []}]]}')), 5);
  t.is(jsonDepth(enc('{"a": "[[[[\\"[[[", "b": [1]}')), 2);
  t.is(jsonDepth(enc('3')), 0);
  t.is(jsonDepth(enc('['.repeat(1000)), 10), 11); // stops early past the bound
});

// ONNX files as exporters write them: tensors saved as external data beside the model,
// float16 / bfloat16 weights, and import errors grouped by cause.
import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromOnnx, OnnxImportError } from '../src/onnx/import.js';
import { encodeRawModel, floatTensor } from '../src/onnx/builder.js';
import { load, Tensor } from '../src/index.js';
import { halfToFloat } from '../src/onnx/half.js';
import type { TensorProtoLike } from '../src/onnx/proto.js';
import { randomF32, rng } from './helpers/rng.js';

const dirs: string[] = [];
test.after.always(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const scratch = () => { const d = mkdtempSync(join(tmpdir(), 'resnode-ext-')); dirs.push(d); return d; };

/** A 1×1 conv (cOut × cIn) with bias: the weights external, at the given location/offset. */
function convModel(w: TensorProtoLike, b: TensorProtoLike, cIn = 3): Uint8Array {
  return encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [1, cIn, 4, 4] }],
    outputs: [{ name: 'y' }],
    initializers: [w, b],
    nodes: [{ op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['y'] }],
  });
}

const ext = (name: string, dims: number[], location: string, offset: number, length: number, dataType = 1): TensorProtoLike => ({
  name, dims, dataType, dataLocation: 1,
  externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }],
});

const randomFloats = (n: number, seed: number): Float32Array => randomF32(rng(seed), n);

test('load(path) reads external data at its offsets and matches the same model stored inline', async (t) => {
  const dir = scratch();
  const w = randomFloats(2 * 3, 1), b = randomFloats(2, 2);
  // A header of junk, then w, then b, as onnx's save_as_external_data (all_tensors_to_one_file) lays them out.
  const blob = Buffer.alloc(16 + w.byteLength + b.byteLength, 0xab);
  Buffer.from(w.buffer).copy(blob, 16);
  Buffer.from(b.buffer).copy(blob, 16 + w.byteLength);
  mkdirSync(join(dir, 'weights'));
  writeFileSync(join(dir, 'weights', 'model.data'), blob);
  writeFileSync(join(dir, 'model.onnx'), convModel(ext('w', [2, 3, 1, 1], 'weights/model.data', 16, w.byteLength), ext('b', [2], 'weights/model.data', 16 + w.byteLength, b.byteLength)));
  const inline = convModel(floatTensor('w', [2, 3, 1, 1], w), floatTensor('b', [2], b));
  const x = new Tensor('float32', randomFloats(3 * 16, 3), [1, 3, 4, 4]);
  for (const backend of ['native', 'js'] as const) {
    const a = await load(join(dir, 'model.onnx'), { backend });
    const e = await load(inline, { backend });
    t.deepEqual([...(await a.run({ x })).y!.data], [...(await e.run({ x })).y!.data], backend);
    await a.dispose();
    await e.dispose();
  }
});

test('an external-data location that leaves the model\'s folder is refused, however it is written', (t) => {
  const root = scratch();
  const dir = join(root, 'model');
  mkdirSync(dir);
  writeFileSync(join(root, 'secret.bin'), Buffer.alloc(64, 1));
  symlinkSync(join(root, 'secret.bin'), join(dir, 'link.bin'));
  symlinkSync(root, join(dir, 'up'));
  for (const location of ['../secret.bin', join(root, 'secret.bin'), 'a/../../secret.bin', 'link.bin', 'up/secret.bin']) {
    const bytes = convModel(ext('w', [2, 3, 1, 1], location, 0, 24), floatTensor('b', [2], [0, 0]));
    const err = t.throws(() => fromOnnx(bytes, { baseDir: dir }), { instanceOf: OnnxImportError }, location)!;
    t.regex(err.message, /external-data location outside the model's folder/, location);
  }
});

test('external data that is missing, short, not a file, or whose length disagrees with its dims is refused', (t) => {
  const dir = scratch();
  writeFileSync(join(dir, 'short.bin'), Buffer.alloc(20));
  mkdirSync(join(dir, 'folder'));
  const b = floatTensor('b', [2], [0, 0]);
  const cases: [TensorProtoLike, RegExp][] = [
    [ext('w', [2, 3, 1, 1], 'nope.bin', 0, 24), /does not exist/],
    [ext('w', [2, 3, 1, 1], 'short.bin', 0, 24), /initializer "w" \("short\.bin": bytes 0–24 of 20\) points past the end of the external-data file/],
    [ext('w', [2, 3, 1, 1], 'short.bin', 8, 24), /past the end/],
    [ext('w', [2, 3, 1, 1], 'short.bin', 0, 16), /\(16 bytes, dims need 24\) has an external-data length that does not match the dims/],
    [ext('w', [2, 3, 1, 1], 'short.bin', -4, 24), /invalid external-data offset/],
    [ext('w', [2, 3, 1, 1], 'folder', 0, 24), /not a regular file|cannot be read/],
  ];
  for (const [w, re] of cases) t.throws(() => fromOnnx(convModel(w, b), { baseDir: dir }), { instanceOf: OnnxImportError, message: re });
});

test('errors are grouped by cause: 32 external tensors in bytes give one line with a count, and no follow-on errors', (t) => {
  const n = 32;
  const inits: TensorProtoLike[] = [];
  const nodes = [];
  let prev = 'x';
  for (let i = 0; i < n; i++) {
    inits.push(ext(`w${i}`, [3, 3, 1, 1], 'model.data', i * 36, 36));
    nodes.push({ op: 'Conv', name: `conv${i}`, inputs: [prev, `w${i}`], outputs: [`a${i}`] });
    prev = `a${i}`;
  }
  const bytes = encodeRawModel({ opset: 13, inputs: [{ name: 'x', dims: [1, 3, 4, 4] }], outputs: [{ name: prev }], initializers: inits, nodes });
  const err = t.throws(() => fromOnnx(bytes), { instanceOf: OnnxImportError })!;
  t.is(err.problems.length, 1, err.message);
  t.regex(err.message, /- 32 initializers \("w0", "w1", "w2" and 29 more\) use external data, which needs the model's path/);
  t.false(/must be a constant/.test(err.message), 'no follow-on error from the convs that read them');
  t.is(err.message.split('\n').length, 2, err.message);
});

test('float16 and bfloat16 weights are widened exactly, from raw_data and from int32_data', async (t) => {
  // Every finite half value, and the edge cases: zeros, subnormals, max, infinities.
  for (const [bits, value] of [[0x0000, 0], [0x8000, -0], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x7c00, Infinity], [0xfc00, -Infinity]] as const) {
    t.is(halfToFloat(bits), value, bits.toString(16));
  }
  t.true(Number.isNaN(halfToFloat(0x7e00)));
  const r = rng(7);
  const halves = Uint16Array.from({ length: 6 }, () => Math.floor(r() * 0x7bff) | (r() < 0.5 ? 0x8000 : 0));
  const expected = Float32Array.from(halves, halfToFloat);
  const wRaw: TensorProtoLike = { name: 'w', dims: [2, 3, 1, 1], dataType: 10, rawData: new Uint8Array(halves.buffer) };
  const wBits: TensorProtoLike = { name: 'w', dims: [2, 3, 1, 1], dataType: 10, int32Data: [...halves] };
  const bf = Float32Array.from([1.5, -0.25, 3, 1e-3, -7, 0.1]);
  const bfBits = Uint16Array.from(new Uint32Array(bf.buffer), (u) => u >>> 16); // truncated: exactly representable
  const bfExpected = Float32Array.from(bfBits, (h) => new Float32Array(Uint32Array.of(h << 16).buffer)[0]!);
  const wBf: TensorProtoLike = { name: 'w', dims: [2, 3, 1, 1], dataType: 16, rawData: new Uint8Array(bfBits.buffer) };
  for (const [w, e] of [[wRaw, expected], [wBits, expected], [wBf, bfExpected]] as const) {
    const g = fromOnnx(convModel(w, floatTensor('b', [2], [0, 0])));
    t.deepEqual([...g.initializers.get('w')!.data], [...e]);
  }
  // And the model runs like its float32 twin.
  const x = new Tensor('float32', randomFloats(48, 9), [1, 3, 4, 4]);
  const a = await load(convModel(wRaw, floatTensor('b', [2], [0.5, -0.5])), { backend: 'js' });
  const b = await load(convModel(floatTensor('w', [2, 3, 1, 1], expected), floatTensor('b', [2], [0.5, -0.5])), { backend: 'js' });
  t.deepEqual([...(await a.run({ x })).y!.data], [...(await b.run({ x })).y!.data]);
});

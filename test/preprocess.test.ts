// preprocess(): decode, resize the shorter side, centre-crop, normalise, NCHW/NHWC;
// topK() and the labels; `resnode run model.onnx image…` (classification mode).
import test from 'ava';
import sharp from 'sharp';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { classify, topK } from '../src/classify.js';
import { resnet } from '../src/graph/resnet.js';
import { imagenetLabels, parseLabels } from '../src/labels.js';
import { load } from '../src/model.js';
import { IMAGENET_MEAN, IMAGENET_STD, ImageDecodeError, preprocess } from '../src/preprocess.js';
import { Tensor } from '../src/tensor.js';

const exec = promisify(execFile);

/** A lossless PNG from a pixel function (RGB). */
async function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number], channels: 1 | 3 = 3): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = pixel(x, y);
      for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = p[c]!;
    }
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

const norm = (v: number, c: number) => (v / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;

test('a solid image becomes per-channel (v/255 − mean)/std in NCHW [1, 3, 224, 224]', async (t) => {
  const img = await png(300, 200, () => [200, 100, 50]);
  const x = await preprocess(img);
  t.deepEqual([...x.dims], [1, 3, 224, 224]);
  const plane = 224 * 224;
  [200, 100, 50].forEach((v, c) => {
    const want = norm(v, c);
    for (const i of [0, 777, plane - 1]) t.true(Math.abs(x.data[c * plane + i]! - want) < 1e-5);
  });
});

test('the shorter side goes to 256 and the crop is centred', async (t) => {
  // 512×256: no resize is needed; the crop takes columns 144…367, so the black/white
  // boundary at column 256 lands at crop column 112.
  const img = await png(512, 256, (x) => (x < 256 ? [0, 0, 0] : [255, 255, 255]));
  const x = await preprocess(img);
  const row = (y: number, col: number) => x.data[y * 224 + col]!;
  t.true(Math.abs(row(10, 111) - norm(0, 0)) < 1e-5);
  t.true(Math.abs(row(10, 112) - norm(255, 0)) < 1e-5);
  t.true(Math.abs(row(200, 0) - norm(0, 0)) < 1e-5);
  t.true(Math.abs(row(200, 223) - norm(255, 0)) < 1e-5);

  // A 1024×512 image is halved first (shorter side 512 → 256), same picture.
  const big = await png(1024, 512, (x) => (x < 512 ? [0, 0, 0] : [255, 255, 255]));
  const y = await preprocess(big);
  t.true(Math.abs(y.data[10 * 224 + 100]! - norm(0, 0)) < 1e-4);
  t.true(Math.abs(y.data[10 * 224 + 124]! - norm(255, 0)) < 1e-4);
});

test('a list of images gives one batch; each row matches the single-image result', async (t) => {
  const a = await png(64, 80, (x, y) => [x * 3, y * 3, 128]);
  const b = await sharp({ create: { width: 90, height: 70, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 0.5 } } }).webp({ lossless: true }).toBuffer();
  const both = await preprocess([a, b], { size: 32 });
  t.deepEqual([...both.dims], [2, 3, 32, 32]);
  const one = await preprocess(b, { size: 32 });
  t.deepEqual([...both.data.subarray(3 * 32 * 32)], [...one.data]);
});

test('options: size, mean/std, NHWC layout, grayscale input', async (t) => {
  const img = await png(40, 40, (x, y) => [x * 6, y * 6, 77]);
  const nchw = await preprocess(img, { size: [16, 24], resize: 24, mean: [0, 0, 0], std: [1, 1, 1] });
  t.deepEqual([...nchw.dims], [1, 3, 16, 24]);
  t.true(nchw.data.every((v) => v >= 0 && v <= 1));
  const nhwc = await preprocess(img, { size: [16, 24], resize: 24, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nhwc' });
  t.deepEqual([...nhwc.dims], [1, 16, 24, 3]);
  for (const [c, y, x] of [[0, 0, 0], [1, 5, 7], [2, 15, 23]] as const) t.is(nhwc.data[(y * 24 + x) * 3 + c], nchw.data[c * 16 * 24 + y * 24 + x]);

  const gray = await preprocess(await png(50, 50, () => [90, 90, 90], 1), { size: 8 });
  t.true(Math.abs(gray.data[0]! - norm(90, 0)) < 1e-5 && Math.abs(gray.data[64]! - norm(90, 1)) < 1e-5);
});

test('undecodable or empty images throw ImageDecodeError; bad options throw TypeError', async (t) => {
  const e = await t.throwsAsync(preprocess(Buffer.from('definitely not an image')), { instanceOf: ImageDecodeError });
  t.regex(e!.message, /cannot decode image 0/);
  await t.throwsAsync(preprocess(new Uint8Array(0)), { instanceOf: ImageDecodeError });
  await t.throwsAsync(preprocess('/nonexistent/cat.jpg'), { instanceOf: ImageDecodeError, message: /\/nonexistent\/cat\.jpg/ });
  await t.throwsAsync(preprocess([]), { instanceOf: RangeError });
  const img = await png(8, 8, () => [0, 0, 0]);
  await t.throwsAsync(preprocess(img, { mean: [1, 2] as unknown as [number, number, number] }), { instanceOf: TypeError, message: /options\.mean/ });
  await t.throwsAsync(preprocess(img, { size: 0 }), { instanceOf: RangeError, message: /options\.size/ });
});

test('topK: softmax, sorted, labelled; ImageNet labels ship as data', (t) => {
  const logits = new Tensor('float32', [1, 3, 2, 0, /* row 2 */ 5, 5, -1, 9], [2, 4]);
  const [r0, r1] = topK(logits, 2, ['a', 'b', 'c', 'd']);
  t.deepEqual(r0!.map((p) => p.label), ['b', 'c']);
  t.deepEqual(r1!.map((p) => p.index), [3, 0]);
  const z = Math.exp(1) + Math.exp(3) + Math.exp(2) + 1;
  t.true(Math.abs(r0![0]!.probability - Math.exp(3) / z) < 1e-9);
  t.is(topK(logits, 10)[0]!.length, 4);
  t.is(topK(logits, 1)[0]![0]!.label, 'class 1');

  const labels = imagenetLabels();
  t.is(labels.length, 1000);
  t.is(new Set(labels).size, 1000);
  t.is(labels[0], 'tench');
  t.is(labels[1], 'goldfish');
  t.is(labels[281], 'tabby');
  t.is(labels[999], 'toilet tissue');
  t.deepEqual(parseLabels('cat\ndog\r\n\n'), ['cat', 'dog']);
  t.deepEqual(parseLabels('["x", "y"]'), ['x', 'y']);
});

test('classify() and `resnode run model.onnx img…` run images as one batch', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-classify-'));
  const bytes = resnet({ depth: 18, inputSize: 64, numClasses: 10, seed: 1 }).toOnnx();
  const onnx = join(dir, 'm.onnx');
  await writeFile(onnx, bytes);
  const a = join(dir, 'a.png');
  const b = join(dir, 'b.jpg');
  await writeFile(a, await png(80, 60, (x, y) => [x * 3, 255 - y * 4, 30]));
  await sharp({ create: { width: 70, height: 100, channels: 3, background: { r: 20, g: 40, b: 220 } } }).jpeg().toFile(b);
  await writeFile(join(dir, 'labels.txt'), Array.from({ length: 10 }, (_, i) => `thing ${i}`).join('\n'));

  const model = await load(bytes);
  const results = await classify(model, [a, b], { top: 3 });
  t.is(results.length, 2);
  t.is(results[0]!.length, 3);
  t.true(results[0]![0]!.probability >= results[0]![1]!.probability);

  const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', onnx, a, b, '--top', '3', '--labels', join(dir, 'labels.txt'), '--json']);
  const out = JSON.parse(stdout) as { results: { image: string; predictions: { index: number; label: string; probability: number }[] }[] };
  t.deepEqual(out.results.map((r) => r.image), [a, b]);
  out.results.forEach((r, i) => {
    t.deepEqual(r.predictions.map((p) => p.index), results[i]!.map((p) => p.index));
    t.is(r.predictions[0]!.label, `thing ${r.predictions[0]!.index}`);
  });
  // Without images or --input, `run` still asks for --input.
  const err = await t.throwsAsync(exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', onnx]));
  t.regex((err as unknown as { stderr: string }).stderr, /--input/);
  await model.dispose();
});

// Images in, tensors out: decode with sharp, resize the shorter side, centre-crop,
// normalise by mean/std, lay out as NCHW (or NHWC) float32. ImageNet style by default
// (shorter side 256, crop 224, torchvision's mean and std), which is what the
// ResNets in torchvision were trained with.
import type sharp from 'sharp';
import { loadSharp } from './optional-deps.js';
import { invalid, isPositiveInt, outOfRange, plainObject } from './is.js';
import { Tensor } from './tensor.js';

export type ImageInput = string | Uint8Array | ArrayBuffer;

export interface PreprocessOptions {
  /** Crop size: one number or [height, width]. Default 224. */
  size?: number | readonly [number, number];
  /** The shorter side is resized to this before cropping. Default round(max(size) / 0.875): 256 for 224. */
  resize?: number;
  /** Per-channel (RGB) mean, on the 0–1 scale. Default ImageNet's [0.485, 0.456, 0.406]. */
  mean?: readonly [number, number, number];
  /** Per-channel (RGB) standard deviation, on the 0–1 scale. Default ImageNet's [0.229, 0.224, 0.225]. */
  std?: readonly [number, number, number];
  /** Output layout. Default 'nchw'. */
  layout?: 'nchw' | 'nhwc';
  /** Largest input image (width × height) to decode; sharp refuses a larger one from its header. Default sharp's, 16383². */
  maxPixels?: number;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** An image that sharp cannot decode (or a file that cannot be read). */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

interface Resolved {
  h: number;
  w: number;
  resize: number;
  scale: [number, number, number];
  bias: [number, number, number];
  layout: 'nchw' | 'nhwc';
  maxPixels: number | undefined;
}

function triple(where: string, name: string, v: unknown, fallback: readonly number[], positive: boolean): number[] {
  if (v === undefined) return [...fallback];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))) {
    throw invalid(where, name, `an array of 3 ${positive ? 'positive' : 'finite'} numbers`, v);
  }
  return v as number[];
}

function resolve(where: string, options: unknown): Resolved {
  const o = plainObject(where, 'options', options);
  let h = 224;
  let w = 224;
  if (typeof o.size === 'number') {
    if (!isPositiveInt(o.size)) throw outOfRange(where, 'options.size', 'a positive integer', o.size);
    h = w = o.size;
  } else if (o.size !== undefined) {
    if (!Array.isArray(o.size) || o.size.length !== 2 || !o.size.every(isPositiveInt)) throw invalid(where, 'options.size', 'a positive integer or [height, width]', o.size);
    [h, w] = o.size as [number, number];
  }
  const resize = o.resize === undefined ? Math.round(Math.max(h, w) / 0.875) : o.resize;
  if (!isPositiveInt(resize)) throw invalid(where, 'options.resize', 'a positive integer', resize);
  const mean = triple(where, 'options.mean', o.mean, IMAGENET_MEAN, false);
  const std = triple(where, 'options.std', o.std, IMAGENET_STD, true);
  const layout = o.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw invalid(where, 'options.layout', "'nchw' or 'nhwc'", layout);
  if (o.maxPixels !== undefined && !isPositiveInt(o.maxPixels)) throw invalid(where, 'options.maxPixels', 'a positive integer', o.maxPixels);
  // x/255 - mean) / std  ==  x * scale + bias
  const scale = std.map((s) => 1 / (255 * s)) as [number, number, number];
  const bias = mean.map((m, c) => -m / std[c]!) as [number, number, number];
  return { h, w, resize, scale, bias, layout, maxPixels: o.maxPixels as number | undefined };
}

function label(image: ImageInput, i: number): string {
  return typeof image === 'string' ? image : `image ${i}`;
}

/** Decodes one image and writes its normalised crop into `out` at element `offset`. */
async function decodeInto(where: string, image: ImageInput, i: number, r: Resolved, out: Float32Array, offset: number): Promise<void> {
  let input: string | Buffer;
  if (typeof image === 'string') input = image;
  else if (image instanceof Uint8Array) input = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  else if (image instanceof ArrayBuffer) input = Buffer.from(image);
  else throw invalid(where, `images[${i}]`, 'a file path, a Uint8Array/Buffer or an ArrayBuffer', image);
  if (typeof input !== 'string' && input.byteLength === 0) throw new ImageDecodeError(`${where}: ${label(image, i)} is empty`);

  const decode = await loadSharp(where);
  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    // fit 'outside' on a resize×resize box makes the shorter side `resize` and keeps the aspect ratio;
    // a crop wider than `resize` (non-square sizes) widens the box so the crop always fits.
    ({ data, info } = await decode(input, { failOn: 'error', limitInputPixels: r.maxPixels ?? true })
      .rotate() // apply EXIF orientation
      .removeAlpha()
      .toColourspace('srgb')
      .resize({ width: Math.max(r.resize, r.w), height: Math.max(r.resize, r.h), fit: 'outside', kernel: 'linear' })
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new ImageDecodeError(`${where}: cannot decode ${label(image, i)}: ${(err as Error).message}`);
  }
  const { width: W, height: H, channels: C } = info;
  if (W < r.w || H < r.h) throw new ImageDecodeError(`${where}: ${label(image, i)} resized to ${W}×${H}, smaller than the ${r.w}×${r.h} crop`);
  const oy = (H - r.h) >> 1;
  const ox = (W - r.w) >> 1;
  const plane = r.h * r.w;
  for (let c = 0; c < 3; c++) {
    const sc = r.scale[c]!;
    const bc = r.bias[c]!;
    const src = C >= 3 ? c : 0;
    for (let y = 0; y < r.h; y++) {
      let s = ((y + oy) * W + ox) * C + src;
      if (r.layout === 'nchw') {
        let d = offset + c * plane + y * r.w;
        for (let x = 0; x < r.w; x++, s += C, d++) out[d] = data[s]! * sc + bc;
      } else {
        let d = offset + y * r.w * 3 + c;
        for (let x = 0; x < r.w; x++, s += C, d += 3) out[d] = data[s]! * sc + bc;
      }
    }
  }
}

/**
 * Decodes, resizes, centre-crops and normalises one image or a list of images into one
 * float32 tensor: [n, 3, h, w] (or [n, h, w, 3] with layout 'nhwc'); n is 1 for a single image.
 * Throws ImageDecodeError for an image sharp cannot read.
 */
export async function preprocess(images: ImageInput | readonly ImageInput[], options: PreprocessOptions = {}): Promise<Tensor> {
  const where = 'preprocess';
  const r = resolve(where, options);
  const list = Array.isArray(images) ? (images as readonly ImageInput[]) : [images as ImageInput];
  if (list.length === 0) throw new RangeError(`${where}: expected at least one image but received an empty array`);
  const per = 3 * r.h * r.w;
  const out = new Float32Array(list.length * per);
  await Promise.all(list.map((img, i) => decodeInto(where, img, i, r, out, i * per)));
  return new Tensor('float32', out, r.layout === 'nchw' ? [list.length, 3, r.h, r.w] : [list.length, r.h, r.w, 3]);
}

/** The crop size a model expects: its input's last two dims ([n, 3, h, w]), or 224 where they are dynamic. */
export function inputSizeOf(dims: readonly number[]): [number, number] {
  const h = dims.length === 4 && dims[2]! > 0 ? dims[2]! : 224;
  const w = dims.length === 4 && dims[3]! > 0 ? dims[3]! : 224;
  return [h, w];
}

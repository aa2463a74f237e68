// Top-k classification: logits → softmax probabilities → the k best classes with labels.
import type { Model } from './model.js';
import { imagenetLabels } from './labels.js';
import { inputSizeOf, preprocess, type ImageInput, type PreprocessOptions } from './preprocess.js';
import { positiveInt, plainObject } from './is.js';
import { checkTensor, type Tensor } from './tensor.js';

export interface Prediction {
  /** Class index. */
  index: number;
  /** Class name ("class <index>" where no label is known). */
  label: string;
  /** Softmax probability. */
  probability: number;
  /** The raw logit. */
  logit: number;
}

/** The labels to use by default: ImageNet's for 1000 classes, none otherwise. */
export function defaultLabels(numClasses: number): readonly string[] | undefined {
  return numClasses === 1000 ? imagenetLabels() : undefined;
}

/**
 * Softmax and top-k of each row of [n, classes] logits (sorted by probability,
 * descending). Labels default to ImageNet's for 1000 classes, as classify's do.
 */
export function topK(logits: Tensor, k = 5, labels?: readonly string[]): Prediction[][] {
  const where = 'topK';
  checkTensor(where, 'logits', logits);
  positiveInt(where, 'k', k);
  const n = logits.dims[0] ?? 1;
  const classes = logits.dims.length >= 2 ? logits.size / n : logits.size;
  const kk = Math.min(k, classes);
  const names = labels ?? defaultLabels(classes);
  const rows: Prediction[][] = [];
  for (let r = 0; r < n; r++) {
    const row = logits.data.subarray(r * classes, (r + 1) * classes);
    let max = -Infinity;
    for (const v of row) if (v > max) max = v;
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    // Partial selection: keep the k best indices in a small sorted array.
    const best: number[] = [];
    for (let i = 0; i < classes; i++) {
      if (best.length === kk && row[i]! <= row[best[kk - 1]!]!) continue;
      let j = best.length === kk ? kk - 1 : best.length;
      while (j > 0 && row[best[j - 1]!]! < row[i]!) {
        best[j] = best[j - 1]!;
        j--;
      }
      best[j] = i;
    }
    rows.push(best.map((i) => ({ index: i, label: names?.[i] ?? `class ${i}`, probability: Math.exp(row[i]! - max) / sum, logit: row[i]! })));
  }
  return rows;
}

export interface ClassifyOptions {
  /** How many classes per image. Default 5. */
  top?: number;
  /** Class names; default ImageNet's when the model has 1000 classes. */
  labels?: readonly string[];
  /** Preprocessing; the crop size defaults to the model's input size. */
  preprocess?: PreprocessOptions;
}

/** Preprocesses images, runs them through the model as one batch and returns each image's top-k. */
export async function classify(model: Model, images: ImageInput | readonly ImageInput[], options: ClassifyOptions = {}): Promise<Prediction[][]> {
  const o = plainObject('classify', 'options', options) as ClassifyOptions;
  const input = model.inputs[0]!;
  const x = await preprocess(images, { size: inputSizeOf(input.dims), ...o.preprocess });
  const out = (await model.run({ [input.name]: x }))[model.outputs[0]!.name]!;
  return topK(out, o.top ?? 5, o.labels ?? defaultLabels(out.dims[1] ?? 0));
}

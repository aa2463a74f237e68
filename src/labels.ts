// Class names: the 1000 ImageNet-1k classes ship as data (src/data/imagenet-labels.json,
// in the standard index order torchvision uses), or a user's file, one label per line.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
// A type-only import: it puts the JSON in the program so tsc copies it next to dist/labels.js.
import type ImageNetLabels from './data/imagenet-labels.json';

let imagenet: readonly string[] | undefined;

/** The 1000 ImageNet-1k class names, by class index (0 "tench" … 999 "toilet tissue"). */
export function imagenetLabels(): readonly string[] {
  if (!imagenet) {
    const parsed = JSON.parse(readFileSync(new URL('./data/imagenet-labels.json', import.meta.url), 'utf8')) as typeof ImageNetLabels;
    imagenet = Object.freeze([...parsed]);
  }
  return imagenet;
}

/** Parses a labels file: a JSON array of strings, or one label per line (blank trailing lines ignored). */
export function parseLabels(text: string, source = 'labels'): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const v = JSON.parse(trimmed) as unknown;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new TypeError(`${source}: expected a JSON array of strings`);
    return v as string[];
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** 'imagenet' for the built-in list, or a path to a labels file. */
export async function loadLabels(spec: string): Promise<readonly string[]> {
  if (spec === 'imagenet') return imagenetLabels();
  return parseLabels(await readFile(spec, 'utf8'), spec);
}

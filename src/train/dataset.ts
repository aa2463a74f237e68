// A synthetic 10-class image data set, drawn by the program (nothing is
// downloaded): 32×32 RGB images of procedural shapes and textures. Each image
// has a random background and foreground colour (so colour carries no label
// information), a random position, size and rotation, a random low-frequency
// colour gradient and Gaussian pixel noise. The same seed gives the same data.
import { Rng } from '../graph/layers.js';

export const SHAPE_CLASSES = [
  'disc', 'square', 'triangle', 'ring', 'cross', 'h-stripes', 'v-stripes', 'diagonal-stripes', 'checkerboard', 'dots',
] as const;

export interface Dataset {
  /** [count, 3, size, size], normalised per channel (see mean/std). */
  x: Float32Array;
  labels: Int32Array;
  count: number;
  /** [3, size, size] */
  dims: [number, number, number];
  classes: readonly string[];
}

export interface SyntheticOptions {
  train?: number;
  test?: number;
  seed?: number;
  size?: number;
  /** Standard deviation of the pixel noise (default 0.15, on a [0, 1] scale). */
  noise?: number;
}

/** Coverage in [0, 1] of pixel (u, v) (coordinates relative to the centre, rotated, in units of the radius). */
function coverage(cls: number, u: number, v: number, freq: number, phase: number): number {
  const r = Math.hypot(u, v);
  switch (cls) {
    case 0: return r < 1 ? 1 : 0;
    case 1: return Math.abs(u) < 0.8 && Math.abs(v) < 0.8 ? 1 : 0;
    case 2: return v < 0.7 && v > -0.9 + 2 * Math.abs(u) * 1.1 - 0.2 ? 1 : 0;
    case 3: return r < 1 && r > 0.6 ? 1 : 0;
    case 4: return (Math.abs(u) < 0.28 && Math.abs(v) < 1) || (Math.abs(v) < 0.28 && Math.abs(u) < 1) ? 1 : 0;
    case 5: return Math.sin(v * freq + phase) > 0 ? 1 : 0;
    case 6: return Math.sin(u * freq + phase) > 0 ? 1 : 0;
    case 7: return Math.sin((u + v) * freq * 0.75 + phase) > 0 ? 1 : 0;
    case 8: return Math.sin(u * freq + phase) * Math.sin(v * freq + phase) > 0 ? 1 : 0;
    case 9: {
      const s = (2 * Math.PI) / freq;
      const du = ((u + phase) % s + s) % s - s / 2, dv = ((v + phase) % s + s) % s - s / 2;
      return Math.hypot(du, dv) < s * 0.28 ? 1 : 0;
    }
    default: return 0;
  }
}

function drawImage(r: Rng, cls: number, size: number, noise: number, out: Float32Array, off: number): void {
  const bg = [r.uniform(), r.uniform(), r.uniform()];
  let fg = [r.uniform(), r.uniform(), r.uniform()];
  // Keep a minimum contrast between foreground and background.
  for (let tries = 0; tries < 20 && Math.hypot(fg[0]! - bg[0]!, fg[1]! - bg[1]!, fg[2]! - bg[2]!) < 0.45; tries++) fg = [r.uniform(), r.uniform(), r.uniform()];
  const textured = cls >= 5;
  // Shapes: centre and radius; textures: a window (possibly the whole image).
  const radius = textured ? r.uniform(0.32, 0.6) * size : r.uniform(0.18, 0.38) * size;
  const cx = r.uniform(radius * 0.8, size - radius * 0.8), cy = r.uniform(radius * 0.8, size - radius * 0.8);
  const theta = textured ? r.uniform(-0.25, 0.25) : r.uniform(0, 2 * Math.PI);
  const freq = r.uniform(5, 9);
  const phase = r.uniform(0, 2 * Math.PI);
  const cs = Math.cos(theta), sn = Math.sin(theta);
  const gx = r.uniform(-0.25, 0.25), gy = r.uniform(-0.25, 0.25);
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // 2×2 supersampling for anti-aliased edges.
      let cov = 0;
      for (let sy = 0; sy < 2; sy++) for (let sx = 0; sx < 2; sx++) {
        const px = x + 0.25 + 0.5 * sx - cx, py = y + 0.25 + 0.5 * sy - cy;
        const u = (cs * px + sn * py) / radius, v = (-sn * px + cs * py) / radius;
        const inside = textured ? Math.max(Math.abs(u), Math.abs(v)) < 1.6 : true;
        cov += inside ? coverage(cls, u, v, freq, phase) : 0;
      }
      cov /= 4;
      const shade = gx * (x / size - 0.5) + gy * (y / size - 0.5);
      for (let c = 0; c < 3; c++) {
        const val = bg[c]! * (1 - cov) + fg[c]! * cov + shade + noise * r.normal();
        out[off + c * plane + y * size + x] = val;
      }
    }
  }
}

function generate(r: Rng, count: number, size: number, noise: number): { x: Float32Array; labels: Int32Array } {
  const x = new Float32Array(count * 3 * size * size);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const cls = i % SHAPE_CLASSES.length; // balanced, then shuffled below
    labels[i] = cls;
  }
  for (let i = count - 1; i > 0; i--) { const j = Math.floor(r.uniform() * (i + 1)); const t = labels[i]!; labels[i] = labels[j]!; labels[j] = t; }
  for (let i = 0; i < count; i++) drawImage(r, labels[i]!, size, noise, x, i * 3 * size * size);
  return { x, labels };
}

/** Train and test splits (disjoint draws from one seeded stream), normalised with the train split's per-channel statistics. */
export function syntheticShapes(options: SyntheticOptions = {}): { train: Dataset; test: Dataset; mean: number[]; std: number[] } {
  const size = options.size ?? 32;
  const nTrain = options.train ?? 5000;
  const nTest = options.test ?? 1000;
  const noise = options.noise ?? 0.15;
  for (const [k, v] of Object.entries({ size, train: nTrain, test: nTest })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Expected a positive integer for syntheticShapes() option ${k} but received ${v}`);
  }
  const r = new Rng((options.seed ?? 0) ^ 0x5eed);
  const tr = generate(r, nTrain, size, noise);
  const te = generate(r, nTest, size, noise);
  const plane = size * size;
  const mean = [0, 0, 0], std = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < nTrain; i++) for (let p = 0; p < plane; p++) { const v = tr.x[(i * 3 + c) * plane + p]!; s += v; s2 += v * v; }
    const n = nTrain * plane;
    mean[c] = s / n; std[c] = Math.sqrt(Math.max(1e-12, s2 / n - (s / n) ** 2));
  }
  for (const d of [tr, te]) {
    const count = d.labels.length;
    for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) {
      const off = (i * 3 + c) * plane;
      for (let p = 0; p < plane; p++) d.x[off + p] = (d.x[off + p]! - mean[c]!) / std[c]!;
    }
  }
  const mk = (d: { x: Float32Array; labels: Int32Array }): Dataset => ({ x: d.x, labels: d.labels, count: d.labels.length, dims: [3, size, size], classes: SHAPE_CLASSES });
  return { train: mk(tr), test: mk(te), mean, std };
}

// Property tests of the zoo ops (issue 18) through the whole path a model takes:
// a one-node Graph, loaded on each backend variant (JS, and native on each ISA
// the CPU has, forced in turn), lowered to its plan step and run, against
// float64 references written here independently of the kernels: elementwise
// functions, numpy broadcasting (edges: size-1 dims, missing leading dims,
// scalars), Transpose, Slice (negative steps, clamping), Concat, Softmax,
// LayerNormalization.
import test from 'ava';
import fc from 'fast-check';
import { Graph, type Initializer, type Node } from '../src/graph/graph.js';
import { load } from '../src/index.js';
import { Tensor } from '../src/tensor.js';
import { variants, type Variant } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims } from './helpers/property.js';
import { randomF32, rng } from './helpers/rng.js';

const RUNS = Math.min(Number(process.env.RESNODE_FC_RUNS ?? 40), 40);
const SEED = Number(process.env.RESNODE_FC_SEED ?? 20261207);
const params = { numRuns: RUNS, seed: SEED };

const count = (d: readonly number[]): number => d.reduce((p, q) => p * q, 1);
const stridesOf = (d: readonly number[]): number[] => d.map((_, i) => count(d.slice(i + 1)));
/** Row-major multi-index of flat index k in dims d. */
const unravel = (k: number, d: readonly number[]): number[] => d.map((_, i) => Math.floor(k / count(d.slice(i + 1))) % d[i]!);

/** Runs one node on a variant: the graph's input "x" (and "x1"… for more inputs) fed with xs. */
async function runNode(v: Variant, node: Node, xs: { dims: number[]; data: Float32Array }[], inits: Record<string, Initializer> = {}): Promise<Tensor> {
  const names = xs.map((_, i) => (i === 0 ? 'x' : `x${i}`));
  const graph = new Graph({ inputs: xs.map((x, i) => ({ name: names[i]!, dims: x.dims })), outputs: [{ name: 'y', dims: [] }], nodes: [node], initializers: new Map(Object.entries(inits)) });
  v.activate();
  try {
    const model = await load(graph, { backend: v.backend, threads: 2 });
    const y = model.runSync(Object.fromEntries(xs.map((x, i) => [names[i]!, new Tensor('float32', x.data, x.dims)])))['y']!;
    await model.dispose();
    return y;
  } finally {
    v.restore();
  }
}

const dimsArb = (minRank: number, maxRank: number, maxDim = 6) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

// erf by Simpson's rule on 2/√π·e^(−t²): an algorithm unrelated to either kernel's.
function erfReference(x: number): number {
  const n = 2000, h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
}

const UNARY: Record<string, (x: number, a: number, b: number) => number> = {
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Silu: (x) => x / (1 + Math.exp(-x)),
  HardSigmoid: (x, a, b) => Math.min(1, Math.max(0, a * x + b)),
  HardSwish: (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5)),
  Clip: (x, a, b) => Math.min(b, Math.max(a, x)),
  Erf: erfReference,
};

for (const v of variants()) {
  test.serial(`unary ops match float64 on random lengths, tails and large |x| (${v.label})`, async (t) => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(UNARY)), dimsArb(1, 3, 40), dataSeed, fc.double({ min: -3, max: 3, noNaN: true }), async (op, dims, seed, bound) => {
      const r = rng(seed);
      const x = randomF32(r, count(dims), -12, 12);
      if (x.length > 2) { x[0] = 0; x[1] = -90; }
      const [alpha, beta] = op === 'HardSigmoid' ? [0.1 + r(), r() - 0.5] : op === 'HardSwish' ? [1 / 6, 0.5] : op === 'Clip' ? [Math.fround(bound - 1), Math.fround(bound + 2)] : [0, 0];
      const y = await runNode(v, { name: 'n', op: op as 'Sigmoid', inputs: ['x'], outputs: ['y'], attrs: { alpha, beta } }, [{ dims, data: x }]);
      expectDims([...y.dims], dims, op);
      expectClose(y.data, Array.from(x, (e) => UNARY[op]!(e, alpha, beta)), `${op} ${v.label}`, dims);
    }), params);
    t.pass();
  });

  test.serial(`Mul/Add/Sub/Div broadcast as numpy does, the per-channel SE gate included (${v.label})`, async (t) => {
    await fc.assert(fc.asyncProperty(dimsArb(1, 4), fc.array(fc.constantFrom('keep', 'one', 'drop'), { minLength: 4, maxLength: 4 }), fc.boolean(), fc.constantFrom('Mul', 'Add', 'Sub', 'Div'), dataSeed, async (yDims, how, swap, op, seed) => {
      // b: y's dims with some set to 1 and, while they lead, some dropped.
      let leading = true;
      const bDims = yDims.flatMap((d, i) => {
        const h = how[i]!;
        if (h === 'drop' && leading) return [];
        leading = false;
        return [h === 'one' ? 1 : d];
      });
      const r = rng(seed);
      const a = randomF32(r, count(yDims)), b = randomF32(r, count(bDims), 0.5, 2);
      const [p, q] = swap ? [{ dims: bDims, data: b }, { dims: yDims, data: a }] : [{ dims: yDims, data: a }, { dims: bDims, data: b }];
      const y = await runNode(v, { name: 'n', op: op as 'Mul', inputs: ['x', 'x1'], outputs: ['y'], attrs: {} }, [p, q]);
      expectDims([...y.dims], yDims, 'broadcast dims');
      const at = (o: { dims: number[]; data: Float32Array }, idx: number[]): number => {
        const off = idx.length - o.dims.length;
        return o.data[o.dims.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : idx[off + i]!), 0)]!;
      };
      const f = { Mul: (m: number, n: number) => m * n, Add: (m: number, n: number) => m + n, Sub: (m: number, n: number) => m - n, Div: (m: number, n: number) => m / n }[op]!;
      const expected = Array.from({ length: count(yDims) }, (_, k) => { const idx = unravel(k, yDims); return f(at(p, idx), at(q, idx)); });
      expectClose(y.data, expected, `${op} ${JSON.stringify(p.dims)} ∘ ${JSON.stringify(q.dims)} ${v.label}`, yDims);
    }), params);
    t.pass();
  });

  test.serial(`Transpose with any perm and Slice with any starts/ends/steps (${v.label})`, async (t) => {
    await fc.assert(fc.asyncProperty(dimsArb(1, 5), dataSeed, fc.boolean(), async (dims, seed, slice) => {
      const r = rng(seed);
      const x = randomF32(r, count(dims));
      const xs = stridesOf(dims);
      if (!slice) {
        const perm = dims.map((_, i) => i).sort(() => r() - 0.5);
        const y = await runNode(v, { name: 'n', op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm } }, [{ dims, data: x }]);
        const yDims = perm.map((p) => dims[p]!);
        expectDims([...y.dims], yDims, 'transpose dims');
        expectClose(y.data, Array.from({ length: count(yDims) }, (_, k) => x[unravel(k, yDims).reduce((acc, i, d) => acc + i * xs[perm[d]!]!, 0)]!), `Transpose ${JSON.stringify(perm)} ${v.label}`);
        return;
      }
      // One slice per chosen axis; starts/ends beyond the dim clamp; negative steps walk backwards.
      const axes = dims.map((_, i) => i).filter(() => r() < 0.7);
      if (axes.length === 0) axes.push(0);
      const steps = axes.map(() => (r() < 0.3 ? -1 : 1) * (1 + Math.floor(r() * 2)));
      const starts = axes.map((a, k) => (steps[k]! > 0 ? Math.floor(r() * dims[a]!) : dims[a]! - 1 - Math.floor(r() * dims[a]!) + (r() < 0.2 ? 100 : 0)));
      const ends = axes.map((a, k) => (steps[k]! > 0 ? starts[k]! + 1 + Math.floor(r() * dims[a]!) + (r() < 0.2 ? 1e9 : 0) : starts[k]! - 1 - Math.floor(r() * dims[a]!) - (r() < 0.2 ? 1e9 : 0)));
      // The reference: every index kept along each axis, by walking it.
      const kept = dims.map((d, ax) => {
        const k = axes.indexOf(ax);
        if (k < 0) return [...Array(d).keys()];
        const st = steps[k]!, out: number[] = [];
        // ONNX: a negative start or end counts from the end, then clamps to [0, d] (step > 0) or [-1, d-1].
        const clamp = (e: number): number => Math.min(Math.max(e < 0 ? e + d : e, st > 0 ? 0 : -1), st > 0 ? d : d - 1);
        const lo = clamp(starts[k]!), hi = clamp(ends[k]!);
        for (let i = lo; st > 0 ? i < hi : i > hi; i += st) out.push(i);
        return out;
      });
      const yDims = kept.map((k) => k.length);
      if (yDims.includes(0)) return; // an empty slice is refused at load (tested in test/zoo-ops-import.test.ts)
      const y = await runNode(v, { name: 'n', op: 'Slice', inputs: ['x'], outputs: ['y'], attrs: { starts, ends, axes, steps } }, [{ dims, data: x }]);
      expectDims([...y.dims], yDims, 'slice dims');
      expectClose(y.data, Array.from({ length: count(yDims) }, (_, k) => x[unravel(k, yDims).reduce((acc, i, d) => acc + kept[d]![i]! * xs[d]!, 0)]!), `Slice ${JSON.stringify({ starts, ends, axes, steps })} ${v.label}`);
    }), params);
    t.pass();
  });

  test.serial(`Concat along any axis of 1 to 4 inputs (${v.label})`, async (t) => {
    await fc.assert(fc.asyncProperty(dimsArb(1, 4), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.nat(), dataSeed, async (dims, sizes, axis0, seed) => {
      const axis = axis0 % dims.length;
      const r = rng(seed);
      const xs = sizes.map((s) => { const d = [...dims]; d[axis] = s; return { dims: d, data: randomF32(r, count(d)) }; });
      const y = await runNode(v, { name: 'n', op: 'Concat', inputs: xs.map((_, i) => (i === 0 ? 'x' : `x${i}`)), outputs: ['y'], attrs: { axis: axis - (r() < 0.5 ? dims.length : 0) } }, xs);
      const yDims = [...dims];
      yDims[axis] = sizes.reduce((p, q) => p + q, 0);
      expectDims([...y.dims], yDims, 'concat dims');
      const expected = Array.from({ length: count(yDims) }, (_, k) => {
        const idx = unravel(k, yDims);
        let i = idx[axis]!, which = 0;
        while (i >= sizes[which]!) i -= sizes[which++]!;
        idx[axis] = i;
        return xs[which]!.data[idx.reduce((acc, j, d) => acc * xs[which]!.dims[d]! + j, 0)]!;
      });
      expectClose(y.data, expected, `Concat axis ${axis} ${v.label}`);
    }), params);
    t.pass();
  });

  test.serial(`Softmax (any axis; opset < 13's flattened form) and LayerNormalization (any axis) match float64 (${v.label})`, async (t) => {
    await fc.assert(fc.asyncProperty(dimsArb(1, 4, 7), fc.nat(), fc.boolean(), fc.boolean(), dataSeed, async (dims, axis0, legacy, layerNorm, seed) => {
      const axis = axis0 % dims.length;
      const r = rng(seed);
      const x = randomF32(r, count(dims), -20, 20);
      const outer = count(dims.slice(0, axis));
      if (layerNorm) {
        const n = count(dims.slice(axis));
        const scale = randomF32(r, n, 0.5, 2), bias = randomF32(r, n);
        const y = await runNode(v, { name: 'n', op: 'LayerNormalization', inputs: ['x', 's', legacy ? '' : 'b'], outputs: ['y'], attrs: { axis, epsilon: 1e-5 } }, [{ dims, data: x }], { s: { dims: dims.slice(axis), data: scale }, b: { dims: dims.slice(axis), data: bias } });
        const expected: number[] = [];
        for (let o = 0; o < outer; o++) {
          const row = Array.from(x.subarray(o * n, (o + 1) * n));
          const mean = row.reduce((p, q) => p + q, 0) / n;
          const sd = Math.sqrt(row.reduce((p, q) => p + (q - mean) ** 2, 0) / n + 1e-5);
          row.forEach((e, i) => expected.push(((e - mean) / sd) * scale[i]! + (legacy ? 0 : bias[i]!)));
        }
        expectClose(y.data, expected, `LayerNormalization axis ${axis} ${v.label}`, dims);
        return;
      }
      const [n, inner] = legacy ? [count(dims.slice(axis)), 1] : [dims[axis]!, count(dims.slice(axis + 1))];
      const y = await runNode(v, { name: 'n', op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis, legacy } }, [{ dims, data: x }]);
      const expected = new Float64Array(x.length);
      for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += Math.exp(x[(o * n + i) * inner + j]!);
        for (let i = 0; i < n; i++) expected[(o * n + i) * inner + j] = Math.exp(x[(o * n + i) * inner + j]!) / sum;
      }
      expectClose(y.data, expected, `Softmax axis ${axis}${legacy ? ' (legacy)' : ''} ${v.label}`, dims);
    }), params);
    t.pass();
  });
}

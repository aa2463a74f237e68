// The CUDA backend's device plan, on a host mock of the CUDA binding (runs
// here, with no GPU): it executes the model's lowered plan (its results equal
// the JS backend's), its device arena is sized from the memory plan (inputs +
// slots + constants + the zeros its copy/relu steps add), it is allocated on
// the first run of a shape, and a second run of that shape allocates nothing.
import test from 'ava';
import { cudaBackendOn, type CudaDevicePlan } from '../src/backend/cuda.js';
import { jsBackend } from '../src/backend/js.js';
import type { ConvParams, PackedWeights, PoolParams } from '../src/backend/types.js';
import { resnet } from '../src/graph/resnet.js';
import { optimize, planMemory } from '../src/graph/passes.js';
import { load, Model } from '../src/model.js';
import { seededTensor } from '../src/validate.js';
import { info } from '../src/info.js';
import type { CudaBackend } from '../src/backend/cuda.js';

type Buf = { data: Float32Array };
type T = Float32Array | Buf;
const host = (x: T): Float32Array => (x instanceof Float32Array ? x : x.data);

/** The binding's surface over host memory; counts what the device plan asks of it. */
function mockBinding() {
  const counts = { allocs: 0, floats: 0, uploads: 0, downloads: 0 };
  const binding = {
    counts,
    cudaInfo: () => ({ compiled: true, available: true, device: 'mock' }),
    cudaCreateContext: () => ({}),
    cudaDisposeContext: () => undefined,
    cudaAlloc: (_ctx: unknown, n: number): Buf => {
      counts.allocs++;
      counts.floats += n;
      return { data: new Float32Array(n) };
    },
    cudaUpload: (buf: Buf, src: Float32Array) => {
      counts.uploads++;
      buf.data.set(src);
    },
    cudaDownload: async (buf: Buf, dst: Float32Array) => {
      counts.downloads++;
      dst.set(buf.data.subarray(0, dst.length));
    },
    cudaDownloadSync: (buf: Buf, dst: Float32Array) => dst.set(buf.data.subarray(0, dst.length)),
    cudaPackConv2d: (_c: unknown, w: Float32Array, b: Float32Array | null, cOut: number, cig: number, kh: number, kw: number, g: number) => jsBackend.packConv2d(w, b, cOut, cig, kh, kw, g),
    cudaPackGemm: (_c: unknown, w: Float32Array, b: Float32Array | null, nOut: number, k: number) => jsBackend.packGemm(w, b, nOut, k),
    cudaConv2dSync: (_c: unknown, p: PackedWeights, x: T, r: T | null, y: T, params: ConvParams) => jsBackend.conv2dSync(p, host(x), r && host(r), host(y), params),
    cudaGemmSync: (_c: unknown, p: PackedWeights, x: T, m: number, relu: boolean, y: T) => jsBackend.gemmSync(p, host(x), m, relu, host(y), 1),
    cudaMaxPoolSync: (_c: unknown, x: T, y: T, p: PoolParams) => jsBackend.maxPoolSync(host(x), host(y), p),
    cudaAveragePoolSync: (_c: unknown, x: T, y: T, p: PoolParams, cip: boolean) => jsBackend.averagePoolSync(host(x), host(y), p, cip),
    cudaGlobalAveragePoolSync: (_c: unknown, x: T, y: T, n: number, c: number, hw: number) => jsBackend.globalAveragePoolSync(host(x), host(y), n, c, hw, 1),
    cudaAddSync: (_c: unknown, a: T, b: T, y: T, relu: boolean, count?: number) => {
      const [ha, hb, hy] = [host(a), host(b), host(y)];
      for (let i = 0; i < (count ?? hy.length); i++) hy[i] = relu ? Math.max(0, ha[i]! + hb[i]!) : ha[i]! + hb[i]!;
    },
  };
  return binding;
}

test('the device plan runs the lowered plan in an arena sized from the memory plan, allocated once per input shape', async (t) => {
  const graph = resnet({ depth: 18, seed: 4, inputSize: 32, numClasses: 10, width: 8 });
  const mock = mockBinding();
  const backend = cudaBackendOn(mock as never, 'exact', { ownContext: true });
  let compiled: CudaDevicePlan[] = [];
  const compile = backend.compilePlan!;
  const spied = { ...backend, compilePlan: (l: Parameters<typeof compile>[0]) => { const p = compile(l) as CudaDevicePlan; compiled.push(p); return p; } };
  const optimized = optimize(graph);
  const model = new Model(optimized, spied, 1);
  const reference = await load(graph, { backend: 'js' });

  for (const batch of [1, 3]) {
    const x = seededTensor([batch, 3, 32, 32], batch);
    const before = { ...mock.counts };
    const first = await model.run({ input: x });
    t.deepEqual(first.output!.data, (await reference.run({ input: x })).output!.data, `batch ${batch}: device plan = JS backend`);
    const plan = compiled.at(-1)!;
    const memory = planMemory(optimized, { input: [batch, 3, 32, 32] }, { residualInPlace: false });
    const zeros = Math.max(0, ...memory.order.filter((n) => n.op === 'Flatten' || n.op === 'Reshape' || n.op === 'Relu').map((n) => memory.shapes.get(n.outputs[0]!)!.reduce((a, b) => a * b, 1)));
    const arena = batch * 3 * 32 * 32 + memory.totalFloats + zeros;
    t.log(`batch ${batch}: ${plan.allocations} device buffers, ${plan.deviceFloats} floats (memory plan: ${memory.totalFloats} in ${memory.slotSizes.length} slots)`);
    t.is(plan.deviceFloats, arena, 'the arena is the input, the memory-plan slots and the zeros, nothing more');
    t.is(plan.allocations, 1 + memory.slotSizes.length + (zeros > 0 ? 1 : 0));
    t.is(mock.counts.allocs - before.allocs, plan.allocations);
    t.is(mock.counts.floats - before.floats, plan.deviceFloats);

    const allocs = mock.counts.allocs;
    const second = await model.run({ input: seededTensor([batch, 3, 32, 32], 100 + batch) });
    const third = await model.run({ input: x });
    t.is(mock.counts.allocs, allocs, 'later runs of the same shape allocate nothing on the device');
    t.is(plan.allocations, 1 + memory.slotSizes.length + (zeros > 0 ? 1 : 0));
    t.notDeepEqual(second.output!.data, first.output!.data);
    t.deepEqual(third.output!.data, first.output!.data, 'the reused arena gives the same answer');
  }
  t.is(compiled.length, 2, 'one device plan per input shape');
  // Concurrent runs share one arena and are serialised: each gets its own answer.
  const xs = [5, 6, 7].map((s) => seededTensor([1, 3, 32, 32], s));
  const together = await Promise.all(xs.map((x) => model.run({ input: x })));
  for (const [i, x] of xs.entries()) t.deepEqual(together[i]!.output!.data, (await reference.run({ input: x })).output!.data);
  t.throws(() => model.runSync({ input: xs[0]! }), { message: /runSync: the cuda backend runs asynchronously; use run\(\)/ });
  await model.dispose();
  await reference.dispose();
  compiled = [];
});

// On a GPU: the same through the real binding, counted by the context's arena.
(info().cuda.available ? test : test.skip)('on the device, a second run of a shape takes no block from the arena', async (t) => {
  const model = await load(resnet({ depth: 18, seed: 4, inputSize: 64, numClasses: 10 }), { backend: 'cuda' });
  const be = model.backend as CudaBackend;
  const x = seededTensor([2, 3, 64, 64], 1);
  const first = (await model.run({ input: x })).output!.data;
  const after1 = be.binding.cudaMemoryInfo(be.ctx).allocations;
  const second = (await model.run({ input: x })).output!.data;
  t.is(be.binding.cudaMemoryInfo(be.ctx).allocations, after1);
  t.deepEqual(second, first);
  await model.dispose();
});

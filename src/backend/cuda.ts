// The CUDA backend (addon built with `npm run build:cuda`). Two ways in:
// - the op interface (KernelBackend) over host arrays: each call uploads, runs and downloads;
// - compilePlan: a model's lowered plan on the device (CudaDevicePlan): weights
//   packed to the GPU once, activations in a device arena sized from the memory
//   plan and allocated once per input shape, one upload and one download per run.
import { nativeAvailable, nativeBinding } from '../native.js';
import { BackendUnavailableError, ModelError, withCallerStack } from '../errors.js';
import type { ConvParams, KernelBackend, PackedWeights, PlanExecutor, PlanLayout, PoolParams } from './types.js';
import { runStep, type StepKernels } from '../plan/interpret.js';
import type { Mode } from '../modes.js';

type Handle = { readonly __cuda: unique symbol };
type Tensorish = Float32Array | Handle;

/** The addon's cuda* surface (native/napi/cuda.cc). */
interface CudaBinding {
  cudaInfo(): { compiled: boolean; available: boolean; device?: string; reason?: string };
  cudaCreateContext(device?: number): Handle;
  cudaDisposeContext(ctx: Handle): void;
  /** The context arena's bytes, and the blocks it has handed out so far. */
  cudaMemoryInfo(ctx: Handle): { reserved: number; inUse: number; allocations: number };
  cudaAlloc(ctx: Handle, count: number): Handle;
  cudaUpload(buf: Handle, src: Float32Array, offset?: number): void;
  cudaDownload(buf: Handle, dst: Float32Array): Promise<void>;
  cudaDownloadSync(buf: Handle, dst: Float32Array): void;
  cudaPackConv2d(ctx: Handle, w: Float32Array, b: Float32Array | null, cOut: number, cInPerGroup: number, kh: number, kw: number, groups: number): Handle;
  cudaPackGemm(ctx: Handle, w: Float32Array, b: Float32Array | null, nOut: number, k: number): Handle;
  cudaConv2dSync(ctx: Handle, p: Handle, x: Tensorish, r: Tensorish | null, y: Tensorish, params: ConvParams & { mode?: CudaMode }): void;
  cudaConv2d(ctx: Handle, p: Handle, x: Tensorish, r: Tensorish | null, y: Tensorish, params: ConvParams & { mode?: CudaMode }): Promise<void>;
  cudaGemmSync(ctx: Handle, p: Handle, x: Tensorish, m: number, relu: boolean, y: Tensorish, mode?: CudaMode): void;
  cudaGemm(ctx: Handle, p: Handle, x: Tensorish, m: number, relu: boolean, y: Tensorish, mode?: CudaMode): Promise<void>;
  cudaMaxPoolSync(ctx: Handle, x: Tensorish, y: Tensorish, p: PoolParams): void;
  cudaMaxPool(ctx: Handle, x: Tensorish, y: Tensorish, p: PoolParams): Promise<void>;
  cudaAveragePoolSync(ctx: Handle, x: Tensorish, y: Tensorish, p: PoolParams, cip: boolean): void;
  cudaAveragePool(ctx: Handle, x: Tensorish, y: Tensorish, p: PoolParams, cip: boolean): Promise<void>;
  cudaGlobalAveragePoolSync(ctx: Handle, x: Tensorish, y: Tensorish, n: number, c: number, hw: number): void;
  cudaGlobalAveragePool(ctx: Handle, x: Tensorish, y: Tensorish, n: number, c: number, hw: number): Promise<void>;
  cudaAddSync(ctx: Handle, a: Tensorish, b: Tensorish, y: Tensorish, relu: boolean, count?: number): void;
  cudaAdd(ctx: Handle, a: Tensorish, b: Tensorish, y: Tensorish, relu: boolean, count?: number): Promise<void>;
}

/** 'tf32' uses the tensor cores (fp32 accumulation); 'fp32' is exact fp32. */
export type CudaMode = 'tf32' | 'fp32';

/** The CUDA binding, or a BackendUnavailableError that says why not. */
export function cudaBinding(where: string): CudaBinding {
  if (!nativeAvailable()) nativeBinding(); // throws the loader's own explanation
  const b = nativeBinding() as unknown as Partial<CudaBinding>;
  if (typeof b.cudaInfo !== 'function') {
    throw new BackendUnavailableError(`${where}: this build of resnode has no CUDA support; build it with \`npm run build:cuda\` (needs nvcc)`);
  }
  const i = b.cudaInfo();
  if (!i.available) throw new BackendUnavailableError(`${where}: CUDA is not available: ${i.reason ?? 'no usable GPU'}`);
  return b as CudaBinding;
}

interface CudaPacked extends PackedWeights {
  readonly handle: Handle;
  /** The precision, chosen at pack time from the mode (src/modes.ts). */
  readonly cudaMode: CudaMode;
}

/** What each mode of src/modes.ts means on the device. */
export const cudaModeOf = (mode: Mode): CudaMode => (mode === 'fast' ? 'tf32' : 'fp32');

export interface CudaBackend extends KernelBackend {
  readonly ctx: Handle;
  readonly binding: CudaBinding;
}

/**
 * A CUDA backend on a context of its own (ownContext: disposed with the model)
 * or the shared one. `mode` sets the GEMMs' precision; each conv's comes from
 * the mode it was packed with.
 */
export function createCudaBackend(where: string, mode: Mode = 'exact', options: { ownContext?: boolean } = {}): CudaBackend {
  return cudaBackendOn(cudaBinding(where), mode, options);
}

/** The backend over a given binding (the addon's, or a host mock in tests). */
export function cudaBackendOn(b: CudaBinding, mode: Mode = 'exact', options: { ownContext?: boolean } = {}): CudaBackend {
  const ctx = b.cudaCreateContext();
  const gemmMode = cudaModeOf(mode);
  const h = (p: PackedWeights) => (p as CudaPacked).handle;
  const packedMode = (p: PackedWeights) => (p as CudaPacked).cudaMode;
  return {
    name: 'cuda',
    ctx,
    binding: b,
    asyncOnly: true,
    packConv2d: (w, bias, cOut, cInPerGroup, kh, kw, groups, packMode = 'exact') =>
      ({ backend: 'cuda', handle: b.cudaPackConv2d(ctx, w, bias, cOut, cInPerGroup, kh, kw, groups), cudaMode: cudaModeOf(packMode) }) as CudaPacked,
    conv2dSync: (p, x, r, y, params) => (nchwOnly('conv2dSync', params.yNhwc), b.cudaConv2dSync(ctx, h(p), x, r, y, { ...params, mode: packedMode(p) })),
    conv2d: (p, x, r, y, params) => (nchwOnly('conv2d', params.yNhwc), withCallerStack(() => b.cudaConv2d(ctx, h(p), x, r, y, { ...params, mode: packedMode(p) }))),
    packGemm: (w, bias, nOut, k) => ({ backend: 'cuda', handle: b.cudaPackGemm(ctx, w, bias, nOut, k), cudaMode: gemmMode }) as CudaPacked,
    gemmSync: (p, x, m, relu, y) => b.cudaGemmSync(ctx, h(p), x, m, relu, y, packedMode(p)),
    gemm: (p, x, m, relu, y) => withCallerStack(() => b.cudaGemm(ctx, h(p), x, m, relu, y, packedMode(p))),
    maxPoolSync: (x, y, p) => b.cudaMaxPoolSync(ctx, x, y, p),
    maxPool: (x, y, p) => withCallerStack(() => b.cudaMaxPool(ctx, x, y, p)),
    averagePoolSync: (x, y, p, cip) => b.cudaAveragePoolSync(ctx, x, y, p, cip),
    averagePool: (x, y, p, cip) => withCallerStack(() => b.cudaAveragePool(ctx, x, y, p, cip)),
    globalAveragePoolSync: (x, y, n, c, hw, _threads, nhwc) => (nchwOnly('globalAveragePoolSync', nhwc), b.cudaGlobalAveragePoolSync(ctx, x, y, n, c, hw)),
    globalAveragePool: (x, y, n, c, hw, _threads, nhwc) => (nchwOnly('globalAveragePool', nhwc), withCallerStack(() => b.cudaGlobalAveragePool(ctx, x, y, n, c, hw))),
    addSync: (a, bb, y, relu) => b.cudaAddSync(ctx, a, bb, y, relu),
    add: (a, bb, y, relu) => withCallerStack(() => b.cudaAdd(ctx, a, bb, y, relu)),
    compilePlan: (plan) => new CudaDevicePlan(b, ctx, plan, h, packedMode),
    ...(options.ownContext ? { dispose: () => b.cudaDisposeContext(ctx) } : {}),
  };
}

/** The CUDA convs and pools read and write NCHW only (no CUDA plan has NHWC values: it has no NHWC conv). */
function nchwOnly(where: string, nhwc: boolean | undefined): void {
  if (nhwc) throw new RangeError(`${where}: the CUDA backend reads NCHW only, but nhwc is true`);
}

/**
 * A lowered plan on the device. Its arena (one device buffer per graph input,
 * per memory-plan slot and per constant, sized from the memory plan) is
 * allocated on the first run and reused by every later one, so a run's only
 * host transfers are the input upload and the output download, and it
 * allocates nothing. Runs of one plan are serialised: they share the arena
 * (the device's stream orders their work anyway).
 */
function noKernel(op: string): never {
  throw new ModelError(`cuda backend: ${op} has no CUDA kernel`);
}

export class CudaDevicePlan implements PlanExecutor {
  /** cudaAlloc calls made by this plan so far (observable: a second run of the same shape adds none). */
  allocations = 0;
  /** Floats of device memory this plan holds (its arena). */
  deviceFloats = 0;
  private dev: Handle[] | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly kernels: StepKernels<Handle>;
  /** The most elements a copy or relu step moves: they run as y = x + 0 (with relu). */
  private readonly zerosCount: number;
  private zeros: Handle | undefined;

  constructor(
    private readonly b: CudaBinding,
    private readonly ctx: Handle,
    private readonly plan: PlanLayout,
    handle: (p: PackedWeights) => Handle,
    mode: (p: PackedWeights) => CudaMode,
  ) {
    // Steps without a CUDA kernel yet: refused when the plan is made, before any device memory is taken.
    const NO_KERNEL = ['qconv', 'convNhwc', 'reorder', 'transpose', 'quantizeDequantize', 'requantize', 'qlinearAdd', 'qu8MaxPool', 'qGlobalAveragePool', 'unary', 'binary', 'strided', 'concat', 'softmax', 'layerNorm'];
    for (const s of plan.steps) if (NO_KERNEL.includes(s.op)) throw new ModelError(`cuda backend: the plan has a ${s.op} step, which has no CUDA kernel`);
    this.zerosCount = Math.max(0, ...plan.steps.map((s) => (s.op === 'copy' || s.op === 'relu' ? s.count : 0)));
    const zeros = () => this.zeros!;
    this.kernels = {
      conv: (p, x, r, y, params) => b.cudaConv2dSync(ctx, handle(p), x, r, y, { ...params, threads: 1, mode: mode(p) }),
      gemm: (p, x, m, relu, y) => b.cudaGemmSync(ctx, handle(p), x, m, relu, y, mode(p)),
      maxPool: (x, y, p) => b.cudaMaxPoolSync(ctx, x, y, p),
      averagePool: (x, y, p, cip) => b.cudaAveragePoolSync(ctx, x, y, p, cip),
      globalAveragePool: (x, y, n, c, hw) => b.cudaGlobalAveragePoolSync(ctx, x, y, n, c, hw),
      // Slots may be larger than the value they hold (the memory plan grows them): pass the count.
      add: (a, bb, y, relu, _threads, count) => b.cudaAddSync(ctx, a, bb, y, relu, count),
      copy: (x, y, count) => b.cudaAddSync(ctx, x, zeros(), y, false, count),
      relu: (x, y, count) => b.cudaAddSync(ctx, x, zeros(), y, true, count),
      qconv: () => noKernel('qconv'),
      convNhwc: () => noKernel('convNhwc'),
      reorder: () => noKernel('reorder'),
      transpose: () => noKernel('transpose'),
      quantizeDequantize: () => noKernel('quantizeDequantize'),
      requantize: () => noKernel('requantize'),
      qlinearAdd: () => noKernel('qlinearAdd'),
      qu8MaxPool: () => noKernel('qu8MaxPool'),
      qGlobalAveragePool: () => noKernel('qGlobalAveragePool'),
      unary: () => noKernel('unary'),
      binary: () => noKernel('binary'),
      strided: () => noKernel('strided'),
      concat: () => noKernel('concat'),
      softmax: () => noKernel('softmax'),
      layerNorm: () => noKernel('layerNorm'),
    };
  }

  private alloc(count: number): Handle {
    this.allocations++;
    this.deviceFloats += Math.max(1, count);
    return this.b.cudaAlloc(this.ctx, Math.max(1, count));
  }

  private allocate(buffers: readonly Float32Array[]): Handle[] {
    const { nInputs, slotSizes, constants } = this.plan;
    const dev = [
      ...buffers.slice(0, nInputs).map((x) => this.alloc(x.length)),
      ...slotSizes.map((n) => this.alloc(n)),
      ...constants.map((c) => {
        const d = this.alloc(c.length);
        this.b.cudaUpload(d, c);
        return d;
      }),
    ];
    if (this.zerosCount > 0) {
      this.zeros = this.alloc(this.zerosCount);
      this.b.cudaUpload(this.zeros, new Float32Array(this.zerosCount));
    }
    return dev;
  }

  run(buffers: Float32Array[]): Promise<void> {
    const done = this.queue.then(() => this.runOnce(buffers));
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async runOnce(buffers: Float32Array[]): Promise<void> {
    const dev = (this.dev ??= this.allocate(buffers));
    for (let i = 0; i < this.plan.nInputs; i++) this.b.cudaUpload(dev[i]!, buffers[i]!);
    for (const s of this.plan.steps) runStep(this.kernels, s, dev);
    for (const o of this.plan.outputs) await this.b.cudaDownload(dev[o]!, buffers[o]!);
  }

  /** Drops the arena (its device blocks return to the context's pool when collected). */
  release(): void {
    this.dev = undefined;
    this.zeros = undefined;
  }
}

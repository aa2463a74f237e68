// The CUDA backend (addon built with `npm run build:cuda`). Two ways in:
// - the op interface (KernelBackend) over host arrays: each call uploads, runs and downloads;
// - a device-resident model runner (CudaModelRunner): weights packed to the GPU once,
//   activations kept on the device, one upload and one download per run.
import { nativeAvailable, nativeBinding } from '../native.js';
import { BackendUnavailableError, ModelError, withCallerStack } from '../errors.js';
import type { Graph, Node } from '../graph/graph.js';
import { elementCount } from '../shapes.js';
import type { ConvParams, KernelBackend, PackedWeights, PoolParams } from './types.js';
import type { Mode } from '../modes.js';

type Handle = { readonly __cuda: unique symbol };
type Tensorish = Float32Array | Handle;

/** The addon's cuda* surface (native/napi/cuda.cc). */
interface CudaBinding {
  cudaInfo(): { compiled: boolean; available: boolean; device?: string; reason?: string };
  cudaCreateContext(device?: number): Handle;
  cudaDisposeContext(ctx: Handle): void;
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
  /** The conv's precision, chosen at pack time from the mode (src/modes.ts). */
  readonly cudaMode: CudaMode;
}

/** What each mode of src/modes.ts means on the device. */
export const cudaModeOf = (mode: Mode): CudaMode => (mode === 'fast' ? 'tf32' : 'fp32');

export function createCudaBackend(where: string, mode: CudaMode = 'fp32'): KernelBackend & { ctx: Handle; binding: CudaBinding; mode: CudaMode } {
  const b = cudaBinding(where);
  const ctx = b.cudaCreateContext();
  const h = (p: PackedWeights) => (p as CudaPacked).handle;
  return {
    name: 'cuda',
    ctx,
    binding: b,
    mode,
    packConv2d: (w, bias, cOut, cInPerGroup, kh, kw, groups, convMode = 'exact') =>
      ({ backend: 'cuda', handle: b.cudaPackConv2d(ctx, w, bias, cOut, cInPerGroup, kh, kw, groups), cudaMode: cudaModeOf(convMode) }) as CudaPacked,
    conv2dSync: (p, x, r, y, params) => b.cudaConv2dSync(ctx, h(p), x, r, y, { ...params, mode: (p as CudaPacked).cudaMode }),
    conv2d: (p, x, r, y, params) => withCallerStack(() => b.cudaConv2d(ctx, h(p), x, r, y, { ...params, mode: (p as CudaPacked).cudaMode })),
    packGemm: (w, bias, nOut, k) => ({ backend: 'cuda', handle: b.cudaPackGemm(ctx, w, bias, nOut, k) }) as CudaPacked,
    gemmSync: (p, x, m, relu, y) => b.cudaGemmSync(ctx, h(p), x, m, relu, y, mode),
    gemm: (p, x, m, relu, y) => withCallerStack(() => b.cudaGemm(ctx, h(p), x, m, relu, y, mode)),
    maxPoolSync: (x, y, p) => b.cudaMaxPoolSync(ctx, x, y, p),
    maxPool: (x, y, p) => withCallerStack(() => b.cudaMaxPool(ctx, x, y, p)),
    averagePoolSync: (x, y, p, cip) => b.cudaAveragePoolSync(ctx, x, y, p, cip),
    averagePool: (x, y, p, cip) => withCallerStack(() => b.cudaAveragePool(ctx, x, y, p, cip)),
    globalAveragePoolSync: (x, y, n, c, hw) => b.cudaGlobalAveragePoolSync(ctx, x, y, n, c, hw),
    globalAveragePool: (x, y, n, c, hw) => withCallerStack(() => b.cudaGlobalAveragePool(ctx, x, y, n, c, hw)),
    addSync: (a, bb, y, relu) => b.cudaAddSync(ctx, a, bb, y, relu),
    add: (a, bb, y, relu) => withCallerStack(() => b.cudaAdd(ctx, a, bb, y, relu)),
  };
}

/**
 * Runs a whole optimised graph on the device: each op is enqueued on the
 * context's stream with device buffers, so the only host transfers are the
 * input upload and the output download.
 */
export class CudaModelRunner {
  private readonly b: CudaBinding;
  private readonly ctx: Handle;

  constructor(
    private readonly graph: Graph,
    private readonly order: Node[],
    private readonly packed: Map<string, PackedWeights>,
    backend: ReturnType<typeof createCudaBackend>,
  ) {
    this.b = backend.binding;
    this.ctx = backend.ctx;
    for (const n of order) {
      if (n.op === 'Transpose' || n.op === 'BatchNormalization') throw new ModelError(`cuda backend: node "${n.name}" (${n.op}) has no CUDA kernel`);
    }
  }

  async run(shapes: Map<string, number[]>, inputs: Map<string, Float32Array>, mode: CudaMode, outputs: string[]): Promise<Map<string, Float32Array>> {
    const b = this.b;
    const ctx = this.ctx;
    const dev = new Map<string, Handle>();
    const buffer = (name: string): Handle => {
      let d = dev.get(name);
      if (!d) {
        const init = this.graph.initializers.get(name);
        d = b.cudaAlloc(ctx, Math.max(1, elementCount(shapes.get(name) ?? init!.dims)));
        if (init) b.cudaUpload(d, init.data);
        dev.set(name, d);
      }
      return d;
    };
    for (const [name, data] of inputs) b.cudaUpload(buffer(name), data);
    // A standalone Relu runs as y = relu(x + 0).
    const reluMax = Math.max(0, ...this.order.filter((n) => n.op === 'Relu').map((n) => elementCount(shapes.get(n.outputs[0]!)!)));
    const zeros = reluMax > 0 ? b.cudaAlloc(ctx, reluMax) : undefined;
    if (zeros) b.cudaUpload(zeros, new Float32Array(reluMax));
    for (const n of this.order) {
      const x = n.inputs[0]!;
      const y = n.outputs[0]!;
      const xd = shapes.get(x)!;
      const yd = shapes.get(y)!;
      switch (n.op) {
        case 'Conv': {
          const a = n.attrs;
          const w = this.graph.initializers.get(n.inputs[1]!)!;
          const p = {
            inputDims: xd, cOut: w.dims[0]!, kh: a.kernelShape[0], kw: a.kernelShape[1], groups: a.groups, strides: a.strides, pads: a.pads,
            dilations: a.dilations, outDims: [yd[2]!, yd[3]!], relu: a.relu ?? false, threads: 1, mode,
          };
          b.cudaConv2dSync(ctx, (this.packed.get(n.name) as CudaPacked).handle, buffer(x), a.residual ? buffer(a.residual) : null, buffer(y), p);
          break;
        }
        case 'Gemm':
          b.cudaGemmSync(ctx, (this.packed.get(n.name) as CudaPacked).handle, buffer(x), xd[0]!, n.attrs.relu ?? false, buffer(y), mode);
          break;
        case 'Add':
          b.cudaAddSync(ctx, buffer(x), buffer(n.inputs[1]!), buffer(y), n.attrs.relu ?? false);
          break;
        case 'Relu':
          b.cudaAddSync(ctx, buffer(x), zeros!, buffer(y), true, elementCount(yd));
          break;
        case 'MaxPool':
        case 'AveragePool': {
          const a = n.attrs;
          const p = { inputDims: xd, kernel: a.kernelShape, strides: a.strides, pads: a.pads, dilations: a.dilations, outDims: [yd[2]!, yd[3]!], threads: 1 };
          if (n.op === 'MaxPool') b.cudaMaxPoolSync(ctx, buffer(x), buffer(y), p);
          else b.cudaAveragePoolSync(ctx, buffer(x), buffer(y), p, n.attrs.countIncludePad);
          break;
        }
        case 'GlobalAveragePool':
          b.cudaGlobalAveragePoolSync(ctx, buffer(x), buffer(y), xd[0]!, xd[1]!, xd[2]! * xd[3]!);
          break;
        case 'Flatten':
        case 'Reshape':
          // Same bytes, other dims: the output aliases the input's device buffer.
          dev.set(y, buffer(x));
          break;
        default:
          throw new ModelError(`cuda backend: node "${n.name}" (${n.op}) has no CUDA kernel`);
      }
    }
    const results = new Map<string, Float32Array>();
    for (const name of outputs) {
      const host = new Float32Array(elementCount(shapes.get(name)!));
      await b.cudaDownload(buffer(name), host);
      results.set(name, host);
    }
    return results;
  }

  dispose(): void {
    this.b.cudaDisposeContext(this.ctx);
  }
}

// Numerical modes: the one table that says what each mode means on each
// backend, how far from the reference it may land, and which backends honour
// it. Tests (test/helpers/tolerance.ts, test/model-reference.test.ts),
// validate() and docs/ARCHITECTURE.md read it; adding a precision is adding a row.
// A backend missing from a row's `backends` cannot honour that mode, and
// checkMode() throws rather than running something else.
//
// int8 has no row: it is not a way of running a float model but a property of
// the model file. A QDQ model says which tensors are int8 (its
// QuantizeLinear/DequantizeLinear pairs, scales and zero points), and its
// numbers are defined by ONNX's integer arithmetic, not bounded by a tolerance
// against float32. The planner honours them in every mode (src/graph/integer-convs.ts,
// src/onnx/import-qdq.ts); `resnode quantize` makes such a model from a float one.
import type { BackendName } from './backend/name.js';
import { oneOf } from './is.js';

export interface ModeSpec {
  /** What the mode does on each backend that honours it. */
  readonly backends: Readonly<Partial<Record<BackendName, string>>>;
  /**
   * Whole-model bound: max|ours − reference| / max|reference| over a model's
   * logits against PyTorch's float32 output (asserted on torchvision ResNet-18
   * and ResNet-50 by test/model-reference.test.ts).
   */
  readonly relToMax: number;
  /** One kernel against the float64 reference: |a − e| ≤ atol + rtol·|e| per element. */
  readonly kernel: { readonly atol: number; readonly rtol: number };
  /** validate()'s default: pass when max|ours − ORT| ≤ atol + rtol·max|ORT| for each value. */
  readonly validate: { readonly atol: number; readonly rtol: number };
  /** A CPU feature the native kernels of this mode need (checked where the model or op is made). */
  readonly cpuFeature?: string;
}

export const MODES = {
  exact: {
    backends: {
      native: 'every convolution direct (1×1 GEMM, direct kernel or im2col + GEMM) in float32 with float32 accumulation',
      js: 'the same algorithms in TypeScript, float32 storage with float64 accumulation where the kernel sums',
      cuda: 'float32 on the CUDA cores (no tensor cores)',
    },
    relToMax: 1e-5,
    kernel: { atol: 1e-5, rtol: 1e-4 },
    validate: { atol: 1e-6, rtol: 1e-4 },
  },
  fast: {
    backends: {
      native: 'as exact, plus Winograd F(4×4,3×3) or F(2×2,3×3) for 3×3 stride-1 groups-1 convolutions where one is faster (AVX-512; about 1e-5 of max|y| per layer for F(4×4), 1e-6 for F(2×2))',
      cuda: 'TF32 tensor cores for convolutions and GEMMs (10-bit mantissa inputs, float32 accumulation)',
    },
    relToMax: 1e-3,
    kernel: { atol: 1e-4, rtol: 1e-3 },
    validate: { atol: 1e-6, rtol: 1e-3 },
  },
  bf16: {
    backends: {
      native: 'convolution weights and activations rounded to bfloat16 (nearest even), products summed in float32 by vdpbf16ps, bias/residual/ReLU in float32 (CPUs with AVX512_BF16 only; depthwise-style convolutions, convolutions with under 8 input channels (the stem) and the fully connected layer stay float32)',
    },
    // torchvision ResNet-18 / ResNet-50 (seeded weights) vs PyTorch: 2.0e-3 / 3.6e-3.
    relToMax: 1e-2,
    // Against a float64 reference of the unrounded inputs; the bf16 property tests
    // compare with a float64 reference of the bf16-rounded inputs instead, which is tighter.
    kernel: { atol: 1e-2, rtol: 1e-2 },
    validate: { atol: 1e-6, rtol: 1e-2 },
    cpuFeature: 'AVX512_BF16',
  },
} as const satisfies Record<string, ModeSpec>;

export type Mode = keyof typeof MODES;
export const MODE_NAMES = Object.keys(MODES) as Mode[];

/** Whether `backend` honours `mode`. */
export function honours(mode: Mode, backend: BackendName): boolean {
  return (MODES[mode].backends as Partial<Record<BackendName, string>>)[backend] !== undefined;
}

/**
 * Reads an options.mode argument (default 'exact') and checks that `backend`
 * honours it: `conv2d: mode 'fast' is not available on backend 'js' (it is on 'native', 'cuda')`.
 */
export function checkMode(where: string, mode: unknown, backend: BackendName, argument = 'options.mode'): Mode {
  const m = oneOf(where, argument, mode, MODE_NAMES, 'exact');
  if (!honours(m, backend)) {
    const others = (Object.keys(MODES[m].backends) as BackendName[]).map((b) => `'${b}'`).join(', ');
    throw new RangeError(`${where}: mode '${m}' is not available on backend '${backend}' (it is on ${others})`);
  }
  return m;
}

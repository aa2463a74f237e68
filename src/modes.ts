// Numerical modes and their error bounds: the one place where each is stated.
// A bound is on max|ours − reference| / max|reference| over a model's logits,
// against PyTorch's float32 output, and test/model-reference.test.ts asserts it
// on torchvision ResNet-18 and ResNet-50.

export const MODES = ['exact', 'fast', 'bf16'] as const;
export type Mode = (typeof MODES)[number];

export const MODE_ERROR_BOUNDS: Record<Mode, { relToMax: number; what: string }> = {
  exact: {
    relToMax: 1e-5,
    what: 'every convolution computed directly (im2col / 1×1 GEMM) in float32 with float32 accumulation',
  },
  fast: {
    relToMax: 1e-3,
    what: 'as exact, plus Winograd F(4×4,3×3) or F(2×2,3×3) for 3×3 stride-1 convolutions where one is faster (native AVX-512 only; about 1e-5 of max|y| per layer for F(4×4), 1e-6 for F(2×2))',
  },
  bf16: {
    // torchvision ResNet-18 / ResNet-50 (seeded weights) vs PyTorch: 2.0e-3 / 3.6e-3.
    relToMax: 1e-2,
    what: 'convolution weights and activations rounded to bfloat16 (nearest even), products summed in float32 by vdpbf16ps, bias/residual/ReLU in float32 (native backend on CPUs with AVX512_BF16 only; depthwise-style convolutions, convolutions with under 8 input channels (the stem) and the fully connected layer stay float32)',
  },
};

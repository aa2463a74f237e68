// The pure TypeScript kernels: the baseline that native code is measured
// against, and the fallback where the addon is missing.
export { packConv2d, conv2d, type JsConvWeights } from './conv2d.js';
export { packGemm, gemm, type JsGemmWeights } from './fc.js';
export { maxPool, averagePool } from './pool.js';
export { add, globalAveragePool } from './eltwise.js';
export { gemmPacked, packA, packedLength, MR, NR, KC, NC } from './gemm.js';
export { releaseScratch } from './scratch.js';
export { quantizeDequantize } from './quantize.js';

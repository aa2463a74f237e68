// Epilogue flags shared by the JS GEMM micro-kernels and their driver.
/** Start from the partial sums already in C (a later K block) instead of the bias. */
export const GEMM_ACCUMULATE = 1;
/** Add the residual tensor (laid out like C) when storing the tile. */
export const GEMM_RESIDUAL = 2;
/** Clamp the stored tile at zero. */
export const GEMM_RELU = 4;

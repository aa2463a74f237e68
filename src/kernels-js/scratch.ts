// Growable scratch buffers, reused across calls so that a kernel allocates
// nothing in steady state. JS runs one kernel at a time per thread (async
// forms compute synchronously before resolving), so one buffer per purpose
// per module instance is safe; each worker thread has its own module instance.
let f32 = new Float32Array(0);
let f64 = new Float64Array(0);

/** A Float32Array of at least n elements (contents unspecified). */
export function scratchF32(n: number): Float32Array {
  if (f32.length < n) f32 = new Float32Array(Math.max(n, Math.ceil(f32.length * 1.5)));
  return f32;
}

/** A Float64Array of at least n elements (contents unspecified). */
export function scratchF64(n: number): Float64Array {
  if (f64.length < n) f64 = new Float64Array(Math.max(n, Math.ceil(f64.length * 1.5)));
  return f64;
}

/** Drops the scratch buffers (they regrow on the next call). */
export function releaseScratch(): void {
  f32 = new Float32Array(0);
  f64 = new Float64Array(0);
}

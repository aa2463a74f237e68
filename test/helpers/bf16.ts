// bfloat16 rounding for references, written independently of the kernels: the
// two bf16 neighbours of a float32 and the nearer one (ties to the even
// mantissa), with denormals flushed to zero as vcvtne2ps2bf16 does.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function fromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** v rounded to the nearest bfloat16 (as a number). */
export function roundBf16(v: number): number {
  f32[0] = v;
  const bits = u32[0]!, x = f32[0]!;
  if ((bits & 0x7f800000) === 0) return fromBits(bits & 0x80000000); // zero or denormal
  if ((bits & 0x7f800000) === 0x7f800000) return x; // Inf or NaN
  const down = fromBits(bits & 0xffff0000);
  const up = fromBits((bits & 0xffff0000) + 0x10000);
  const dDown = Math.abs(x - down), dUp = Math.abs(up - x);
  if (dDown !== dUp) return dDown < dUp ? down : up;
  return ((bits >>> 16) & 1) === 0 ? down : up;
}

export function roundBf16Array(a: Float32Array): Float32Array {
  return a.map(roundBf16);
}

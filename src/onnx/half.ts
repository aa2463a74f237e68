// IEEE 754 half precision (FLOAT16) and bfloat16 (BFLOAT16) to float32, for weights
// stored in those types: they are widened once at load, exactly (every half and
// bfloat16 value is a float32 value).

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** One float16 bit pattern as a number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** `count` little-endian float16 values from raw bytes. */
export function float16BytesToFloat32(raw: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = halfToFloat(raw[2 * i]! | (raw[2 * i + 1]! << 8));
  return out;
}

/** `count` little-endian bfloat16 values from raw bytes (the high half of a float32). */
export function bfloat16BytesToFloat32(raw: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    U32[0] = ((raw[2 * i]! | (raw[2 * i + 1]! << 8)) << 16) >>> 0;
    out[i] = F32[0]!;
  }
  return out;
}

/** ONNX stores non-raw FLOAT16/BFLOAT16 data as one bit pattern per int32_data entry. */
export function bitsToFloat32(bits: readonly number[], bf16: boolean): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]! & 0xffff;
    if (bf16) {
      U32[0] = (b << 16) >>> 0;
      out[i] = F32[0]!;
    } else out[i] = halfToFloat(b);
  }
  return out;
}

/** float32 → the nearest float16 bit pattern (ties to even; overflow to ±Infinity; NaN stays NaN). */
export function floatToHalf(f: number): number {
  F32[0] = f;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // A subnormal half (or zero): the value in units of 2^-24, rounded to even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // a carry into the exponent is still right
  return sign | h;
}

/** dst[i] = src[i] widened (the TypeScript form of the addon's float16ToFloat32). */
export function float16ToFloat32(src: Uint16Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = halfToFloat(src[i]!);
}

/** dst[i] = src[i] rounded to float16 (the TypeScript form of the addon's float32ToFloat16). */
export function float32ToFloat16(src: Float32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = floatToHalf(src[i]!);
}

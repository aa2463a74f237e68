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

// Argument checks for the public API. Each throws a TypeError or RangeError whose
// message names the function, the argument, what was expected and what was received.

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return value.length <= 8 ? `[${value.map(describe).join(', ')}]` : `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
  if (typeof value === 'object') return `an object of type ${value.constructor?.name ?? 'Object'}`;
  return `a ${typeof value}`;
}

export function invalid(where: string, name: string, expected: string, received: unknown): TypeError {
  return new TypeError(`${where}: expected ${expected} for ${name} but received ${describe(received)}`);
}

export function outOfRange(where: string, name: string, expected: string, received: unknown): RangeError {
  return new RangeError(`${where}: expected ${expected} for ${name} but received ${describe(received)}`);
}

export function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

export function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalid(where, name, 'a positive integer', v);
  if (!isPositiveInt(v)) throw outOfRange(where, name, 'a positive integer', v);
  return v;
}

export function nonNegativeInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalid(where, name, 'a non-negative integer', v);
  if (!isNonNegativeInt(v)) throw outOfRange(where, name, 'a non-negative integer', v);
  return v;
}

export function bool(where: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalid(where, name, 'a boolean', v);
  return v;
}

export function oneOf<T extends string>(where: string, name: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw invalid(where, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  }
  return v as T;
}

/** A number or an array of `count` numbers, each checked by `check`; returns the array. */
export function intTuple(
  where: string,
  name: string,
  v: unknown,
  count: number,
  fallback: number,
  check: (where: string, name: string, x: unknown) => number,
): number[] {
  if (v === undefined) return new Array<number>(count).fill(fallback);
  if (typeof v === 'number') return new Array<number>(count).fill(check(where, name, v));
  if (!Array.isArray(v) || v.length !== count) throw invalid(where, name, `a number or an array of ${count} integers`, v);
  return v.map((x, i) => check(where, `${name}[${i}]`, x));
}

export function plainObject(where: string, name: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(where, name, 'an options object', v);
  return v as Record<string, unknown>;
}

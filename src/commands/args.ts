// Argument parsers shared by the commands: each turns a flag's text into a
// checked value or a commander InvalidArgumentError that says what was expected.
import { InvalidArgumentError } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../backend/name.js';
import { MODE_NAMES, type Mode } from '../modes.js';

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export const nonNegativeNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
};

export const dims = (v: string): number[] => {
  const d = v.split(/[x,]/).map(Number);
  if (d.some((x) => !Number.isSafeInteger(x) || x < 1)) throw new InvalidArgumentError('expected dims like 1x3x224x224');
  return d;
};

const choice = <T extends string>(allowed: readonly T[]) => (v: string): T => {
  if (!allowed.includes(v as T)) throw new InvalidArgumentError(`expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return v as T;
};

/** A comma-separated list, each item one of `allowed`. */
export const listOf = <T extends string>(allowed: readonly T[]) => (v: string): T[] => {
  const items = v.split(',').map((s) => s.trim());
  for (const i of items) if (!allowed.includes(i as T)) throw new InvalidArgumentError(`"${i}" is not one of ${allowed.join(', ')}`);
  return items as T[];
};

export const backendName = choice<BackendName>(BACKEND_NAMES);
export const modeName = choice<Mode>(MODE_NAMES);
export const BACKEND_HELP = BACKEND_NAMES.join(' | ');
export const MODE_HELP = `${MODE_NAMES.join(' | ')} (see docs/ARCHITECTURE.md, "Modes")`;

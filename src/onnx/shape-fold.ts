// The int64 shape subgraphs that exporters write (Shape → Gather → Unsqueeze → Concat → Reshape;
// chunk bounds as Shape → Gather → Add/Div/Mul → Slice), folded. The importer records each
// integer node here instead of making it a graph node; a Reshape or Slice that reads one asks
// for its value once the dims of the graph's values are inferred. Dims that are known then fold
// to numbers; a dim that stays dynamic (-1) becomes a DimExpr that the plan computes per input
// shape (src/graph/graph.ts, evalDim).
import { GraphError, type DimExpr, type ReshapeNode, type SliceNode } from '../graph/graph.js';
import type { IntConst } from './import-qdq.js';

/** A dim of an integer value: a number, dim `dim` of graph value `value` (not yet known), or arithmetic on two. */
export type SymDim = number | { value: string; dim: number } | { op: 'Add' | 'Sub' | 'Mul' | 'Div'; a: SymDim; b: SymDim };
export interface SymInts { dims: number[]; data: SymDim[] }

/** The numeric attributes the importer reads off an integer node (the ones its op takes). */
export interface IntNodeAttrs { axis?: number; axes?: number[]; start?: number; end?: number; to?: number; fill?: number }
interface IntNode { op: string; name: string; inputs: string[]; attrs: IntNodeAttrs }

export const SHAPE_OPS = ['Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Cast', 'Reshape', 'ConstantOfShape', 'Range', 'Mul', 'Add', 'Sub', 'Div', 'Expand'] as const;
const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div']);
/** No shape value needs more elements: a larger one (ConstantOfShape, Range, Expand) is refused, not allocated. */
const MAX_ELEMENTS = 1 << 16;
const INT_TYPES = new Set([6, 7]); // INT32, INT64

/** Thrown while folding; the importer reports it as the node's problem. */
export class FoldError extends Error {
  constructor(readonly node: string, readonly op: string, message: string) { super(message); }
}
/** Thrown when a value needs the dims of a graph value, which are not known yet (during the node walk). */
class NotYet extends Error {}

const product = (d: readonly number[]): number => d.reduce((p, q) => p * q, 1);

export class ShapeFolder {
  private readonly nodes = new Map<string, IntNode>();

  constructor(private readonly ints: ReadonlyMap<string, IntConst>) {}

  /** Whether `v` is an integer value: a constant, or the output of a recorded node. */
  isInt(v: string): boolean {
    return this.ints.has(v) || this.nodes.has(v);
  }

  record(op: string, name: string, inputs: string[], output: string, attrs: IntNodeAttrs): void {
    this.nodes.set(output, { op, name, inputs, attrs });
  }

  /** The value of `v` as constants when it reads no graph value's dims; undefined otherwise. */
  constant(v: string): IntConst | undefined {
    try {
      const s = this.value(v, () => { throw new NotYet(); });
      return s.data.every((d) => typeof d === 'number') ? { dims: s.dims, data: s.data as number[], dataType: 7 } : undefined;
    } catch (err) {
      if (err instanceof NotYet) return undefined;
      throw err;
    }
  }

  /** The graph values whose dims `v` reads (Shape inputs), so that the reader can depend on them. */
  sources(v: string, into = new Set<string>()): Set<string> {
    const n = this.nodes.get(v);
    if (!n) return into;
    if (n.op === 'Shape') into.add(n.inputs[0]!);
    else for (const i of n.inputs) if (i) this.sources(i, into);
    return into;
  }

  /** The value of `v`, with `dimsOf` giving each graph value's inferred dims (-1: dynamic). */
  value(v: string, dimsOf: (value: string) => number[] | undefined, memo = new Map<string, SymInts>(), reader?: IntNode): SymInts {
    const c = this.ints.get(v);
    if (c) return { dims: c.dims, data: c.data };
    const n = this.nodes.get(v);
    if (!n) throw new FoldError(reader?.name ?? '', reader?.op ?? '', `reads "${v}", which is not an integer constant or shape value (integer and float operands cannot be mixed)`);
    let r = memo.get(v);
    if (!r) {
      r = this.evaluate(n, (i) => this.value(i, dimsOf, memo, n), dimsOf);
      if (r.data.length > MAX_ELEMENTS) throw new FoldError(n.name, n.op, `makes ${r.data.length} integers; shape values of more than ${MAX_ELEMENTS} are not supported`);
      memo.set(v, r);
    }
    return r;
  }

  private evaluate(n: IntNode, arg: (v: string) => SymInts, dimsOf: (value: string) => number[] | undefined): SymInts {
    const fail = (m: string): never => { throw new FoldError(n.name, n.op, m); };
    const numbers = (s: SymInts, what: string): number[] => s.data.map((d) => (typeof d === 'number' ? d : fail(`${what} must be known when the model loads, but it depends on a dynamic dim`)));
    const input = (i: number, what: string): SymInts => (n.inputs[i] ? arg(n.inputs[i]!) : fail(`${what} (input ${i}) is missing`));
    const vector = (s: SymInts, what: string): SymDim[] => (s.dims.length <= 1 ? s.data : fail(`${what} must be a scalar or 1-D, got dims [${s.dims.join(', ')}]`));
    const a = n.attrs;
    switch (n.op) {
      case 'Shape': {
        const d = dimsOf(n.inputs[0]!);
        if (!d) fail(`reads the shape of "${n.inputs[0]}", which has none here (it was folded away)`);
        const rank = d!.length;
        const clamp = (x: number): number => Math.min(Math.max(x < 0 ? x + rank : x, 0), rank);
        const start = clamp(a.start ?? 0), end = clamp(a.end ?? rank);
        const data = d!.slice(start, end).map((x, k): SymDim => (x >= 0 ? x : { value: n.inputs[0]!, dim: start + k }));
        return { dims: [data.length], data };
      }
      case 'Gather': {
        const data = input(0, 'data');
        if (data.dims.length !== 1) fail(`only a Gather from a 1-D shape value is supported, got dims [${data.dims.join(', ')}]`);
        if ((a.axis ?? 0) !== 0 && a.axis !== -1) fail(`axis ${a.axis} is out of range for a 1-D value`);
        const idx = input(1, 'indices');
        const at = numbers(idx, 'indices').map((i) => {
          const k = i < 0 ? i + data.data.length : i;
          return k >= 0 && k < data.data.length ? data.data[k]! : fail(`index ${i} is out of range for ${data.data.length} values`);
        });
        return { dims: idx.dims, data: at };
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const x = input(0, 'data');
        const axes = n.inputs[1] ? numbers(arg(n.inputs[1]), 'axes') : a.axes;
        if (n.op === 'Unsqueeze') {
          if (!axes) fail('axes are required');
          const rank = x.dims.length + axes!.length;
          const norm = axes!.map((ax) => (ax < 0 ? ax + rank : ax));
          if (norm.some((ax) => ax < 0 || ax >= rank) || new Set(norm).size !== norm.length) fail(`axes [${axes!.join(', ')}] are invalid for ${rank} dims`);
          const dims: number[] = [];
          for (let i = 0, k = 0; i < rank; i++) dims.push(norm.includes(i) ? 1 : x.dims[k++]!);
          return { dims, data: x.data };
        }
        const norm = (axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((ax) => (ax < 0 ? ax + x.dims.length : ax));
        if (norm.some((ax) => x.dims[ax] !== 1)) fail(`cannot squeeze axes [${(axes ?? []).join(', ')}] of dims [${x.dims.join(', ')}]`);
        return { dims: x.dims.filter((_, i) => !norm.includes(i)), data: x.data };
      }
      case 'Concat': {
        const parts = n.inputs.map((v) => arg(v));
        if (parts.some((p) => p.dims.length !== 1) || ((a.axis ?? 0) !== 0 && a.axis !== -1)) fail(`only a Concat of 1-D shape values along axis 0 is supported (axis ${a.axis})`);
        const data = parts.flatMap((p) => p.data);
        return { dims: [data.length], data };
      }
      case 'Slice': {
        const x = input(0, 'data');
        if (x.dims.length !== 1) fail(`only a Slice of a 1-D shape value is supported, got dims [${x.dims.join(', ')}]`);
        const [starts, ends] = [numbers(input(1, 'starts'), 'starts'), numbers(input(2, 'ends'), 'ends')];
        const axes = n.inputs[3] ? numbers(arg(n.inputs[3]), 'axes') : [0];
        const steps = n.inputs[4] ? numbers(arg(n.inputs[4]), 'steps') : [1];
        if (starts.length !== 1 || ends.length !== 1 || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1) || steps.length !== 1 || steps[0] === 0) fail('expects one start, end, axis 0 and non-zero step');
        const len = x.data.length, step = steps[0]!;
        const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + len : v, lo), hi);
        const s = step > 0 ? clamp(starts[0]!, 0, len) : clamp(starts[0]!, -1, len - 1);
        const e = step > 0 ? clamp(ends[0]!, 0, len) : clamp(ends[0]!, -1, len - 1);
        const data: SymDim[] = [];
        for (let i = s; step > 0 ? i < e : i > e; i += step) data.push(x.data[i]!);
        return { dims: [data.length], data };
      }
      case 'Cast':
        if (!INT_TYPES.has(a.to ?? 0)) fail(`a cast of a shape value to data type ${a.to} is not supported (only INT32/INT64)`);
        return input(0, 'input');
      case 'Reshape': {
        const x = input(0, 'data');
        const shape = numbers(input(1, 'shape'), 'shape').map((s, i) => (s === 0 ? x.dims[i] ?? fail(`shape copies dim ${i} that the value lacks`) : s));
        const m = shape.indexOf(-1);
        if (m >= 0) shape[m] = x.data.length / product(shape.filter((_, i) => i !== m));
        if (shape.some((s) => !Number.isInteger(s) || s < 0) || product(shape) !== x.data.length) fail(`cannot reshape ${x.data.length} values to [${shape.join(', ')}]`);
        return { dims: shape, data: x.data };
      }
      case 'ConstantOfShape': {
        const shape = numbers(input(0, 'input'), 'shape');
        if (shape.some((s) => !Number.isInteger(s) || s < 0) || product(shape) > MAX_ELEMENTS) fail(`shape [${shape.join(', ')}] is invalid or larger than ${MAX_ELEMENTS} values`);
        return { dims: shape, data: new Array<number>(product(shape)).fill(a.fill ?? 0) };
      }
      case 'Range': {
        const [start, limit, delta] = [0, 1, 2].map((i) => numbers(input(i, ['start', 'limit', 'delta'][i]!), 'range bounds')[0]!);
        if (delta === 0) fail('delta is 0');
        const count = Math.max(Math.ceil((limit! - start!) / delta!), 0);
        if (count > MAX_ELEMENTS) fail(`makes ${count} values; more than ${MAX_ELEMENTS} are not supported`);
        const data = Array.from({ length: count }, (_, i) => start! + i * delta!);
        return { dims: [count], data };
      }
      case 'Expand': {
        const x = input(0, 'input');
        const shape = numbers(input(1, 'shape'), 'shape');
        if (x.data.length !== 1 || shape.length > 1 || product(shape) > MAX_ELEMENTS) fail('only an Expand of one integer to a 1-D shape is supported');
        const count = Math.max(product(shape), 1);
        return { dims: shape.length === 0 ? x.dims : [count], data: new Array<SymDim>(count).fill(x.data[0]!) };
      }
      default: {
        if (!ARITHMETIC.has(n.op)) fail('is not a shape operation');
        const [xs, ys] = [input(0, 'A'), input(1, 'B')];
        const [x, y] = [vector(xs, 'A'), vector(ys, 'B')];
        if (x.length !== y.length && x.length !== 1 && y.length !== 1) fail(`operands of ${x.length} and ${y.length} values do not broadcast`);
        const len = Math.max(x.length, y.length);
        const data = Array.from({ length: len }, (_, i) => arithmetic(n.op as 'Add', x[x.length === 1 ? 0 : i]!, y[y.length === 1 ? 0 : i]!, fail));
        return { dims: xs.dims.length === 0 && ys.dims.length === 0 ? [] : [len], data };
      }
    }
  }
}

function arithmetic(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: SymDim, b: SymDim, fail: (m: string) => never): SymDim {
  if (typeof a !== 'number' || typeof b !== 'number') return { op, a, b };
  switch (op) {
    case 'Add': return a + b;
    case 'Sub': return a - b;
    case 'Mul': return a * b;
    case 'Div': return b === 0 ? fail('divides by zero') : Math.trunc(a / b);
  }
}

/**
 * `d` as a DimExpr of a graph node whose inputs are `inputs`: each graph value it reads becomes
 * an input of the node (appended where it is not one yet).
 */
export function toDimExpr(d: SymDim, inputs: string[]): DimExpr {
  if (typeof d === 'number') return d;
  if ('value' in d) {
    let k = inputs.indexOf(d.value);
    if (k < 0) k = inputs.push(d.value) - 1;
    return { input: k, dim: d.dim };
  }
  return { op: d.op, a: toDimExpr(d.a, inputs), b: toDimExpr(d.b, inputs) };
}

/** d with the graph values it reads renamed. */
function renameDim(d: SymDim, rename: (value: string) => string): SymDim {
  if (typeof d === 'number') return d;
  if ('value' in d) return { value: rename(d.value), dim: d.dim };
  return { op: d.op, a: renameDim(d.a, rename), b: renameDim(d.b, rename) };
}

/** The shape values a Reshape (shape) or a Slice (starts, ends) reads. */
export interface ShapeInputs { shape?: string; starts?: string; ends?: string }

/**
 * Folds a Reshape's shape or a Slice's bounds once the dims of the values they read are inferred:
 * numbers where every dim they read is known, DimExprs (computed per input shape) where one is
 * dynamic. The node's inputs become its data input plus the values its DimExprs read.
 */
export function foldShapeInputs(n: ReshapeNode | SliceNode, from: ShapeInputs, folder: ShapeFolder, dimsOf: (value: string) => number[] | undefined, rename: (value: string) => string = (v) => v): void {
  const inputs = [n.inputs[0]!];
  const exprs = (v: string | undefined, what: string): DimExpr[] | undefined => {
    if (!v) return undefined;
    let s: SymInts;
    try {
      s = folder.value(v, (value) => dimsOf(rename(value)));
    } catch (err) {
      if (err instanceof FoldError) throw new GraphError(`node "${err.node || n.name}" (${err.op || n.op}): ${err.message}`);
      throw err;
    }
    if (s.dims.length !== 1) throw new GraphError(`node "${n.name}" (${n.op}): ${what} must be 1-D, got dims [${s.dims.join(', ')}]`);
    return s.data.map((d) => toDimExpr(renameDim(d, rename), inputs));
  };
  const numeric = (e: DimExpr[]): e is number[] => e.every((d) => typeof d === 'number');
  if (n.op === 'Reshape') {
    const shape = exprs(from.shape, 'shape')!;
    n.attrs = numeric(shape) ? { shape } : { shape: [], shapeExpr: shape };
  } else {
    const starts = exprs(from.starts, 'starts'), ends = exprs(from.ends, 'ends');
    if (!starts || !ends) throw new GraphError(`node "${n.name}" (Slice): starts and ends are required`);
    const a = n.attrs;
    n.attrs = { starts: numeric(starts) ? starts : [], ends: numeric(ends) ? ends : [], axes: a.axes, steps: a.steps };
    if (!numeric(starts)) n.attrs.startsExpr = starts;
    if (!numeric(ends)) n.attrs.endsExpr = ends;
  }
  n.inputs = inputs;
}

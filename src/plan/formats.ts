// Where each value of a plan lives and in what form: the one place that decides it. Every value is
// float32 NCHW (the IR's form) except in two cases, each a rule of its own below.
//
// float32 NHWC (assignF32Nhwc, on a backend with an NHWC conv kernel, in exact mode): the convs
// that read or feed another such conv (directly or through max and average pools) run on NHWC
// values (x, the fused residual and y: the igemm reads the rows in place), so do the pools
// between them, a global average pool reads them in place, and a Reorder node, a plan step of its
// own, changes a value's layout where a reader needs the other one (an int8 conv, a graph output,
// ...). ResNet: stem conv (NCHW in, NHWC out) -> max pool -> every bottleneck conv -> GAP, no reorder.
//
// u8 NHWC (planFormats) between int8 steps: an int8 conv's, QLinearAdd's or int8
// max pool's output that only such steps (or an int8 global average pool) read, and that is no
// graph output, stays as the quantized bytes, u8 NHWC, in its slot (a slot sized in floats holds
// the bytes), so no step converts it. Each qconv step carries its input's and output's format
// (QConvIo), a qlinearAdd step u8 when its operands and result are bytes, an int8 max pool on
// bytes is a qu8MaxPool step, an int8 global average pool says whether it reads bytes; fetchIntermediates and validate read such a value back as the dequantized
// float32 NCHW tensor the user expects (readValue).
import { reorder } from '../kernels-js/layout.js';
import { Graph, type AveragePoolNode, type ConvNode, type MaxPoolNode, type Node, type QuantParams, type ReorderNode } from '../graph/graph.js';

export interface ValueLayout {
  layout: 'nchw' | 'nhwc';
  dtype: 'f32' | 'u8';
}
/** A value's format; for u8, the quantization its bytes carry (zeroPoint in the u8 domain). */
export type ValueFormat =
  | { layout: 'nchw'; dtype: 'f32' }
  | { layout: 'nhwc'; dtype: 'f32' }
  | { layout: 'nhwc'; dtype: 'u8'; scale: number; zeroPoint: number };
/** A qconv step's input and output formats, and its fused residual's (Int8Conv.add). */
export interface QConvIo {
  x: ValueLayout;
  y: ValueLayout;
  r?: ValueLayout;
}

export const F32_NCHW: ValueFormat = { layout: 'nchw', dtype: 'f32' };
export const F32_NHWC: ValueFormat = { layout: 'nhwc', dtype: 'f32' };

/**
 * Whether load() lays float32 activations out in NHWC (assignF32Nhwc): on a backend with an NHWC
 * conv kernel, in exact mode (fast mode keeps its Winograd convs, and so its chains, in NCHW),
 * unless RESNODE_LAYOUT=nchw (for A/B runs; 'nhwc' or unset: on).
 */
export function f32NhwcWanted(where: string, hasNhwcConv: boolean, mode: string): boolean {
  const env = process.env.RESNODE_LAYOUT;
  if (env !== undefined && env !== '' && env !== 'nchw' && env !== 'nhwc') {
    throw new RangeError(`${where}: RESNODE_LAYOUT must be 'nchw' or 'nhwc' (or unset), but is '${env}'`);
  }
  return hasNhwcConv && mode === 'exact' && env !== 'nchw';
}

/**
 * Whether a conv can run on float32 NHWC values: groups 1, float32 (not int8), no fused
 * activation other than ReLU/Clip, 4-D weights, and not a graph output (which stays NCHW).
 */
function nhwcCapable(n: Node, graph: Graph, outputs: ReadonlySet<string>): n is ConvNode {
  return n.op === 'Conv' && !n.attrs.int8 && n.attrs.groups === 1 && !n.attrs.act && !outputs.has(n.outputs[0]!) &&
    graph.initializers.get(n.inputs[1]!)?.dims.length === 4;
}

/**
 * The graph with its float32 NHWC convs and pools marked (ConvAttrs.nhwc, the pools' nhwc) and a
 * Reorder node wherever a value is read in the layout it is not stored in; the input graph is not
 * changed. A capable conv runs NHWC when its input comes from a capable conv or one of its
 * output's readers is one (as x or residual) and it is no stem on an RGB input (rgbStem: such a
 * stem reads its NCHW input and writes NHWC), looking through float32 max and average pools (which
 * run on NHWC values as well). Such convs joined by the values they
 * pass each other (directly or through such pools) form chains; a chain stays NHWC only where it
 * has more than two convs per reorder it needs (a reorder moves about as much memory as half a
 * conv does), so a short chain between other ops keeps NCHW. A pool whose input is NHWC runs
 * NHWC, and a float32 global average pool reads an NHWC input in place (its [n, c] result is the
 * same in both layouts). One Reorder per value and direction, placed before its first reader.
 */
export function assignF32Nhwc(graph: Graph): Graph {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const producer = new Map<string, Node>();
  const readers = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  }
  const capable = (n: Node | undefined): n is ConvNode => n !== undefined && nhwcCapable(n, graph, outputs);
  const passThrough = (n: Node | undefined): n is MaxPoolNode | AveragePoolNode => n !== undefined && nhwcPool(n, outputs);
  /** The values r reads as NHWC when it runs NHWC: x and the residual (a pool or GAP: x). */
  const nhwcInputs = (r: Node): string[] => (r.op === 'Conv' ? [r.inputs[0]!, ...(r.attrs.residual ? [r.attrs.residual] : [])] : [r.inputs[0]!]);
  /** The value v comes from once the NHWC-capable pools before it are looked through. */
  const source = (v: string): string => {
    const p = producer.get(v);
    return passThrough(p) ? source(p.inputs[0]!) : v;
  };
  /** v's readers with the pools after it looked through: each node that is no such pool, and the value it reads. */
  const readsOf = (v: string): { r: Node; v: string }[] =>
    (readers.get(v) ?? []).flatMap((r) => (passThrough(r) && r.inputs[0] === v ? readsOf(r.outputs[0]!) : [{ r, v }]));
  const chosen = new Set<Node>();
  for (const n of graph.nodes) {
    if (!capable(n)) continue;
    const y = n.outputs[0]!;
    const feedsOne = readsOf(y).some(({ r, v }) => capable(r) && nhwcInputs(r).includes(v));
    if (capable(producer.get(source(n.inputs[0]!))) || (feedsOne && !rgbStem(n, graph))) chosen.add(n);
  }
  const sink = (r: Node) => r.op === 'GlobalAveragePool' && !r.attrs.int8;
  dropShortChains(chosen, (n) => readsOf(n.outputs[0]!), (v) => chosen.has(producer.get(source(v))!), source, nhwcInputs, sink);
  if (chosen.size === 0) return graph;
  // Stems on an RGB input that feed a chosen conv (through pools): they read NCHW and write NHWC.
  const stems = new Set(graph.nodes.filter((n) => capable(n) && rgbStem(n, graph) && !n.attrs.residual &&
    readsOf(n.outputs[0]!).some(({ r, v }) => chosen.has(r) && nhwcInputs(r).includes(v))));
  // The pools and global average pools that read an NHWC value (in graph order: a pool's input is placed before it).
  const nhwcReaders = new Set<Node>();
  const layoutOfValue = (v: string): 'nhwc' | 'nchw' => {
    const p = producer.get(v);
    return p && (chosen.has(p) || stems.has(p) || (nhwcReaders.has(p) && p.op !== 'GlobalAveragePool')) ? 'nhwc' : 'nchw';
  };
  for (const n of graph.nodes) if ((passThrough(n) || sink(n)) && layoutOfValue(n.inputs[0]!) === 'nhwc') nhwcReaders.add(n);
  const names = new Set<string>([...producer.keys(), ...graph.initializers.keys(), ...graph.inputs.map((v) => v.name)]);
  const reorders = new Map<string, string>(); // `${to}:${value}` -> the reordered value
  const nodes: Node[] = [];
  const read = (v: string, to: 'nhwc' | 'nchw'): string => {
    if (!v || layoutOfValue(v) === to || !producer.has(v) && !graph.inputs.some((i) => i.name === v)) return v;
    const key = `${to}:${v}`;
    let out = reorders.get(key);
    if (!out) {
      out = `${v}#${to}`;
      for (let k = 2; names.has(out); k++) out = `${v}#${to}${k}`;
      names.add(out);
      reorders.set(key, out);
      nodes.push({ name: `${out}/reorder`, op: 'Reorder', inputs: [v], outputs: [out], attrs: { to } } satisfies ReorderNode);
    }
    return out;
  };
  for (const n of graph.nodes) {
    if (chosen.has(n)) {
      const c = n as ConvNode;
      const inputs = c.inputs.map((v, i) => (i === 0 || (i === 3 && v === c.attrs.residual) ? read(v, 'nhwc') : v));
      const residual = c.attrs.residual ? read(c.attrs.residual, 'nhwc') : undefined;
      nodes.push({ ...c, inputs, attrs: { ...c.attrs, nhwc: true, ...(residual ? { residual } : {}) } });
    } else if (stems.has(n)) {
      nodes.push({ ...n, attrs: { ...(n as ConvNode).attrs, nhwcOut: true } } as ConvNode);
    } else if (nhwcReaders.has(n)) {
      nodes.push({ ...n, attrs: { ...n.attrs, nhwc: true } } as Node);
    } else {
      nodes.push({ ...n, inputs: n.inputs.map((v) => read(v, 'nchw')) } as Node);
    }
  }
  return new Graph({ name: graph.name, inputs: graph.inputs, outputs: graph.outputs, initializers: graph.initializers, nodes });
}

/**
 * Whether a conv is a stem on the graph input with fewer than 16 channels (an RGB image): the
 * igemm reads each tap's channels as one row, and rows of 3 floats leave most of each vector load
 * idle, so such a conv joins no chain as an igemm conv; where it feeds one, it reads its NCHW input
 * and writes NHWC (ConvAttrs.nhwcOut: the direct conv stores its pixel-major tiles as they are).
 * Measured on ResNet-50's stem (7x7 s2, batch 1): the igemm after a reorder of the input took
 * 1.09-1.18 ms plus 0.14 for that reorder, the NCHW dconv 0.96 plus 0.10 for a reorder after its
 * max pool.
 */
function rgbStem(n: ConvNode, graph: Graph): boolean {
  return graph.inputs.some((i) => i.name === n.inputs[0]) && graph.initializers.get(n.inputs[1]!)!.dims[1]! < 16;
}

/** Whether a pool can run between NHWC convs: a float32 max or average pool whose output is no graph output. */
function nhwcPool(n: Node, outputs: ReadonlySet<string>): boolean {
  return (n.op === 'MaxPool' && !n.attrs.int8 || n.op === 'AveragePool') && !outputs.has(n.outputs[0]!);
}

/** int8 tensors run as uint8 shifted by 128 (native/cpu/qgemm's u8 domain). */
const shiftOf = (q: QuantParams): number => (q.qmin < 0 ? 128 : 0);

/** The u8 domain of the bytes a node writes (int8 convs, QLinearAdds and int8 max pools), or null for any other node. */
function domainWritten(n: Node): { shift: number; q: QuantParams } | null {
  if (n.op === 'Conv' && n.attrs.int8?.add) return { shift: n.attrs.int8.add.q.shift, q: n.attrs.int8.add.q.y };
  if (n.op === 'Conv' && n.attrs.int8) return { shift: shiftOf(n.attrs.int8.y), q: n.attrs.int8.y };
  if (n.op === 'QLinearAdd') return { shift: n.attrs.shift, q: n.attrs.y };
  if (n.op === 'MaxPool' && n.attrs.int8) return { shift: shiftOf(n.attrs.int8), q: n.attrs.int8 };
  return null;
}

/** A node that writes bytes only from bytes: its inputs must be kept for its output to be. */
const bytesToBytes = (n: Node): boolean => n.op === 'QLinearAdd' || n.op === 'MaxPool';

/**
 * Removes from `chosen` every chain (convs joined by NHWC values, directly or through pools) with
 * at most two convs per reorder it would need. readsOf: a conv's readers (pools looked through)
 * and the values they read; fromChosen: whether a value comes from a chosen conv; source: the
 * value a reorder into NHWC would read; sink: a reader that takes NHWC values at no cost.
 */
function dropShortChains(chosen: Set<Node>, readsOf: (n: Node) => { r: Node; v: string }[], fromChosen: (v: string) => boolean,
  source: (v: string) => string, nhwcInputs: (r: Node) => string[], sink: (r: Node) => boolean): void {
  const chain = new Map<Node, Node>([...chosen].map((n) => [n, n]));
  const root = (n: Node): Node => (chain.get(n) === n ? n : root(chain.get(n)!));
  const reads = (r: Node, v: string) => chosen.has(r) && nhwcInputs(r).includes(v);
  for (const n of chosen) for (const { r, v } of readsOf(n)) if (reads(r, v)) chain.set(root(r), root(n));
  const convs = new Map<Node, number>(), reorders = new Map<Node, Set<string>>();
  const count = (n: Node, value: string) => (reorders.get(root(n)) ?? reorders.set(root(n), new Set()).get(root(n))!).add(value);
  for (const n of chosen) {
    convs.set(root(n), (convs.get(root(n)) ?? 0) + 1);
    for (const v of nhwcInputs(n)) if (!fromChosen(v)) count(n, `in:${source(v)}`);
    if (readsOf(n).some(({ r, v }) => !reads(r, v) && !sink(r))) count(n, `out:${n.outputs[0]}`);
  }
  for (const n of [...chosen]) if (convs.get(root(n))! <= 2 * (reorders.get(root(n))?.size ?? 0)) chosen.delete(n);
}

/**
 * The values kept as u8 NHWC (every other value is F32_NCHW): outputs of int8 convs, QLinearAdds
 * and int8 max pools, no graph output, whose every reader reads the bytes in the same u8 domain
 * (an int8 conv's or int8 global average pool's input, or a QLinearAdd or int8 max pool whose
 * operands and result are all kept as u8), found as the
 * largest such set (candidates dropped until none breaks the rule).
 */
export function planFormats(graph: Graph, nodes: readonly Node[], int8Convs: boolean): Map<string, ValueFormat> {
  const formats = new Map<string, ValueFormat>();
  // float32 NHWC: as assignF32Nhwc marked the graph.
  for (const n of nodes) {
    const nhwcOut = (n.op === 'Conv' && n.attrs.nhwcOut) || ((n.op === 'Conv' || n.op === 'MaxPool' || n.op === 'AveragePool') && n.attrs.nhwc);
    if (nhwcOut || (n.op === 'Reorder' && n.attrs.to === 'nhwc')) formats.set(n.outputs[0]!, F32_NHWC);
  }
  if (!int8Convs) return formats;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const readers = new Map<string, Node[]>();
  const producer = new Map<string, Node>();
  for (const n of nodes) {
    producer.set(n.outputs[0]!, n);
    for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  }
  const kept = new Set<string>();
  for (const n of nodes) if (domainWritten(n) && !outputs.has(n.outputs[0]!) && (readers.get(n.outputs[0]!) ?? []).length > 0) kept.add(n.outputs[0]!);
  // A reader that can take v's bytes. A fused ReLU raises an int8 conv's y.qmin, which can move its
  // bytes off the shifted domain its readers expect: then the domains differ and v stays float32.
  const readsBytes = (r: Node, v: string, shift: number): boolean => {
    if (r.op === 'Conv' && r.attrs.int8) {
      // Its input, or the residual of a fused add: each in the domain that side reads.
      const add = r.attrs.int8.add;
      if (r.inputs[0] === v && shiftOf(r.attrs.int8.x) !== shift) return false;
      if (add && r.attrs.residual === v && add.q.shift !== shift) return false;
      return r.inputs[0] === v || (add !== undefined && r.attrs.residual === v);
    }
    if (r.op === 'QLinearAdd') return r.attrs.shift === shift && kept.has(r.outputs[0]!) && r.inputs.every((i) => kept.has(i));
    if (r.op === 'MaxPool' && r.attrs.int8) return shiftOf(r.attrs.int8) === shift && kept.has(r.outputs[0]!);
    // An int8 global average pool reads bytes (or float32) and writes float32.
    if (r.op === 'GlobalAveragePool' && r.attrs.int8) return shiftOf(r.attrs.int8.x) === shift;
    return false;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const v of kept) {
      const p = producer.get(v)!;
      const { shift } = domainWritten(p)!;
      const ok = (!bytesToBytes(p) || p.inputs.every((i) => kept.has(i))) && readers.get(v)!.every((r) => readsBytes(r, v, shift));
      if (!ok) {
        kept.delete(v);
        changed = true;
      }
    }
  }
  for (const v of kept) {
    const { shift, q } = domainWritten(producer.get(v)!)!;
    formats.set(v, { layout: 'nhwc', dtype: 'u8', scale: q.scale, zeroPoint: q.zeroPoint + shift });
  }
  return formats;
}

export const layoutOf = (f: ValueFormat | undefined): ValueLayout => (f ? { layout: f.layout, dtype: f.dtype } : { layout: 'nchw', dtype: 'f32' });

/** A copy of the value as float32 NCHW (dims [n, c, h, w]), dequantized from its u8 NHWC bytes where it is kept so. */
export function readValue(format: ValueFormat | undefined, buffer: Float32Array, dims: readonly number[]): Float32Array {
  const count = dims.reduce((p, d) => p * d, 1);
  if (!format || format.layout === 'nchw') return buffer.slice(0, count);
  if (format.dtype === 'f32') {
    const out = new Float32Array(count);
    reorder(buffer, out, dims[0]!, dims[1]!, count / (dims[0]! * dims[1]!), 'nchw');
    return out;
  }
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, count);
  const [n, c, h, w] = dims as [number, number, number, number];
  const hw = h * w;
  const out = new Float32Array(count);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < hw; i++)
      for (let ch = 0; ch < c; ch++) out[(b * c + ch) * hw + i] = Math.fround((bytes[(b * hw + i) * c + ch]! - format.zeroPoint) * format.scale);
  return out;
}

// Concat in place: which values the memory plan stores as views into a
// Concat's output instead of in their own slot, so that their producers write
// straight into the concatenated buffer and the Concat runs no copy.
import type { ConcatNode, Node } from './graph.js';

/** A value stored inside another value's buffer: `base` (which has a slot of its own) from float `offset` on. */
export interface ValueView {
  base: string;
  offset: number;
}

/**
 * The views of every Concat that can be written in place, by value name. Concats are taken in
 * families: a Concat B (from the last backwards) and the earlier Concats whose inputs are a prefix
 * of B's (DenseNet's blocks: [x0, f1], [x0, f1, f2], …), each a run of B's buffer from offset 0.
 * A family qualifies when each member's inputs are contiguous runs of its output (nothing before
 * the axis but dims of 1: batch-1 NCHW over channels) and every input of B is a value that
 * - a node of `order` produces, as its only output (no graph input, no initializer),
 * - is no graph output (a graph output keeps a buffer of its own to the end),
 * - is read by no Concat outside the family, and only once by B (it can sit in one place only);
 * and no member but B is a graph output or read by a Concat. It is all or nothing: a family that
 * fails keeps B a copy step and none of B's inputs a view. A family's B that is itself an input of
 * a later family nests: its views are resolved to the outermost buffer. Every view's base is a
 * value that is no view.
 */
export function concatViews(order: readonly Node[], shapes: ReadonlyMap<string, readonly number[]>, graphOutputs: ReadonlySet<string>): Map<string, ValueView> {
  const produced = new Map<string, Node>();
  const concatReaders = new Map<string, Node[]>();
  for (const n of order) {
    for (const o of n.outputs) produced.set(o, n);
    if (n.op === 'Concat') for (const v of n.inputs) (concatReaders.get(v) ?? concatReaders.set(v, []).get(v)!).push(n);
  }
  const runs = (n: ConcatNode): { axis: number; inner: number } | null => {
    const y = shapes.get(n.outputs[0]!)!;
    const axis = n.attrs.axis < 0 ? n.attrs.axis + y.length : n.attrs.axis;
    return y.slice(0, axis).some((d) => d !== 1) ? null : { axis, inner: y.slice(axis + 1).reduce((p, q) => p * q, 1) };
  };
  const parent = new Map<string, ValueView>();
  const concats = order.filter((n): n is ConcatNode => n.op === 'Concat');
  const taken = new Set<Node>();
  for (let i = concats.length - 1; i >= 0; i--) {
    const top = concats[i]!;
    if (taken.has(top)) continue;
    const r = runs(top);
    if (!r) continue;
    const isPrefix = (c: ConcatNode): boolean => c.inputs.length <= top.inputs.length && c.inputs.every((v, k) => v === top.inputs[k]) && runs(c)?.axis === r.axis;
    const members = concats.slice(0, i).filter((c) => !taken.has(c) && isPrefix(c));
    const family = new Set<Node>([top, ...members]);
    const ok = new Set(top.inputs).size === top.inputs.length &&
      top.inputs.every((v) => {
        const p = produced.get(v);
        return p !== undefined && p.outputs.length === 1 && !graphOutputs.has(v) && concatReaders.get(v)!.every((c) => family.has(c));
      }) &&
      members.every((c) => !graphOutputs.has(c.outputs[0]!) && !concatReaders.has(c.outputs[0]!));
    if (!ok) continue;
    let offset = 0;
    for (const v of top.inputs) {
      parent.set(v, { base: top.outputs[0]!, offset });
      offset += shapes.get(v)![r.axis]! * r.inner;
    }
    for (const c of members) {
      parent.set(c.outputs[0]!, { base: top.outputs[0]!, offset: 0 });
      taken.add(c);
    }
  }
  // Resolve nested views to the buffer that holds them all.
  const views = new Map<string, ValueView>();
  for (const [v, first] of parent) {
    let { base, offset } = first;
    for (let up = parent.get(base); up; up = parent.get(base)) {
      offset += up.offset;
      base = up.base;
    }
    views.set(v, { base, offset });
  }
  return views;
}

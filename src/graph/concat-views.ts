// Concat in place: which values the memory plan stores as views into a
// Concat's output instead of in their own slot, so that their producers write
// straight into the concatenated buffer and the Concat runs no copy.
import type { Node } from './graph.js';

/** A value stored inside another value's buffer: `base` (which has a slot of its own) from float `offset` on. */
export interface ValueView {
  base: string;
  offset: number;
}

/**
 * The views of every Concat that can be written in place, by value name. A Concat qualifies when
 * each of its inputs is one contiguous run of its output (nothing before the axis but dims of 1:
 * batch-1 NCHW over channels) and every input is a value that
 * - a node of `order` produces, as its only output (no graph input, no initializer),
 * - is no graph output (a graph output keeps a buffer of its own to the end),
 * - is read by no other Concat, nor twice by this one (it can sit in one place only).
 * It is all or nothing: one input that fails keeps the whole Concat a copy step, and none of its
 * inputs a view. A qualifying Concat whose output is itself an input of a later qualifying Concat
 * nests: its views are resolved to the outermost buffer. Every view's base is a value that is no view.
 */
export function concatViews(order: readonly Node[], shapes: ReadonlyMap<string, readonly number[]>, graphOutputs: ReadonlySet<string>): Map<string, ValueView> {
  const produced = new Map<string, Node>();
  const concatReads = new Map<string, number>();
  for (const n of order) {
    for (const o of n.outputs) produced.set(o, n);
    if (n.op === 'Concat') for (const v of n.inputs) concatReads.set(v, (concatReads.get(v) ?? 0) + 1);
  }
  const parent = new Map<string, ValueView>();
  for (const n of order) {
    if (n.op !== 'Concat') continue;
    const y = shapes.get(n.outputs[0]!)!;
    const axis = n.attrs.axis < 0 ? n.attrs.axis + y.length : n.attrs.axis;
    if (y.slice(0, axis).some((d) => d !== 1)) continue;
    const inner = y.slice(axis + 1).reduce((p, q) => p * q, 1);
    const ok = n.inputs.every((v) => {
      const p = produced.get(v);
      return p !== undefined && p.outputs.length === 1 && !graphOutputs.has(v) && concatReads.get(v) === 1;
    });
    if (!ok) continue;
    let offset = 0;
    for (const v of n.inputs) {
      parent.set(v, { base: n.outputs[0]!, offset });
      offset += shapes.get(v)![axis]! * inner;
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

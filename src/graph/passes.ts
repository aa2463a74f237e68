// Graph passes: BN folding, Conv/Add/Gemm epilogue fusion, pruning and a
// liveness-based activation memory plan. Every pass returns a new Graph and
// leaves its argument (and the initializer arrays it shares) untouched.
import { Graph, GraphError, inferShapes, topoSort, cloneNode, sameDims, UNARY_OPS } from './graph.js';
import { elementCount } from '../shapes.js';
import { integerAdds } from './integer-adds.js';
import { integerConvs } from './integer-convs.js';
import { concatViews, type ValueView } from './concat-views.js';
import { integerMaxPools } from './integer-pools.js';
import { fuseQConvAdds } from './integer-residuals.js';
import type { ConvActivationOp, ConvNode, GemmNode, Initializer, Node, UnaryNode } from './graph.js';

function uniqueInitName(g: Graph, base: string): string {
  let name = base;
  for (let k = 1; g.initializers.has(name); k++) name = `${base}_${k}`;
  return name;
}

function init(g: Graph, name: string): Initializer {
  const t = g.initializers.get(name);
  if (!t) throw new GraphError(`Initializer "${name}" is missing`);
  return t;
}

function bnScaleShift(g: Graph, n: Node): { scale: Float32Array; shift: Float32Array } {
  const [, sN, bN, mN, vN] = n.inputs as [string, string, string, string, string];
  const gamma = init(g, sN).data, beta = init(g, bN).data, mean = init(g, mN).data, variance = init(g, vN).data;
  const eps = (n.attrs as { epsilon: number }).epsilon;
  const c = gamma.length;
  const scale = new Float32Array(c), shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    // float64 arithmetic, rounded once
    const s = gamma[i]! / Math.sqrt(variance[i]! + eps);
    scale[i] = s;
    shift[i] = beta[i]! - mean[i]! * s;
  }
  return { scale, shift };
}

/**
 * out[o·per + k] = src[o·per + k] · scale[o] (out may be src). A function of
 * its own, over monomorphic typed arrays, so that V8 optimises the loop: inline
 * in foldBatchNorm it ran at about 10 ns per weight (250 ms of ResNet-50's load).
 */
function scaleRows(src: Float32Array, scale: Float32Array, per: number, out: Float32Array): Float32Array {
  for (let o = 0, i = 0; o < scale.length; o++) {
    const f = scale[o]!;
    for (let end = i + per; i < end; i++) out[i] = src[i]! * f;
  }
  return out;
}

function useCounts(g: Graph): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) if (i !== '') m.set(i, (m.get(i) ?? 0) + 1);
  for (const o of g.outputs) m.set(o.name, (m.get(o.name) ?? 0) + 1);
  return m;
}

function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) m.set(n.outputs[0]!, n);
  return m;
}

/** True when `value` feeds exactly one node input and is not a graph output. */
function singleUse(g: Graph, uses: Map<string, number>, value: string): boolean {
  return uses.get(value) === 1 && !g.outputs.some((o) => o.name === value);
}

/**
 * Fold each BatchNormalization into the Conv before it (when that conv's output
 * feeds only the BN and is no graph output). A BN that cannot be folded becomes
 * a depthwise 1×1 Conv (groups = C) on 4-D input, or a diagonal Gemm on 2-D
 * input, so every BN runs through the conv/gemm kernels (the native backend runs
 * that depthwise 1×1 as a vectorised per-channel affine, f32_vmulcaddc).
 */
export function foldBatchNorm(graph: Graph, options: { inPlace?: boolean } = {}): Graph {
  const g = graph.clone();
  g.nodes = topoSort(g);
  const shapes = inferShapes(g);
  const uses = useCounts(g);
  const prod = producers(g);
  const removed = new Set<Node>();
  const out: Node[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'BatchNormalization') { out.push(n); continue; }
    const x = n.inputs[0]!;
    const { scale, shift } = bnScaleShift(g, n);
    const p = prod.get(x);
    if (p && p.op === 'Conv' && !p.attrs.relu && p.attrs.residual === undefined && singleUse(g, uses, x)) {
      const w = init(g, p.inputs[1]!);
      const cOut = w.dims[0]!;
      const per = w.data.length / cOut;
      // In place (the caller owns the weights, and only this conv reads them):
      // no second copy of every conv weight at load's peak (ResNet-50: 100 MB).
      const own = options.inPlace === true && singleUse(g, uses, p.inputs[1]!);
      const nw = scaleRows(w.data, scale, per, own ? w.data : new Float32Array(w.data.length));
      const oldB = p.inputs[2] ? init(g, p.inputs[2]).data : null;
      const nb = new Float32Array(cOut);
      for (let o = 0; o < cOut; o++) nb[o] = (oldB ? oldB[o]! : 0) * scale[o]! + shift[o]!;
      const wName = uniqueInitName(g, `${p.name}.weight_bnfolded`);
      g.initializers.set(wName, { dims: [...w.dims], data: nw });
      const bName = uniqueInitName(g, `${p.name}.bias_bnfolded`);
      g.initializers.set(bName, { dims: [cOut], data: nb });
      p.inputs[1] = wName;
      p.inputs[2] = bName;
      p.outputs[0] = n.outputs[0]!;
      removed.add(n);
      continue;
    }
    const xd = shapes.get(x)!;
    const c = scale.length;
    if (xd.length === 4) {
      const wName = uniqueInitName(g, `${n.name}.weight_dw`);
      g.initializers.set(wName, { dims: [c, 1, 1, 1], data: scale });
      const bName = uniqueInitName(g, `${n.name}.bias_dw`);
      g.initializers.set(bName, { dims: [c], data: shift });
      out.push({ name: n.name, op: 'Conv', inputs: [x, wName, bName], outputs: [n.outputs[0]!], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: c } });
    } else if (xd.length === 2) {
      const diag = new Float32Array(c * c);
      for (let i = 0; i < c; i++) diag[i * c + i] = scale[i]!;
      const wName = uniqueInitName(g, `${n.name}.weight_diag`);
      g.initializers.set(wName, { dims: [c, c], data: diag });
      const bName = uniqueInitName(g, `${n.name}.bias_diag`);
      g.initializers.set(bName, { dims: [c], data: shift });
      out.push({ name: n.name, op: 'Gemm', inputs: [x, wName, bName], outputs: [n.outputs[0]!], attrs: {} });
    } else {
      out.push(n); // left as is: runtime must handle BN on this rank
    }
  }
  g.nodes = out.filter((n) => !removed.has(n));
  return prune(g);
}

/**
 * Fuse Conv → Add(shortcut) [→ Relu] into one Conv with attrs.residual (and
 * attrs.relu). Only when the conv output (and the add output, for the relu)
 * feeds nothing else and is no graph output. The fused node takes the Add's
 * place in the order, where the shortcut is already computed.
 */
export function fuseConvAddRelu(graph: Graph): Graph {
  const g = graph.clone();
  g.nodes = topoSort(g);
  const uses = useCounts(g);
  const prod = producers(g);
  const shapes = inferShapes(g);
  const consumers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const drop = new Set<Node>();
  const replace = new Map<Node, Node>();
  for (const a of g.nodes) {
    if (a.op !== 'Add' || a.attrs.relu || drop.has(a)) continue;
    const [p, q] = a.inputs as [string, string];
    // Only a same-shape Add is a residual (a broadcast one stays an elementwise step).
    if (p === q || !sameDims(shapes.get(p)!, shapes.get(q)!)) continue;
    let conv: ConvNode | undefined, r = '';
    for (const [c, other] of [[p, q], [q, p]] as const) {
      const pc = prod.get(c);
      if (pc && pc.op === 'Conv' && !pc.attrs.relu && pc.attrs.residual === undefined && !drop.has(pc) && !replace.has(pc) && singleUse(g, uses, c)) {
        conv = pc; r = other; break;
      }
    }
    if (!conv) continue;
    let outName = a.outputs[0]!;
    let relu = false;
    const cons = consumers.get(outName) ?? [];
    if (singleUse(g, uses, outName) && cons.length === 1 && cons[0]!.op === 'Relu') {
      relu = true;
      drop.add(cons[0]!);
      outName = cons[0]!.outputs[0]!;
    }
    const fused: ConvNode = cloneNode(conv);
    fused.inputs = [conv.inputs[0]!, conv.inputs[1]!, conv.inputs[2] ?? '', r];
    fused.attrs.residual = r;
    if (relu) fused.attrs.relu = true;
    fused.outputs = [outName];
    drop.add(conv);
    replace.set(a, fused);
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n);
  g.nodes = topoSort(g);
  return g;
}

/**
 * Folds each single-input activation node into the node that produces its
 * input (that value used only there, not a graph output) where fold(producer,
 * activation) accepts it: fold sets the producer's attribute and returns true.
 */
function fuseIntoProducer(graph: Graph, fold: (p: Node, n: Node) => boolean): Graph {
  const g = graph.clone();
  const uses = useCounts(g);
  const prod = producers(g);
  const drop = new Set<Node>();
  for (const n of g.nodes) {
    const x = n.inputs[0];
    const p = x === undefined ? undefined : prod.get(x);
    if (!p || !singleUse(g, uses, x!) || !fold(p, n)) continue;
    p.outputs[0] = n.outputs[0]!;
    drop.add(n);
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n));
  return g;
}

/** Fuse a Relu into the Conv, Add or Gemm before it (single use, not a graph output). */
export function fuseRelu(graph: Graph): Graph {
  return fuseIntoProducer(graph, (p, n) => {
    if (n.op !== 'Relu' || !(p.op === 'Conv' || p.op === 'Add' || p.op === 'Gemm') || p.attrs.relu) return false;
    p.attrs.relu = true;
    return true;
  });
}

/**
 * Fuse a Clip (ReLU6 and any other bounds) into the Conv before it, as a clamp
 * applied after its bias and residual (single use, not a graph output; not a
 * conv that already has a ReLU). Runs after integerConvs: an integer-exact
 * conv's output is rescaled after it, and a clamp does not commute with that.
 */
export function fuseConvClip(graph: Graph): Graph {
  return fuseIntoProducer(graph, (p, n) => {
    if (n.op !== 'Clip' || p.op !== 'Conv' || p.attrs.relu || p.attrs.clip || p.attrs.int8 || !(n.attrs.alpha <= n.attrs.beta)) return false;
    p.attrs.clip = [n.attrs.alpha, n.attrs.beta];
    return true;
  });
}

/**
 * Fuse a HardSwish or HardSigmoid into the Conv before it, as an activation
 * applied to each finished output tile (single use, not a graph output; not a
 * conv with a ReLU or Clip). After integerConvs, as fuseConvClip. SiLU and
 * Sigmoid are not fused although the conv takes them (ConvParams.act): their
 * exp dominates, and fused they measured no faster (EfficientNet-B0 1.00x)
 * or slower (EfficientNetV2-S 1.04x) than as their own step, 2 threads.
 */
export function fuseConvActivation(graph: Graph): Graph {
  const fusable: readonly string[] = ['HardSigmoid', 'HardSwish'] satisfies ConvActivationOp[];
  return fuseIntoProducer(graph, (p, n) => {
    if (!fusable.includes(n.op) || p.op !== 'Conv' || p.attrs.relu || p.attrs.clip || p.attrs.act || p.attrs.int8) return false;
    const u = n as UnaryNode;
    p.attrs.act = { op: u.op as ConvActivationOp, alpha: u.attrs.alpha, beta: u.attrs.beta };
    return true;
  });
}

/**
 * x·sigmoid(x) and x·hardSigmoid(x) (Mul(x, gate(x)) either way round, the
 * gate used only there) become one Silu or HardSwish node (with the gate's
 * slope and offset): one pass over x instead of two, and no buffer for the
 * gate (EfficientNet's and RegNetY's SiLU; MobileNetV3's HardSwish as opset 13
 * writes it).
 */
export function fuseSilu(graph: Graph): Graph {
  const g = graph.clone();
  const uses = useCounts(g);
  const prod = producers(g);
  const drop = new Set<Node>();
  const replace = new Map<Node, Node>();
  for (const n of g.nodes) {
    if (n.op !== 'Mul') continue;
    for (const [x, s] of [[n.inputs[0]!, n.inputs[1]!], [n.inputs[1]!, n.inputs[0]!]] as const) {
      const gate = prod.get(s);
      if (!gate || (gate.op !== 'Sigmoid' && gate.op !== 'HardSigmoid') || gate.inputs[0] !== x || !singleUse(g, uses, s) || drop.has(gate)) continue;
      drop.add(gate);
      const attrs = gate.op === 'Sigmoid' ? { alpha: 0, beta: 0 } : { alpha: gate.attrs.alpha, beta: gate.attrs.beta };
      replace.set(n, { name: n.name, op: gate.op === 'Sigmoid' ? 'Silu' : 'HardSwish', inputs: [x], outputs: [...n.outputs], attrs });
      break;
    }
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n);
  return g;
}

/**
 * PyTorch's exact GELU as its export writes it, Mul(Mul(x, Add(Erf(Div(x, c)), 1)), k) (the Muls'
 * operands either way round, every intermediate used only there, c and k scalar constants),
 * becomes one Gelu node computing the same float32 operations in one pass (ConvNeXt).
 */
export function fuseGelu(graph: Graph): Graph {
  const g = graph.clone();
  const uses = useCounts(g);
  const prod = producers(g);
  const scalar = (v: string | undefined): number | undefined => {
    const t = v === undefined ? undefined : g.initializers.get(v);
    return t && t.data.length === 1 ? t.data[0] : undefined;
  };
  // The producer of one operand of n (op `op`, used only by n) and the other operand.
  const operand = (n: Node, op: string): [Node, string] | undefined => {
    for (const [p, q] of [[n.inputs[0]!, n.inputs[1]!], [n.inputs[1]!, n.inputs[0]!]] as const) {
      const m = prod.get(p);
      if (m && m.op === op && singleUse(g, uses, p)) return [m, q];
    }
    return undefined;
  };
  const drop = new Set<Node>();
  const replace = new Map<Node, Node>();
  for (const n of g.nodes) {
    if (n.op !== 'Mul' || n.attrs.relu) continue;
    const outer = operand(n, 'Mul');
    const scale = outer && scalar(outer[1]);
    const inner = outer && operand(outer[0], 'Add');
    if (!outer || scale === undefined || !inner || (outer[0].op === 'Mul' && outer[0].attrs.relu) || (inner[0].op === 'Add' && inner[0].attrs.relu)) continue;
    const x = inner[1];
    const erfAdd = inner[0];
    const erf = operand(erfAdd, 'Erf');
    if (!erf || scalar(erf[1]) !== 1) continue;
    const div = prod.get(erf[0].inputs[0]!);
    if (!div || div.op !== 'Div' || div.attrs.relu || div.inputs[0] !== x || !singleUse(g, uses, div.outputs[0]!)) continue;
    const divisor = scalar(div.inputs[1]);
    if (divisor === undefined || [div, erf[0], erfAdd, outer[0]].some((m) => drop.has(m))) continue;
    for (const m of [div, erf[0], erfAdd, outer[0]]) drop.add(m);
    replace.set(n, { name: n.name, op: 'Gelu', inputs: [x], outputs: [...n.outputs], attrs: { alpha: divisor, beta: scale } });
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n);
  return g;
}

/** Remove nodes whose outputs nothing uses, and unused initializers. */
export function prune(graph: Graph): Graph {
  const g = graph.clone();
  const needed = new Set(g.outputs.map((o) => o.name));
  const keep: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const x of n.inputs) if (x) needed.add(x);
  }
  g.nodes = keep.reverse();
  for (const name of [...g.initializers.keys()]) if (!needed.has(name)) g.initializers.delete(name);
  return g;
}

export interface OptimizeOptions {
  foldBatchNorm?: boolean;
  fuseResidual?: boolean;
  fuseRelu?: boolean;
  /** Run quantized Conv/Gemm/GlobalAveragePool and residual Add patterns integer-exact (src/graph/integer-convs.ts, integer-adds.ts). */
  integerConvs?: boolean;
  /** The backend runs int8 convs (KernelBackend.packQConv2d): integer convs become Conv nodes with attrs.int8. */
  int8Convs?: boolean;
  /** The graph's weights are the caller's own copy: passes may rewrite them where they are. */
  inPlace?: boolean;
}

/** foldBatchNorm → fuseConvAddRelu → fuseRelu + fuseSilu + fuseGelu → integerAdds + integerConvs (+ integerMaxPools, fuseQConvAdds for int8 convs) → fuseConvClip + fuseConvActivation → prune (each can be switched off; fuseRelu switches the last two too). */
export function optimize(graph: Graph, options: OptimizeOptions = {}): Graph {
  let g = new Graph({ ...graph, nodes: topoSort(graph) });
  if (options.foldBatchNorm !== false) g = foldBatchNorm(g, { inPlace: options.inPlace === true });
  if (options.fuseResidual !== false) g = fuseConvAddRelu(g);
  if (options.fuseRelu !== false) g = fuseGelu(fuseSilu(fuseRelu(g)));
  if (options.integerConvs !== false) g = integerConvs(integerAdds(g), { int8Convs: options.int8Convs === true });
  if (options.integerConvs !== false && options.int8Convs === true) g = fuseQConvAdds(integerMaxPools(g));
  if (options.fuseRelu !== false) g = fuseConvActivation(fuseConvClip(g));
  return prune(g);
}

export interface MemoryPlan {
  /** Nodes in execution order (the plan's indices refer to this). */
  order: Node[];
  /** Dims of every value, with the batch resolved. */
  shapes: Map<string, number[]>;
  /** Size of each reusable buffer, in floats. */
  slotSizes: number[];
  /** Activation (node output) → slot index. Graph inputs, initializers and views have no slot. */
  slotOf: Map<string, number>;
  /**
   * Activations stored inside another's slot (`concatInPlace`): each is a run of a Concat's
   * output, written there by its producer; a Concat whose inputs are all views runs no step.
   */
  views: Map<string, ValueView>;
  /** Activation → [index of producing node, index of last reading node]; graph outputs live to order.length. */
  live: Map<string, [number, number]>;
  /** Sum of slotSizes (floats). */
  totalFloats: number;
}

export interface PlanOptions {
  /**
   * A Conv with a fused residual writes its output over the residual when this
   * Conv is the residual's last reader (y += conv(x): the residual is read once,
   * where it is written, instead of read from one buffer and written to
   * another). Only for backends whose conv2d accepts y === residual.
   */
  residualInPlace?: boolean;
  /**
   * Producers write a batch-1 Concat's inputs straight into its output (src/graph/concat-views.ts):
   * the output's slot is live from the first such producer to the last reader of any of them.
   * Only for backends whose plan buffer list honours views (PlanLayout.views).
   */
  concatInPlace?: boolean;
  /**
   * An elementwise node (unary, Relu, Add/Mul/Sub/Div) writes its output over an operand of the
   * output's dims that it reads last (the squeeze-excitation gate's Mul over the gated tensor):
   * one buffer fewer in cache. Only for backends whose elementwise kernels accept y === operand.
   */
  elementwiseInPlace?: boolean;
}

const ELEMENTWISE: ReadonlySet<string> = new Set([...UNARY_OPS, 'Relu', 'Add', 'Mul', 'Sub', 'Div']);

/**
 * Assign every activation to a reusable buffer slot by liveness: a slot is
 * handed to a new value only after every reader of its previous value has run,
 * and a node's output never shares a slot with any of its inputs (except a
 * fused residual, with `residualInPlace`). Graph outputs keep their slot to the
 * end. With `concatInPlace`, a Concat's views share its slot, held from the first
 * view's producer to the last reader of any of them. Best-fit reuse; a too-small
 * free slot is grown. `inputDims` must fix any dynamic batch.
 */
export function planMemory(graph: Graph, inputDims: Record<string, number[]> = {}, options: PlanOptions = {}): MemoryPlan {
  const order = topoSort(graph);
  const shapes = inferShapes(new Graph({ ...graph, nodes: order }), inputDims);
  const outNames = new Set(graph.outputs.map((o) => o.name));
  const live = new Map<string, [number, number]>();
  order.forEach((n, i) => { for (const o of n.outputs) live.set(o, [i, outNames.has(o) ? order.length : i]); });
  order.forEach((n, i) => { for (const x of n.inputs) { const l = live.get(x); if (l && l[1] < i) l[1] = i; } });
  const views = options.concatInPlace ? concatViews(order, shapes, outNames) : new Map<string, ValueView>();
  // The values that own a slot, each with the span its slot is held: its own liveness joined with its views'.
  const ownerOf = (v: string): string => views.get(v)?.base ?? v;
  const held = new Map<string, [number, number]>();
  for (const [v, [first, last]] of live) {
    const h = held.get(ownerOf(v));
    if (!h) held.set(ownerOf(v), [first, last]);
    else { h[0] = Math.min(h[0], first); h[1] = Math.max(h[1], last); }
  }
  const frees: string[][] = order.map(() => []);
  for (const [v, [, last]] of held) if (last < order.length) frees[last]!.push(v);

  const slotSizes: number[] = [];
  const slotOf = new Map<string, number>();
  const free = new Set<number>();
  // The residual a Conv overwrites, by node index (its slot passes to the output).
  const overwritten = new Map<number, string>();
  if (options.residualInPlace) {
    order.forEach((n, i) => {
      const r = n.op === 'Conv' ? n.attrs.residual : undefined;
      const l = r === undefined ? undefined : held.get(r);
      if (r === undefined || !l || l[1] !== i || n.inputs[0] === r || n.outputs.length !== 1) return;
      if (views.has(n.outputs[0]!) || elementCount(shapes.get(r)!) !== elementCount(shapes.get(n.outputs[0]!)!)) return;
      overwritten.set(i, r);
    });
  }
  if (options.elementwiseInPlace) {
    order.forEach((n, i) => {
      if (!ELEMENTWISE.has(n.op) || n.outputs.length !== 1 || overwritten.has(i) || views.has(n.outputs[0]!)) return;
      const y = shapes.get(n.outputs[0]!)!;
      // An operand of y's dims whose slot is free after this node (`held` has no graph input,
      // initializer or view; a Concat's buffer is held until its views die too).
      const r = n.inputs.find((v) => held.get(v)?.[1] === i && sameDims(shapes.get(v)!, y));
      if (r !== undefined) overwritten.set(i, r);
    });
  }
  order.forEach((n, i) => {
    for (const o of n.outputs) {
      const d = shapes.get(o)!;
      if (d.some((x) => x < 0)) throw new GraphError(`planMemory: value "${o}" has a dynamic dim ${JSON.stringify(d)}; pass inputDims with a concrete batch`);
      const owner = ownerOf(o);
      if (slotOf.has(owner)) continue; // a view written into a slot taken by an earlier view of the same owner
      const need = elementCount(shapes.get(owner)!);
      const r = overwritten.get(i);
      if (r !== undefined) {
        slotOf.set(o, slotOf.get(r)!);
        continue;
      }
      let best = -1;
      for (const s of free) if (slotSizes[s]! >= need && (best < 0 || slotSizes[s]! < slotSizes[best]!)) best = s;
      if (best < 0) for (const s of free) if (best < 0 || slotSizes[s]! > slotSizes[best]!) best = s;
      if (best < 0) { best = slotSizes.length; slotSizes.push(need); } else { free.delete(best); if (slotSizes[best]! < need) slotSizes[best] = need; }
      slotOf.set(owner, best);
    }
    for (const v of frees[i]!) if (v !== overwritten.get(i)) free.add(slotOf.get(v)!);
  });
  return { order, shapes, slotSizes, slotOf, views, live, totalFloats: slotSizes.reduce((a, b) => a + b, 0) };
}

// A small layer API for building graphs by hand. Each method adds one node and
// returns the name of its output value; weights are He-initialised from a
// seeded PRNG, and BN gets non-trivial running statistics.
//
//   const b = new GraphBuilder({ seed: 1 });
//   let x = b.input('input', [-1, 3, 32, 32]);
//   x = b.relu(b.batchNorm(b.conv(x, { outChannels: 16, kernel: 3, pad: 1 })));
//   x = b.flatten(b.globalAveragePool(x));
//   b.output(b.gemm(x, { outFeatures: 10 }), 'output');
//   const g = b.build();
import { Graph, GraphError, inferNode } from './graph.js';
import type { Initializer, Node, ValueInfo } from './graph.js';
// The graphs built here are written out with Graph.toOnnx(): load the exporter.
import '../onnx/export.js';

/** mulberry32: a small, fast, seedable PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private next: () => number;
  private spare: number | null = null;
  constructor(seed: number) { this.next = mulberry32(seed); }
  uniform(lo = 0, hi = 1): number { return lo + (hi - lo) * this.next(); }
  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) { const s = this.spare; this.spare = null; return s; }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  fillNormal(a: Float32Array, std: number, mean = 0): Float32Array { for (let i = 0; i < a.length; i++) a[i] = mean + std * this.normal(); return a; }
  fillUniform(a: Float32Array, lo: number, hi: number): Float32Array { for (let i = 0; i < a.length; i++) a[i] = this.uniform(lo, hi); return a; }
}

type Pair = number | [number, number];
const pair = (v: Pair | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);
/** pad: one number, [h, w], or [top, left, bottom, right]. */
type Pads = number | [number, number] | [number, number, number, number];
function pads4(p: Pads | undefined): [number, number, number, number] {
  if (p === undefined) return [0, 0, 0, 0];
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[1], p[0], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

export interface ConvOptions {
  outChannels: number;
  kernel: Pair;
  stride?: Pair;
  pad?: Pads;
  dilation?: Pair;
  groups?: number;
  /** Add a bias (default false, as in ResNets where BN follows). */
  bias?: boolean;
  name?: string;
  /** Explicit weight [cOut, cIn/groups, kh, kw] (flattened) instead of He-init. */
  weight?: Float32Array;
  biasData?: Float32Array;
}
export interface BatchNormOptions {
  epsilon?: number;
  name?: string;
  /** Range of the random gamma (default [0.5, 1.5]). */
  gammaRange?: [number, number];
}
export interface PoolOptions {
  kernel: Pair;
  stride?: Pair;
  pad?: Pads;
  dilation?: Pair;
  ceilMode?: boolean;
  name?: string;
}
export interface AvgPoolOptions extends PoolOptions {
  countIncludePad?: boolean;
}
export interface GemmOptions {
  outFeatures: number;
  bias?: boolean;
  name?: string;
  weight?: Float32Array;
  biasData?: Float32Array;
}

export class GraphBuilder {
  readonly rng: Rng;
  private inputs: ValueInfo[] = [];
  private outputs: ValueInfo[] = [];
  private nodes: Node[] = [];
  private inits = new Map<string, Initializer>();
  private shapes = new Map<string, number[]>();
  private counters = new Map<string, number>();
  private names = new Set<string>();

  constructor(options: { seed?: number } = {}) {
    this.rng = new Rng(options.seed ?? 0);
  }

  /** Dims of a value built so far (dims[0] = -1 for a dynamic batch). */
  dims(value: string): number[] {
    const d = this.shapes.get(value);
    if (!d) throw new GraphError(`GraphBuilder: unknown value "${value}"`);
    return [...d];
  }

  private uniqueName(prefix: string, given?: string): string {
    if (given !== undefined) {
      if (this.names.has(given)) throw new GraphError(`GraphBuilder: name "${given}" is already used`);
      this.names.add(given);
      return given;
    }
    for (;;) {
      const k = this.counters.get(prefix) ?? 0;
      this.counters.set(prefix, k + 1);
      const n = `${prefix}_${k}`;
      if (!this.names.has(n)) { this.names.add(n); return n; }
    }
  }

  /** Declare a graph input; dims[0] = -1 makes the batch dynamic. */
  input(name: string, dims: number[]): string {
    if (dims.slice(1).some((d) => !Number.isInteger(d) || d < 1) || dims.length === 0) throw new RangeError(`Expected positive dims (batch may be -1) for input "${name}" but received [${dims.join(', ')}]`);
    this.uniqueName('', name);
    this.inputs.push({ name, dims: [...dims] });
    this.shapes.set(name, [...dims]);
    return name;
  }

  /** Add a constant float tensor. */
  initializer(name: string, dims: number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new RangeError(`Expected ${dims.reduce((a, b) => a * b, 1)} values for initializer "${name}" but received ${data.length}`);
    this.uniqueName('', name);
    this.inits.set(name, { dims: [...dims], data });
    this.shapes.set(name, [...dims]);
    return name;
  }

  /** Append a node (any IR op) and infer its output; returns the output name. */
  node(n: Omit<Node, 'outputs'> & { outputs?: string[] }): string {
    const out = n.outputs?.[0] ?? n.name;
    if (n.outputs?.[0] !== undefined) this.uniqueName('', out);
    const node = { ...n, outputs: [out] } as Node;
    const y = inferNode(node, (name) => this.dims(name));
    this.nodes.push(node);
    this.shapes.set(out, y);
    return out;
  }

  conv(x: string, o: ConvOptions): string {
    const name = this.uniqueName('conv', o.name);
    const xd = this.dims(x);
    const groups = o.groups ?? 1;
    const [kh, kw] = pair(o.kernel, 1);
    if (xd[1]! % groups !== 0) throw new RangeError(`Expected input channels (${xd[1]}) divisible by groups (${groups}) for conv "${name}"`);
    const cin = xd[1]! / groups;
    const wdims = [o.outChannels, cin, kh, kw];
    const fanOut = o.outChannels * kh * kw; // kaiming_normal_(mode='fan_out', nonlinearity='relu'), as torchvision
    const w = o.weight ?? this.rng.fillNormal(new Float32Array(o.outChannels * cin * kh * kw), Math.sqrt(2 / fanOut));
    const wName = this.initializer(`${name}.weight`, wdims, w);
    let bName = '';
    if (o.bias || o.biasData) {
      bName = this.initializer(`${name}.bias`, [o.outChannels], o.biasData ?? this.rng.fillUniform(new Float32Array(o.outChannels), -0.1, 0.1));
    }
    return this.node({
      name, op: 'Conv', inputs: [x, wName, bName],
      attrs: { kernelShape: [kh, kw], strides: pair(o.stride, 1), pads: pads4(o.pad), dilations: pair(o.dilation, 1), groups },
    });
  }

  batchNorm(x: string, o: BatchNormOptions = {}): string {
    const name = this.uniqueName('bn', o.name);
    const c = this.dims(x)[1]!;
    const r = this.rng;
    const [glo, ghi] = o.gammaRange ?? [0.5, 1.5];
    const gamma = r.fillUniform(new Float32Array(c), glo, ghi);
    const beta = r.fillNormal(new Float32Array(c), 0.1);
    const mean = r.fillNormal(new Float32Array(c), 0.1);
    const variance = r.fillUniform(new Float32Array(c), 0.5, 1.5);
    const ins = [
      this.initializer(`${name}.weight`, [c], gamma),
      this.initializer(`${name}.bias`, [c], beta),
      this.initializer(`${name}.running_mean`, [c], mean),
      this.initializer(`${name}.running_var`, [c], variance),
    ];
    return this.node({ name, op: 'BatchNormalization', inputs: [x, ...ins], attrs: { epsilon: o.epsilon ?? 1e-5 } });
  }

  relu(x: string, name?: string): string {
    return this.node({ name: this.uniqueName('relu', name), op: 'Relu', inputs: [x], attrs: {} });
  }

  add(a: string, b: string, name?: string): string {
    return this.node({ name: this.uniqueName('add', name), op: 'Add', inputs: [a, b], attrs: {} });
  }

  maxPool(x: string, o: PoolOptions): string {
    const kernelShape = pair(o.kernel, 1);
    return this.node({
      name: this.uniqueName('maxpool', o.name), op: 'MaxPool', inputs: [x],
      attrs: { kernelShape, strides: pair(o.stride, 1), pads: pads4(o.pad), dilations: pair(o.dilation, 1), ceilMode: o.ceilMode ?? false },
    });
  }

  avgPool(x: string, o: AvgPoolOptions): string {
    const kernelShape = pair(o.kernel, 1);
    return this.node({
      name: this.uniqueName('avgpool', o.name), op: 'AveragePool', inputs: [x],
      attrs: { kernelShape, strides: pair(o.stride, 1), pads: pads4(o.pad), dilations: [1, 1], ceilMode: o.ceilMode ?? false, countIncludePad: o.countIncludePad ?? false },
    });
  }

  globalAveragePool(x: string, name?: string): string {
    return this.node({ name: this.uniqueName('gap', name), op: 'GlobalAveragePool', inputs: [x], attrs: {} });
  }

  flatten(x: string, axis = 1, name?: string): string {
    return this.node({ name: this.uniqueName('flatten', name), op: 'Flatten', inputs: [x], attrs: { axis } });
  }

  reshape(x: string, shape: number[], name?: string): string {
    return this.node({ name: this.uniqueName('reshape', name), op: 'Reshape', inputs: [x], attrs: { shape: [...shape] } });
  }

  /** y = x·Wᵀ + b, x: [M, K], W: [outFeatures, K]; init as PyTorch's nn.Linear. */
  gemm(x: string, o: GemmOptions): string {
    const name = this.uniqueName('gemm', o.name);
    const k = this.dims(x)[1]!;
    const bound = 1 / Math.sqrt(k);
    const w = o.weight ?? this.rng.fillUniform(new Float32Array(o.outFeatures * k), -bound, bound);
    const wName = this.initializer(`${name}.weight`, [o.outFeatures, k], w);
    const bName = o.bias === false ? '' : this.initializer(`${name}.bias`, [o.outFeatures], o.biasData ?? this.rng.fillUniform(new Float32Array(o.outFeatures), -bound, bound));
    return this.node({ name, op: 'Gemm', inputs: [x, wName, bName], attrs: {} });
  }

  /**
   * Mark a value as a graph output. With `name`, the producing node's output is
   * renamed (only for values not yet consumed).
   */
  output(value: string, name?: string): string {
    let v = value;
    if (name !== undefined && name !== value) {
      const producer = this.nodes.find((n) => n.outputs[0] === value);
      if (!producer) throw new GraphError(`GraphBuilder: cannot rename "${value}": not a node output`);
      if (this.nodes.some((n) => n.inputs.includes(value)) || this.outputs.some((o) => o.name === value)) throw new GraphError(`GraphBuilder: cannot rename "${value}": it is already used`);
      this.uniqueName('', name);
      producer.outputs[0] = name;
      this.shapes.set(name, this.dims(value));
      v = name;
    }
    this.outputs.push({ name: v, dims: this.dims(v) });
    return v;
  }

  build(name = 'graph'): Graph {
    if (this.outputs.length === 0) throw new GraphError('GraphBuilder: no outputs (call output())');
    return new Graph({ name, inputs: this.inputs.map((v) => ({ ...v, dims: [...v.dims] })), outputs: this.outputs.map((v) => ({ ...v })), initializers: new Map(this.inits), nodes: [...this.nodes] });
  }
}

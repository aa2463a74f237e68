// Reverse-mode differentiation over a Graph, in training mode.
//
// A TrainableGraph owns a copy of the graph's learnable parameters (every
// initializer except BN running mean/var, which are buffers updated with
// momentum 0.1 as PyTorch does). forward() runs the graph with batch-statistics
// BN and records what the backward needs; backward() walks the nodes in reverse
// topological order and returns ∂L/∂p for every parameter and ∂L/∂v for every
// activation value. Fused Conv (residual, relu) and Add (relu) are supported.
import { Graph, topoSort, type Node } from '../graph/graph.js';
import { elementCount, poolOutputSize } from '../shapes.js';
import { trainKernels, type TrainBackendName, type TrainKernels } from './backend.js';
import { convGeom, softmaxCrossEntropy, type Arr, type ConvGeom, type PoolGeom } from './kernels.js';

export type DType = 'float32' | 'float64';

export interface TrainableOptions {
  /** 'auto' (default) uses the native kernels when the addon is built. */
  backend?: TrainBackendName | 'auto';
  /** float64 is for gradient checks (JS kernels only). Default float32. */
  dtype?: DType;
  /** BN running-statistics momentum (PyTorch's convention). Default 0.1. */
  bnMomentum?: number;
}

interface Saved {
  geom?: ConvGeom;
  pool?: PoolGeom;
  argmax?: Int32Array;
  mean?: Float64Array;
  invStd?: Float64Array;
  /** Pre-activation of a fused conv/add/gemm with relu (the op output before ReLU is not kept; y > 0 is the mask). */
}

export interface Tape {
  batch: number;
  values: Map<string, Arr>;
  dims: Map<string, number[]>;
  saved: Map<string, Saved>;
  training: boolean;
}

export interface Gradients {
  /** ∂L/∂p for every learnable parameter (initializer name). */
  params: Map<string, Arr>;
  /** ∂L/∂v for every activation value reached (graph input included). */
  values: Map<string, Arr>;
}

export class TrainableGraph {
  readonly graph: Graph;
  readonly nodes: Node[];
  readonly kernels: TrainKernels;
  readonly dtype: DType;
  /** Learnable parameters (copies of the initializers, in dtype). */
  readonly params = new Map<string, Arr>();
  /** BN running mean / var. */
  readonly buffers = new Map<string, Arr>();
  readonly paramDims = new Map<string, number[]>();
  readonly inputName: string;
  readonly outputName: string;
  private readonly bnMomentum: number;

  constructor(graph: Graph, options: TrainableOptions = {}) {
    this.graph = graph;
    this.nodes = topoSort(graph);
    this.dtype = options.dtype ?? 'float32';
    this.kernels = trainKernels(this.dtype === 'float64' ? 'js' : options.backend ?? 'auto');
    this.bnMomentum = options.bnMomentum ?? 0.1;
    if (graph.inputs.length !== 1 || graph.outputs.length !== 1) throw new RangeError(`Expected a graph with one input and one output for training but received ${graph.inputs.length} and ${graph.outputs.length}`);
    this.inputName = graph.inputs[0]!.name;
    this.outputName = graph.outputs[0]!.name;
    const bufferNames = new Set<string>();
    for (const n of this.nodes) {
      if (n.op === 'AveragePool') throw new RangeError(`Expected ops with a backward for training but received AveragePool ("${n.name}")`);
      if (n.op === 'Reshape' && n.attrs.shapeExpr) throw new RangeError(`Expected a Reshape of constant shape for training but "${n.name}" computes its shape per input shape (a dynamic export)`);
      if (n.op === 'Conv' && (n.attrs.clip || n.attrs.act)) throw new RangeError(`Expected ops with a backward for training but received a Conv with a fused activation ("${n.name}")`);
      if (n.op === 'BatchNormalization') { bufferNames.add(n.inputs[3]!); bufferNames.add(n.inputs[4]!); }
    }
    for (const [name, init] of graph.initializers) {
      const a = this.dtype === 'float64' ? Float64Array.from(init.data) : Float32Array.from(init.data);
      (bufferNames.has(name) ? this.buffers : this.params).set(name, a);
      this.paramDims.set(name, [...init.dims]);
    }
  }

  private alloc(n: number): Arr {
    return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** Converts an input to this graph's dtype (no copy when it already is). */
  cast(x: ArrayLike<number> & { length: number }): Arr {
    if (this.dtype === 'float64') return x instanceof Float64Array ? x : Float64Array.from(x);
    return x instanceof Float32Array ? x : Float32Array.from(x);
  }

  private get(name: string, tape: Tape): Arr {
    const v = tape.values.get(name) ?? this.params.get(name) ?? this.buffers.get(name);
    if (!v) throw new Error(`TrainableGraph: value "${name}" is not available`);
    return v;
  }

  /** Runs the graph on x ([batch, …input dims]); training=true uses batch statistics and updates the running ones. */
  forward(x: Arr, batch: number, training = true): Tape {
    const inDims = [batch, ...this.graph.inputs[0]!.dims.slice(1)];
    if (x.length !== elementCount(inDims)) throw new RangeError(`Expected ${elementCount(inDims)} input values for shape [${inDims.join(', ')}] but received ${x.length}`);
    const tape: Tape = { batch, values: new Map([[this.inputName, x]]), dims: new Map([[this.inputName, inDims]]), saved: new Map(), training };
    const kx = this.kernels;
    for (const node of this.nodes) {
      const xd = tape.dims.get(node.inputs[0]!)!;
      const xin = this.get(node.inputs[0]!, tape);
      let y: Arr;
      let yd: number[];
      switch (node.op) {
        case 'Conv': {
          const wd = this.paramDims.get(node.inputs[1]!)!;
          const g = convGeom(xd, wd, { strides: node.attrs.strides, pads: node.attrs.pads, dilations: node.attrs.dilations, groups: node.attrs.groups });
          yd = [g.n, g.cOut, g.outH, g.outW];
          y = this.alloc(elementCount(yd));
          kx.conv2dForward(xin, this.params.get(node.inputs[1]!)!, node.inputs[2] ? this.params.get(node.inputs[2])! : null, g, y);
          if (node.attrs.residual !== undefined) { const r = this.get(node.attrs.residual, tape); for (let i = 0; i < y.length; i++) y[i] += r[i]!; }
          if (node.attrs.relu) kx.reluForward(y, y);
          tape.saved.set(node.name, { geom: g });
          break;
        }
        case 'BatchNormalization': {
          yd = [...xd];
          y = this.alloc(xin.length);
          const c = xd[1]!, hw = elementCount(xd.slice(2)), n = xd[0]!;
          const [gamma, beta] = [this.params.get(node.inputs[1]!)!, this.params.get(node.inputs[2]!)!];
          const rm = this.buffers.get(node.inputs[3]!)!, rv = this.buffers.get(node.inputs[4]!)!;
          const mean = new Float64Array(c), invStd = new Float64Array(c);
          const eps = node.attrs.epsilon;
          if (training) {
            kx.batchNormTrainForward(xin, gamma, beta, eps, n, c, hw, y, mean, invStd);
            const m = this.bnMomentum, cnt = n * hw;
            for (let ch = 0; ch < c; ch++) {
              const varB = 1 / (invStd[ch]! * invStd[ch]!) - eps;
              const unbiased = cnt > 1 ? varB * cnt / (cnt - 1) : varB;
              rm[ch] = (1 - m) * rm[ch]! + m * mean[ch]!;
              rv[ch] = (1 - m) * rv[ch]! + m * unbiased;
            }
          } else {
            for (let ch = 0; ch < c; ch++) { mean[ch] = rm[ch]!; invStd[ch] = 1 / Math.sqrt(rv[ch]! + eps); }
            for (let ch = 0; ch < c; ch++) {
              const sc = gamma[ch]! * invStd[ch]!, sh = beta[ch]! - mean[ch]! * sc;
              for (let b = 0; b < n; b++) { const off = (b * c + ch) * hw; for (let i = 0; i < hw; i++) y[off + i] = xin[off + i]! * sc + sh; }
            }
          }
          tape.saved.set(node.name, { mean, invStd });
          break;
        }
        case 'Relu':
          yd = [...xd]; y = this.alloc(xin.length); kx.reluForward(xin, y); break;
        case 'Add': {
          yd = [...xd]; y = this.alloc(xin.length);
          const b = this.get(node.inputs[1]!, tape);
          for (let i = 0; i < y.length; i++) y[i] = xin[i]! + b[i]!;
          if (node.attrs.relu) kx.reluForward(y, y);
          break;
        }
        case 'MaxPool': {
          const a = node.attrs;
          const [n, c, h, w] = xd as [number, number, number, number];
          const out = (size: number, k: number, s: number, p0: number, p1: number, d: number): number => poolOutputSize(size, k, s, p0, p1, d, a.ceilMode);
          const pool: PoolGeom = {
            n, c, h, w, kh: a.kernelShape[0], kw: a.kernelShape[1], sh: a.strides[0], sw: a.strides[1], dh: a.dilations[0], dw: a.dilations[1], pads: [...a.pads],
            outH: out(h, a.kernelShape[0], a.strides[0], a.pads[0], a.pads[2], a.dilations[0]),
            outW: out(w, a.kernelShape[1], a.strides[1], a.pads[1], a.pads[3], a.dilations[1]),
          };
          yd = [n, c, pool.outH, pool.outW];
          y = this.alloc(elementCount(yd));
          const argmax = new Int32Array(y.length);
          kx.maxPoolForward(xin, pool, y, argmax);
          tape.saved.set(node.name, { pool, argmax });
          break;
        }
        case 'GlobalAveragePool': {
          yd = [xd[0]!, xd[1]!, 1, 1]; y = this.alloc(elementCount(yd));
          kx.globalAveragePoolForward(xin, xd[0]! * xd[1]!, elementCount(xd.slice(2)), y);
          break;
        }
        case 'Flatten': {
          const axis = node.attrs.axis < 0 ? node.attrs.axis + xd.length : node.attrs.axis;
          yd = [elementCount(xd.slice(0, axis)), elementCount(xd.slice(axis))]; y = xin; break;
        }
        case 'Reshape': {
          const shape = node.attrs.shape.map((s, i) => (s === 0 ? xd[i]! : s));
          const m = shape.indexOf(-1);
          if (m >= 0) shape[m] = xin.length / elementCount(shape.filter((_, i) => i !== m));
          yd = shape; y = xin; break;
        }
        case 'Gemm': {
          const wd = this.paramDims.get(node.inputs[1]!)!;
          yd = [xd[0]!, wd[0]!]; y = this.alloc(elementCount(yd));
          kx.gemmForward(xin, this.params.get(node.inputs[1]!)!, node.inputs[2] ? this.params.get(node.inputs[2])! : null, xd[0]!, wd[1]!, wd[0]!, y);
          if (node.attrs.relu) kx.reluForward(y, y);
          break;
        }
        default:
          throw new RangeError(`Expected a trainable op but received ${(node as Node).op}`);
      }
      tape.values.set(node.outputs[0]!, y);
      tape.dims.set(node.outputs[0]!, yd);
    }
    return tape;
  }

  /** Output (logits) of a forward pass. */
  output(tape: Tape): Arr {
    return tape.values.get(this.outputName)!;
  }

  /** Backpropagates dOut (∂L/∂output) through the tape. */
  backward(tape: Tape, dOut: Arr): Gradients {
    const kx = this.kernels;
    const vg = new Map<string, Arr>();
    const pg = new Map<string, Arr>();
    const owned = new Set<string>();
    const addGrad = (name: string, g: Arr, own: boolean): void => {
      if (name === '' || this.params.has(name) || this.buffers.has(name)) return;
      const cur = vg.get(name);
      if (!cur) { vg.set(name, g); if (own) owned.add(name); return; }
      if (!owned.has(name)) { const c = this.alloc(cur.length); c.set(cur); vg.set(name, c); owned.add(name); }
      const dst = vg.get(name)!;
      for (let i = 0; i < dst.length; i++) dst[i] += g[i]!;
    };
    addGrad(this.outputName, dOut, false);
    for (let ni = this.nodes.length - 1; ni >= 0; ni--) {
      const node = this.nodes[ni]!;
      const y = tape.values.get(node.outputs[0]!)!;
      let dy = vg.get(node.outputs[0]!);
      if (!dy) continue; // does not reach the loss
      const xin = this.get(node.inputs[0]!, tape);
      const xd = tape.dims.get(node.inputs[0]!)!;
      const saved = tape.saved.get(node.name) ?? {};
      const needX = !this.params.has(node.inputs[0]!) && !this.buffers.has(node.inputs[0]!);
      const fusedRelu = (node.op === 'Conv' || node.op === 'Add' || node.op === 'Gemm') && node.attrs.relu === true;
      if (fusedRelu) { const m = this.alloc(dy.length); kx.reluBackward(y, dy, m); dy = m; }
      switch (node.op) {
        case 'Conv': {
          const g = saved.geom!;
          const dw = this.alloc(this.params.get(node.inputs[1]!)!.length);
          const db = node.inputs[2] ? this.alloc(g.cOut) : null;
          const dx = needX ? this.alloc(xin.length) : null;
          kx.conv2dBackward(xin, this.params.get(node.inputs[1]!)!, dy, g, { dx, dw, db });
          pg.set(node.inputs[1]!, dw);
          if (db) pg.set(node.inputs[2]!, db);
          if (node.attrs.residual !== undefined) addGrad(node.attrs.residual, dy, false);
          if (dx) addGrad(node.inputs[0]!, dx, true);
          break;
        }
        case 'BatchNormalization': {
          const c = xd[1]!, hw = elementCount(xd.slice(2)), n = xd[0]!;
          const dgamma = this.alloc(c), dbeta = this.alloc(c);
          const dx = needX ? this.alloc(xin.length) : null;
          if (tape.training) {
            kx.batchNormTrainBackward(xin, this.params.get(node.inputs[1]!)!, dy, saved.mean!, saved.invStd!, n, c, hw, dx, dgamma, dbeta);
          } else {
            const gamma = this.params.get(node.inputs[1]!)!;
            for (let ch = 0; ch < c; ch++) {
              let sdy = 0, sdyx = 0;
              const inv = saved.invStd![ch]!, mean = saved.mean![ch]!;
              for (let b = 0; b < n; b++) for (let i = 0; i < hw; i++) {
                const o = (b * c + ch) * hw + i;
                sdy += dy[o]!; sdyx += dy[o]! * (xin[o]! - mean) * inv;
                if (dx) dx[o] = dy[o]! * gamma[ch]! * inv;
              }
              dgamma[ch] = sdyx; dbeta[ch] = sdy;
            }
          }
          pg.set(node.inputs[1]!, dgamma);
          pg.set(node.inputs[2]!, dbeta);
          if (dx) addGrad(node.inputs[0]!, dx, true);
          break;
        }
        case 'Relu': {
          const dx = this.alloc(dy.length);
          kx.reluBackward(y, dy, dx);
          addGrad(node.inputs[0]!, dx, true);
          break;
        }
        case 'Add':
          addGrad(node.inputs[0]!, dy, false);
          addGrad(node.inputs[1]!, dy, false);
          break;
        case 'MaxPool': {
          const dx = this.alloc(xin.length);
          kx.maxPoolBackward(dy, saved.argmax!, dx);
          addGrad(node.inputs[0]!, dx, true);
          break;
        }
        case 'GlobalAveragePool': {
          const dx = this.alloc(xin.length);
          kx.globalAveragePoolBackward(dy, xd[0]! * xd[1]!, elementCount(xd.slice(2)), dx);
          addGrad(node.inputs[0]!, dx, true);
          break;
        }
        case 'Flatten':
        case 'Reshape':
          addGrad(node.inputs[0]!, dy, false);
          break;
        case 'Gemm': {
          const w = this.params.get(node.inputs[1]!)!;
          const [nOut, k] = this.paramDims.get(node.inputs[1]!)! as [number, number];
          const m = xd[0]!;
          const dw = this.alloc(w.length);
          const db = node.inputs[2] ? this.alloc(nOut) : null;
          const dx = needX ? this.alloc(xin.length) : null;
          kx.gemmBackward(xin, w, dy, m, k, nOut, dx, dw, db);
          pg.set(node.inputs[1]!, dw);
          if (db) pg.set(node.inputs[2]!, db);
          if (dx) addGrad(node.inputs[0]!, dx, true);
          break;
        }
        default:
          throw new RangeError(`Expected a trainable op but received ${(node as Node).op}`);
      }
    }
    for (const name of this.params.keys()) if (!pg.has(name)) pg.set(name, this.alloc(this.params.get(name)!.length));
    return { params: pg, values: vg };
  }

  /** Forward, mean softmax cross-entropy against labels, and backward. */
  lossAndGrad(x: Arr, labels: ArrayLike<number>, batch: number): { loss: number; correct: number; grads: Gradients; tape: Tape } {
    const tape = this.forward(x, batch, true);
    const logits = this.output(tape);
    const classes = logits.length / batch;
    const dl = this.alloc(logits.length);
    const { loss, correct } = softmaxCrossEntropy(logits, labels, batch, classes, dl);
    const grads = this.backward(tape, dl);
    return { loss, correct, grads, tape };
  }

  /** Loss and accuracy in inference mode (running BN statistics), in chunks of `batch`. */
  evaluate(x: Arr, labels: ArrayLike<number>, count: number, batch = 100): { loss: number; correct: number } {
    const per = x.length / count;
    let loss = 0, correct = 0;
    for (let i = 0; i < count; i += batch) {
      const b = Math.min(batch, count - i);
      const tape = this.forward(x.subarray(i * per, (i + b) * per), b, false);
      const r = softmaxCrossEntropy(this.output(tape), Array.prototype.slice.call(labels, i, i + b) as number[], b, this.output(tape).length / b, null);
      loss += r.loss * b; correct += r.correct;
    }
    return { loss: loss / count, correct };
  }

  /** A Graph with the trained parameters and running statistics (float32). */
  toGraph(): Graph {
    const g = this.graph.clone();
    for (const [name, a] of [...this.params, ...this.buffers]) {
      const init = g.initializers.get(name)!;
      g.initializers.set(name, { dims: [...init.dims], data: Float32Array.from(a) });
    }
    return g;
  }
}

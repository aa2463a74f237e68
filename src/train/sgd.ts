// SGD with momentum and L2 weight decay, PyTorch's update rule:
//   v ← μ·v + (g + λ·p),   p ← p − η·v
import type { Arr } from './kernels.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

export class Sgd {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly velocity = new Map<string, Float64Array>();

  constructor(options: SgdOptions) {
    if (!(options.lr > 0)) throw new RangeError(`Expected a positive number for lr but received ${options.lr}`);
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new RangeError(`Expected momentum in [0, 1) but received ${this.momentum}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`Expected a non-negative weightDecay but received ${this.weightDecay}`);
  }

  /** Updates every parameter in place from its gradient. */
  step(params: Map<string, Arr>, grads: Map<string, Arr>): void {
    const { lr, momentum: mu, weightDecay: wd } = this;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      let v = this.velocity.get(name);
      if (!v) { v = new Float64Array(p.length); this.velocity.set(name, v); }
      for (let i = 0; i < p.length; i++) {
        const vi = mu * v[i]! + g[i]! + wd * p[i]!;
        v[i] = vi;
        p[i] -= lr * vi;
      }
    }
  }
}

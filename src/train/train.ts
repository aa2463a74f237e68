// train(graph, data, options): minibatch SGD with momentum on softmax
// cross-entropy, BN in training mode, with a cli-progress bar per run.
import cliProgress from 'cli-progress';
import type { Graph } from '../graph/graph.js';
import { Rng } from '../graph/layers.js';
import { TrainableGraph } from './autograd.js';
import type { TrainBackendName } from './backend.js';
import type { Dataset } from './dataset.js';
import { Sgd } from './sgd.js';

/**
 * A multibar train() can draw its bar into: cli-progress's MultiBar fits. Typed
 * here so that resnode's declarations need no @types/cli-progress.
 */
export interface ProgressMultiBar {
  create(total: number, start: number, payload?: object, options?: { format?: string }): { update(value: number, payload?: object): void };
}

export interface TrainOptions {
  epochs: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  batch?: number;
  /** Shuffling seed. Default 0. */
  seed?: number;
  backend?: TrainBackendName | 'auto';
  /** Divide the learning rate by 10 at these fractions of training (He et al. used 0.5 and 0.75). Default none. */
  lrDecayAt?: number[];
  /** Fraction of the steps over which the learning rate ramps linearly from lr/10 to lr (He et al. warmed ResNet-110 up). Default 0. */
  warmup?: number;
  /** Training-error points per epoch in the history. Default 4. */
  pointsPerEpoch?: number;
  /** Show a progress bar (default: when stderr is a TTY), or draw into this multibar. */
  progress?: boolean | ProgressMultiBar;
  /** Label shown on the bar. */
  label?: string;
  /** Examples of the train split to evaluate at the end in inference mode. Default: all. */
  evalTrainCount?: number;
}

export interface TrainPoint {
  /** Fractional epoch at the end of the interval. */
  epoch: number;
  /** Training error over the minibatches of the interval (training-mode BN, as in He et al.'s curves). */
  trainError: number;
  trainLoss: number;
}

export interface TrainResult {
  graph: Graph;
  trainable: TrainableGraph;
  history: TrainPoint[];
  /** Test error after each epoch (inference-mode BN), when a test split was given. */
  testErrorByEpoch: number[];
  /** Final errors in inference mode. */
  finalTrainError: number;
  finalTestError: number | null;
  finalTrainLoss: number;
  seconds: number;
  backend: TrainBackendName;
  steps: number;
}

/** Trains a copy of the graph's parameters; returns the trained graph and the curves. */
export async function train(graph: Graph | TrainableGraph, data: { train: Dataset; test?: Dataset }, options: TrainOptions): Promise<TrainResult> {
  const { epochs, lr } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`Expected a positive integer for epochs but received ${epochs}`);
  const batch = options.batch ?? 64;
  if (!Number.isInteger(batch) || batch < 2) throw new RangeError(`Expected an integer ≥ 2 for batch but received ${batch}`);
  const tg = graph instanceof TrainableGraph ? graph : new TrainableGraph(graph, { backend: options.backend ?? 'auto' });
  const opt = new Sgd({ lr, momentum: options.momentum ?? 0.9, weightDecay: options.weightDecay ?? 1e-4 });
  const { train: tr, test } = data;
  const per = tr.x.length / tr.count;
  const stepsPerEpoch = Math.floor(tr.count / batch);
  if (stepsPerEpoch < 1) throw new RangeError(`Expected at least one batch of ${batch} in the ${tr.count} training examples`);
  const total = epochs * stepsPerEpoch;
  const decay = (options.lrDecayAt ?? []).map((f) => Math.round(f * total));
  const warmupSteps = Math.round((options.warmup ?? 0) * total);
  const ppe = options.pointsPerEpoch ?? 4;
  const every = Math.max(1, Math.floor(stepsPerEpoch / ppe));
  const rng = new Rng(options.seed ?? 0);
  const xb = new Float32Array(batch * per);
  const lb = new Int32Array(batch);
  const history: TrainPoint[] = [];
  const testErrorByEpoch: number[] = [];

  const showBar = options.progress === undefined ? process.stderr.isTTY === true : options.progress !== false;
  const multi = typeof options.progress === 'object' ? options.progress : null;
  const format = `${(options.label ?? tg.graph.name).padEnd(12)} {bar} {value}/{total} steps | epoch {epoch} | loss {loss} | err {err} | {eta_formatted}`;
  const single = showBar && !multi ? new cliProgress.SingleBar({ format, hideCursor: true, stream: process.stderr, etaBuffer: 20, noTTYOutput: true, notTTYSchedule: 30000 }, cliProgress.Presets.shades_classic) : null;
  const bar = multi ? multi.create(total, 0, { epoch: 0, loss: '-', err: '-' }, { format }) : single;
  single?.start(total, 0, { epoch: 0, loss: '-', err: '-' });

  const t0 = performance.now();
  let step = 0;
  let accLoss = 0, accWrong = 0, accN = 0;
  for (let e = 0; e < epochs; e++) {
    const order = Int32Array.from({ length: tr.count }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rng.uniform() * (i + 1)); const t = order[i]!; order[i] = order[j]!; order[j] = t; }
    for (let s = 0; s < stepsPerEpoch; s++) {
      for (let b = 0; b < batch; b++) {
        const idx = order[s * batch + b]!;
        xb.set(tr.x.subarray(idx * per, (idx + 1) * per), b * per);
        lb[b] = tr.labels[idx]!;
      }
      const decays = decay.filter((d) => step >= d).length;
      const ramp = step < warmupSteps ? 0.1 + 0.9 * step / warmupSteps : 1;
      opt.lr = lr * ramp / 10 ** decays;
      const { loss, correct, grads } = tg.lossAndGrad(xb, lb, batch);
      if (!Number.isFinite(loss)) throw new RangeError(`Training diverged at step ${step} (loss ${loss}); lower lr`);
      opt.step(tg.params, grads.params);
      step++;
      accLoss += loss * batch; accWrong += batch - correct; accN += batch;
      // Intervals of `every` steps; a short remainder joins the epoch's last interval.
      const endOfInterval = s === stepsPerEpoch - 1 || ((s + 1) % every === 0 && stepsPerEpoch - (s + 1) >= every);
      if (endOfInterval) {
        history.push({ epoch: step / stepsPerEpoch, trainError: accWrong / accN, trainLoss: accLoss / accN });
        bar?.update(step, { epoch: (step / stepsPerEpoch).toFixed(2), loss: (accLoss / accN).toFixed(3), err: (accWrong / accN).toFixed(3) });
        accLoss = 0; accWrong = 0; accN = 0;
      } else bar?.update(step);
      // Let the progress bar's timer run.
      if (bar) await new Promise<void>((r) => setImmediate(r));
    }
    if (test) testErrorByEpoch.push(1 - tg.evaluate(test.x, test.labels, test.count, 200).correct / test.count);
  }
  const nEval = Math.min(tr.count, options.evalTrainCount ?? tr.count);
  const fin = tg.evaluate(tr.x.subarray(0, nEval * per), tr.labels.subarray(0, nEval), nEval, 200);
  const finalTest = test ? testErrorByEpoch[testErrorByEpoch.length - 1]! : null;
  single?.stop();
  bar?.update(total, { epoch: epochs, err: (1 - fin.correct / nEval).toFixed(3) });
  return {
    graph: tg.toGraph(), trainable: tg, history, testErrorByEpoch,
    finalTrainError: 1 - fin.correct / nEval, finalTestError: finalTest, finalTrainLoss: fin.loss,
    seconds: (performance.now() - t0) / 1000, backend: tg.kernels.name, steps: step,
  };
}

// The CIFAR-10 ResNets of He et al. (2015), section 4.2: 6n+2 weighted layers.
//   conv3×3(16) → 3 stages × n basic blocks (16, 32, 64 channels; the first
//   block of stages 2 and 3 has stride 2) → global average pool → fc.
// Shortcuts: identity where shapes agree; where they change (the first block
// of stages 2 and 3) a 1×1 stride-2 projection conv + BN, i.e. option B of
// the paper. (The paper's CIFAR runs used option A, zero-padded identity, which
// the graph IR has no op for.) The projections are not counted in the 6n+2.
// `plain: true` drops every shortcut (the paper's "plain" networks).
// Initialisation as in the paper / torchvision: He-normal (fan_out) convs,
// BN γ = 1, β = 0 (running mean 0, var 1), PyTorch's default for the fc.
import { GraphBuilder } from './layers.js';
import type { Graph } from './graph.js';

export type CifarResNetDepth = 20 | 32 | 44 | 56 | 110;

export interface CifarResNetOptions {
  depth: CifarResNetDepth;
  variant: 'cifar';
  plain?: boolean;
  numClasses?: number;
  inChannels?: number;
  /** Input height and width. Default 32. */
  inputSize?: number;
  seed?: number;
  /** Batch size; -1 (default) gives a dynamic batch. */
  batch?: number;
  /** Base width (channels of stage 1). Default 16. */
  width?: number;
}

export const CIFAR_DEPTHS: readonly CifarResNetDepth[] = [20, 32, 44, 56, 110];

export function isCifarOptions(o: unknown): o is CifarResNetOptions {
  return typeof o === 'object' && o !== null && (o as { variant?: unknown }).variant === 'cifar';
}

/** Graph "input" [batch, 3, 32, 32] → "output" [batch, numClasses]. */
export function cifarResnet(options: CifarResNetOptions): Graph {
  const depth = options.depth;
  if (!CIFAR_DEPTHS.includes(depth)) throw new RangeError(`Expected depth 20, 32, 44, 56 or 110 for resnet({variant: 'cifar'}) but received ${String(depth)}`);
  const n = (depth - 2) / 6;
  const plain = options.plain ?? false;
  const numClasses = options.numClasses ?? 10;
  const inChannels = options.inChannels ?? 3;
  const size = options.inputSize ?? 32;
  const width = options.width ?? 16;
  const batch = options.batch ?? -1;
  for (const [k, v] of Object.entries({ numClasses, inChannels, size, width })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Expected a positive integer for resnet() option ${k} but received ${v}`);
  }
  if (!(batch === -1 || (Number.isInteger(batch) && batch >= 1))) throw new RangeError(`Expected -1 or a positive integer for resnet() option batch but received ${batch}`);

  const b = new GraphBuilder({ seed: options.seed ?? 0 });
  const bn = (x: string, name: string): string => b.batchNorm(x, { name });
  let x = b.input('input', [batch, inChannels, size, size]);
  x = b.relu(bn(b.conv(x, { name: 'conv1', outChannels: width, kernel: 3, pad: 1 }), 'bn1'), 'relu');
  let inplanes = width;
  for (let s = 0; s < 3; s++) {
    const planes = width * 2 ** s;
    for (let i = 0; i < n; i++) {
      const stride = s > 0 && i === 0 ? 2 : 1;
      const p = `layer${s + 1}.${i}`;
      const identity = x;
      let y = b.relu(bn(b.conv(x, { name: `${p}.conv1`, outChannels: planes, kernel: 3, stride, pad: 1 }), `${p}.bn1`), `${p}.relu1`);
      y = bn(b.conv(y, { name: `${p}.conv2`, outChannels: planes, kernel: 3, pad: 1 }), `${p}.bn2`);
      if (!plain) {
        let sc = identity;
        if (stride !== 1 || inplanes !== planes) {
          sc = bn(b.conv(identity, { name: `${p}.shortcut.0`, outChannels: planes, kernel: 1, stride }), `${p}.shortcut.1`);
        }
        y = b.add(y, sc, `${p}.add`);
      }
      x = b.relu(y, `${p}.relu`);
      inplanes = planes;
    }
  }
  x = b.flatten(b.globalAveragePool(x, 'avgpool'), 1, 'flatten');
  b.output(b.gemm(x, { name: 'fc', outFeatures: numClasses }), 'output');
  const g = b.build(`${plain ? 'plain' : 'resnet'}${depth}_cifar`);
  // Training-time BN initialisation: γ = 1, β = 0, running mean 0, running var 1.
  for (const node of g.nodes) {
    if (node.op !== 'BatchNormalization') continue;
    const [, gm, bt, mu, vr] = node.inputs as [string, string, string, string, string];
    g.initializers.get(gm)!.data.fill(1);
    g.initializers.get(bt)!.data.fill(0);
    g.initializers.get(mu)!.data.fill(0);
    g.initializers.get(vr)!.data.fill(1);
  }
  return g;
}

/** Names of the 6n+2 weighted layers (convs and fc) in depth order, shortcut projections excluded. */
export function mainPathLayers(g: Graph): { node: string; weight: string; input: string }[] {
  return g.nodes
    .filter((nd) => (nd.op === 'Conv' || nd.op === 'Gemm') && !nd.name.includes('.shortcut.'))
    .map((nd) => ({ node: nd.name, weight: nd.inputs[1]!, input: nd.inputs[0]! }));
}

// ResNet builders matching torchvision's architecture and parameter names.
import { GraphBuilder } from './layers.js';
import type { Graph } from './graph.js';
import { cifarResnet, isCifarOptions, type CifarResNetOptions } from './cifar.js';

export type ResNetDepth = 18 | 34 | 50 | 101 | 152;

export interface ResNetOptions {
  depth: ResNetDepth;
  /** Drop every shortcut (the "plain network" of He et al.). Default false. */
  plain?: boolean;
  /** Base width (channels of the stem and layer1). Default 64. */
  width?: number;
  numClasses?: number;
  inChannels?: number;
  seed?: number;
  /** Batch size; -1 (default) gives a dynamic batch. */
  batch?: number;
  /** Input height and width. Default 224. */
  inputSize?: number | [number, number];
}

const BLOCKS: Record<ResNetDepth, { bottleneck: boolean; layers: [number, number, number, number] }> = {
  18: { bottleneck: false, layers: [2, 2, 2, 2] },
  34: { bottleneck: false, layers: [3, 4, 6, 3] },
  50: { bottleneck: true, layers: [3, 4, 6, 3] },
  101: { bottleneck: true, layers: [3, 4, 23, 3] },
  152: { bottleneck: true, layers: [3, 8, 36, 3] },
};

/**
 * Build a ResNet graph (input "input" [batch, inChannels, H, W] → output "output"
 * [batch, numClasses]) with He-initialised weights and non-trivial BN statistics.
 */
export function resnet(options: ResNetOptions | CifarResNetOptions): Graph {
  if (isCifarOptions(options)) return cifarResnet(options); // 6n+2-layer CIFAR nets: see cifar.ts
  const spec = BLOCKS[options.depth];
  if (!spec) {
    const cifar = [20, 32, 44, 56, 110].includes(options.depth as number) ? `; the CIFAR ResNet-${String(options.depth)} is resnet({ depth: ${String(options.depth)}, variant: 'cifar' }) or cifarResnet()` : '';
    throw new RangeError(`Expected depth 18, 34, 50, 101 or 152 for resnet() but received ${String(options.depth)}${cifar}`);
  }
  const width = options.width ?? 64;
  const numClasses = options.numClasses ?? 1000;
  const inChannels = options.inChannels ?? 3;
  const batch = options.batch ?? -1;
  const plain = options.plain ?? false;
  const [h, w] = typeof options.inputSize === 'number' ? [options.inputSize, options.inputSize] : options.inputSize ?? [224, 224];
  for (const [k, v] of Object.entries({ width, numClasses, inChannels, h, w })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Expected a positive integer for resnet() option ${k} but received ${v}`);
  }
  if (!(batch === -1 || (Number.isInteger(batch) && batch >= 1))) throw new RangeError(`Expected -1 or a positive integer for resnet() option batch but received ${batch}`);

  const b = new GraphBuilder({ seed: options.seed ?? 0 });
  let x = b.input('input', [batch, inChannels, h, w]);
  x = b.conv(x, { name: 'conv1', outChannels: width, kernel: 7, stride: 2, pad: 3 });
  x = b.batchNorm(x, { name: 'bn1' });
  x = b.relu(x, 'relu');
  x = b.maxPool(x, { name: 'maxpool', kernel: 3, stride: 2, pad: 1 });

  const expansion = spec.bottleneck ? 4 : 1;
  let inplanes = width;
  spec.layers.forEach((count, li) => {
    const planes = width * 2 ** li;
    for (let bi = 0; bi < count; bi++) {
      const stride = li > 0 && bi === 0 ? 2 : 1;
      const p = `layer${li + 1}.${bi}`;
      const identity = x;
      let y: string;
      if (spec.bottleneck) {
        y = b.relu(b.batchNorm(b.conv(x, { name: `${p}.conv1`, outChannels: planes, kernel: 1 }), { name: `${p}.bn1` }), `${p}.relu1`);
        y = b.relu(b.batchNorm(b.conv(y, { name: `${p}.conv2`, outChannels: planes, kernel: 3, stride, pad: 1 }), { name: `${p}.bn2` }), `${p}.relu2`);
        y = b.batchNorm(b.conv(y, { name: `${p}.conv3`, outChannels: planes * 4, kernel: 1 }), { name: `${p}.bn3`, gammaRange: [0.2, 0.6] });
      } else {
        y = b.relu(b.batchNorm(b.conv(x, { name: `${p}.conv1`, outChannels: planes, kernel: 3, stride, pad: 1 }), { name: `${p}.bn1` }), `${p}.relu1`);
        y = b.batchNorm(b.conv(y, { name: `${p}.conv2`, outChannels: planes, kernel: 3, pad: 1 }), { name: `${p}.bn2`, gammaRange: [0.2, 0.6] });
      }
      if (!plain) {
        let shortcut = identity;
        if (stride !== 1 || inplanes !== planes * expansion) {
          shortcut = b.conv(identity, { name: `${p}.downsample.0`, outChannels: planes * expansion, kernel: 1, stride });
          shortcut = b.batchNorm(shortcut, { name: `${p}.downsample.1` });
        }
        y = b.add(y, shortcut, `${p}.add`);
      }
      x = b.relu(y, `${p}.relu`);
      inplanes = planes * expansion;
    }
  });

  x = b.globalAveragePool(x, 'avgpool');
  x = b.flatten(x, 1, 'flatten');
  x = b.gemm(x, { name: 'fc', outFeatures: numClasses });
  b.output(x, 'output');
  return b.build(`resnet${options.depth}${plain ? '_plain' : ''}`);
}

// resnode gradflow: per-layer gradient norms at initialisation of CIFAR-style
// plain and residual networks, as a table and an SVG (log-scale y).
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { resnet } from '../graph/resnet.js';
import { CIFAR_DEPTHS, type CifarResNetDepth } from '../graph/cifar.js';
import { gradientFlow, type GradientFlow } from '../train/gradflow.js';
import { lineChartSvg, PALETTE, type Series } from '../train/svg.js';
import { formatTable } from '../table.js';

const depthList = (v: string): CifarResNetDepth[] => {
  const d = v.split(',').map((s) => Number(s.trim()));
  if (d.some((x) => !CIFAR_DEPTHS.includes(x as CifarResNetDepth))) throw new InvalidArgumentError(`expected depths among ${CIFAR_DEPTHS.join(', ')}`);
  return d as CifarResNetDepth[];
};
const variantList = (v: string): ('plain' | 'residual')[] => {
  const d = v.split(',').map((s) => s.trim());
  if (d.some((x) => x !== 'plain' && x !== 'residual')) throw new InvalidArgumentError("expected 'plain' and/or 'residual'");
  return d as ('plain' | 'residual')[];
};
const posInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 2) throw new InvalidArgumentError('expected an integer ≥ 2');
  return n;
};

export interface GradflowRun { depth: number; variant: 'plain' | 'residual'; flow: GradientFlow }

export function runGradflow(depths: CifarResNetDepth[], variants: ('plain' | 'residual')[], o: { batch: number; seed: number; backend?: 'native' | 'js' | 'auto' }): GradflowRun[] {
  const runs: GradflowRun[] = [];
  for (const variant of variants) for (const depth of depths) {
    const g = resnet({ depth, variant: 'cifar', plain: variant === 'plain', seed: o.seed });
    runs.push({ depth, variant, flow: gradientFlow(g, { batch: o.batch, seed: o.seed, backend: o.backend }) });
  }
  return runs;
}

export function gradflowSvg(runs: GradflowRun[], caption: string): string {
  // One colour per depth; dashed = plain, solid = residual.
  const depths = [...new Set(runs.map((r) => r.depth))];
  const series = (key: 'weightGradNorm' | 'inputGradNorm'): Series[] => runs.map((r) => ({
    label: `${r.variant === 'plain' ? 'plain' : 'ResNet'}-${r.depth}`,
    x: r.flow.layers.map((l) => l.index),
    y: r.flow.layers.map((l) => l[key]),
    color: PALETTE[depths.indexOf(r.depth) % PALETTE.length]!,
    dash: r.variant === 'plain',
  }));
  return lineChartSvg([
    { title: '‖∂L/∂W‖ per layer at initialisation', xLabel: 'layer index (1 = first conv, last = fc)', yLabel: '‖∂L/∂W‖ (log scale)', series: series('weightGradNorm'), logY: true },
    { title: '‖∂L/∂x‖ per layer at initialisation', xLabel: 'layer index (x = the layer\'s input)', yLabel: '‖∂L/∂x‖ (log scale)', series: series('inputGradNorm'), logY: true },
  ], { caption });
}

export function register(program: Command): void {
  program
    .command('gradflow')
    .description('per-layer gradient norms at initialisation of CIFAR-style plain and residual nets (SVG, log-scale y)')
    .option('--depth <list>', 'depths among 20,32,44,56,110', depthList, [20, 56, 110] as CifarResNetDepth[])
    .option('--variants <list>', 'plain,residual', variantList, ['plain', 'residual'] as ('plain' | 'residual')[])
    .option('--batch <n>', 'batch size of the synthetic-shapes batch', posInt, 32)
    .option('--seed <n>', 'weights and data seed', (v) => Number(v), 0)
    .option('--backend <name>', "'native', 'js' or 'auto'", 'auto')
    .option('--svg <file>', 'write the figure here')
    .option('--json', 'machine-readable output')
    .action(async (o: { depth: CifarResNetDepth[]; variants: ('plain' | 'residual')[]; batch: number; seed: number; backend: 'native' | 'js' | 'auto'; svg?: string; json?: boolean }) => {
      const runs = runGradflow(o.depth, o.variants, o);
      if (o.svg) await writeFile(o.svg, gradflowSvg(runs, `CIFAR-style nets, option-B shortcuts, batch ${o.batch} of synthetic shapes, seed ${o.seed}, BN in training mode`));
      if (o.json) { console.log(JSON.stringify(runs.map((r) => ({ depth: r.depth, variant: r.variant, loss: r.flow.loss, layers: r.flow.layers })))); return; }
      const rows = runs.map((r) => {
        const L = r.flow.layers, first = L[0]!, last = L[L.length - 1]!;
        return [`${r.variant}-${r.depth}`, String(L.length), first.weightGradNorm.toExponential(2), last.weightGradNorm.toExponential(2), first.inputGradNorm.toExponential(2), last.inputGradNorm.toExponential(2), (first.inputGradNorm / last.inputGradNorm).toExponential(1)];
      });
      console.log(formatTable(['network', 'layers', '‖∂L/∂W‖ first', '‖∂L/∂W‖ fc', '‖∂L/∂x‖ first', '‖∂L/∂x‖ fc', 'x-grad first/fc'], rows));
      if (o.svg) console.log(`\nwrote ${o.svg}`);
    });
}

// Markdown and SVG renderings of a benchmark report, for bench/results/.
import type { BenchReport, LayerRow } from './run.js';
import { formatTable } from '../table.js';

const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));

export function resultRows(r: BenchReport): string[][] {
  return r.results.map((c) => [
    c.label, String(c.batch), f1(c.latency.median), `±${(100 * c.latency.spread).toFixed(0)}%`, f1(c.imagesPerSecond), f1(c.gflops), f1(c.percentOfPeak),
    f2(c.latencyVsOrt), c.latencyVsOrt ? f2(1 / c.latencyVsOrt) : '–', f1(c.loadMs), f1(c.peakRssMb),
  ]);
}

export const RESULT_HEADER = ['backend', 'batch', 'median ms', 'spread', 'images/s', 'GFLOP/s', '% peak', 'latency ÷ ORT', 'throughput × ORT', 'load ms', 'peak RSS MB'];

/**
 * What each of our kernel families does per call that ORT's NCHWc kernels (the
 * ones its profiler times) do not: the reasons behind the per-kernel ratios.
 */
const KERNEL_COSTS: { prefix: string; op: string; why: string }[] = [
  { prefix: 'f32_dconv_', op: 'Conv', why: 'direct convolution with output channels in the lanes: each call first copies a zero-padded block of its NCHW input into scratch; ORT keeps activations in 16-channel blocks (NCHWc) and handles padding in the kernel, so it reads its input in place' },
  { prefix: 'f32_gemm_', op: 'Conv', why: 'GEMM over the NCHW input: each call packs B panels of 32 pixels, every panel from K rows that lie H×W floats apart (a memory stream per input channel, more than the hardware prefetchers follow); ORT\'s NCHWc 1×1 kernel reads 16-channel blocks contiguously' },
  { prefix: 'f32_gemm_', op: 'Gemm', why: 'fully connected layer: streams its weights once per run, as ORT does' },
  { prefix: 'f32_winograd_', op: 'Conv', why: 'Winograd F(4×4,3×3) or F(2×2,3×3) (fast mode): input and output transforms on every call, and transformed weights 4× (1.8×) the size of the direct ones' },
  { prefix: 'bf16_gemm_', op: 'Conv', why: 'bf16 mode: the GEMM above with B panels rounded to bf16 pairs as they are packed (one more pass over each panel in L1) and vdpbf16ps, which on CPUs where it retires slower than vfmadd231ps does fewer multiply-adds per second than the fp32 kernels (bench/results/bf16.md)' },
  { prefix: 'f32_conv_direct_', op: 'Conv', why: 'a plain loop, for grouped convolutions with very few channels per group' },
];

/**
 * Every layer grouped by the micro-kernel that ran it (by op where the backend
 * names none), the groups that lose the most to ORT first, and the reasons
 * that apply to the kernels present.
 */
export function byKernel(rows: LayerRow[]): { table: string[][]; why: string[] } {
  const groups = new Map<string, LayerRow[]>();
  for (const l of rows) {
    const key = `${l.op} ${l.kernel ?? ''}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(l);
  }
  const sums = [...groups.values()].map((ls) => {
    const ours = ls.reduce((a, l) => a + l.oursMs, 0);
    const ort = ls.every((l) => l.ortMs !== undefined) ? ls.reduce((a, l) => a + l.ortMs!, 0) : undefined;
    return { ...ls[0]!, count: ls.length, ours, ort, loss: ort === undefined ? 0 : ours - ort };
  });
  sums.sort((a, b) => b.loss - a.loss);
  const costs = KERNEL_COSTS.filter((k) => sums.some((g) => g.op === k.op && g.kernel?.startsWith(k.prefix)));
  return {
    table: sums.map((g) => [g.kernel ?? '–', g.op, String(g.count), g.ours.toFixed(2), f2(g.ort), g.ort ? (g.ours / g.ort).toFixed(2) : '–', g.ort !== undefined ? g.loss.toFixed(2) : '–']),
    why: costs.map((k) => `- \`${k.prefix}*\` (${k.op}): ${k.why}.`),
  };
}

/** How the race was measured, from the report's harness record. */
export function method(r: BenchReport): string {
  const h = r.harness;
  const how = h
    ? `Each contender ran in its own child process, loaded once and kept warm: ${h.warmupRounds} warm-up and ${h.rounds} timed rounds; in each round every contender in turn did ${h.roundRuns} back-to-back timed runs (the JS backend one), the order rotating by round, with a ${h.pauseMs} ms pause after each turn so that no thread pool was still spinning when the next contender started. ORT ran with its default threading (spinning on): session options \`${JSON.stringify(h.ortOptions ?? {})}\`.`
    : 'How the race was run was not recorded.';
  return `${how} Medians over all timed runs. Load time and peak RSS come from a fresh child process per contender. This machine is a shared 2-vCPU VM: trust the ratios of one run more than any single latency.`;
}

export function toMarkdown(r: BenchReport): string {
  const md = (header: string[], rows: string[][]) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
  const lines = [
    `# Benchmark: ${r.model}`,
    '',
    `${r.date}, ${r.threads} threads, ISA ${r.isa}, measured FMA peak ${f1(r.peakGflops)} GFLOP/s, ${r.vnniPeakGops !== undefined ? `VNNI (vpdpbusd) peak ${f1(r.vnniPeakGops)} GOP/s, ` : ''}${(r.flopsPerImage / 1e9).toFixed(2)} GFLOP per image.`,
    method(r),
    '',
    md(RESULT_HEADER, resultRows(r)),
  ];
  for (const layers of r.layers ?? []) {
    const total = layers.rows.reduce((a, b) => a + b.oursMs, 0);
    const rows = [...layers.rows].sort((a, b) => b.oursMs - a.oursMs).slice(0, 25)
      .map((l) => [l.name, l.op, l.kernel ?? '–', l.oursMs.toFixed(2), f2(l.ortMs), l.ortMs !== undefined ? (l.oursMs - l.ortMs).toFixed(2) : '–', ((100 * l.oursMs) / total).toFixed(1)]);
    const ortTotal = layers.rows.reduce((a, b) => a + (b.ortMs ?? 0), 0);
    const kernels = byKernel(layers.rows);
    const runOf = (label: string) => r.results.find((c) => c.label === label && c.batch === layers.batch)?.latency.median;
    lines.push('', `## Where the time goes: ${layers.label}, batch ${layers.batch} (ours from our profiler, ORT from its own, medians of 9 profiled runs each, the two alternating)`, '',
      `Summed over all layers: ours ${total.toFixed(1)} ms (run median ${f1(runOf(layers.label))}), ORT ${ortTotal.toFixed(1)} ms (run median ${f1(runOf('onnxruntime-node'))}). `
      + 'Ours times each step\'s whole call; ORT\'s profiler times its kernels only, without its layout reorders, thread wake-ups and session overhead, so its layers add up to less than its runs.',
      '', '### By kernel: which layers lose the time, and why', '',
      'Every layer, grouped by the micro-kernel that ran it (by op where none is named), the groups that lose the most to ORT first.', '',
      md(['our kernel', 'op', 'layers', 'ours ms', 'ORT ms', 'ours ÷ ORT', 'ours − ORT ms'], kernels.table),
      '', 'What each kernel does per call that ORT\'s kernels do not:', '', ...kernels.why,
      '', '### The 25 slowest layers', '',
      md(['layer', 'op', 'our kernel', 'ours ms', 'ORT ms', 'ours − ORT ms', '% of ours'], rows));
  }
  return `${lines.join('\n')}\n`;
}

export function toText(r: BenchReport): string {
  return formatTable(RESULT_HEADER, resultRows(r));
}

/** A grouped bar chart of median latency per batch, one bar per contender. */
export function toSvg(r: BenchReport): string {
  const batches = [...new Set(r.results.map((c) => c.batch))];
  const labels = [...new Set(r.results.map((c) => c.label))];
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const W = 720, H = 360, left = 70, bottom = 50, top = 40, right = 20;
  const plotW = W - left - right, plotH = H - top - bottom;
  // Latency per image, so batches share one axis.
  const value = (c: (typeof r.results)[number]) => c.latency.median / c.batch;
  const max = Math.max(...r.results.map(value)) * 1.1;
  const log = max / Math.min(...r.results.map(value)) > 50;
  const y = (v: number) => top + plotH - (log ? (Math.log10(v) - Math.log10(Math.min(...r.results.map(value)) / 2)) / (Math.log10(max) - Math.log10(Math.min(...r.results.map(value)) / 2)) : v / max) * plotH;
  const groupW = plotW / batches.length;
  const barW = (groupW * 0.8) / labels.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${r.model}: ms per image (${log ? 'log scale, ' : ''}lower is better), ${r.threads} threads</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`,
  ];
  batches.forEach((b, bi) => {
    parts.push(`<text x="${left + groupW * (bi + 0.5)}" y="${top + plotH + 20}" text-anchor="middle">batch ${b}</text>`);
    labels.forEach((l, li) => {
      const c = r.results.find((x) => x.batch === b && x.label === l);
      if (!c) return;
      const x = left + groupW * bi + groupW * 0.1 + li * barW;
      const yy = y(value(c));
      parts.push(`<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - yy).toFixed(1)}" fill="${colors[li % colors.length]}"/>`);
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(yy - 4).toFixed(1)}" text-anchor="middle" font-size="10">${value(c).toFixed(1)}</text>`);
    });
  });
  labels.forEach((l, li) => {
    parts.push(`<rect x="${left + 10 + li * 150}" y="${H - 18}" width="10" height="10" fill="${colors[li % colors.length]}"/>`);
    parts.push(`<text x="${left + 24 + li * 150}" y="${H - 9}">${l}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

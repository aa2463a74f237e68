// Markdown and SVG renderings of a benchmark report, for bench/results/.
import type { BenchReport } from './run.js';
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

export function toMarkdown(r: BenchReport): string {
  const md = (header: string[], rows: string[][]) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
  const lines = [
    `# Benchmark: ${r.model}`,
    '',
    `${r.date}, ${r.threads} threads, ISA ${r.isa}, measured FMA peak ${f1(r.peakGflops)} GFLOP/s, ${(r.flopsPerImage / 1e9).toFixed(2)} GFLOP per image.`,
    'All contenders ran interleaved in one process (warm-up, then alternating rounds, 30 ms apart so that no thread pool is still spinning when the next contender starts; ORT runs with `allow_spinning=0` for the same reason, which measured no slower than its default). Load time and peak RSS come from a fresh child process per contender. This machine is a shared 2-vCPU VM: trust the ratios of one run more than any single latency.',
    '',
    md(RESULT_HEADER, resultRows(r)),
  ];
  if (r.layers) {
    const total = r.layers.rows.reduce((a, b) => a + b.oursMs, 0);
    const rows = [...r.layers.rows].sort((a, b) => b.oursMs - a.oursMs).slice(0, 25).map((l) => [l.name, l.op, l.oursMs.toFixed(2), f2(l.ortMs), ((100 * l.oursMs) / total).toFixed(1)]);
    const ortTotal = r.layers.rows.reduce((a, b) => a + (b.ortMs ?? 0), 0);
    const runOf = (kind: string) => r.results.find((c) => c.kind === kind && c.batch === r.layers!.batch)?.latency.median;
    lines.push('', `## Where the time goes (batch ${r.layers.batch}, the 25 slowest layers; ours from our profiler, ORT from its own, medians of 9 profiled runs each, the two alternating)`, '',
      `Summed over all layers: ours ${total.toFixed(1)} ms (run median ${f1(runOf('native'))}), ORT ${ortTotal.toFixed(1)} ms (run median ${f1(runOf('ort'))}). `
      + 'Ours times each step\'s whole call; ORT\'s profiler times its kernels only, without its layout reorders, thread wake-ups and session overhead, so its layers add up to less than its runs.',
      '', md(['layer', 'op', 'ours ms', 'ORT ms', '% of ours'], rows));
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

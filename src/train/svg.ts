// Minimal SVG line charts (no dependencies): linear or log-10 y axis, one
// polyline per series, a legend, and several panels side by side.
export interface Series {
  label: string;
  x: number[];
  y: number[];
  color: string;
  dash?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  yMin?: number;
  yMax?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(3)));

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(+v.toPrecision(12));
  return out;
}

function panelSvg(p: Panel, ox: number, oy: number, w: number, h: number): string {
  const m = { l: 62, r: 12, t: 28, b: 42 };
  const pw = w - m.l - m.r, ph = h - m.t - m.b;
  const xs = p.series.flatMap((s) => s.x), ysRaw = p.series.flatMap((s) => s.y).filter((v) => Number.isFinite(v) && (!p.logY || v > 0));
  const xMin = Math.min(...xs), xMax = Math.max(...xs);
  const tf = (v: number): number => (p.logY ? Math.log10(v) : v);
  let yLo = p.yMin !== undefined ? tf(p.yMin) : Math.min(...ysRaw.map(tf));
  let yHi = p.yMax !== undefined ? tf(p.yMax) : Math.max(...ysRaw.map(tf));
  if (p.logY) { yLo = Math.floor(yLo); yHi = Math.ceil(yHi); }
  if (yHi === yLo) yHi = yLo + 1;
  const X = (v: number): number => ox + m.l + ((v - xMin) / (xMax - xMin || 1)) * pw;
  const Y = (v: number): number => oy + m.t + ph - ((tf(v) - yLo) / (yHi - yLo)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${ox + m.l + pw / 2}" y="${oy + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  const yt = p.logY ? Array.from({ length: yHi - yLo + 1 }, (_, i) => 10 ** (yLo + i)) : niceTicks(yLo, yHi);
  for (const v of yt) {
    const y = Y(v);
    parts.push(`<line x1="${ox + m.l}" x2="${ox + m.l + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${ox + m.l - 5}" y="${y + 4}" text-anchor="end" font-size="11">${p.logY ? `1e${Math.round(Math.log10(v))}` : fmt(v)}</text>`);
  }
  for (const v of niceTicks(xMin, xMax, 6)) {
    const x = X(v);
    parts.push(`<line x1="${x}" x2="${x}" y1="${oy + m.t + ph}" y2="${oy + m.t + ph + 4}" stroke="#444"/>`);
    parts.push(`<text x="${x}" y="${oy + m.t + ph + 16}" text-anchor="middle" font-size="11">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${ox + m.l + pw / 2}" y="${oy + h - 6}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`);
  parts.push(`<text transform="translate(${ox + 14},${oy + m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  for (const s of p.series) {
    const pts = s.x.map((x, i) => [x, s.y[i]!] as const).filter(([, y]) => Number.isFinite(y) && (!p.logY || y > 0));
    const d = pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dash ? ' stroke-dasharray="6 3"' : ''} points="${d}"/>`);
  }
  p.series.forEach((s, i) => {
    const lx = ox + m.l + pw - 150, ly = oy + m.t + 14 + i * 16;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="6 3"' : ''}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return parts.join('\n');
}

/** Panels laid out left to right, each w × h pixels. */
export function lineChartSvg(panels: Panel[], options: { width?: number; height?: number; caption?: string } = {}): string {
  const w = options.width ?? 520, h = options.height ?? 380;
  const capH = options.caption ? 22 : 0;
  const W = w * panels.length, H = h + capH;
  const body = panels.map((p, i) => panelSvg(p, i * w, 0, w, h)).join('\n');
  const cap = options.caption ? `<text x="${W / 2}" y="${h + 15}" text-anchor="middle" font-size="11" fill="#555">${esc(options.caption)}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n${cap}\n</svg>\n`;
}

/** Distinct colours for up to 8 series. */
export const PALETTE = ['#d62728', '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

// A small horizontal bar chart (one bar per row, a dashed target line) for
// the contention and concurrency reports.
export interface Bar { label: string; value: number }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barsSvg(title: string, bars: Bar[], unit: string, target?: { value: number; label: string }): string {
  // About 7 px per character of a 13 px sans-serif label.
  const labelW = Math.max(120, 16 + 7 * Math.max(...bars.map((b) => b.label.length))), barW = 360, rowH = 26, top = 40;
  const max = Math.max(...bars.map((b) => b.value), target?.value ?? 0) * 1.1 || 1;
  const x = (v: number) => labelW + (v / max) * barW;
  const height = top + bars.length * rowH + 30;
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 4}" width="${(x(b.value) - labelW).toFixed(1)}" height="${rowH - 8}" fill="#4a7bd0"/>` +
      `<text x="${(x(b.value) + 6).toFixed(1)}" y="${y + 16}">${b.value.toFixed(2)}${esc(unit)}</text>`;
  });
  const line = target
    ? `<line x1="${x(target.value).toFixed(1)}" y1="${top - 4}" x2="${x(target.value).toFixed(1)}" y2="${top + bars.length * rowH}" stroke="#c33" stroke-dasharray="4 3"/>` +
      `<text x="${x(target.value).toFixed(1)}" y="${top + bars.length * rowH + 18}" text-anchor="middle" fill="#c33">${esc(target.label)}</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 90}" height="${height}" font-family="sans-serif" font-size="13">` +
    `<text x="10" y="22" font-weight="bold">${esc(title)}</text>${rows.join('')}${line}</svg>\n`;
}

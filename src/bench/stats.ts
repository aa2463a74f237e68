// Summaries of repeated timings.
export interface Summary {
  median: number;
  min: number;
  p90: number;
  /** (p90 − min) / median: how noisy the runs were. */
  spread: number;
  n: number;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const median = at(0.5);
  return { median, min: s[0]!, p90: at(0.9), spread: (at(0.9) - s[0]!) / median, n: s.length };
}

/** The middle sample (the mean of the two middle ones for an even count). */
export function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Summary statistics of latency samples (milliseconds). */

export interface Summary {
  n: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new RangeError("no samples");
  return [...samples].sort((a, b) => a - b);
}

/** The median (mean of the two middle values for an even count). */
export function median(samples: readonly number[]): number {
  const s = sorted(samples);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, `p` in (0, 1]. */
export function percentile(samples: readonly number[], p: number): number {
  const s = sorted(samples);
  return s[Math.min(s.length, Math.max(1, Math.ceil(p * s.length))) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = sorted(samples);
  return {
    n: s.length,
    medianMs: round(median(s)),
    p90Ms: round(percentile(s, 0.9)),
    meanMs: round(s.reduce((sum, x) => sum + x, 0) / s.length),
    minMs: round(s[0]!),
    maxMs: round(s[s.length - 1]!),
  };
}

/** Rounded to the microsecond (3 decimals of a millisecond), for readable JSON. */
export function round(ms: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(ms * factor) / factor;
}

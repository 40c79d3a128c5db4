/** Nearest-rank percentiles and the number formats of the benchmark's tables. */

export interface Distribution {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}

/** Nearest-rank percentiles: with few samples p95 and p99 are the maximum. */
export function distribution(values: (number | null)[]): Distribution {
  const sorted = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted.length === 0 ? null : round(sorted[Math.ceil((p / 100) * sorted.length) - 1]!);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    mean: sorted.length ? round(sum / sorted.length) : null,
    min: sorted.length ? round(sorted[0]!) : null,
    max: sorted.length ? round(sorted[sorted.length - 1]!) : null,
  };
}

export function fmt(value: number | null): string {
  if (value === null) return '–';
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

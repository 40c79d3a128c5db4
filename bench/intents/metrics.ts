/** Scores of the intent and slot evaluation: pure, so they are unit-tested on known answers. */

export interface LabelScore {
  label: string;
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationScore {
  n: number;
  accuracy: number;
  macroF1: number;
  perLabel: LabelScore[];
  /** confusion[gold][predicted] = count; predictions outside `labels` are counted under their own name. */
  confusion: Record<string, Record<string, number>>;
}

/** Macro-F1 over `labels`: every label weighs the same, however many lines it has. */
export function score(
  labels: readonly string[],
  pairs: readonly { gold: string; predicted: string }[],
): ClassificationScore {
  const confusion: Record<string, Record<string, number>> = {};
  for (const gold of labels) confusion[gold] = {};
  for (const { gold, predicted } of pairs) {
    const row = (confusion[gold] ??= {});
    row[predicted] = (row[predicted] ?? 0) + 1;
  }
  const perLabel = labels.map((label) => {
    const truePositives = pairs.filter((pair) => pair.gold === label && pair.predicted === label).length;
    const predicted = pairs.filter((pair) => pair.predicted === label).length;
    const support = pairs.filter((pair) => pair.gold === label).length;
    const precision = predicted === 0 ? 0 : truePositives / predicted;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, support, precision, recall, f1 };
  });
  const right = pairs.filter((pair) => pair.gold === pair.predicted).length;
  return {
    n: pairs.length,
    accuracy: pairs.length === 0 ? 0 : right / pairs.length,
    macroF1: perLabel.reduce((sum, each) => sum + each.f1, 0) / Math.max(1, labels.length),
    perLabel,
    confusion,
  };
}

export interface SlotScore {
  slot: string;
  /** Lines whose labels hold this slot. */
  gold: number;
  /** Lines where a value was found. */
  found: number;
  correct: number;
  precision: number;
  recall: number;
}

export type SlotValues = Record<string, string | null>;

/**
 * Per slot: a found value is correct when it equals the labelled one (values compared in the
 * patterns' normal form), or for free text when `matches` says so.
 */
export function scoreSlots(
  slots: readonly string[],
  lines: readonly { gold: SlotValues; found: SlotValues }[],
  matches: (slot: string, gold: string, found: string) => boolean,
): { perSlot: SlotScore[]; linesAllRight: number } {
  const perSlot = slots.map((slot) => {
    let gold = 0;
    let found = 0;
    let correct = 0;
    for (const line of lines) {
      const expected = line.gold[slot] ?? null;
      const actual = line.found[slot] ?? null;
      if (expected !== null) gold++;
      if (actual !== null) found++;
      if (expected !== null && actual !== null && matches(slot, expected, actual)) correct++;
    }
    return {
      slot,
      gold,
      found,
      correct,
      precision: found === 0 ? 0 : correct / found,
      recall: gold === 0 ? 0 : correct / gold,
    };
  });
  const linesAllRight = lines.filter((line) =>
    slots.every((slot) => {
      const expected = line.gold[slot] ?? null;
      const actual = line.found[slot] ?? null;
      return expected === null ? actual === null : actual !== null && matches(slot, expected, actual);
    }),
  ).length;
  return { perSlot, linesAllRight };
}

/**
 * Free text (a refund reason) is right when it says the same as the labelled span: overlap F1 of its
 * units (Han characters one by one, Latin words whole) of at least one half. The labels hold the
 * shortest span, so "because it arrived broken" for "arrived broken" counts, the whole message does not.
 */
export function sameText(gold: string, found: string): boolean {
  const a = units(gold);
  const b = units(found);
  if (a.length === 0 || b.length === 0) return false;
  const remaining = new Map<string, number>();
  for (const unit of a) remaining.set(unit, (remaining.get(unit) ?? 0) + 1);
  let common = 0;
  for (const unit of b) {
    const left = remaining.get(unit) ?? 0;
    if (left > 0) {
      common++;
      remaining.set(unit, left - 1);
    }
  }
  const precision = common / b.length;
  const recall = common / a.length;
  return precision + recall > 0 && (2 * precision * recall) / (precision + recall) >= 0.5;
}

function units(text: string): string[] {
  return text.toLowerCase().match(/\p{Script=Han}|[\p{L}\p{N}]+/gu) ?? [];
}

/** Nearest-rank percentile of milliseconds. */
export function percentile(values: readonly number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? null;
}

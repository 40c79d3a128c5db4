/**
 * Intent and slot evaluation (issue 8 part 9) on the hand-labelled set test/fixtures/intents, with the
 * code the inference service runs (IntentIndex, the fast-path policy, the constrained model request,
 * slot parsing) and the patterns sessions runs (@libs/conversation), against the stack's servers.
 *
 *   npm run build && set -a && . ~/.cache/convo-engine/stack.env && set +a && npm run bench:intents
 *   (= node dist/bench/intents/evaluate.js [--min-confidence 0.75] [--concurrency 4] [--json out.json] [--no-llm])
 *
 * The train split is the tenant's examples (the default intents' descriptions and slots, the train
 * lines as examples); the test split is scored three ways: the fast path alone (argmax of the
 * centroids), the model alone (constrained to the labels), and combined (the production policy: the
 * fast path when its confidence reaches fastPathMinConfidence, else the model). The fast path runs one
 * message at a time first, so its latency is that of a lone request; the model calls follow,
 * `--concurrency` at a time (the model server's slots), so their latency includes that sharing.
 * Slots are scored on the test split too: the patterns alone, then with the model asked as sessions
 * asks it (the intent's free-text slots the patterns cannot find), its values checked as sessions does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { IntentDefinition, ModelTaskInput } from '@contracts';
import { findSlotValue, validateSlotValue, type SlotType } from '@libs/conversation';
import { Embedder } from '@libs/embeddings';
import { DEFAULT_INTENTS, DEFAULTS } from '@libs/tenant-settings';
import { IntentIndex, fastPathDecides, type IntentRanking } from '@libs/intents';
import {
  OpenAiCompatibleClient,
  intentRequest,
  parseIntent,
  parseSlots,
  slotRequest,
} from '@services/inference/model-tasks';
import {
  percentile,
  sameText,
  score,
  scoreSlots,
  type ClassificationScore,
  type SlotValues,
} from './metrics';

const { values: options } = parseArgs({
  options: {
    fixtures: { type: 'string', default: 'test/fixtures/intents/utterances.jsonl' },
    'min-confidence': { type: 'string', default: String(DEFAULTS.fastPathMinConfidence) },
    json: { type: 'string' },
    'no-llm': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '4' },
  },
});
const CONCURRENCY = Math.max(1, Number(options.concurrency));
const MIN_CONFIDENCE = Number(options['min-confidence']);
const WITH_LLM = !options['no-llm'];

/** Every fixture message is taken as sent at this moment (test/fixtures/README.md). */
const REFERENCE_TIME = '2026-11-30T10:00:00+08:00';
const CALL_TIMEOUT_MS = 120_000;

const Line = z.object({
  id: z.string(),
  text: z.string(),
  lang: z.enum(['zh', 'en', 'mixed']),
  intent: z.string(),
  split: z.enum(['train', 'test']),
  slots: z
    .object({
      order_id: z.string().optional(),
      phone: z.string().optional(),
      email: z.string().optional(),
      amount: z.object({ text: z.string(), value: z.number(), currency: z.string() }).optional(),
      date: z.object({ text: z.string(), iso: z.string() }).optional(),
      reason: z.string().optional(),
    })
    .strict(),
});
type Line = z.infer<typeof Line>;

/** The fixture's slots and the slot type each is extracted as. */
const SLOT_TYPES = {
  order_id: 'order_id',
  phone: 'phone',
  email: 'email',
  amount: 'amount',
  date: 'date',
  reason: 'text',
} as const satisfies Record<keyof Line['slots'], SlotType>;
type SlotName = keyof typeof SLOT_TYPES;
const SLOT_NAMES = Object.keys(SLOT_TYPES) as SlotName[];

function env(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: set -a; . ~/.cache/convo-engine/stack.env; set +a`);
  return value;
}

const llm = new OpenAiCompatibleClient({
  baseURL: env('LLM_BASE_URL'),
  apiKey: env('LLM_API_KEY'),
  model: env('LLM_MODEL'),
  temperature: 0,
});
const embeddings = new Embedder({
  baseUrl: env('EMBEDDINGS_BASE_URL'),
  apiKey: process.env['EMBEDDINGS_API_KEY'] ?? 'none',
  model: env('EMBEDDINGS_MODEL'),
});

function loadLines(): Line[] {
  return readFileSync(options.fixtures, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Line.parse(JSON.parse(line)));
}

/** The default label set, with the train lines as each label's examples (the defaults' own are dropped). */
function tenantIntents(train: readonly Line[]): IntentDefinition[] {
  return DEFAULT_INTENTS.map((intent) => ({
    ...intent,
    examples: train.filter((line) => line.intent === intent.name).map((line) => line.text),
  }));
}

interface IntentOutcome {
  line: Line;
  ranking: IntentRanking | null;
  /** The whole fast path: the embeddings call and the ranking. */
  fastMs: number;
  /** The ranking alone (the engine's part; the rest is the embeddings server). */
  rankMs: number;
  /** The model's label; null when its output was refused (sessions then treats the turn as `other`). */
  llmLabel: string | null;
  llmMs: number | null;
}

async function classifyAll(intents: IntentDefinition[], test: readonly Line[]): Promise<IntentOutcome[]> {
  const examples = intents.flatMap((intent) => intent.examples.map((text) => ({ label: intent.name, text })));
  const vectors = await embeddings.embedQueries(
    examples.map((example) => example.text),
    AbortSignal.timeout(CALL_TIMEOUT_MS),
  );
  const index = IntentIndex.build(
    examples.map((example, i) => ({ label: example.label, vector: vectors[i]! })),
  );
  const labels = intents.map((intent) => intent.name);
  // Warm the connections (and the servers' caches for the system prompt) before timing anything.
  await embeddings.embedQueries(['warm-up'], AbortSignal.timeout(CALL_TIMEOUT_MS));
  if (WITH_LLM) await completeIntent(intents, labels, 'warm-up');

  const outcomes: IntentOutcome[] = [];
  for (const line of test) {
    // The fast path as the handler runs it: embed the message, rank it against the centroids.
    const fastStart = performance.now();
    const [vector] = await embeddings.embedQueries([line.text], AbortSignal.timeout(CALL_TIMEOUT_MS));
    const rankStart = performance.now();
    const ranking = vector ? index.rank(vector) : null;
    const fastEnd = performance.now();
    outcomes.push({
      line,
      ranking,
      fastMs: fastEnd - fastStart,
      rankMs: fastEnd - rankStart,
      llmLabel: null,
      llmMs: null,
    });
  }
  if (!WITH_LLM) return outcomes;
  await eachConcurrently(outcomes, 'intents (model)', async (outcome) => {
    const llmStart = performance.now();
    outcome.llmLabel = await completeIntent(intents, labels, outcome.line.text);
    outcome.llmMs = performance.now() - llmStart;
  });
  return outcomes;
}

/** `work` on every item, CONCURRENCY at a time, with progress on stderr. */
async function eachConcurrently<T>(
  items: readonly T[],
  what: string,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
      if (++done % 20 === 0) process.stderr.write(`${what}: ${done}/${items.length}\n`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function completeIntent(
  intents: IntentDefinition[],
  labels: string[],
  text: string,
): Promise<string | null> {
  const { messages, options: callOptions } = intentRequest(intents, text);
  const completion = await llm.complete(messages, callOptions, AbortSignal.timeout(CALL_TIMEOUT_MS));
  try {
    return parseIntent(completion.text, labels);
  } catch {
    return null;
  }
}

interface SlotOutcome {
  gold: SlotValues;
  patterns: SlotValues;
  combined: SlotValues;
  modelCalls: number;
  invalidOutputs: number;
  rejected: number;
}

/** The labelled values in the patterns' normal form ("459 CNY", ISO dates, digits-only phones). */
function goldSlots(line: Line): SlotValues {
  const { order_id, phone, email, amount, date, reason } = line.slots;
  return {
    order_id: order_id?.toUpperCase() ?? null,
    phone: phone?.replace(/\D/g, '') ?? null,
    email: email ?? null,
    amount: amount ? `${amount.value} ${amount.currency}` : null,
    date: date?.iso ?? null,
    reason: reason ?? null,
  };
}

/** The intents whose slot schema has a free-text reason: only for those the model is asked for it. */
const REASON_INTENTS = new Map(
  DEFAULT_INTENTS.flatMap((intent) => {
    const reason = intent.slots.find((slot) => slot.name === 'reason');
    return reason ? [[intent.name, reason.description] as const] : [];
  }),
);

async function extractSlots(line: Line): Promise<SlotOutcome> {
  const patterns: SlotValues = {};
  for (const name of SLOT_NAMES) {
    const value = findSlotValue(SLOT_TYPES[name], line.text, REFERENCE_TIME);
    patterns[name] = value === null ? null : String(value);
  }
  const outcome: SlotOutcome = {
    gold: goldSlots(line),
    patterns,
    combined: { ...patterns },
    modelCalls: 0,
    invalidOutputs: 0,
    rejected: 0,
  };
  if (!WITH_LLM) return outcome;
  // As sessions asks (dialogue.decider extractFor): the free-text slots of the line's intent the
  // patterns do not find; structured values come from the patterns only. The labelled intent is used,
  // so a classification error does not count against extraction.
  const reasonDescription = REASON_INTENTS.get(line.intent);
  if (!REASON_INTENTS.has(line.intent) || patterns['reason'] !== null) return outcome;
  const slots = [
    {
      name: 'reason',
      type: 'text' as const,
      ...(reasonDescription ? { description: reasonDescription } : {}),
    },
  ];
  const task: Extract<ModelTaskInput, { kind: 'extract-slots' }> = {
    kind: 'extract-slots',
    text: line.text,
    intent: line.intent,
    slots,
    referenceTime: REFERENCE_TIME,
    locale: line.lang === 'en' ? 'en' : 'zh-CN',
  };
  const { messages, options: callOptions } = slotRequest(task);
  outcome.modelCalls = 1;
  const completion = await llm.complete(messages, callOptions, AbortSignal.timeout(CALL_TIMEOUT_MS));
  let extracted: Record<string, string | number | null>;
  try {
    extracted = parseSlots(completion.text, task);
  } catch {
    outcome.invalidOutputs = 1;
    return outcome;
  }
  for (const slot of slots) {
    const offered = extracted[slot.name];
    if (offered === null || offered === undefined) continue;
    const checked = validateSlotValue(slot.type, offered, REFERENCE_TIME);
    if (checked.ok) outcome.combined[slot.name] = String(checked.value);
    else outcome.rejected++;
  }
  return outcome;
}

function slotMatches(slot: string, gold: string, found: string): boolean {
  if (slot === 'reason') return sameText(gold, found);
  if (slot === 'email') return gold.toLowerCase() === found.toLowerCase();
  return gold === found;
}

// ---- report ----

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const ms = (value: number | null) => (value === null ? '–' : value.toFixed(1));

function confusionTable(result: ClassificationScore, labels: readonly string[]): string {
  const extra = [...new Set(Object.values(result.confusion).flatMap((row) => Object.keys(row)))].filter(
    (label) => !labels.includes(label),
  );
  const columns = [...labels, ...extra];
  const short = (label: string) =>
    label.replace('product_question', 'product_q').replace('return_exchange', 'return_exch');
  const header = `| gold \\ predicted | ${columns.map(short).join(' | ')} | F1 |`;
  const rule = `|---|${columns.map(() => '---:').join('|')}|---:|`;
  const rows = labels.map((gold) => {
    const row = result.confusion[gold] ?? {};
    const cells = columns.map((predicted) => {
      const count = row[predicted] ?? 0;
      return predicted === gold ? `**${count}**` : count === 0 ? '·' : String(count);
    });
    const f1 = result.perLabel.find((each) => each.label === gold)?.f1 ?? 0;
    return `| ${short(gold)} | ${cells.join(' | ')} | ${f1.toFixed(2)} |`;
  });
  return [header, rule, ...rows].join('\n');
}

function slotTable(
  title: string,
  outcomes: SlotOutcome[],
  pick: (outcome: SlotOutcome) => SlotValues,
): string {
  const { perSlot, linesAllRight } = scoreSlots(
    SLOT_NAMES,
    outcomes.map((outcome) => ({ gold: outcome.gold, found: pick(outcome) })),
    slotMatches,
  );
  const rows = perSlot.map(
    (each) =>
      `| ${each.slot} | ${each.gold} | ${each.found} | ${each.correct} | ${pct(each.precision)} | ${pct(each.recall)} |`,
  );
  const totals = perSlot.reduce(
    (sum, each) => ({
      gold: sum.gold + each.gold,
      found: sum.found + each.found,
      correct: sum.correct + each.correct,
    }),
    { gold: 0, found: 0, correct: 0 },
  );
  return [
    `**${title}**: every slot of the line right (and nothing extra) on ${linesAllRight} of ${outcomes.length} lines (${pct(linesAllRight / outcomes.length)})`,
    '',
    '| slot | labelled | found | right | precision | recall |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    `| all | ${totals.gold} | ${totals.found} | ${totals.correct} | ${pct(totals.correct / Math.max(1, totals.found))} | ${pct(totals.correct / Math.max(1, totals.gold))} |`,
  ].join('\n');
}

async function main(): Promise<void> {
  const lines = loadLines();
  const train = lines.filter((line) => line.split === 'train');
  const test = lines.filter((line) => line.split === 'test');
  const intents = tenantIntents(train);
  const labels = intents.map((intent) => intent.name);
  const startedAt = new Date();
  process.stderr.write(
    `${train.length} examples, ${test.length} test lines; llm ${WITH_LLM ? 'on' : 'off'}\n`,
  );

  const outcomes = await classifyAll(intents, test);
  const fast = score(
    labels,
    outcomes.map(({ line, ranking }) => ({ gold: line.intent, predicted: ranking?.label ?? 'other' })),
  );
  const combinedPairs = outcomes.map(({ line, ranking, llmLabel }) => {
    const byFast = fastPathDecides(ranking, MIN_CONFIDENCE);
    return { gold: line.intent, predicted: byFast ? ranking.label : (llmLabel ?? 'other'), byFast };
  });
  const decidedFast = combinedPairs.filter((pair) => pair.byFast);
  const fastLatency = outcomes.map((outcome) => outcome.fastMs);
  const llmLatency = outcomes.flatMap((outcome) => (outcome.llmMs === null ? [] : [outcome.llmMs]));

  const report: string[] = [];
  report.push(
    `Run ${startedAt.toISOString()}; ${train.length} train lines as examples, ${test.length} test lines scored; ` +
      `embeddings \`${embeddings.model}\`, model \`${WITH_LLM ? llm.model : '(not run)'}\`; ` +
      `fastPathMinConfidence ${MIN_CONFIDENCE}; model calls ${CONCURRENCY} at a time; ${cpus().length} CPUs, ` +
      `load ${loadavg()[0]?.toFixed(1)} at the end.`,
    '',
    '| path | macro-F1 | accuracy | lines decided (combined) | right among them | latency p50 / p95 ms |',
    '|---|---:|---:|---:|---:|---:|',
    `| fast only (argmax) | ${fast.macroF1.toFixed(3)} | ${pct(fast.accuracy)} | – | – | ${ms(percentile(fastLatency, 50))} / ${ms(percentile(fastLatency, 95))} |`,
  );
  let llmScore: ClassificationScore | null = null;
  let combined: ClassificationScore | null = null;
  if (WITH_LLM) {
    llmScore = score(
      labels,
      outcomes.map(({ line, llmLabel }) => ({ gold: line.intent, predicted: llmLabel ?? 'other' })),
    );
    combined = score(labels, combinedPairs);
    const byModel = combinedPairs.filter((pair) => !pair.byFast);
    const right = (pairs: typeof combinedPairs) =>
      pairs.filter((pair) => pair.gold === pair.predicted).length;
    report.push(
      `| LLM only (constrained) | ${llmScore.macroF1.toFixed(3)} | ${pct(llmScore.accuracy)} | – | – | ${ms(percentile(llmLatency, 50))} / ${ms(percentile(llmLatency, 95))} |`,
      `| combined | ${combined.macroF1.toFixed(3)} | ${pct(combined.accuracy)} | fast ${decidedFast.length}, LLM ${byModel.length} | fast ${right(decidedFast)}/${decidedFast.length}, LLM ${right(byModel)}/${byModel.length} | – |`,
    );
    const refused = outcomes.filter((outcome) => outcome.llmLabel === null).length;
    report.push('', `Model outputs refused by parseIntent (scored as \`other\`): ${refused}.`);
  }
  const rankLatency = outcomes.map((outcome) => outcome.rankMs);
  report.push(
    '',
    `Fast path latency (embeddings call + ranking, one message at a time): p50 ${ms(percentile(fastLatency, 50))} ms, ` +
      `p95 ${ms(percentile(fastLatency, 95))} ms, max ${ms(percentile(fastLatency, 100))} ms; the ranking alone: ` +
      `p50 ${percentile(rankLatency, 50)?.toFixed(3)} ms, p95 ${percentile(rankLatency, 95)?.toFixed(3)} ms.`,
  );
  report.push(
    '',
    '**Threshold sweep** (same run, combined policy at other fastPathMinConfidence values):',
    '',
  );
  report.push(
    '| threshold | decided by the fast path | right among them | combined macro-F1 |',
    '|---:|---:|---:|---:|',
  );
  for (const threshold of [0.5, 0.6, 0.75, 0.9, 0.95]) {
    const pairs = outcomes.map(({ line, ranking, llmLabel }) => {
      const byFast = fastPathDecides(ranking, threshold);
      return { gold: line.intent, predicted: byFast ? ranking.label : (llmLabel ?? 'other'), byFast };
    });
    const fastOnes = pairs.filter((pair) => pair.byFast);
    const fastRight = fastOnes.filter((pair) => pair.gold === pair.predicted).length;
    report.push(
      `| ${threshold} | ${fastOnes.length} (${pct(fastOnes.length / pairs.length)}) | ${fastRight}/${fastOnes.length} | ${WITH_LLM ? score(labels, pairs).macroF1.toFixed(3) : '–'} |`,
    );
  }
  report.push(
    '',
    '**Confusion, fast path only** (rows: label, columns: prediction)',
    '',
    confusionTable(fast, labels),
  );
  if (llmScore && combined) {
    report.push('', '**Confusion, LLM only**', '', confusionTable(llmScore, labels));
    report.push('', '**Confusion, combined**', '', confusionTable(combined, labels));
  }

  const slotOutcomes: SlotOutcome[] = new Array<SlotOutcome>(test.length);
  await eachConcurrently([...test.entries()], 'slots', async ([i, line]) => {
    slotOutcomes[i] = await extractSlots(line);
  });
  report.push('', `**Slots** on the ${test.length} test lines`, '');
  report.push(slotTable('Patterns alone', slotOutcomes, (outcome) => outcome.patterns));
  if (WITH_LLM) {
    const calls = slotOutcomes.reduce((sum, outcome) => sum + outcome.modelCalls, 0);
    const invalid = slotOutcomes.reduce((sum, outcome) => sum + outcome.invalidOutputs, 0);
    const rejected = slotOutcomes.reduce((sum, outcome) => sum + outcome.rejected, 0);
    report.push(
      '',
      slotTable('Patterns + LLM', slotOutcomes, (outcome) => outcome.combined),
    );
    report.push(
      '',
      `${calls} model calls; ${invalid} outputs refused by parseSlots; ${rejected} values refused by validateSlotValue.`,
    );
  }

  const markdown = report.join('\n');
  process.stdout.write(`${markdown}\n`);
  if (options.json) {
    writeFileSync(
      options.json,
      JSON.stringify(
        { startedAt, minConfidence: MIN_CONFIDENCE, fast, llm: llmScore, combined, outcomes, slotOutcomes },
        null,
        1,
      ),
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

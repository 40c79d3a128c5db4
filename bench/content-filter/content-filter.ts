/**
 * Sensitive-word filter benchmark (pure, no services): per-message scan time over a list of 80k+
 * words, automaton build time and memory, streaming cost, and modern-ahocorasick 3.3.0 on the same
 * words for comparison.
 *
 *   npm run build && npm run bench:content-filter [-- --words 80000 --samples 20000 --no-compare]
 *   (= node --expose-gc dist/bench/content-filter/content-filter.js)
 *
 * Messages are ordinary customer-service sentences (zh or en) joined and cut to 100 or 1,000
 * characters; one in ten carries an obfuscated listed word, so masking is part of the cost.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { ContentFilter, FilterStream, normaliseWord } from '@libs/content-filter';
import { CUSTOMER_SERVICE_SENTENCES, SEED_WORD_LIST, syntheticWordList } from '@libs/content-filter/testing';

const { values } = parseArgs({
  options: {
    words: { type: 'string', default: '80000' },
    samples: { type: 'string', default: '20000' },
    'no-compare': { type: 'boolean', default: false },
  },
});
const WORDS = Number(values.words);
const SAMPLES = Number(values.samples);

const gc = (globalThis as { gc?: () => void }).gc;
function settle(): void {
  gc?.();
  gc?.();
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const INSERTS = ['加 微 信', 'Ｑ Ｑ 号', 'w.e.c.h.a.t', '刷\u200d单返利', 'v x', '星河优购', '私下聯繫'];

/** `count` messages of `length` characters in one language, every tenth with a listed word inside. */
function messages(language: 'zh' | 'en', length: number, count = 200): string[] {
  const pool = CUSTOMER_SERVICE_SENTENCES.filter((s) => /[\u4e00-\u9fff]/.test(s) === (language === 'zh'));
  return Array.from({ length: count }, (_, i) => {
    let text = '';
    for (let j = i; text.length < length; j++)
      text += pool[j % pool.length]! + (language === 'en' ? ' ' : '');
    if (i % 10 === 0) {
      const insert = INSERTS[(i / 10) % INSERTS.length]!;
      const at = (i * 7) % (length - insert.length);
      text = text.slice(0, at) + insert + text.slice(at);
    }
    return text.slice(0, length);
  });
}

/** Times `run` once per sample (one message each), after a warm-up; microseconds. */
function timePerCall(
  texts: readonly string[],
  run: (text: string) => unknown,
): { p50: number; p95: number; mean: number } {
  for (let i = 0; i < Math.min(2000, SAMPLES); i++) run(texts[i % texts.length]!);
  const samples = new Float64Array(SAMPLES);
  let total = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const text = texts[i % texts.length]!;
    const started = process.hrtime.bigint();
    run(text);
    const took = Number(process.hrtime.bigint() - started) / 1000;
    samples[i] = took;
    total += took;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), mean: total / SAMPLES };
}

interface Matcher {
  search(text: string): unknown[];
}
type MatcherConstructor = new (patterns: readonly string[]) => Matcher;

function main(): void {
  const entries = [...SEED_WORD_LIST, ...syntheticWordList(WORDS)];
  console.error(`building over ${entries.length} entries...`);

  let started = performance.now();
  ContentFilter.build([]);
  const tableMs = performance.now() - started;

  settle();
  const heapBefore = process.memoryUsage();
  started = performance.now();
  const filter = ContentFilter.build(entries);
  const buildMs = performance.now() - started;
  settle();
  const heapAfter = process.memoryUsage();

  const rows: string[] = [];
  const row = (what: string, t: { p50: number; p95: number; mean: number }): void => {
    rows.push(`| ${what} | ${t.p50.toFixed(2)} | ${t.p95.toFixed(2)} | ${t.mean.toFixed(2)} |`);
  };
  const sets = {
    'zh 100': messages('zh', 100),
    'en 100': messages('en', 100),
    'zh 1,000': messages('zh', 1000),
    'en 1,000': messages('en', 1000),
  };
  for (const [name, texts] of Object.entries(sets)) {
    const found = texts.filter((text) => filter.scan(text).matches.length > 0).length;
    console.error(`${name}: ${found} of ${texts.length} messages have a match`);
    row(
      `scan, ${name} characters`,
      timePerCall(texts, (text) => filter.scan(text)),
    );
  }
  row(
    'stream, zh 1,000 characters in chunks of 8',
    timePerCall(sets['zh 1,000'], (text) => {
      const stream = new FilterStream(filter);
      for (let at = 0; at < text.length; at += 8) stream.write(text.slice(at, at + 8));
      return stream.end();
    }),
  );
  row(
    'normalisation alone (normaliseWord), zh 100',
    timePerCall(sets['zh 100'], (text) => normaliseWord(text)),
  );

  const compare: string[] = [];
  if (!values['no-compare']) {
    const keys = [...new Set(entries.map((entry) => normaliseWord(entry.word)))];
    const normalisedZh = sets['zh 100'].map((text) => normaliseWord(text));
    for (const [name, path] of [
      ['modern-ahocorasick 3.3.0 (default)', 'modern-ahocorasick'],
      ['modern-ahocorasick 3.3.0 (/fast, double array)', 'modern-ahocorasick/dist/fast.cjs'],
    ] as const) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Library = require(path) as MatcherConstructor;
      settle();
      const before = process.memoryUsage();
      const began = performance.now();
      const matcher = new Library(keys);
      const ms = performance.now() - began;
      settle();
      const after = process.memoryUsage();
      const heap = after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers;
      const t = timePerCall(normalisedZh, (text) => matcher.search(text));
      compare.push(
        `| ${name}, search only, normalised zh 100 | ${t.p50.toFixed(2)} | ${t.p95.toFixed(2)} | ${t.mean.toFixed(2)} | ${(ms / 1000).toFixed(2)} s | ${(heap / 2 ** 20).toFixed(1)} MiB |`,
      );
    }
  }

  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  console.log(
    `- ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus().length} vCPUs (\`${cpus()[0]?.model ?? '?'}\`), ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${loadavg()[0]!.toFixed(1)}.`,
  );
  console.log(
    `- ${entries.length.toLocaleString('en')} entries (${SEED_WORD_LIST.length} seed + ${WORDS.toLocaleString('en')} synthetic), ${filter.stats.keys.toLocaleString('en')} distinct normalised words, ${filter.stats.states.toLocaleString('en')} states, longest word ${filter.stats.longestWord} units; ${SAMPLES.toLocaleString('en')} timed calls per row.`,
  );
  console.log('');
  console.log(
    '| build | time | heapUsed delta | arrayBuffers delta | RSS delta | typed arrays (stats.bytes) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(
    `| normalisation table (first use, once per process) | ${tableMs.toFixed(0)} ms | | | | 128 KiB |`,
  );
  console.log(
    `| automaton over ${entries.length.toLocaleString('en')} entries | ${(buildMs / 1000).toFixed(2)} s | ${mib(heapAfter.heapUsed - heapBefore.heapUsed)} | ${mib(heapAfter.arrayBuffers - heapBefore.arrayBuffers)} | ${mib(heapAfter.rss - heapBefore.rss)} | ${mib(filter.stats.bytes)} |`,
  );
  console.log('');
  console.log('| per message (µs) | p50 | p95 | mean |');
  console.log('|---|---:|---:|---:|');
  for (const line of rows) console.log(line);
  if (compare.length > 0) {
    console.log('');
    console.log(
      '| the same words in modern-ahocorasick (µs) | p50 | p95 | mean | build | heapUsed + arrayBuffers delta |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const line of compare) console.log(line);
  }
  if (gc === undefined) console.error('(run with --expose-gc for memory figures after collection)');
}

main();

/** Per-level summaries of turn records and the markdown tables printed after a run. */
import type { LevelResult, Outcome, TurnRecord } from './run-level';
import { distribution, fmt, round, type Distribution } from './statistics';

export interface LevelSummary {
  concurrency: number;
  turnsPerUser: number;
  attempted: number;
  completed: number;
  replyFailed: number;
  timeouts: number;
  otherFailures: number;
  skipped: number;
  setupFailures: number;
  wallMs: number;
  turnsPerSecond: number;
  /** What the level's sockets received, in KiB per completed turn; null when not counted. */
  wsKibPerTurn: number | null;
  /**
   * Completed model calls in flight (started, not finished; llama-server queueing included) over the
   * level's wall time: average and maximum. Below the server's slot count while turns wait, the
   * engine is not keeping the model busy.
   */
  modelCallsInFlight: { average: number; max: number };
  endToEndMs: Distribution;
  engineMs: Distribution;
  firstChunkMs: Distribution;
  modelTotalMs: Distribution;
  modelFirstTokenMs: Distribution;
  postAcceptedMs: Distribution;
  stages: Record<keyof TurnRecord['stages'] | 'messageEventMs' | 'requestedEventMs', Distribution>;
  completionTokens: Distribution;
  /**
   * Completed turns by finish reason. `other` means the model stream ended without a finish reason:
   * with this inference service, that is what its own deadline (LLM_TIMEOUT_MS) firing mid-stream
   * produces, so such a reply is cut short even though it counts as completed.
   */
  finishReasons: Record<string, number>;
  /** End-to-end of timed-out turns whose reply arrived during the drain. */
  lateReplies: Distribution;
  failureReasons: Record<string, number>;
}

export function summarize(level: LevelResult): LevelSummary {
  const ok = level.turns.filter((turn) => turn.outcome === 'completed');
  const count = (outcome: Outcome) => level.turns.filter((turn) => turn.outcome === outcome).length;
  const failureReasons: Record<string, number> = {};
  for (const turn of level.turns) {
    if (turn.outcome === 'completed') continue;
    const reason =
      turn.outcome === 'reply-failed' ? `reply-failed ${turn.failure?.split(':')[0] ?? ''}` : turn.outcome;
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  }
  for (const failure of level.setupFailures) failureReasons[`setup: ${failure.slice(0, 80)}`] = 1;
  const pick = (get: (turn: TurnRecord) => number | null, turns = ok) => distribution(turns.map(get));
  return {
    concurrency: level.concurrency,
    turnsPerUser: level.turnsPerUser,
    attempted: level.turns.length,
    completed: ok.length,
    replyFailed: count('reply-failed'),
    timeouts: count('timeout'),
    otherFailures: count('http-error') + count('ws-closed'),
    skipped: level.skippedTurns,
    setupFailures: level.setupFailures.length,
    wallMs: round(level.wallMs),
    turnsPerSecond: Math.round((ok.length / (level.wallMs / 1000)) * 1000) / 1000,
    wsKibPerTurn:
      level.wsBytes === undefined || ok.length === 0 ? null : round(level.wsBytes / 1024 / ok.length),
    modelCallsInFlight: inFlight(
      ok.map((turn) => turn.modelWindow).filter((window): window is [number, number] => window !== null),
      Date.parse(level.startedAt),
      level.wallMs,
    ),
    endToEndMs: pick((turn) => turn.endToEndMs),
    engineMs: pick((turn) => turn.engineMs),
    firstChunkMs: pick((turn) => turn.firstChunkMs),
    modelTotalMs: pick((turn) => turn.modelTotalMs),
    modelFirstTokenMs: pick((turn) => turn.modelFirstTokenMs),
    postAcceptedMs: pick((turn) => turn.postAcceptedMs, level.turns),
    stages: {
      messageEventMs: pick((turn) => turn.messageEventMs, level.turns),
      requestedEventMs: pick((turn) => turn.requestedEventMs, level.turns),
      ingestMs: pick((turn) => turn.stages.ingestMs, level.turns),
      sessionsMs: pick((turn) => turn.stages.sessionsMs, level.turns),
      inferencePickupMs: pick((turn) => turn.stages.inferencePickupMs),
      deliveryMs: pick((turn) => turn.stages.deliveryMs),
    },
    completionTokens: pick((turn) => turn.completionTokens),
    lateReplies: pick((turn) => turn.lateEndToEndMs, level.turns),
    finishReasons: ok.reduce<Record<string, number>>((counts, turn) => {
      const reason = turn.finishReason ?? 'unknown';
      counts[reason] = (counts[reason] ?? 0) + 1;
      return counts;
    }, {}),
    failureReasons,
  };
}

function inFlight(
  windows: [number, number][],
  start: number,
  wallMs: number,
): { average: number; max: number } {
  const busy = windows.reduce(
    (total, [from, to]) => total + Math.max(0, Math.min(to, start + wallMs) - Math.max(from, start)),
    0,
  );
  const edges = windows.flatMap(([from, to]) => [
    { at: from, delta: 1 },
    { at: to, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const edge of edges) {
    current += edge.delta;
    max = Math.max(max, current);
  }
  return { average: wallMs > 0 ? Math.round((busy / wallMs) * 100) / 100 : 0, max };
}

export function markdown(summaries: LevelSummary[]): string {
  const triple = (d: Distribution) => `${fmt(d.p50)} / ${fmt(d.p95)} / ${fmt(d.p99)}`;
  const lines = [
    '| N | turns ok / sent | reply-failed | timeouts | other | end-to-end ms p50 / p95 / p99 | engine share ms p50 / p95 / p99 | first chunk ms p50 / p95 / p99 | model ms p50 | turns/s | wall s | WebSocket KiB / turn |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summaries) {
    lines.push(
      `| ${s.concurrency} | ${s.completed} / ${s.attempted}${s.skipped ? ` (+${s.skipped} skipped)` : ''} | ${s.replyFailed} | ${s.timeouts} | ${s.otherFailures + s.setupFailures} | ${triple(s.endToEndMs)} | ${triple(s.engineMs)} | ${triple(s.firstChunkMs)} | ${fmt(s.modelTotalMs.p50)} | ${s.turnsPerSecond.toFixed(3)} | ${(s.wallMs / 1000).toFixed(1)} | ${s.wsKibPerTurn === null ? '\u2013' : s.wsKibPerTurn.toFixed(1)} |`,
    );
  }
  lines.push(
    '',
    'Where the time goes, p50 (p95) ms; stages from the events\u2019 occurredAt (server clock, ms resolution):',
    '',
    '| N | POST 202 | POST \u2192 message event on WS | POST \u2192 message appended | message \u2192 reply-requested appended | requested \u2192 model start | model first token | model total | completed appended \u2192 WS frame | completion tokens | model calls in flight avg / max |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const pair = (d: Distribution) => `${fmt(d.p50)} (${fmt(d.p95)})`;
  for (const s of summaries) {
    lines.push(
      `| ${s.concurrency} | ${pair(s.postAcceptedMs)} | ${pair(s.stages.messageEventMs)} | ${pair(s.stages.ingestMs)} | ${pair(s.stages.sessionsMs)} | ${pair(s.stages.inferencePickupMs)} | ${pair(s.modelFirstTokenMs)} | ${pair(s.modelTotalMs)} | ${pair(s.stages.deliveryMs)} | ${pair(s.completionTokens)} | ${s.modelCallsInFlight.average.toFixed(1)} / ${s.modelCallsInFlight.max} |`,
    );
  }
  lines.push(
    '',
    `Finish reasons of completed replies: ${summaries.map((s) => `N=${s.concurrency} ${JSON.stringify(s.finishReasons)}`).join('; ')}` +
      ' (`other`: the stream ended without a finish reason, e.g. cut by the inference deadline).',
  );
  const failures = summaries.filter((s) => Object.keys(s.failureReasons).length > 0);
  if (failures.length > 0) {
    lines.push('', 'Failures:', '');
    for (const s of failures) {
      const late =
        s.timeouts > 0
          ? `; timed-out turns answered later: ${s.lateReplies.n} (p50 ${fmt(s.lateReplies.p50)} ms, max ${fmt(s.lateReplies.max)} ms after the POST)`
          : '';
      lines.push(`- N=${s.concurrency}: ${JSON.stringify(s.failureReasons)}${late}`);
    }
  }
  return lines.join('\n');
}

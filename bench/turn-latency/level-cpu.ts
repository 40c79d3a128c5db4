/**
 * What each process spent on a level's turns, from /proc: the engine's services and model server by
 * pid in engine mode (by command line otherwise), the local stack's servers by command line, and the
 * benchmark's own client. Where a turn's CPU goes, and how busy the machine's cores were.
 */
import {
  cpuBetween,
  cpuSnapshot,
  stackServerGroup,
  type CpuSnapshot,
  type ProcessGroupOf,
} from '../tools/process-cpu';
import { fmt } from './statistics';

/** CPU with no turns in flight, before the first level. */
export interface IdleCpu {
  wallMs: number;
  /** CPU ms a second of wall time, by process group. */
  msPerSecond: Record<string, number>;
  coresBusy: number;
}

export interface LevelCpu {
  concurrency: number;
  wallMs: number;
  /** CPU ms a completed turn, by process group, the idle rate included (see aboveIdle). */
  msPerTurn: Record<string, number>;
  /** Completed turns: what msPerTurn divides by. */
  completedTurns: number;
  /** All groups' CPU over the level's wall time: 2.0 is both cores of this machine busy throughout. */
  coresBusy: number;
}

/** Measures the idle machine, then one level at a time (`start`, `stop`); null where there is no /proc. */
export class LevelCpuMeter {
  private readonly groupOf: ProcessGroupOf;
  private before: CpuSnapshot | null = null;

  constructor(
    engineProcesses: Map<number, string> | null,
    private readonly idleSampleMs = 5_000,
  ) {
    this.groupOf = processGroups(engineProcesses);
  }

  async sampleIdle(): Promise<IdleCpu | null> {
    this.start();
    await new Promise((resolve) => setTimeout(resolve, this.idleSampleMs));
    const measured = this.measured();
    if (!measured) return null;
    const { wallMs, byGroup } = measured;
    const msPerSecond = mapValues(byGroup, (ms) => (ms * 1000) / wallMs);
    return { wallMs, msPerSecond, coresBusy: sum(byGroup) / wallMs };
  }

  start(): void {
    this.before = cpuSnapshot(this.groupOf);
  }

  stop(concurrency: number, completedTurns: number): LevelCpu | null {
    const measured = this.measured();
    if (!measured) return null;
    const { wallMs, byGroup } = measured;
    return {
      concurrency,
      wallMs,
      msPerTurn: mapValues(byGroup, (ms) => (completedTurns > 0 ? ms / completedTurns : Number.NaN)),
      completedTurns,
      coresBusy: sum(byGroup) / wallMs,
    };
  }

  private measured(): { wallMs: number; byGroup: Record<string, number> } | null {
    const after = cpuSnapshot(this.groupOf);
    return this.before && after ? cpuBetween(this.before, after) : null;
  }
}

/** A level's CPU a turn less what each group spends idle over the level's wall time: what one more turn costs. */
export function aboveIdle(level: LevelCpu, idle: IdleCpu): Record<string, number> {
  const idlePerTurn = (group: string) =>
    ((idle.msPerSecond[group] ?? 0) * level.wallMs) / 1000 / level.completedTurns;
  return mapValues(level.msPerTurn, (ms, group) => ms - idlePerTurn(group));
}

function processGroups(engineProcesses: Map<number, string> | null): ProcessGroupOf {
  return (pid, comm, cmdline) => {
    if (pid === process.pid) return 'benchmark client';
    const started = engineProcesses?.get(pid);
    if (started !== undefined) return started;
    // Without engine mode, the services the local stack runs from dist/.
    const service = /dist\/services\/([a-z]+)\/src\/main\.js/.exec(cmdline)?.[1];
    if (engineProcesses === null && service !== undefined) return service;
    return stackServerGroup(comm, cmdline);
  };
}

/**
 * One row per process group, heaviest first at the last level, one column per level: CPU a turn above
 * the idle rate when there is an idle sample (what each more turn costs), else with it.
 */
export function cpuMarkdown(levels: readonly LevelCpu[], idle: IdleCpu | null): string {
  const last = levels.at(-1);
  if (!last) return '';
  const shown = (level: LevelCpu) => (idle ? aboveIdle(level, idle) : level.msPerTurn);
  const groups = [...new Set(levels.flatMap((level) => Object.keys(level.msPerTurn)))].sort(
    (a, b) => (shown(last)[b] ?? 0) - (shown(last)[a] ?? 0),
  );
  const columns = (cell: (level: LevelCpu) => string) => levels.map(cell).join(' | ');
  const lines: string[] = [];
  if (idle) {
    const busiest = Object.entries(idle.msPerSecond)
      .sort(([, a], [, b]) => b - a)
      .map(([group, ms]) => `${group} ${fmt(ms)}`)
      .join(', ');
    lines.push(
      `Idle, no turns in flight (${(idle.wallMs / 1000).toFixed(1)} s before the first level): ` +
        `${idle.coresBusy.toFixed(2)} cores busy; CPU ms a second by process: ${busiest}.`,
      '',
    );
  }
  lines.push(
    `CPU a completed turn, ms${idle ? ', above the idle rate' : ''} (/proc user + system time over each level, by process):`,
    '',
    `| process | ${columns((level) => `N=${level.concurrency}`)} |`,
    `|---|${levels.map(() => '---:').join('|')}|`,
    ...groups.map((group) => `| ${group} | ${columns((level) => fmt(shown(level)[group] ?? 0))} |`),
    `| **all** | ${columns((level) => `**${fmt(sum(shown(level)))}**`)} |`,
  );
  if (idle) lines.push(`| all, the idle rate included | ${columns((level) => fmt(sum(level.msPerTurn)))} |`);
  lines.push(`| cores busy (all CPU / wall) | ${columns((level) => level.coresBusy.toFixed(2))} |`);
  return lines.join('\n');
}

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((total, value) => total + value, 0);
}

function mapValues(
  values: Record<string, number>,
  map: (value: number, key: string) => number,
): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, map(value, key)]));
}

/**
 * CPU time of this machine's processes by group, from /proc (Linux): user plus system time of each
 * process alive at a snapshot. A process that ends between two snapshots takes its time with it, so
 * short-lived ones (a PostgreSQL backend that closes) are undercounted; interrupts are not counted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** Names a process's group from its pid, command name and command line. */
export type ProcessGroupOf = (pid: number, comm: string, cmdline: string) => string;

export interface CpuSnapshot {
  atMs: number;
  /** CPU ms so far, by pid, with its group. */
  processes: Map<number, { group: string; cpuMs: number }>;
}

/** The servers of the local stack by their command lines; everything else is `other`. */
export function stackServerGroup(comm: string, cmdline: string): string {
  if (comm === 'postgres') return 'PostgreSQL';
  if (cmdline.includes('kafka.Kafka')) return 'Kafka';
  if (cmdline.includes('org.elasticsearch')) return 'Elasticsearch';
  if (cmdline.includes('milvus')) return 'Milvus Lite';
  if (comm === 'llama-server') return 'llama-server';
  return 'other';
}

/** The kernel's clock ticks a second, asked once, on the first snapshot. */
let ticksPerSecond: number | null = null;

/** Every process's CPU time now; null where there is no /proc. */
export function cpuSnapshot(groupOf: ProcessGroupOf): CpuSnapshot | null {
  if (!existsSync('/proc/self/stat')) return null;
  ticksPerSecond ??= clockTicks();
  const tickMs = 1000 / ticksPerSecond;
  const processes = new Map<number, { group: string; cpuMs: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\u0000', ' ');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of proc(5), utime and stime; the slice starts at field 3.
      const ticks = Number(fields[11]) + Number(fields[12]);
      processes.set(pid, { group: groupOf(pid, comm, cmdline), cpuMs: ticks * tickMs });
    } catch {
      // The process ended while it was read.
    }
  }
  return { atMs: performance.now(), processes };
}

/**
 * CPU ms each group spent between two snapshots, and the wall ms between them. A process started in
 * between counts from its start.
 */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { wallMs: number; byGroup: Record<string, number> } {
  const byGroup: Record<string, number> = {};
  for (const [pid, now] of after.processes) {
    const then = before.processes.get(pid);
    const spent = now.cpuMs - (then?.cpuMs ?? 0);
    byGroup[now.group] = (byGroup[now.group] ?? 0) + spent;
  }
  return { wallMs: after.atMs - before.atMs, byGroup };
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100; // Linux's USER_HZ on every common platform
  }
}

/**
 * Summarises V8 `.cpuprofile` files (node --cpu-prof): for each profile, the CPU time by package and the
 * functions with the most self time. Usage: node dist/bench/tools/cpu-profile-top.js <dir> [--top 15]
 * [--skip-ms 0] (samples of the first milliseconds left out: the service's start-up).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `node_modules/@scope/pkg/...` → `@scope/pkg`; our own code → its top folders; node internals → `node`. */
function packageOf(url: string): string {
  if (url === '') return '(native/gc/idle)';
  if (url.startsWith('node:')) return 'node';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return url
      .slice(dist + 1)
      .split('/')
      .slice(0, 3)
      .join('/');
  return url;
}

function summarise(file: string, top: number, skipMs: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let elapsedUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    elapsedUs += delta;
    if (elapsedUs >= skipMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const wallMs = (profile.endTime - profile.startTime) / 1000 - skipMs;
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') continue;
    busyUs += us;
    const pkg = name === '(garbage collector)' ? '(gc)' : packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const where = frame.url ? `${packageOf(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const ms = (us: number): string => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number): string => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  console.log(`\n## ${file}\nwall ${wallMs.toFixed(0)} ms, on CPU ${(busyUs / 1000).toFixed(0)} ms\n`);
  console.log('by package (self time):');
  for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${ms(us)} ms ${pct(us)}  ${pkg}`);
  console.log('\nby function (self time):');
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${ms(us)} ms ${pct(us)}  ${fn}`);
}

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) {
  console.error('usage: cpu-profile-top <dir with .cpuprofile files> [--top N] [--skip-ms MS]');
  process.exit(2);
}
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 15;
const skipIndex = args.indexOf('--skip-ms');
const skipMs = skipIndex >= 0 ? Number(args[skipIndex + 1]) : 0;
const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
for (const file of files.sort()) summarise(join(dir, file), top, skipMs);

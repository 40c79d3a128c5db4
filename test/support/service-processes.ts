import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** One Ed25519 log key per test run (PKCS#8 PEM), for suites that set no AUDIT_SIGNING_KEY. */
export const TEST_AUDIT_SIGNING_KEY = generateKeyPairSync('ed25519')
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();

/** One master key for data keys per test run, for suites that set no DATA_KEY_ENCRYPTION_KEY. */
export const TEST_DATA_KEY_ENCRYPTION_KEY = randomBytes(32).toString('hex');

export type ServiceName = 'gateway' | 'sessions' | 'inference' | 'retrieval' | 'audit';
export const SERVICE_NAMES: ServiceName[] = ['gateway', 'sessions', 'inference', 'retrieval', 'audit'];

const PORT_KEYS: Record<ServiceName, string> = {
  gateway: 'GATEWAY_PORT',
  sessions: 'SESSIONS_PORT',
  inference: 'INFERENCE_PORT',
  retrieval: 'RETRIEVAL_PORT',
  audit: 'AUDIT_PORT',
};

// test/support under jest, dist/test/support when a benchmark runs from the build.
const REPO_ROOT = [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')].find((dir) =>
  existsSync(join(dir, 'nest-cli.json')),
) as string;

/**
 * The five real services, started from the build (dist/) as separate processes, against the
 * real servers of the local stack, each suite with its own database and topic prefix.
 */
export class ServiceProcesses {
  private readonly children = new Map<ServiceName, ChildProcess>();
  readonly ports: Record<ServiceName, number>;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    basePort: number,
    private readonly logDir: string,
  ) {
    this.ports = Object.fromEntries(SERVICE_NAMES.map((name, index) => [name, basePort + index])) as Record<
      ServiceName,
      number
    >;
    mkdirSync(logDir, { recursive: true });
  }

  /** The master key the services wrap data keys with: the suite's own, or this run's default. */
  get dataKeyEncryptionKey(): string {
    return this.env.DATA_KEY_ENCRYPTION_KEY ?? TEST_DATA_KEY_ENCRYPTION_KEY;
  }

  /** The running services' process ids (a benchmark's CPU accounting). */
  pids(): Map<ServiceName, number> {
    const pids = new Map<ServiceName, number>();
    for (const [name, child] of this.children) if (child.pid !== undefined) pids.set(name, child.pid);
    return pids;
  }

  url(name: ServiceName): string {
    return `http://127.0.0.1:${this.ports[name]}`;
  }

  async startAll(): Promise<void> {
    for (const name of SERVICE_NAMES) this.start(name);
    await Promise.all(SERVICE_NAMES.map((name) => this.waitReady(name)));
  }

  start(name: ServiceName): void {
    // The audit service needs a log key, and every service the data keys' master key; a suite that does
    // not choose them gets this run's own (the local stack's stack.env has its own).
    const env: NodeJS.ProcessEnv = {
      AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY,
      DATA_KEY_ENCRYPTION_KEY: TEST_DATA_KEY_ENCRYPTION_KEY,
      ...this.env,
    };
    for (const other of SERVICE_NAMES) env[PORT_KEYS[other]] = String(this.ports[other]);
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    // SERVICE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") reaches each service's node: profiling
    // a benchmark run. NODE_OPTIONS refuses --cpu-prof.
    const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const main = join(REPO_ROOT, 'dist', 'services', name, 'src', 'main.js');
    const child = spawn(process.execPath, [...nodeArgs, main], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.children.set(name, child);
  }

  /** SIGKILL: no graceful shutdown, no offset commit, no cleanup — a crash. */
  kill(name: ServiceName): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL'); // sent now, synchronously: the caller decides the instant
    this.children.delete(name);
    return exited;
  }

  async restart(name: ServiceName): Promise<void> {
    await this.kill(name);
    this.start(name);
    await this.waitReady(name);
  }

  async waitReady(name: ServiceName, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const child = this.children.get(name);
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        const how = child ? (child.signalCode ?? `code ${child.exitCode}`) : 'no process';
        throw new Error(`${name} is not running (${how}); see ${join(this.logDir, `${name}.log`)}`);
      }
      try {
        const response = await fetch(`${this.url(name)}/readyz`);
        if (response.ok) return;
        last = await response.text();
      } catch (error) {
        last = String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${name} not ready after ${timeoutMs} ms: ${last}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.children.entries()].map(async ([, child]) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.children.clear();
  }
}

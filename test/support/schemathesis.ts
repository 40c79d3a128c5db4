import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned: a new release may add checks or change generation, which should be a deliberate change. */
export const SCHEMATHESIS_VERSION = '4.32.5';

const SCHEMATHESIS_HOME = join(homedir(), '.cache', 'convo-engine', 'cache', 'schemathesis');

/**
 * The schemathesis CLI (PyPI), installed on first use into its own virtualenv beside the local stack,
 * so a fresh machine needs nothing but python3. Returns the path of `st`.
 */
export async function ensureSchemathesis(): Promise<string> {
  const venv = join(SCHEMATHESIS_HOME, `venv-${SCHEMATHESIS_VERSION}`);
  const st = join(venv, 'bin', 'st');
  try {
    const { stdout } = await run(st, ['--version']);
    if (stdout.includes(SCHEMATHESIS_VERSION)) return st;
  } catch {
    // not installed yet, or a broken install: build it afresh
  }
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(SCHEMATHESIS_HOME, { recursive: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`], {
    timeout: 15 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return st;
}

export interface SchemathesisRun {
  exitCode: number;
  output: string;
}

export interface SchemathesisOptions {
  /** The gateway's base URL; the document is read from `<baseUrl>/docs/openapi.json`. */
  baseUrl: string;
  apiKey: string;
  checks: string[];
  maxExamples: number;
  seed: number;
  /** Values for path parameters (e.g. `id`: conversations that exist), so not every call is a 404. */
  pathValues?: Record<string, string[]>;
  workDir: string;
}

/** Runs `st run` against the live API document; never throws on failures found, returns them. */
export async function runSchemathesis(options: SchemathesisOptions): Promise<SchemathesisRun> {
  const st = await ensureSchemathesis();
  mkdirSync(options.workDir, { recursive: true });
  const config = join(options.workDir, 'schemathesis.toml');
  writeFileSync(config, configToml(options.pathValues ?? {}));
  const args = [
    '--config-file',
    config,
    'run',
    `${options.baseUrl}/docs/openapi.json`,
    '--url',
    options.baseUrl,
    '--header',
    `Authorization: Bearer ${options.apiKey}`,
    '--checks',
    options.checks.join(','),
    '--max-examples',
    String(options.maxExamples),
    '--seed',
    String(options.seed),
    '--workers',
    '1',
    '--no-shrink',
    '--generation-database',
    'none',
    '--report',
    'junit',
    '--report-dir',
    options.workDir,
  ];
  try {
    const { stdout, stderr } = await run(st, args, { cwd: options.workDir, maxBuffer: 64 * 1024 * 1024 });
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { exitCode: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

function configToml(pathValues: Record<string, string[]>): string {
  const lines = ['color = false', ''];
  for (const [name, values] of Object.entries(pathValues)) {
    lines.push(`[dictionaries.${name}]`, `values = ${JSON.stringify(values)}`, '');
  }
  const bindings = Object.keys(pathValues).map(
    (name) => `"path.${name}" = { dictionary = "${name}", probability = 0.8 }`,
  );
  if (bindings.length > 0) lines.push('[parameters]', ...bindings, '');
  return lines.join('\n');
}

import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned: the facade is checked against one known release of OpenAI's Python library. */
export const OPENAI_PYTHON_VERSION = '3.51.0';

const OPENAI_PYTHON_HOME = join(homedir(), '.cache', 'convo-engine', 'cache', 'openai-python');

/**
 * OpenAI's official Python library (PyPI `openai`), installed on first use into its own virtualenv
 * beside the local stack, so a fresh machine needs nothing but python3. Returns the venv's python.
 */
export async function ensureOpenAiPython(): Promise<string> {
  const venv = join(OPENAI_PYTHON_HOME, `venv-${OPENAI_PYTHON_VERSION}`);
  const python = join(venv, 'bin', 'python');
  try {
    const { stdout } = await run(python, ['-c', 'import openai; print(openai.__version__)']);
    if (stdout.trim() === OPENAI_PYTHON_VERSION) return python;
  } catch {
    // not installed yet, or a broken install: build it afresh
  }
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(OPENAI_PYTHON_HOME, { recursive: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(join(venv, 'bin', 'pip'), ['install', '--quiet', `openai==${OPENAI_PYTHON_VERSION}`], {
    timeout: 15 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return python;
}

/** Runs a Python script with the library and its arguments; returns what it printed on stdout. */
export async function runOpenAiPython(script: string, args: string[]): Promise<string> {
  const python = await ensureOpenAiPython();
  const { stdout } = await run(python, [script, ...args], {
    timeout: 10 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

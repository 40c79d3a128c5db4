import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '@libs/platform';
import { CanarySplit, parseCanarySplit } from './canary-split';

/** Where the canary split comes from: the current one, whenever a reply is routed. */
export interface CanarySplitSource {
  current(): CanarySplit;
  /** Splits loaded so far (1 at boot): a reload shows on /metrics as this number moving on. */
  readonly loads: number;
}

/** A split that never changes (tests, and no canary configured). */
export function fixedCanarySplit(split: CanarySplit): CanarySplitSource {
  return { current: () => split, loads: 1 };
}

/**
 * The split read from a JSON file and re-read when the file changes (polled with `fs.watchFile`, which
 * follows the symlink swap a Kubernetes ConfigMap update makes). A bad file at boot stops the process;
 * a bad edit later keeps the split in force and logs why, so a typo never routes traffic by accident.
 */
export class CanarySplitFile implements CanarySplitSource {
  private split: CanarySplit;
  loads = 1;
  private readonly onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) this.reload();
  };

  constructor(
    private readonly path: string,
    pollMs: number,
    private readonly logger: Logger,
  ) {
    this.split = parseCanarySplit(readFileSync(path, 'utf8'));
    watchFile(path, { interval: pollMs, persistent: false }, this.onChange);
  }

  current(): CanarySplit {
    return this.split;
  }

  reload(): void {
    try {
      this.split = parseCanarySplit(readFileSync(this.path, 'utf8'));
      this.loads++;
      this.logger.info({ path: this.path }, 'canary split reloaded');
    } catch (error) {
      this.logger.warn({ err: error, path: this.path }, 'canary split not reloaded; the previous one stays');
    }
  }

  close(): void {
    unwatchFile(this.path, this.onChange);
  }
}

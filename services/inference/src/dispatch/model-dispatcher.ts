import { AppError } from '@contracts';

export interface DispatcherSettings {
  /** Model calls at once: the server's batch slots (llama-server -np, vLLM's useful concurrency). */
  slots: number;
  /** Calls one tenant may have waiting; more is refused as a retryable outage (Kafka keeps the backlog). */
  maxQueuedPerTenant: number;
}

interface Waiter {
  start: () => void;
  abandon: (reason: unknown) => void;
}

/**
 * The queue in front of one model backend: at most `slots` calls run at once, waiting calls are taken
 * one tenant at a time in turn (round-robin) and first come, first served within a tenant, so a tenant's
 * burst never starves another. Generation is decoupled from Kafka: a waiting call holds no partition.
 */
export class ModelDispatcher {
  private running = 0;
  /** Waiting calls per tenant, and the tenants with waiting calls in the order they are served next. */
  private readonly queues = new Map<string, Waiter[]>();
  private readonly turns: string[] = [];

  constructor(private readonly settings: DispatcherSettings) {}

  /** Runs `work` in a slot; `signal` (a deadline) abandons the wait, not a call already running. */
  async run<T>(tenantId: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(tenantId, signal);
    try {
      return await work();
    } finally {
      this.running--;
      this.startNext();
    }
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.length;
    return total;
  }

  private acquire(tenantId: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.settings.slots && this.turns.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    const queue = this.queues.get(tenantId) ?? [];
    if (queue.length >= this.settings.maxQueuedPerTenant)
      throw new AppError(
        'dependency-unavailable',
        `the model queue is full for tenant ${tenantId} (${queue.length} waiting)`,
      );
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.remove(tenantId, waiter);
        const reason: unknown = signal?.reason;
        reject(reason instanceof Error ? reason : new Error('the wait for a model slot was abandoned'));
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        abandon: reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      if (!this.queues.has(tenantId)) {
        this.queues.set(tenantId, queue);
        this.turns.push(tenantId);
      }
    });
  }

  private startNext(): void {
    while (this.running < this.settings.slots) {
      const tenantId = this.turns.shift();
      if (tenantId === undefined) return;
      const queue = this.queues.get(tenantId);
      const waiter = queue?.shift();
      if (queue && queue.length > 0) this.turns.push(tenantId);
      else this.queues.delete(tenantId);
      if (!waiter) continue;
      this.running++;
      waiter.start();
    }
  }

  private remove(tenantId: string, waiter: Waiter): void {
    const queue = this.queues.get(tenantId);
    if (!queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) {
      this.queues.delete(tenantId);
      const turn = this.turns.indexOf(tenantId);
      if (turn >= 0) this.turns.splice(turn, 1);
    }
  }
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_STREAM, type PendingEvent, type Role } from '@contracts';
import { EventStore, type Principal } from '@libs/event-store';

/**
 * Writes the tenant's access stream: refusals and raw-data reads become events, so they reach the
 * tenant's audit log through read-all like every other event, and are proven the same way.
 */
@Injectable()
export class AccessLog {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  async denied(principal: Principal, method: string, route: string, allowed: readonly Role[]): Promise<void> {
    await this.append(principal, {
      eventId: randomUUID(),
      type: 'access.denied.v1',
      data: { keyId: principal.keyId, role: principal.role, method, route, allowed: [...allowed] },
    });
  }

  async rawDataRead(
    principal: Principal,
    route: string,
    scope: Record<string, string | number | null>,
  ): Promise<void> {
    await this.append(principal, {
      eventId: randomUUID(),
      type: 'access.raw-data-read.v1',
      data: { keyId: principal.keyId, role: principal.role, route, scope },
    });
  }

  private async append(principal: Principal, event: PendingEvent<'access'>): Promise<void> {
    const tenantId = principal.tenant.id;
    const ref = { tenantId, streamId: ACCESS_STREAM };
    // The stream is created by its first event; 'any' afterwards (access events decide nothing).
    const exists = (await this.store.streamVersion(ref)) !== null;
    const correlationId = randomUUID();
    const target = { ...ref, kind: 'access' as const, causationId: null, correlationId };
    try {
      await this.store.append({ ...target, expectedVersion: exists ? 'any' : 0 }, [event]);
    } catch (error) {
      // Two first events at once: the other created the stream, so append after it.
      if (exists) throw error;
      await this.store.append({ ...target, expectedVersion: 'any' }, [event]);
    }
  }
}

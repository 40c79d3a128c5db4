import { Inject, Injectable } from '@nestjs/common';
import { TenantRepository, type Tenant } from '@libs/event-store';

export const API_KEY_CACHE_TTL_MS = Symbol('API_KEY_CACHE_TTL_MS');

/** Resolves an API key to its tenant, caching briefly so each request does not hit the database. */
@Injectable()
export class TenantResolver {
  private readonly cache = new Map<string, { tenant: Tenant | null; expiresAt: number }>();

  constructor(
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(API_KEY_CACHE_TTL_MS) private readonly ttlMs: number,
  ) {}

  async resolve(apiKey: string | null): Promise<Tenant | null> {
    if (!apiKey) return null;
    const now = Date.now();
    const cached = this.cache.get(apiKey);
    if (cached && cached.expiresAt > now) return cached.tenant;
    return this.refresh(apiKey);
  }

  /** Looks the key up in the store now, past the cache, and caches the answer. */
  async refresh(apiKey: string): Promise<Tenant | null> {
    const tenant = await this.tenants.findTenantByApiKey(apiKey);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(apiKey, { tenant, expiresAt: Date.now() + this.ttlMs });
    return tenant;
  }
}

/** `Authorization: Bearer <key>`; the WebSocket also accepts `?api_key=` since browsers cannot set headers. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

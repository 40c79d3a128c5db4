import { Inject, Injectable } from '@nestjs/common';
import { TenantRepository, type Principal } from '@libs/event-store';

export const API_KEY_CACHE_TTL_MS = Symbol('API_KEY_CACHE_TTL_MS');

/** Resolves an API key to its tenant and role, caching briefly so each request does not hit the database. */
@Injectable()
export class PrincipalResolver {
  private readonly cache = new Map<string, { principal: Principal | null; expiresAt: number }>();

  constructor(
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(API_KEY_CACHE_TTL_MS) private readonly ttlMs: number,
  ) {}

  async resolve(apiKey: string | null): Promise<Principal | null> {
    if (!apiKey) return null;
    const cached = this.cache.get(apiKey);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    return this.refresh(apiKey);
  }

  /** Looks the key up in the store now, past the cache, and caches the answer. */
  async refresh(apiKey: string): Promise<Principal | null> {
    const principal = await this.tenants.findPrincipalByApiKey(apiKey);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(apiKey, { principal, expiresAt: Date.now() + this.ttlMs });
    return principal;
  }
}

/** `Authorization: Bearer <key>`; the WebSocket also accepts `?api_key=` since browsers cannot set headers. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

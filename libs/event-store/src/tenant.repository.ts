import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AppError, DEFAULT_ROLE, RoleSchema, TenantIdSchema, type Role } from '@contracts';

export interface Tenant {
  id: string;
  name: string;
}

/** Who calls: the tenant of the key, the key itself, and its role. */
export interface Principal {
  tenant: Tenant;
  keyId: string;
  role: Role;
}

export interface IssuedApiKey {
  tenantId: string;
  keyId: string;
  role: Role;
  /** Shown once; only its SHA-256 is stored. */
  apiKey: string;
}

const KEY_PREFIX = 'cek_';

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** Tenants and their API keys. The tenant of a request always comes from its key. */
export class TenantRepository {
  constructor(private readonly db: DataSource) {}

  async createTenant(id: string, name: string): Promise<Tenant> {
    const parsed = TenantIdSchema.safeParse(id);
    if (!parsed.success) throw new AppError('validation-failed', parsed.error.issues[0]?.message ?? 'bad id');
    await this.db.query(
      `INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`,
      [id, name],
    );
    return { id, name };
  }

  async issueApiKey(tenantId: string, label = '', role: Role = DEFAULT_ROLE): Promise<IssuedApiKey> {
    const parsedRole = RoleSchema.safeParse(role);
    if (!parsedRole.success) throw new AppError('validation-failed', `no role ${String(role)}`);
    const apiKey = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const keyId = randomUUID();
    await this.db.query(
      `INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, label, role) VALUES ($1, $2, $3, $4, $5, $6)`,
      [keyId, tenantId, hashApiKey(apiKey), apiKey.slice(0, 8), label, parsedRole.data],
    );
    return { tenantId, keyId, role: parsedRole.data, apiKey };
  }

  /** True when a key with this id was active and is now revoked. */
  async revokeApiKey(keyId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      // As a CTE the statement returns plain rows (typeorm answers a bare UPDATE with [rows, count]).
      `WITH revoked AS (UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id)
       SELECT id FROM revoked`,
      [keyId],
    );
    return rows.length > 0;
  }

  /** The key's tenant, id and role; null for an unknown or revoked key. */
  async findPrincipalByApiKey(apiKey: string): Promise<Principal | null> {
    if (!apiKey.startsWith(KEY_PREFIX)) return null;
    const rows: { id: string; name: string; key_id: string; role: Role }[] = await this.db.query(
      `SELECT t.id, t.name, k.id AS key_id, k.role FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [hashApiKey(apiKey)],
    );
    const row = rows[0];
    return row ? { tenant: { id: row.id, name: row.name }, keyId: row.key_id, role: row.role } : null;
  }

  async findTenantByApiKey(apiKey: string): Promise<Tenant | null> {
    if (!apiKey.startsWith(KEY_PREFIX)) return null;
    const rows: Tenant[] = await this.db.query(
      `SELECT t.id, t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [hashApiKey(apiKey)],
    );
    return rows[0] ?? null;
  }
}

import { createTestDatabase, type TestDatabase } from '@test/support';
import { TenantRepository } from './tenant.repository';

describe('TenantRepository on PostgreSQL', () => {
  let db: TestDatabase;
  let tenants: TenantRepository;

  beforeAll(async () => {
    db = await createTestDatabase('tenants');
    tenants = new TenantRepository(db.dataSource);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('resolves an issued key to its tenant, and stores only its hash', async () => {
    await tenants.createTenant('acme', 'Acme Ltd');
    const { apiKey, keyId } = await tenants.issueApiKey('acme');

    expect(await tenants.findTenantByApiKey(apiKey)).toEqual({ id: 'acme', name: 'Acme Ltd' });
    const [row] = await db.dataSource.query('SELECT key_hash FROM api_keys WHERE id = $1', [keyId]);
    expect(JSON.stringify(row)).not.toContain(apiKey);
  });

  it('does not resolve an unknown or malformed key', async () => {
    expect(await tenants.findTenantByApiKey('cek_not-issued')).toBeNull();
    expect(await tenants.findTenantByApiKey('not even the prefix')).toBeNull();
  });

  it('stops resolving a revoked key; revoking twice reports nothing to revoke', async () => {
    await tenants.createTenant('globex', 'Globex');
    const kept = await tenants.issueApiKey('globex');
    const revoked = await tenants.issueApiKey('globex');

    expect(await tenants.revokeApiKey(revoked.keyId)).toBe(true);
    expect(await tenants.revokeApiKey(revoked.keyId)).toBe(false);
    expect(await tenants.findTenantByApiKey(revoked.apiKey)).toBeNull();
    expect(await tenants.findTenantByApiKey(kept.apiKey)).toEqual({ id: 'globex', name: 'Globex' });
  });

  it('refuses a tenant id that is not a slug', async () => {
    await expect(tenants.createTenant('Not A Slug', 'x')).rejects.toMatchObject({
      code: 'validation-failed',
    });
  });
});

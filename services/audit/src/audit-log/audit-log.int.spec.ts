import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from 'typeorm';
import type { PendingEvent } from '@contracts';
import {
  ENTRIES_FILE,
  MANIFEST_FILE,
  rawPublicKey,
  fromHexHash,
  generateAuditSigningKey,
  parseAuditSigningKey,
  toHex,
  verifyConsistencyProof,
  verifyInclusionProof,
} from '@libs/audit-log';
import {
  CheckpointedSubscription,
  DataKeyRepository,
  PersonalDataCipher,
  PostgresEventStore,
  START_OF_STORE,
  migrateOwnTables,
  type Projection,
  type RecordedEvent,
} from '@libs/event-store';
import { createLogger } from '@libs/platform';
import {
  closed,
  createTenantWithKey,
  createTestDatabase,
  messageReceived,
  started,
  target,
  type TestDatabase,
} from '@test/support';
import { AUDIT_TABLES } from '../migrations';
import { AuditLogProjection } from './audit-log.projection';
import { AuditLogService } from './audit-log.service';
import { buildComplianceExport } from './compliance-export';

jest.setTimeout(120_000);

const logger = createLogger('audit-log-test', 'silent');
const signingKeyPem = generateAuditSigningKey().privateKeyPem;
const key = parseAuditSigningKey(signingKeyPem);
const CLI = join(__dirname, '..', 'cli', 'verify-log.ts');
const EXPORT_CLI = join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'libs',
  'audit-log',
  'src',
  'cli',
  'verify-export.ts',
);
let db: TestDatabase;
let store: PostgresEventStore;
let log: AuditLogService;

beforeAll(async () => {
  db = await createTestDatabase('audit_log');
  await migrateOwnTables(db.url, AUDIT_TABLES);
  await createTenantWithKey(db.dataSource, 'acme');
  await createTenantWithKey(db.dataSource, 'globex');
  store = new PostgresEventStore(db.dataSource);
  log = new AuditLogService(db.dataSource, key, () => new Date('2026-01-02T03:04:05.678Z'));
});

afterAll(async () => {
  await db?.drop();
});

async function converse(tenantId: string, turns: number): Promise<void> {
  const conversationId = randomUUID();
  await store.append(target(tenantId, conversationId, 0), [started()]);
  for (let turn = 0; turn < turns; turn++) {
    const events: PendingEvent[] = [messageReceived(`question ${turn}, call 13800138000`)];
    await store.append(target(tenantId, conversationId, 'any'), events);
  }
  await store.append(target(tenantId, conversationId, 'any'), [closed()]);
}

function subscription(projection: Projection, batchSize = 20): CheckpointedSubscription {
  return new CheckpointedSubscription(db.dataSource, store, projection, logger, {
    batchSize,
    pollIntervalMs: 20,
  });
}

/** Every stored event of a tenant, in read-all order: what its log must hold, once each. */
async function storedEventIds(tenantId: string): Promise<string[]> {
  const ids: string[] = [];
  let after = START_OF_STORE;
  for (;;) {
    const page = await store.readAll(after, 1000);
    if (page.length === 0) return ids;
    for (const { stored } of page) if (stored.tenantId === tenantId) ids.push(stored.eventId);
    after = page.at(-1)!.position;
  }
}

async function loggedEventIds(tenantId: string): Promise<string[]> {
  const rows: { event_id: string; index: string }[] = await db.dataSource.query(
    'SELECT event_id, index FROM audit_log_entries WHERE tenant_id = $1 ORDER BY index',
    [tenantId],
  );
  rows.forEach((row, position) => expect(Number(row.index)).toBe(position));
  return rows.map((row) => row.event_id);
}

/** Dies (its database session is killed, as in a crash) inside the transaction of its `failAt`-th batch. */
class CrashingAuditLog extends AuditLogProjection {
  batches = 0;

  constructor(private readonly failAt: number) {
    super();
  }

  override async apply(events: readonly RecordedEvent[], tx: EntityManager): Promise<void> {
    await super.apply(events, tx);
    if (++this.batches === this.failAt) await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
  }
}

/** `npm run audit:verify-log` from the sources (ts-node), with this suite's database and key. */
function verifyLogCli(tenantId: string): { status: number | null; stdout: string } {
  const result = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', CLI, tenantId],
    {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: db.url, AUDIT_SIGNING_KEY: signingKeyPem },
    },
  );
  return { status: result.status, stdout: result.stdout };
}

/** `npm run audit:verify` (offline, files and a public key only) from the sources. */
function verifyExportCli(dir: string, keyFile: string): { status: number | null; stdout: string } {
  const result = spawnSync(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      EXPORT_CLI,
      dir,
      '--public-key',
      keyFile,
    ],
    { encoding: 'utf8' },
  );
  return { status: result.status, stdout: result.stdout };
}

describe('the audit log on read-all', () => {
  it('logs every event once, in read-all order, across a crash mid-batch; the log verifies', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => converse(i % 2 ? 'globex' : 'acme', 1 + (i % 3))));

    const crashing = subscription(new CrashingAuditLog(3));
    await expect(crashing.catchUp()).rejects.toThrow();
    expect((await loggedEventIds('acme')).length + (await loggedEventIds('globex')).length).toBe(2 * 20);

    await log.signTreeHead('acme'); // a head in the middle of the log
    await subscription(new AuditLogProjection()).catchUp();
    for (const tenant of ['acme', 'globex']) {
      expect(await loggedEventIds(tenant)).toEqual(await storedEventIds(tenant));
      await log.signTreeHead(tenant);
      expect(await log.verify(tenant)).toMatchObject({ ok: true, unsignedEntries: 0 });
    }
  });

  it('proves inclusion of an entry and consistency between two heads, and a forked log fails', async () => {
    const first = await log.latestTreeHead('acme');
    await converse('acme', 2);
    await subscription(new AuditLogProjection()).catchUp();
    const second = await log.signTreeHead('acme');
    expect(second.treeSize).toBeGreaterThan(first!.treeSize);

    const inclusion = await log.inclusionProof('acme', 3, second.treeSize);
    expect(
      verifyInclusionProof(
        3,
        second.treeSize,
        fromHexHash(inclusion.leafHash),
        inclusion.path.map(fromHexHash),
        fromHexHash(second.rootHash),
      ),
    ).toBe(true);

    const consistency = await log.consistencyProof('acme', first!.treeSize, second.treeSize);
    const proof = consistency.path.map(fromHexHash);
    const [oldRoot, newRoot] = [fromHexHash(first!.rootHash), fromHexHash(second.rootHash)];
    expect(verifyConsistencyProof(first!.treeSize, second.treeSize, oldRoot, newRoot, proof)).toBe(true);
    // A forked log: the old head's root is not the one the new tree grew from.
    const forked = Buffer.from(oldRoot);
    forked[0]! ^= 1;
    expect(verifyConsistencyProof(first!.treeSize, second.treeSize, forked, newRoot, proof)).toBe(false);
  });

  it('exports one conversation with proofs; the files verify offline with the public key alone, and one edited byte fails', async () => {
    const conversation: { stream_id: string }[] = await db.dataSource.query(
      `SELECT stream_id FROM audit_log_entries WHERE tenant_id = 'acme' AND type = 'conversation.closed.v1' LIMIT 1`,
    );
    const conversationId = conversation[0]!.stream_id;
    const cipher = new PersonalDataCipher(new DataKeyRepository(db.dataSource, randomBytes(32)));
    const exported = await buildComplianceExport(db.dataSource, log, cipher, 'acme', { conversationId });
    expect(exported.entries).toBeGreaterThanOrEqual(3);

    const dir = mkdtempSync(join(tmpdir(), 'audit-export-'));
    writeFileSync(join(dir, MANIFEST_FILE), exported.files[MANIFEST_FILE]);
    writeFileSync(join(dir, ENTRIES_FILE), exported.files[ENTRIES_FILE]);
    const keyFile = join(dir, 'log.pub');
    writeFileSync(keyFile, rawPublicKey(key.publicKey).toString('hex'));
    const lines = exported.files[ENTRIES_FILE].trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { entry: { streamId: string } }).entry.streamId)).toEqual(
      lines.map(() => conversationId),
    );

    const ok = verifyExportCli(dir, keyFile);
    expect(ok.stdout).toMatch(/^OK \d+ entries of tenant acme/);
    expect(ok.status).toBe(0);

    // One byte of the customer's text changed (a digit of the phone number in the first message).
    const entries = Buffer.from(exported.files[ENTRIES_FILE]);
    const at = entries.indexOf('13800138000');
    expect(at).toBeGreaterThan(0);
    entries[at + 3] = '9'.charCodeAt(0);
    writeFileSync(join(dir, ENTRIES_FILE), entries);
    const edited = verifyExportCli(dir, keyFile);
    expect(edited.status).toBe(1);
    expect(edited.stdout).toMatch(/^FAILED data-hash-mismatch/);

    // Another key (the log's key swapped by whoever handed over the files): refused.
    writeFileSync(join(dir, ENTRIES_FILE), exported.files[ENTRIES_FILE]);
    writeFileSync(
      keyFile,
      rawPublicKey(parseAuditSigningKey(generateAuditSigningKey().privateKeyPem).publicKey).toString('hex'),
    );
    expect(verifyExportCli(dir, keyFile)).toMatchObject({
      status: 1,
      stdout: expect.stringMatching(/^FAILED public-key-mismatch/),
    });
  });

  describe('tampered in PostgreSQL, the verifier names the first broken entry', () => {
    let saved: unknown[];

    beforeEach(async () => {
      await log.signTreeHead('acme');
      expect(await log.verify('acme')).toMatchObject({ ok: true });
      expect(verifyLogCli('acme')).toMatchObject({
        status: 0,
        stdout: expect.stringMatching(/^OK the log of acme/),
      });
      saved = await db.dataSource.query(
        `SELECT * FROM audit_log_entries WHERE tenant_id = 'acme' ORDER BY index`,
      );
    });

    afterEach(async () => {
      // Put the rows back as they were, so every case starts from an intact log.
      await db.dataSource.query(`DELETE FROM audit_log_entries WHERE tenant_id = 'acme'`);
      await db.dataSource.query(
        `INSERT INTO audit_log_entries SELECT * FROM json_populate_recordset(NULL::audit_log_entries, $1)`,
        [JSON.stringify(saved)],
      );
      expect(await log.verify('acme')).toMatchObject({ ok: true });
    });

    it('a changed row', async () => {
      await db.dataSource.query(
        // Always a change, whatever event the crash test above left at index 7.
        `UPDATE audit_log_entries
            SET type = CASE WHEN type = 'conversation.closed.v1' THEN 'conversation.started.v2' ELSE 'conversation.closed.v1' END
          WHERE tenant_id = 'acme' AND index = 7`,
      );
      expect(await log.verify('acme')).toMatchObject({
        ok: false,
        failure: { kind: 'leaf-hash-mismatch', index: 7 },
      });
    });

    it('a deleted row', async () => {
      await db.dataSource.query(`DELETE FROM audit_log_entries WHERE tenant_id = 'acme' AND index = 5`);
      expect(await log.verify('acme')).toMatchObject({
        ok: false,
        failure: { kind: 'missing-index', index: 5 },
      });
    });

    it('two rows reordered (their contents swapped)', async () => {
      for (const [from, to] of [
        [4, -1],
        [9, 4],
        [-1, 9],
      ]) {
        await db.dataSource.query(
          `UPDATE audit_log_entries SET index = $2 WHERE tenant_id = 'acme' AND index = $1`,
          [from, to],
        );
      }
      expect(await log.verify('acme')).toMatchObject({
        ok: false,
        failure: { kind: 'leaf-hash-mismatch', index: 4 },
      });
    });

    it('the log truncated', async () => {
      const size = saved.length;
      await db.dataSource.query(`DELETE FROM audit_log_entries WHERE tenant_id = 'acme' AND index >= $1`, [
        size - 3,
      ]);
      expect(await log.verify('acme')).toMatchObject({
        ok: false,
        failure: { kind: 'truncated', index: size - 3 },
      });
    });

    it('a leaf hash rewritten to match a changed row: the signed root names the range', async () => {
      const before: { hash: Buffer }[] = await db.dataSource.query(
        `SELECT hash FROM audit_log_nodes WHERE tenant_id = 'acme' AND level = 0 AND index = 2`,
      );
      await db.dataSource.query(
        `UPDATE audit_log_nodes SET hash = $1 WHERE tenant_id = 'acme' AND level = 0 AND index = 2`,
        [Buffer.alloc(32)],
      );
      expect(await log.verify('acme')).toMatchObject({
        ok: false,
        failure: { kind: 'leaf-hash-mismatch', index: 2 },
      });
      expect(toHex(before[0]!.hash)).toHaveLength(64);
      await db.dataSource.query(
        `UPDATE audit_log_nodes SET hash = $1 WHERE tenant_id = 'acme' AND level = 0 AND index = 2`,
        [before[0]!.hash],
      );
    });
  });
});

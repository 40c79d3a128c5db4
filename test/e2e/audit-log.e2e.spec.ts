/**
 * The audit log end to end (issue 10): a demo-like conversation (Chinese, with a phone number) runs
 * through the five services; its tenant's log holds every stored event, verifies, exports a file set
 * that `npm run audit:verify` checks offline with the public key alone, and a tampered row or byte is
 * caught. Roles: an analyst key cannot send messages, a frontend key cannot export, refusals are in
 * the log, and no key reads another tenant's log. Analytics: the conversation's summary is listed for an
 * analyst, its replay redacts the phone number (raw only for compliance, and logged), frontend keys get
 * nothing, no tenant sees another's, and the summaries rebuilt from zero equal the live ones.
 * Erasure: the customer's text is sealed at rest and on Kafka; once a compliance key erases the
 * conversation it reads as [erased] in the event store, a Kafka replay, the analytics replay and the
 * compliance export, the erasure is in the log, and the log and the export still verify.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ERASED_MARKER, TOPICS, isSealed, parseStoredEvent, type StoredEvent } from '@contracts';
import { GatewayClient } from '@libs/client';
import { DataKeyRepository, PersonalDataCipher, parseMasterKey } from '@libs/event-store';
import { createKafka } from '@libs/messaging';
import { createLogger } from '@libs/platform';
import {
  E2eStack,
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(300_000);

const run = promisify(execFile);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
const basePort = Number(process.env.E2E_BASE_PORT ?? 4710);
const REPO = join(__dirname, '..', '..');
let stack: E2eStack;
let prefix: string;
let db: TestDatabase;
let services: ServiceProcesses;
let frontend: GatewayClient;
let analystAtGateway: GatewayClient;
let frontendAtAudit: GatewayClient;
let compliance: GatewayClient;
let otherCompliance: GatewayClient;
let analyst: GatewayClient;
let otherAnalyst: GatewayClient;
let analystKey: string;

beforeAll(async () => {
  stack = await E2eStack.create('audit', ['LLM_BASE_URL']);
  ({ db, prefix } = stack);
  const frontendKey = await createTenantWithKey(db.dataSource, 'acme');
  // A turn that always ends in a model reply (one slot-free intent), whatever the tiny local classifier
  // makes of the message: this suite is about the audit trail of a whole turn.
  await answerEveryMessage(db.dataSource, 'acme', ['我的包裹到哪了', 'where is my parcel']);
  analystKey = await createTenantWithKey(db.dataSource, 'acme', 'analyst');
  const globexAnalyst = await createTenantWithKey(db.dataSource, 'globex', 'analyst');
  const complianceKey = await createTenantWithKey(db.dataSource, 'acme', 'compliance');
  const globexCompliance = await createTenantWithKey(db.dataSource, 'globex', 'compliance');
  services = stack.services(basePort, {
    REPLY_MAX_TOKENS: '60',
    LLM_TEMPERATURE: '0',
    AUDIT_TREE_HEAD_INTERVAL_MS: '500',
  });
  await services.startAll();
  frontend = new GatewayClient(services.url('gateway'), frontendKey);
  analystAtGateway = new GatewayClient(services.url('gateway'), analystKey);
  frontendAtAudit = new GatewayClient(services.url('audit'), frontendKey);
  compliance = new GatewayClient(services.url('audit'), complianceKey);
  otherCompliance = new GatewayClient(services.url('audit'), globexCompliance);
  analyst = new GatewayClient(services.url('audit'), analystKey);
  otherAnalyst = new GatewayClient(services.url('audit'), globexAnalyst);
});

afterAll(async () => {
  await stack?.stop();
});

async function eventIdsOf(table: 'events' | 'audit_log_entries', tenantId: string): Promise<string[]> {
  const rows: { event_id: string }[] = await db.dataSource.query(
    `SELECT event_id FROM ${table} WHERE tenant_id = $1 ORDER BY event_id`,
    [tenantId],
  );
  return rows.map((row) => row.event_id);
}

describe('the audit log of a conversation, end to end', () => {
  let conversationId: string;

  it('roles: an analyst key cannot send messages, a frontend key cannot export; both refusals are logged', async () => {
    const conversation = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });
    conversationId = conversation.conversationId;
    const refused = await analystAtGateway.request('POST', `/v1/conversations/${conversationId}/messages`, {
      json: { text: '你好' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'forbidden' });
    const noExport = await frontendAtAudit.request(
      'GET',
      `/v1/audit/export?conversationId=${conversationId}`,
    );
    expect(noExport.status).toBe(403);

    const denials: { type: string; data: { role: string; route: string } }[] = await db.dataSource.query(
      `SELECT type, data FROM events WHERE tenant_id = 'acme' AND type = 'access.denied.v1' ORDER BY global_position`,
    );
    expect(denials.map(({ data }) => [data.role, data.route])).toEqual([
      ['analyst', '/v1/conversations/:id/messages'],
      ['frontend', '/v1/audit/export'],
    ]);
  });

  it('holds every event of the conversation, verifies, exports a file set that verifies offline, and catches tampering', async () => {
    await frontend.sendMessage(conversationId, '你好，我的包裹到哪了？我的电话是13800138000');
    await waitFor(
      'the turn to end (a reply completed or failed)',
      async () => {
        const rows: unknown[] = await db.dataSource.query(
          `SELECT 1 FROM events WHERE stream_id::text = $1
              AND type IN ('conversation.reply-completed.v1', 'conversation.reply-completed.v2', 'conversation.reply-failed.v1')`,
          [conversationId],
        );
        return rows.length > 0;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    await frontend.closeConversation(conversationId);

    const stored = await eventIdsOf('events', 'acme');
    await waitFor(
      'every stored event to be in the log',
      async () => JSON.stringify(await eventIdsOf('audit_log_entries', 'acme')) === JSON.stringify(stored),
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const head = await compliance.request('POST', '/v1/audit/tree-heads');
    expect(head.status).toBe(201);
    expect(head.body).toMatchObject({ tenantId: 'acme', treeSize: stored.length });
    const verified = await compliance.request('POST', '/v1/audit/verify');
    expect(verified.body).toMatchObject({ ok: true, entries: stored.length });

    const exported = await compliance.request('GET', `/v1/audit/export?conversationId=${conversationId}`);
    expect(exported.status).toBe(200);
    const { files } = exported.body as { files: Record<string, string> };
    const publicKey = (await compliance.request('GET', '/v1/audit/public-key')).body as { publicKey: string };
    const dir = mkdtempSync(join(tmpdir(), 'e2e-audit-export-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'log.pub'), publicKey.publicKey);
    const verify = () =>
      run(process.execPath, [
        join(REPO, 'dist/libs/audit-log/src/cli/verify-export.js'),
        dir,
        '--public-key',
        join(dir, 'log.pub'),
      ]).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    expect(await verify()).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^OK \d+ entries of tenant acme/),
    });

    // One byte of the customer's text: 13800138000 becomes 14800138000.
    const entries = Buffer.from(files['entries.jsonl']!);
    entries[entries.indexOf('13800138000') + 1] = '4'.charCodeAt(0);
    writeFileSync(join(dir, 'entries.jsonl'), entries);
    expect(await verify()).toMatchObject({ code: 1, stdout: expect.stringMatching(/^FAILED/) });

    // The export itself was a raw-data read: it is in the log too.
    await waitFor('the raw read to be logged', async () => {
      const rows: unknown[] = await db.dataSource.query(
        `SELECT 1 FROM audit_log_entries WHERE tenant_id = 'acme' AND type = 'access.raw-data-read.v1'`,
      );
      return rows.length === 1;
    });

    // A row changed in PostgreSQL: the verify endpoint names it.
    await db.dataSource.query(
      `UPDATE audit_log_entries SET occurred_at = '2020-01-01T00:00:00.000Z' WHERE tenant_id = 'acme' AND index = 2`,
    );
    expect((await compliance.request('POST', '/v1/audit/verify')).body).toMatchObject({
      ok: false,
      failure: { kind: 'leaf-hash-mismatch', index: 2 },
    });
  });

  it("no key reads another tenant's log", async () => {
    const foreign = await otherCompliance.request('GET', `/v1/audit/export?conversationId=${conversationId}`);
    expect(foreign.status).toBe(200);
    const { files } = foreign.body as { files: Record<string, string> };
    expect(files['entries.jsonl']).not.toContain(conversationId);
    // Globex's log holds only its own entries (the export just made is one, logged as it happens), far
    // fewer than acme's: an index of acme's log is outside globex's.
    const acmeSize = ((await compliance.request('POST', '/v1/audit/tree-heads')).body as { treeSize: number })
      .treeSize;
    const globexSize = (
      (await otherCompliance.request('POST', '/v1/audit/tree-heads')).body as { treeSize: number }
    ).treeSize;
    expect(globexSize).toBeLessThan(acmeSize);
    const acmeOnly = await otherCompliance.request('GET', `/v1/audit/proofs/inclusion?index=${acmeSize - 1}`);
    expect(acmeOnly.status).toBe(400);
  });

  it('analytics: an analyst lists the conversation and replays it redacted; raw text only for compliance, and logged', async () => {
    type Listed = { conversations: { conversationId: string; status: string; messages: number }[] };
    await waitFor('the summary to hold the closed conversation', async () => {
      const listed = await analyst.request('GET', '/v1/analytics/conversations?status=closed');
      return (listed.body as Listed).conversations.some((row) => row.conversationId === conversationId);
    });
    const listed = (await analyst.request('GET', '/v1/analytics/conversations')).body as Listed;
    expect(listed.conversations.find((row) => row.conversationId === conversationId)).toMatchObject({
      status: 'closed',
      messages: 1,
    });
    const aggregates = await analyst.request('GET', '/v1/analytics/aggregates');
    expect(aggregates.status).toBe(200);

    const replayPath = `/v1/analytics/conversations/${conversationId}/replay`;
    const replay = await analyst.request('GET', replayPath);
    expect(replay.status).toBe(200);
    const text = JSON.stringify(replay.body);
    expect(text).toContain('[phone]');
    expect(text).not.toContain('13800138000');
    expect((await analyst.request('GET', `${replayPath}?raw=true`)).status).toBe(403);

    const raw = await compliance.request('GET', `${replayPath}?raw=true`);
    expect(raw.status).toBe(200);
    expect(JSON.stringify(raw.body)).toContain('13800138000');
    const reads: { data: { route: string; scope: Record<string, unknown> } }[] = await db.dataSource.query(
      `SELECT data FROM events WHERE tenant_id = 'acme' AND type = 'access.raw-data-read.v1' ORDER BY global_position`,
    );
    expect(reads.map(({ data }) => [data.route, data.scope])).toEqual([
      ['/v1/audit/export', expect.anything()],
      ['/v1/analytics/conversations/:conversationId/replay', { conversationId }],
    ]);
  });

  it('analytics: the export streams every listed conversation; frontend keys get no analytics; no tenant sees another', async () => {
    const response = await fetch(`${services.url('audit')}/v1/analytics/export?format=csv`, {
      headers: { authorization: `Bearer ${analystKey}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const csv = (await response.text()).trimEnd().split('\r\n');
    expect(csv[0]!.startsWith('conversationId,status,')).toBe(true);
    expect(csv.slice(1).map((line) => line.split(',')[0])).toContain(conversationId);

    for (const path of ['/v1/analytics/conversations', '/v1/analytics/export', '/v1/analytics/aggregates']) {
      expect((await frontendAtAudit.request('GET', path)).status).toBe(403);
    }
    const foreign = await otherAnalyst.request('GET', '/v1/analytics/conversations');
    expect(foreign.status).toBe(200);
    expect(JSON.stringify(foreign.body)).not.toContain(conversationId);
    expect(
      (await otherAnalyst.request('GET', `/v1/analytics/conversations/${conversationId}/replay`)).status,
    ).toBe(404);
  });

  it('analytics: the summaries rebuilt from zero (the projection reset while the service runs) equal the live ones', async () => {
    const summaries = () =>
      db.dataSource.query(`SELECT * FROM audit_conversation_summaries ORDER BY tenant_id, conversation_id`);
    const live: unknown[] = await summaries();
    expect(live.length).toBeGreaterThan(0);
    await db.dataSource.transaction(async (tx) => {
      await tx.query(`DELETE FROM subscription_checkpoints WHERE name = 'audit.conversation-summaries'`);
      await tx.query(`DELETE FROM audit_conversation_summaries`);
    });
    expect(await summaries()).toEqual([]);
    await waitFor(
      'the rebuild to catch up',
      async () => JSON.stringify(await summaries()) === JSON.stringify(live),
    );
    expect(await summaries()).toEqual(live);
  });
});

describe('erasure by crypto-shredding, end to end', () => {
  /** What the customer typed, and the order number the slot holds: never readable at rest, ever after erasure. */
  const PHONE = '13912345678';
  let conversationId: string;
  let customer: GatewayClient;
  let officer: GatewayClient;
  let officerElsewhere: GatewayClient;
  let analystHere: GatewayClient;

  beforeAll(async () => {
    // A tenant of its own: the suite above tampers with acme's log on purpose.
    const frontendKey = await createTenantWithKey(db.dataSource, 'initech');
    await answerEveryMessage(db.dataSource, 'initech', ['我的包裹到哪了', 'where is my parcel']);
    customer = new GatewayClient(services.url('gateway'), frontendKey);
    officer = new GatewayClient(
      services.url('audit'),
      await createTenantWithKey(db.dataSource, 'initech', 'compliance'),
    );
    officerElsewhere = new GatewayClient(
      services.url('audit'),
      await createTenantWithKey(db.dataSource, 'umbrella', 'compliance'),
    );
    analystHere = new GatewayClient(
      services.url('audit'),
      await createTenantWithKey(db.dataSource, 'initech', 'analyst'),
    );
  });

  async function storedPayloads(): Promise<string> {
    const rows: { payload: string }[] = await db.dataSource.query(
      `SELECT data::text AS payload FROM events WHERE tenant_id = 'initech' AND stream_id = $1 ORDER BY sequence`,
      [conversationId],
    );
    return rows.map((row) => row.payload).join('\n');
  }

  /** A new consumer group reading the conversation's topic from its first offset, until the erasure. */
  async function replayTopic(): Promise<StoredEvent[]> {
    const kafka = createKafka(
      { brokers, clientId: 'e2e-replay', topicPrefix: prefix },
      createLogger('e2e', 'warn'),
    );
    const consumer = kafka.consumer({ groupId: `${prefix}e2e-replay-${randomBytes(3).toString('hex')}` });
    const values: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: `${prefix}${TOPICS.conversationEvents}`, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          if (message.key?.toString() === conversationId) values.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
      await waitFor('the erasure to be replayed from Kafka', () =>
        values.some((value) => value.includes('"conversation.erased.v1"')),
      );
    } finally {
      await consumer.disconnect();
    }
    expect(values.join('\n')).not.toContain(PHONE);
    return values.map((value) => {
      const parsed = parseStoredEvent(value);
      if (!parsed.ok) throw new Error(`invalid event on the topic: ${parsed.detail}`);
      return parsed.event;
    });
  }

  it('seals the customer text at rest and on Kafka; the gateway shows it as typed', async () => {
    conversationId = (await customer.startConversation({ channel: 'web', locale: 'zh-CN' })).conversationId;
    await customer.sendMessage(conversationId, `你好，我的包裹到哪了？我的电话是${PHONE}`);
    await waitFor(
      'the turn to end (a reply completed or failed)',
      async () => {
        const rows: unknown[] = await db.dataSource.query(
          `SELECT 1 FROM events WHERE tenant_id = 'initech' AND stream_id = $1
              AND type IN ('conversation.reply-completed.v2', 'conversation.reply-failed.v1')`,
          [conversationId],
        );
        return rows.length > 0;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    expect(await storedPayloads()).not.toContain(PHONE);
    expect(JSON.stringify(await customer.allEvents(conversationId))).toContain(PHONE);
  });

  it('refuses bad requests, other roles and other tenants, writing nothing', async () => {
    const path = `/v1/conversations/${conversationId}/erasure`;
    const before = await storedPayloads();
    const bad = await officer.request('POST', path, { json: { reason: 'because I said so' } });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    expect(bad.body).toMatchObject({ code: 'validation-failed' });
    const request = { json: { reason: 'data-subject-request' } };
    expect((await analystHere.request('POST', path, request)).status).toBe(403);
    expect((await officerElsewhere.request('POST', path, request)).status).toBe(404);
    expect((await officer.request('POST', '/v1/conversations/not-a-uuid/erasure', request)).status).toBe(404);
    expect(await storedPayloads()).toBe(before);
    const keys: { erased_at: Date | null }[] = await db.dataSource.query(
      `SELECT erased_at FROM conversation_data_keys WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(keys).toEqual([{ erased_at: null }]);
  });

  it('after erasure the text is unreadable in the store, a Kafka replay, analytics and the export; every proof verifies', async () => {
    const path = `/v1/conversations/${conversationId}/erasure`;
    const erased = await officer.request('POST', path, {
      json: { reason: 'data-subject-request', reference: 'PIPL-2026-0042' },
    });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      status: 'erased',
      erasure: {
        type: 'conversation.erased.v1',
        conversationId,
        data: { role: 'compliance', reference: 'PIPL-2026-0042' },
      },
    });
    expect(
      (await officer.request('POST', path, { json: { reason: 'retention-expired' } })).body,
    ).toMatchObject({
      status: 'already-erased',
    });

    // The event store, through the gateway: markers, not errors; the conversation is closed.
    await waitFor('the gateway to read markers', async () => {
      const text = JSON.stringify(await customer.allEvents(conversationId));
      return !text.includes(PHONE) && text.includes(ERASED_MARKER);
    });
    expect(await customer.getConversation(conversationId)).toMatchObject({ status: 'closed' });
    expect(
      (
        await customer.request('POST', `/v1/conversations/${conversationId}/messages`, {
          json: { text: 'hi' },
        })
      ).status,
    ).toBe(409);
    expect(await storedPayloads()).not.toContain(PHONE);

    // Kafka, replayed from the start by a consumer holding the services' master key: markers.
    const cipher = new PersonalDataCipher(
      new DataKeyRepository(db.dataSource, parseMasterKey(services.dataKeyEncryptionKey)),
    );
    const replayed = await cipher.open(await replayTopic());
    const message = replayed.find((event) => event.type === 'conversation.message-received.v1')!;
    expect(message.data).toMatchObject({ text: ERASED_MARKER });
    expect(JSON.stringify(replayed)).not.toContain(PHONE);

    // The analytics projection and the raw replay (compliance).
    const raw = await officer.request('GET', `/v1/analytics/conversations/${conversationId}/replay?raw=true`);
    expect(raw.status).toBe(200);
    expect(JSON.stringify(raw.body)).not.toContain(PHONE);
    expect(JSON.stringify(raw.body)).toContain(ERASED_MARKER);
    await waitFor('the summary to record the erasure', async () => {
      const rows: { status: string; closed_reason: string | null }[] = await db.dataSource.query(
        `SELECT status, closed_reason FROM audit_conversation_summaries WHERE conversation_id = $1`,
        [conversationId],
      );
      return rows[0]?.status === 'closed' && rows[0].closed_reason === 'erased';
    });
    const summaries: unknown[] = await db.dataSource.query(
      `SELECT * FROM audit_conversation_summaries WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(JSON.stringify(summaries)).not.toContain(PHONE);

    // The audit log holds the erasure and verifies; the export shows markers and verifies offline.
    await waitFor(
      'every stored event to be in the log',
      async () =>
        JSON.stringify(await eventIdsOf('audit_log_entries', 'initech')) ===
        JSON.stringify(await eventIdsOf('events', 'initech')),
    );
    const logged: unknown[] = await db.dataSource.query(
      `SELECT 1 FROM audit_log_entries WHERE tenant_id = 'initech' AND type = 'conversation.erased.v1'`,
    );
    expect(logged).toHaveLength(1);
    expect((await officer.request('POST', '/v1/audit/tree-heads')).status).toBe(201);
    expect((await officer.request('POST', '/v1/audit/verify')).body).toMatchObject({ ok: true });
    const exported = await officer.request('GET', `/v1/audit/export?conversationId=${conversationId}`);
    const { files } = exported.body as { files: Record<string, string> };
    expect(files['entries.jsonl']).not.toContain(PHONE);
    const lines = files['entries.jsonl']!.trimEnd()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            entry: { type: string };
            data?: { text?: string };
            readable?: { text?: string };
          },
      );
    const exportedMessage = lines.find((line) => line.entry.type === 'conversation.message-received.v1')!;
    expect(isSealed(exportedMessage.data?.text)).toBe(true);
    expect(exportedMessage.readable?.text).toBe(ERASED_MARKER);
    const publicKey = (await officer.request('GET', '/v1/audit/public-key')).body as { publicKey: string };
    const dir = mkdtempSync(join(tmpdir(), 'e2e-erasure-export-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'log.pub'), publicKey.publicKey);
    const { stdout } = await run(process.execPath, [
      join(REPO, 'dist/libs/audit-log/src/cli/verify-export.js'),
      dir,
      '--public-key',
      join(dir, 'log.pub'),
    ]);
    expect(stdout).toMatch(/^OK \d+ entries of tenant initech/);
  });
});

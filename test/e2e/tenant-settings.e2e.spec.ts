/**
 * Tenants manage their intents through the API, end to end on the real stack: an admin key reads the
 * settings and adds an intent with examples (a new settings version, made against the version it read);
 * a conversation started afterwards runs under that version, and a message like the new examples is
 * classified to the new intent by the inference service (embeddings of the version's examples); a
 * stale version is refused (412 on If-Match, 409 on expectedVersion); a frontend key is refused (403).
 */
import type { ConversationEvent, IntentDefinition } from '@contracts';
import { GatewayClient, GatewayError } from '@libs/client';
import { TenantRepository } from '@libs/event-store';
import { E2eStack, ServiceProcesses, createTenantWithKey, waitFor } from '@test/support';

jest.setTimeout(300_000);

const basePort = Number(process.env.E2E_BASE_PORT ?? 4530);
let stack: E2eStack;
let services: ServiceProcesses;
let admin: GatewayClient;
let frontend: GatewayClient;

const GIFT_WRAPPING: IntentDefinition = {
  name: 'gift_wrapping',
  description: 'The customer asks for gift wrapping, a gift box or a greeting card with an order.',
  examples: [
    '能不能帮我做礼品包装',
    '可以加一个礼盒包装吗',
    '礼品包装要另外收费吗',
    'can you gift wrap my order',
    'do you offer gift wrapping',
    'please add a gift box and a greeting card',
  ],
  slots: [],
  handoff: false,
};

beforeAll(async () => {
  stack = await E2eStack.create('settings', ['LLM_BASE_URL', 'EMBEDDINGS_BASE_URL']);
  const { dataSource } = stack.db;
  const adminKey = await createTenantWithKey(dataSource, 'acme', 'admin');
  const frontendKey = (await new TenantRepository(dataSource).issueApiKey('acme', '', 'frontend')).apiKey;
  services = stack.services(basePort, { REPLY_MAX_TOKENS: '60', LLM_TEMPERATURE: '0' });
  await services.startAll();
  admin = new GatewayClient(services.url('gateway'), adminKey);
  frontend = new GatewayClient(services.url('gateway'), frontendKey);
});

afterAll(async () => {
  await stack?.stop();
});

async function refusal(call: Promise<unknown>): Promise<{ status: number; code: string | null }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof GatewayError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('the call was expected to be refused');
}

describe('tenants manage their intents through the API', () => {
  let before: { conversationId: string };

  it('an admin key reads the settings: version 0, the engine’s default intents, the version as ETag', async () => {
    before = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });

    const settings = await admin.getSettings();
    const raw = await fetch(`${admin.baseUrl}/v1/settings`, {
      headers: { authorization: `Bearer ${admin.apiKey}` },
    });

    expect(settings).toMatchObject({ version: 0, settings: {}, intentsSource: 'default' });
    expect(settings.intents.map((intent) => intent.name)).toContain('refund');
    expect(settings.intents.map((intent) => intent.name)).not.toContain('gift_wrapping');
    expect(raw.headers.get('etag')).toBe('"0"');
  });

  it('an admin key adds an intent with examples: a new version, made against the one it read', async () => {
    const current = await admin.getSettings();

    const updated = await admin.replaceIntents([...current.intents, GIFT_WRAPPING], {
      ifMatch: current.version,
    });

    expect(updated).toMatchObject({ version: 1, intentsSource: 'tenant' });
    expect(updated.intents.at(-1)).toEqual(GIFT_WRAPPING);
    expect(await admin.getSettings()).toEqual(updated);
  });

  it('refuses a change made against a stale version: 412 with If-Match, 409 with expectedVersion; nothing written', async () => {
    const current = await admin.getSettings();
    const fewer = current.intents.filter((intent) => intent.name !== 'gift_wrapping');

    expect(await refusal(admin.replaceIntents(fewer, { ifMatch: 0 }))).toEqual({
      status: 412,
      code: 'precondition-failed',
    });
    expect(await refusal(admin.replaceIntents(fewer, { expectedVersion: 0 }))).toEqual({
      status: 409,
      code: 'settings-version-conflict',
    });
    // The same change as the current version, sent again against the version it was made on: harmless.
    expect(await admin.replaceIntents(current.intents, { expectedVersion: 0 })).toEqual(current);
    expect((await admin.getSettings()).version).toBe(1);
  });

  it('refuses duplicate intent names (400) before writing', async () => {
    const current = await admin.getSettings();

    expect(await refusal(admin.replaceIntents([...current.intents, GIFT_WRAPPING]))).toEqual({
      status: 400,
      code: 'validation-failed',
    });
    expect((await admin.getSettings()).version).toBe(1);
  });

  it('a frontend key may neither read nor change the settings (403)', async () => {
    expect(await refusal(frontend.getSettings())).toEqual({ status: 403, code: 'forbidden' });
    expect(await refusal(frontend.replaceIntents([GIFT_WRAPPING]))).toEqual({
      status: 403,
      code: 'forbidden',
    });
    expect((await admin.getSettings()).version).toBe(1);
  });

  it('a conversation started afterwards runs under the new version and a message like its examples is classified to it', async () => {
    const view = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });
    expect(view.configVersion).toBe(1);
    expect((await frontend.getConversation(before.conversationId)).configVersion).toBe(0);

    const { messageId } = await frontend.sendMessage(view.conversationId, '能不能帮我做个礼品包装呀');

    const resolved = await waitFor(
      'the message’s intent',
      async () => {
        const events: ConversationEvent[] = await frontend.allEvents(view.conversationId);
        return events.find(
          (event) => event.type === 'conversation.intent-resolved.v1' && event.data.messageId === messageId,
        );
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(resolved).toMatchObject({ data: { intent: 'gift_wrapping', label: 'gift_wrapping' } });
  });
});

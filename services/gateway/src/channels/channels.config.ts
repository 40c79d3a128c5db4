import { z } from 'zod';
import { TenantIdSchema } from '@contracts';

const ConnectorId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a lowercase connector id');

/** A Feishu (Lark) bot app subscribed to `im.message.receive_v1` through the events URL. */
const FeishuConnectorSchema = z
  .object({
    kind: z.literal('feishu'),
    id: ConnectorId,
    tenantId: TenantIdSchema,
    appId: z.string().min(1),
    appSecret: z.string().min(1),
    /** The app's Verification Token (event subscription page): every event carries it. */
    verificationToken: z.string().min(1),
    /** The app's Encrypt Key, when set there: events arrive encrypted and signed. */
    encryptKey: z.string().min(1).optional(),
    /** Open API base URL: https://open.feishu.cn (default), https://open.larksuite.com, or a stand-in. */
    apiBaseUrl: z.url().default('https://open.feishu.cn'),
  })
  .strict();

/** A Telegram bot whose webhook was set with a `secret_token`. */
const TelegramConnectorSchema = z
  .object({
    kind: z.literal('telegram'),
    id: ConnectorId,
    tenantId: TenantIdSchema,
    botToken: z.string().min(1),
    /** The `secret_token` given to setWebhook: sent back in X-Telegram-Bot-Api-Secret-Token. */
    secretToken: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/),
    apiBaseUrl: z.url().default('https://api.telegram.org'),
  })
  .strict();

export const ChannelConnectorSchema = z.discriminatedUnion('kind', [
  FeishuConnectorSchema,
  TelegramConnectorSchema,
]);
export type ChannelConnector = z.infer<typeof ChannelConnectorSchema>;
export type FeishuConnector = z.infer<typeof FeishuConnectorSchema>;
export type TelegramConnector = z.infer<typeof TelegramConnectorSchema>;

/** `CHANNEL_CONNECTORS`: a JSON array of connectors (secrets: keep it in the secret store). */
export const ChannelConnectorsSchema = z
  .string()
  .default('[]')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'CHANNEL_CONNECTORS must be a JSON array' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(ChannelConnectorSchema)
      .refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'connector ids must be unique'),
  );

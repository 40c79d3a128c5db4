import type { MigrationSet } from '@libs/event-store';
import { ReferenceIndex1764900000100 } from './1764900000100-reference-index';
import { KnowledgeFiles1764806400000 } from '@libs/knowledge';
import { ChannelDeliveries1765000000000 } from './1765000000000-channel-deliveries';
import { RateLimits1765000000100 } from './1765000000100-rate-limits';
import { ConversationIds1765000000200 } from './1765000000200-conversation-ids';

/**
 * The gateway's own schema objects, migrated by the service at boot: the uploaded knowledge files (only
 * the gateway writes them; retrieval reads them to index), the unique index on readable references, the
 * rate-limit counters and the index that finds a conversation id in any tenant (OpenAI facade).
 */
export const GATEWAY_TABLES: MigrationSet = {
  owner: 'gateway',
  migrations: [
    KnowledgeFiles1764806400000,
    ReferenceIndex1764900000100,
    ChannelDeliveries1765000000000,
    RateLimits1765000000100,
    ConversationIds1765000000200,
  ],
};

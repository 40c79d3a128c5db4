import type { MigrationSet } from '@libs/event-store';
import { ReferenceIndex1764900000100 } from './1764900000100-reference-index';
import { KnowledgeFiles1764806400000 } from '@libs/knowledge';
import { ChannelDeliveries1765000000000 } from './1765000000000-channel-deliveries';

/**
 * The gateway's own schema objects, migrated by the service at boot: the uploaded knowledge files (only
 * the gateway writes them; retrieval reads them to index) and the unique index on readable references.
 */
export const GATEWAY_TABLES: MigrationSet = {
  owner: 'gateway',
  migrations: [KnowledgeFiles1764806400000, ReferenceIndex1764900000100, ChannelDeliveries1765000000000],
};

import type { MigrationSet } from '@libs/event-store';
import { KnowledgeFiles1764806400000 } from '@libs/knowledge';

/**
 * The tables the gateway owns, migrated by the gateway itself at boot: the uploaded knowledge files,
 * which only the gateway writes (retrieval reads them to index). Kept out of the shared schema so the
 * event store's tables stay the only ones `init` applies.
 */
export const GATEWAY_TABLES: MigrationSet = {
  owner: 'gateway',
  migrations: [KnowledgeFiles1764806400000],
};

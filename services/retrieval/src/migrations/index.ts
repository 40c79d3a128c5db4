import type { MigrationSet } from '@libs/event-store';
import { KnowledgeIndexing1764806400100 } from './1764806400100-knowledge-indexing';

/** The tables the retrieval service owns, migrated by the service itself at boot. */
export const RETRIEVAL_TABLES: MigrationSet = {
  owner: 'retrieval',
  migrations: [KnowledgeIndexing1764806400100],
};

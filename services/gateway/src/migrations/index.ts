import type { MigrationSet } from '@libs/event-store';
import { ReferenceIndex1764900000100 } from './1764900000100-reference-index';

/** The gateway's own schema objects, migrated by the service at boot. */
export const GATEWAY_TABLES: MigrationSet = {
  owner: 'gateway',
  migrations: [ReferenceIndex1764900000100],
};

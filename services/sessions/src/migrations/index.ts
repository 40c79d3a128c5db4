import type { MigrationSet } from '@libs/event-store';
import { Timers1764900000000 } from './1764900000000-timers';
import { AnswerCache1765000000000 } from './1765000000000-answer-cache';

/** The tables the sessions service owns, migrated by the service itself at boot. */
export const SESSIONS_TABLES: MigrationSet = {
  owner: 'sessions',
  migrations: [Timers1764900000000, AnswerCache1765000000000],
};

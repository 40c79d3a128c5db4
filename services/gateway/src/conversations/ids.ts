import { randomUUID } from 'node:crypto';

/** Fresh ids come from the edge, injected, so handlers and deciders stay deterministic under test. */
export const ID_GENERATOR = Symbol('ID_GENERATOR');
export type IdGenerator = () => string;
export const randomIds: IdGenerator = () => randomUUID();

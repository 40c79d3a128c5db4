import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Event store, transactional outbox, consumer inbox, tenants and API keys. */
export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tenants (
        id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        name        text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE api_keys (
        id          uuid PRIMARY KEY,
        tenant_id   text NOT NULL REFERENCES tenants(id),
        key_hash    text NOT NULL UNIQUE,
        key_prefix  text NOT NULL,
        label       text NOT NULL DEFAULT '',
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      )`);
    await db.query(`
      CREATE TABLE streams (
        stream_id   uuid PRIMARY KEY,
        tenant_id   text NOT NULL REFERENCES tenants(id),
        version     integer NOT NULL CHECK (version >= 0),
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX streams_tenant_idx ON streams (tenant_id, created_at)`);
    await db.query(`
      CREATE TABLE events (
        global_position bigserial PRIMARY KEY,
        event_id        uuid NOT NULL UNIQUE,
        tenant_id       text NOT NULL,
        stream_id       uuid NOT NULL REFERENCES streams(stream_id),
        sequence        integer NOT NULL CHECK (sequence >= 1),
        type            text NOT NULL,
        occurred_at     timestamptz NOT NULL,
        causation_id    uuid,
        correlation_id  uuid NOT NULL,
        data            jsonb NOT NULL,
        UNIQUE (stream_id, sequence)
      )`);
    await db.query(`CREATE INDEX events_tenant_type_idx ON events (tenant_id, type, occurred_at)`);
    // Append-only, enforced by the database and not only by the code that writes to it.
    await db.query(`
      CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only (% refused)', TG_OP USING ERRCODE = 'P0001';
      END $$`);
    await db.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()`);
    await db.query(`
      CREATE TABLE outbox (
        id               bigserial PRIMARY KEY,
        global_position  bigint NOT NULL REFERENCES events(global_position),
        topic            text NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE processed_events (
        consumer      text NOT NULL,
        event_id      uuid NOT NULL,
        processed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE processed_events, outbox`);
    await db.query(`DROP TRIGGER events_append_only ON events`);
    await db.query(`DROP TABLE events`);
    await db.query(`DROP FUNCTION events_are_append_only`);
    await db.query(`DROP TABLE streams, api_keys, tenants`);
  }
}

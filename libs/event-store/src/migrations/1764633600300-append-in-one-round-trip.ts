import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An append as one statement: lock (or create) the stream, recognise a redelivery, check the expected
 * version, insert the events and their outbox rows, move the version and wake the relay, in a single
 * round trip instead of eight (BEGIN, five statements, NOTIFY, COMMIT). A single statement is atomic, so
 * a refusal writes nothing. Refusals are raised with the engine's own SQLSTATEs (class CE), which the
 * store maps back to its error codes.
 */
export class AppendInOneRoundTrip1764633600300 implements MigrationInterface {
  name = 'AppendInOneRoundTrip1764633600300';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION append_events(
        p_tenant text, p_stream text, p_kind text, p_expected bigint, p_topic text,
        p_event_ids uuid[], p_types text[], p_occurred_at timestamptz, p_causation uuid, p_correlation uuid,
        p_data jsonb[])
      RETURNS TABLE (outcome text, stream_version bigint)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_kind text;
        v_version bigint;
        v_seen integer;
        v_count integer := cardinality(p_event_ids);
      BEGIN
        IF p_expected = 0 THEN
          INSERT INTO streams (tenant_id, stream_id, kind, version) VALUES (p_tenant, p_stream, p_kind, 0)
          ON CONFLICT (tenant_id, stream_id) DO NOTHING;
        END IF;
        SELECT s.kind, s.version INTO v_kind, v_version FROM streams s
         WHERE s.tenant_id = p_tenant AND s.stream_id = p_stream FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'no such stream' USING ERRCODE = 'CE404';
        END IF;
        IF v_kind <> p_kind THEN
          RAISE EXCEPTION 'stream % is a % stream', p_stream, v_kind USING ERRCODE = 'CE422';
        END IF;
        SELECT count(*) INTO v_seen FROM events WHERE event_id = ANY (p_event_ids);
        IF v_seen = v_count THEN
          RETURN QUERY SELECT 'duplicate'::text, v_version;
          RETURN;
        END IF;
        IF v_seen > 0 THEN
          RAISE EXCEPTION 'part of this batch was already appended' USING ERRCODE = 'CE409';
        END IF;
        IF p_expected >= 0 AND p_expected <> v_version THEN
          RAISE EXCEPTION 'the stream changed since it was read' USING ERRCODE = 'CE412', DETAIL = v_version::text;
        END IF;
        WITH inserted AS (
          INSERT INTO events (event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id,
                              correlation_id, data)
          SELECT e.id, p_tenant, p_stream, v_version + e.ord, e.type, p_occurred_at, p_causation, p_correlation, e.data
            FROM unnest(p_event_ids, p_types, p_data) WITH ORDINALITY AS e(id, type, data, ord)
          RETURNING global_position)
        INSERT INTO outbox (global_position, topic)
        SELECT global_position, p_topic FROM inserted ORDER BY global_position;
        UPDATE streams SET version = v_version + v_count, updated_at = now()
         WHERE tenant_id = p_tenant AND stream_id = p_stream;
        PERFORM pg_notify('outbox_appended', '');
        RETURN QUERY SELECT 'appended'::text, v_version + v_count;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION append_events`);
  }
}

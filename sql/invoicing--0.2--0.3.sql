/* invoicing--0.2--0.3.sql: the event outbox */

\echo Use "ALTER EXTENSION invoicing UPDATE TO '0.3'" to load this file. \quit

CREATE SEQUENCE @extschema@.events_seq;

-- One row per Stripe-shaped event, written in the transaction of the change
-- it describes; NOTIFY invoicing_events, '<id>' announces it at commit.
--
-- seq comes from a sequence, in the order the events are written, and is
-- drawn again when the writing transaction commits (a deferred trigger,
-- under a lock held through the commit), so committed events are numbered
-- in commit order: a consumer that reads past its cursor can never miss an
-- event that commits later with a smaller seq.
CREATE TABLE @extschema@.events (
	id			text PRIMARY KEY,
	seq			bigint NOT NULL UNIQUE DEFAULT nextval('@extschema@.events_seq'),
	type		text NOT NULL,
	created		timestamptz NOT NULL DEFAULT now(),
	object_id	text NOT NULL,
	payload		jsonb NOT NULL
);
ALTER SEQUENCE @extschema@.events_seq OWNED BY @extschema@.events.seq;
CREATE INDEX ON @extschema@.events (object_id, seq);

CREATE FUNCTION @extschema@.events_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_events_trigger' LANGUAGE C;
CREATE TRIGGER events_rules BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.events
	FOR EACH ROW EXECUTE FUNCTION @extschema@.events_trigger();
CREATE FUNCTION @extschema@.events_sequence_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_events_sequence_trigger' LANGUAGE C;
CREATE CONSTRAINT TRIGGER events_sequence AFTER INSERT ON @extschema@.events
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION @extschema@.events_sequence_trigger();

CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.events
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();

-- The consumer's read: events after a cursor, in order.  Keep the last seq
-- you processed; read again on every NOTIFY (and on start).  Delivery is at
-- least once: store the cursor after handling the events.
CREATE FUNCTION @extschema@.events_after(after_seq bigint, max_events integer DEFAULT 100)
RETURNS SETOF @extschema@.events
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT e.* FROM @extschema@.events e
	 WHERE e.seq > coalesce(after_seq, 0)
	 ORDER BY e.seq
	 LIMIT greatest(coalesce(max_events, 100), 0)
$$;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.events_seq', '');

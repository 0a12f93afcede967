/* invoicing--0.3--0.4.sql: event-writing transactions no longer commit one at a time */

\echo Use "ALTER EXTENSION invoicing UPDATE TO '0.4'" to load this file. \quit

-- events_after waits for the transactions that are numbering their events,
-- then reads with a snapshot of its own (see events.c).
CREATE OR REPLACE FUNCTION @extschema@.events_after(after_seq bigint, max_events integer DEFAULT 100)
RETURNS SETOF @extschema@.events
AS 'MODULE_PATHNAME', 'invoicing_events_after'
LANGUAGE C VOLATILE;

-- Writers take the numbering lock shared: they no longer wait for each other.
DROP TRIGGER events_sequence ON @extschema@.events;
CREATE CONSTRAINT TRIGGER events_sequence AFTER INSERT ON @extschema@.events
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION @extschema@.events_sequence_trigger('readers_wait');

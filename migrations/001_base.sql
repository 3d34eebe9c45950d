-- 001_base: schemas, roles and the pipeline table.
--
-- One schema per daemon, plus org (reference data), pipeline (the outbox
-- every stage shares) and reporting (documented views for analysts).
-- Roles are NOLOGIN group roles: a daemon connects with whatever login the
-- operator gives it and does SET ROLE hl_<daemon> (HL_DB_ROLE), so its
-- grants are exactly these. In production give each daemon its own login
-- that is a member of only its role.

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['hl_intake','hl_triage','hl_bounty','hl_points','hl_alliance','analyst'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
        -- The migrating login must be able to SET ROLE to each.
        EXECUTE format('GRANT %I TO CURRENT_USER', r);
    END LOOP;
END $$;

CREATE SCHEMA org;
CREATE SCHEMA intake;
CREATE SCHEMA triage;
CREATE SCHEMA bounty;
CREATE SCHEMA points;
CREATE SCHEMA alliance;
CREATE SCHEMA pipeline;
CREATE SCHEMA reporting;

GRANT USAGE ON SCHEMA org TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance, analyst;
GRANT USAGE ON SCHEMA pipeline TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;
GRANT USAGE ON SCHEMA reporting TO analyst;
GRANT USAGE ON SCHEMA intake TO hl_intake;
GRANT USAGE ON SCHEMA triage TO hl_triage;
GRANT USAGE ON SCHEMA bounty TO hl_bounty;
GRANT USAGE ON SCHEMA points TO hl_points;
GRANT USAGE ON SCHEMA alliance TO hl_alliance;

COMMENT ON SCHEMA pipeline IS 'The outbox every pipeline stage shares: one row per message, pending until its consumer marks it done in the same transaction as its effects.';
COMMENT ON SCHEMA reporting IS 'Stable, documented views for analysts; no personal data.';

CREATE TABLE pipeline.message (
    id              uuid PRIMARY KEY,
    stage           text NOT NULL,
    type            text NOT NULL,
    trace_id        uuid,
    producer        text NOT NULL,
    envelope        bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    done_at         timestamptz,
    done_by         text,
    dead_at         timestamptz,
    last_error      text
);
COMMENT ON TABLE pipeline.message IS 'One row per pipeline message: written with the producer''s state change, marked done with the consumer''s effects.';
COMMENT ON COLUMN pipeline.message.id IS 'Message id (UUID), also Envelope.id.';
COMMENT ON COLUMN pipeline.message.stage IS 'Pipeline stage: appeal, status, bounty, alliance, resolution, points.';
COMMENT ON COLUMN pipeline.message.type IS 'Payload type, e.g. AppealReceived.';
COMMENT ON COLUMN pipeline.message.trace_id IS 'The appeal (or item) the message follows through the stages.';
COMMENT ON COLUMN pipeline.message.producer IS 'Service that wrote the row and re-sends it while pending.';
COMMENT ON COLUMN pipeline.message.envelope IS 'The protobuf Envelope exactly as sent.';
COMMENT ON COLUMN pipeline.message.created_at IS 'When the producer committed it.';
COMMENT ON COLUMN pipeline.message.attempts IS 'Re-sends by the sweeper (the first send is not counted).';
COMMENT ON COLUMN pipeline.message.next_attempt_at IS 'When the sweeper may re-send it if still pending.';
COMMENT ON COLUMN pipeline.message.done_at IS 'When a consumer applied it; NULL while pending.';
COMMENT ON COLUMN pipeline.message.done_by IS 'Consumer service that applied it.';
COMMENT ON COLUMN pipeline.message.dead_at IS 'When it was given up on (too many attempts, or refused as malformed).';
COMMENT ON COLUMN pipeline.message.last_error IS 'Why it is dead.';

CREATE INDEX message_due_idx ON pipeline.message (producer, next_attempt_at)
    WHERE done_at IS NULL AND dead_at IS NULL;
CREATE INDEX message_done_idx ON pipeline.message (producer, done_at)
    WHERE done_at IS NOT NULL;
CREATE INDEX message_dead_idx ON pipeline.message (stage) WHERE dead_at IS NOT NULL;

CREATE TABLE pipeline.dead_letter (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    consumer    text NOT NULL,
    stage       text NOT NULL,
    reason      text NOT NULL,
    raw         bytea NOT NULL
);
COMMENT ON TABLE pipeline.dead_letter IS 'Frames a consumer could not even parse as an envelope, kept for inspection.';
COMMENT ON COLUMN pipeline.dead_letter.consumer IS 'Service that received it.';
COMMENT ON COLUMN pipeline.dead_letter.stage IS 'Stage it arrived on.';
COMMENT ON COLUMN pipeline.dead_letter.reason IS 'Why it was refused.';
COMMENT ON COLUMN pipeline.dead_letter.raw IS 'The bytes as received (at most 64 KiB kept).';

-- Marks message p_id done by p_consumer, or raises HLDUP when it was done
-- already (or never existed), which rolls back the consumer's effects.
CREATE FUNCTION pipeline.claim(p_id uuid, p_consumer text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pipeline.message
       SET done_at = clock_timestamp(), done_by = p_consumer, dead_at = NULL
     WHERE id = p_id AND done_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'message % was applied already', p_id USING ERRCODE = 'HLDUP';
    END IF;
END $$;
COMMENT ON FUNCTION pipeline.claim(uuid, text) IS 'Consumer side of exactly-once: mark done or raise HLDUP.';

GRANT SELECT, INSERT, UPDATE, DELETE ON pipeline.message TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;
GRANT INSERT ON pipeline.dead_letter TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;
GRANT USAGE ON SEQUENCE pipeline.dead_letter_id_seq TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;
GRANT EXECUTE ON FUNCTION pipeline.claim(uuid, text) TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;

CREATE VIEW reporting.pipeline_lag AS
SELECT stage,
       count(*) FILTER (WHERE done_at IS NULL AND dead_at IS NULL) AS pending,
       count(*) FILTER (WHERE dead_at IS NOT NULL)                 AS dead,
       count(*) FILTER (WHERE done_at IS NOT NULL)                 AS done_retained,
       max(now() - created_at) FILTER (WHERE done_at IS NULL AND dead_at IS NULL) AS oldest_pending,
       sum(attempts)                                               AS resends
  FROM pipeline.message
 GROUP BY stage;
COMMENT ON VIEW reporting.pipeline_lag IS 'Pipeline health per stage: messages pending, dead, and the age of the oldest pending one.';
COMMENT ON COLUMN reporting.pipeline_lag.stage IS 'Pipeline stage.';
COMMENT ON COLUMN reporting.pipeline_lag.pending IS 'Messages written but not yet applied by a consumer.';
COMMENT ON COLUMN reporting.pipeline_lag.dead IS 'Messages given up on; hlctl replay revives them.';
COMMENT ON COLUMN reporting.pipeline_lag.done_retained IS 'Applied messages not yet purged.';
COMMENT ON COLUMN reporting.pipeline_lag.oldest_pending IS 'Age of the oldest pending message (the lag).';
COMMENT ON COLUMN reporting.pipeline_lag.resends IS 'Re-sends by sweepers over the rows still kept.';
GRANT SELECT ON reporting.pipeline_lag TO analyst;

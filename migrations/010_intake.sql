-- 010_intake: appeals as received, their residents' status history, and the
-- residents' contact data (readable only by hl_intake).

CREATE TABLE intake.resident (
    id           uuid PRIMARY KEY,
    phone        text UNIQUE,
    name         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE intake.resident IS 'Residents who left contact details. Personal data: readable by hl_intake only; every other table refers to the pseudonymous id.';
COMMENT ON COLUMN intake.resident.id IS 'Pseudonymous resident id used everywhere else.';
COMMENT ON COLUMN intake.resident.phone IS 'Phone number as given (one resident per number).';
COMMENT ON COLUMN intake.resident.name IS 'Name as given.';
COMMENT ON COLUMN intake.resident.created_at IS 'First appeal with these details.';
COMMENT ON COLUMN intake.resident.last_seen_at IS 'Latest appeal with these details.';

CREATE TABLE intake.appeal (
    id                 uuid PRIMARY KEY,
    tracking_code      text NOT NULL UNIQUE,
    channel            text NOT NULL CHECK (channel IN ('qr', 'mailbox', 'visit', 'web', 'platform', 'phone')),
    org_unit           text NOT NULL REFERENCES org.org_unit (code),
    category           text REFERENCES org.category (code),
    title              text CHECK (char_length(title) <= 200),
    body               text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
    resident_id        uuid REFERENCES intake.resident (id),
    source_ref         text CHECK (char_length(source_ref) <= 100),
    lat                double precision CHECK (lat BETWEEN -90 AND 90),
    lon                double precision CHECK (lon BETWEEN -180 AND 180),
    idempotency_key    text UNIQUE CHECK (char_length(idempotency_key) <= 200),
    request_hash       text,
    status             text NOT NULL DEFAULT 'received',
    size               text CHECK (size IN ('wish', 'small', 'large')),
    item_id            uuid,
    received_at        timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE intake.appeal IS 'One resident''s problem, opinion or suggestion, as received, with the status the resident sees.';
COMMENT ON COLUMN intake.appeal.id IS 'Appeal id; the trace id of every pipeline message about it.';
COMMENT ON COLUMN intake.appeal.tracking_code IS 'Code the resident holds to follow the appeal (HL + 10 base-32 characters).';
COMMENT ON COLUMN intake.appeal.channel IS 'How it arrived: qr, mailbox, visit, web, platform, phone.';
COMMENT ON COLUMN intake.appeal.org_unit IS 'Org unit it is anchored to (usually a compound).';
COMMENT ON COLUMN intake.appeal.category IS 'Category the resident chose, if any.';
COMMENT ON COLUMN intake.appeal.title IS 'Short title, if given.';
COMMENT ON COLUMN intake.appeal.body IS 'The appeal text.';
COMMENT ON COLUMN intake.appeal.resident_id IS 'Pseudonymous resident, when contact details were left.';
COMMENT ON COLUMN intake.appeal.source_ref IS 'Where it came from: mailbox number, QR token, visit note id, platform reference.';
COMMENT ON COLUMN intake.appeal.lat IS 'Latitude (WGS84), if given.';
COMMENT ON COLUMN intake.appeal.lon IS 'Longitude (WGS84), if given.';
COMMENT ON COLUMN intake.appeal.idempotency_key IS 'Client''s Idempotency-Key: the same key always yields this appeal.';
COMMENT ON COLUMN intake.appeal.request_hash IS 'Fingerprint of the request that used the key (a different request with the same key is refused).';
COMMENT ON COLUMN intake.appeal.status IS 'What the resident sees: received, classified, routed, escalated, resolved, confirmed, reopened.';
COMMENT ON COLUMN intake.appeal.size IS 'wish, small or large once triage classified it.';
COMMENT ON COLUMN intake.appeal.item_id IS 'Consolidated item it belongs to (triage.item.id) once it has one.';
COMMENT ON COLUMN intake.appeal.received_at IS 'When it was stored.';
COMMENT ON COLUMN intake.appeal.updated_at IS 'Last status change.';
CREATE INDEX appeal_received_idx ON intake.appeal (received_at);
CREATE INDEX appeal_item_idx ON intake.appeal (item_id);

CREATE TABLE intake.appeal_event (
    id        bigserial PRIMARY KEY,
    appeal_id uuid NOT NULL REFERENCES intake.appeal (id),
    status    text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    detail    text
);
COMMENT ON TABLE intake.appeal_event IS 'Each step of an appeal''s history as the resident sees it.';
COMMENT ON COLUMN intake.appeal_event.appeal_id IS 'The appeal.';
COMMENT ON COLUMN intake.appeal_event.status IS 'Step: received, classified, routed, escalated, resolved, confirmed, reopened.';
COMMENT ON COLUMN intake.appeal_event.at IS 'When it happened.';
COMMENT ON COLUMN intake.appeal_event.detail IS 'Short public detail (size, route, outcome); never personal data.';
CREATE INDEX appeal_event_appeal_idx ON intake.appeal_event (appeal_id, at);

-- Statuses only move forward: a late message never undoes a later step.
CREATE FUNCTION intake.status_rank(s text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s WHEN 'received' THEN 0 WHEN 'classified' THEN 1 WHEN 'routed' THEN 2
                  WHEN 'escalated' THEN 3 WHEN 'resolved' THEN 4 WHEN 'reopened' THEN 5
                  WHEN 'confirmed' THEN 6 ELSE -1 END
$$;
COMMENT ON FUNCTION intake.status_rank(text) IS 'Order of resident-facing statuses; updates keep the higher.';

GRANT SELECT, INSERT, UPDATE ON intake.resident, intake.appeal, intake.appeal_event TO hl_intake;
GRANT USAGE ON SEQUENCE intake.appeal_event_id_seq TO hl_intake;
GRANT EXECUTE ON FUNCTION intake.status_rank(text) TO hl_intake;

CREATE VIEW reporting.appeal AS
SELECT a.id, a.channel, a.org_unit, c.parent AS community, a.category, a.status, a.size, a.item_id,
       a.received_at, date_trunc('month', a.received_at) AS month, a.resident_id
  FROM intake.appeal a
  JOIN org.org_unit c ON c.code = a.org_unit;
COMMENT ON VIEW reporting.appeal IS 'Appeals without text or personal data, for counts by channel, category, community and month.';
COMMENT ON COLUMN reporting.appeal.id IS 'Appeal id.';
COMMENT ON COLUMN reporting.appeal.channel IS 'qr, mailbox, visit, web, platform or phone.';
COMMENT ON COLUMN reporting.appeal.org_unit IS 'Org unit (compound) it is anchored to.';
COMMENT ON COLUMN reporting.appeal.community IS 'Parent of the org unit (the community, for a compound).';
COMMENT ON COLUMN reporting.appeal.category IS 'Category chosen by the resident (triage may infer one: see reporting.case).';
COMMENT ON COLUMN reporting.appeal.status IS 'Resident-facing status.';
COMMENT ON COLUMN reporting.appeal.size IS 'wish, small or large once classified.';
COMMENT ON COLUMN reporting.appeal.item_id IS 'Consolidated item.';
COMMENT ON COLUMN reporting.appeal.received_at IS 'When it was stored.';
COMMENT ON COLUMN reporting.appeal.month IS 'Month received, for monthly counts.';
COMMENT ON COLUMN reporting.appeal.resident_id IS 'Pseudonymous resident id (no contact data).';
GRANT SELECT ON reporting.appeal TO analyst;

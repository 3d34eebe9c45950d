-- 012_intake_channels: where an appeal came from, in detail. A letter from a
-- red mailbox records the box's number, a scan records the QR code's token,
-- typed-in letters and visit notes record the staff member who entered them,
-- and everything written before it was received records when it was written.
--
-- A mailbox or QR code fixes the compound: the trigger below fills org_unit
-- from it when the client gave none and refuses a different one, so every
-- path that inserts appeals (POST /v1/appeals, the batch import, Open311)
-- gets the same rule from one place. Its errors carry constraint names the
-- daemon maps to the field at fault.

ALTER TABLE intake.appeal
    ADD COLUMN mailbox    int REFERENCES org.mailbox (number),
    ADD COLUMN qr_token   text REFERENCES org.qr_code (token),
    ADD COLUMN staff      text CONSTRAINT appeal_staff_length CHECK (char_length(staff) BETWEEN 1 AND 50),
    ADD COLUMN written_at timestamptz,
    ADD CONSTRAINT appeal_written_at_sane
        CHECK (written_at <= received_at + interval '5 minutes'
               AND written_at >= received_at - interval '1 year');

COMMENT ON COLUMN intake.appeal.mailbox IS 'Red mailbox number the letter was posted in (mailbox channel); fixes org_unit to the box''s compound.';
COMMENT ON COLUMN intake.appeal.qr_token IS 'Token of the QR code that was scanned (org.qr_code.token); fixes org_unit to its compound.';
COMMENT ON COLUMN intake.appeal.staff IS 'Staff member (id or name) who typed the appeal in or made the visit; required for the visit channel.';
COMMENT ON COLUMN intake.appeal.written_at IS 'When the resident wrote it (letter date, visit time), as opposed to received_at, when it was stored.';

CREATE INDEX appeal_mailbox_idx ON intake.appeal (mailbox) WHERE mailbox IS NOT NULL;

CREATE FUNCTION intake.appeal_anchor() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fixed text;
BEGIN
    IF NEW.mailbox IS NOT NULL THEN
        SELECT compound INTO fixed FROM org.mailbox WHERE number = NEW.mailbox;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no mailbox has number %', NEW.mailbox
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'appeal_mailbox_fkey';
        END IF;
        IF NEW.org_unit IS NULL THEN
            NEW.org_unit := fixed;
        ELSIF NEW.org_unit <> fixed THEN
            RAISE EXCEPTION 'mailbox % belongs to compound %, not %', NEW.mailbox, fixed, NEW.org_unit
                USING ERRCODE = 'check_violation', CONSTRAINT = 'appeal_mailbox_compound';
        END IF;
    END IF;
    IF NEW.qr_token IS NOT NULL THEN
        SELECT compound INTO fixed FROM org.qr_code WHERE token = NEW.qr_token;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no QR code has token %', NEW.qr_token
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'appeal_qr_token_fkey';
        END IF;
        IF NEW.org_unit IS NULL THEN
            NEW.org_unit := fixed;
        ELSIF NEW.org_unit <> fixed THEN
            RAISE EXCEPTION 'QR code % belongs to compound %, not %', NEW.qr_token, fixed, NEW.org_unit
                USING ERRCODE = 'check_violation', CONSTRAINT = 'appeal_qr_compound';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION intake.appeal_anchor() IS 'Anchors an appeal to the compound of its mailbox or QR code; refuses an org_unit that contradicts them (constraints appeal_mailbox_compound, appeal_qr_compound).';

CREATE TRIGGER appeal_anchor BEFORE INSERT ON intake.appeal
    FOR EACH ROW WHEN (NEW.mailbox IS NOT NULL OR NEW.qr_token IS NOT NULL)
    EXECUTE FUNCTION intake.appeal_anchor();

GRANT EXECUTE ON FUNCTION intake.appeal_anchor() TO hl_intake;

-- Per-line outcomes of batch imports are not stored: a re-sent batch is
-- recognised by its lines' idempotency keys on intake.appeal.

CREATE VIEW reporting.appeal_source AS
SELECT a.id, a.channel, a.org_unit, a.mailbox, q.kind AS qr_kind, a.staff IS NOT NULL AS typed_by_staff,
       a.written_at, a.received_at,
       extract(epoch FROM a.received_at - a.written_at) / 3600.0 AS entry_delay_hours
  FROM intake.appeal a
  LEFT JOIN org.qr_code q ON q.token = a.qr_token;
COMMENT ON VIEW reporting.appeal_source IS 'Where each appeal came from: channel, mailbox, kind of QR code, and how long letters and visit notes took to be typed in. No text or personal data.';
COMMENT ON COLUMN reporting.appeal_source.id IS 'Appeal id (joins reporting.appeal).';
COMMENT ON COLUMN reporting.appeal_source.channel IS 'qr, mailbox, visit, web, platform or phone.';
COMMENT ON COLUMN reporting.appeal_source.org_unit IS 'Org unit (compound) it is anchored to.';
COMMENT ON COLUMN reporting.appeal_source.mailbox IS 'Red mailbox number, for letters.';
COMMENT ON COLUMN reporting.appeal_source.qr_kind IS 'compound or mailbox, when sent by scanning a QR code.';
COMMENT ON COLUMN reporting.appeal_source.typed_by_staff IS 'True when a staff member typed it in or made the visit.';
COMMENT ON COLUMN reporting.appeal_source.written_at IS 'When the resident wrote it (letters, visit notes), if known.';
COMMENT ON COLUMN reporting.appeal_source.received_at IS 'When it was stored.';
COMMENT ON COLUMN reporting.appeal_source.entry_delay_hours IS 'Hours from writing to storing (how long letters wait in the box).';
GRANT SELECT ON reporting.appeal_source TO analyst;

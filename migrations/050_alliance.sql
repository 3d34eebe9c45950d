-- 050_alliance: joint meetings of the regional alliance and their agendas (schema alliance).
--
-- hl-triage escalates large items on the "alliance" stage (ItemEscalated); each lands
-- on the agenda of the next planned joint meeting (联席会议), which is created when
-- none is planned. The meeting records an outcome per item, possibly naming the member
-- unit that took it on, and hl-alliance tells hl-triage on the "resolution" stage
-- (ItemResolved). Member units and their function domains are reference data in org.
--
-- Two rules keep concurrent replicas honest: at most one planned meeting per date
-- (meeting_one_planned_per_day), and an item sits on one agenda only (agenda_item's
-- primary key). alliance.place_item() and alliance.record_outcome() do the
-- read-then-write steps inside the database, under row locks, so no replica ever acts
-- on a stale read.

CREATE TABLE alliance.meeting (
    id            uuid PRIMARY KEY,
    scheduled_for date NOT NULL,
    venue         text REFERENCES org.venue (code),
    status        text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'held')),
    held_at       timestamptz,
    minutes       text CHECK (char_length(minutes) <= 20000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT meeting_held_check CHECK ((status = 'held') = (held_at IS NOT NULL))
);
COMMENT ON TABLE alliance.meeting IS 'Joint meetings (联席会议) of the regional alliance; their agendas are the escalated large items.';
COMMENT ON COLUMN alliance.meeting.id IS 'Meeting id.';
COMMENT ON COLUMN alliance.meeting.scheduled_for IS 'Day the meeting is to sit; a meeting is created HL_MEETING_INTERVAL_DAYS ahead when an item escalates and none is planned.';
COMMENT ON COLUMN alliance.meeting.venue IS 'Venue (org.venue) where it sits; NULL until decided.';
COMMENT ON COLUMN alliance.meeting.status IS 'planned, then held.';
COMMENT ON COLUMN alliance.meeting.held_at IS 'When it was marked held; NULL while planned.';
COMMENT ON COLUMN alliance.meeting.minutes IS 'Minutes of the meeting as recorded when it was marked held.';
COMMENT ON COLUMN alliance.meeting.created_at IS 'When the meeting was planned.';
-- Two replicas that escalate at once must not plan two meetings for the same day.
CREATE UNIQUE INDEX meeting_one_planned_per_day ON alliance.meeting (scheduled_for)
    WHERE status = 'planned';

CREATE TABLE alliance.agenda_item (
    item_id          uuid PRIMARY KEY,
    meeting_id       uuid NOT NULL REFERENCES alliance.meeting (id),
    title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    body             text CHECK (char_length(body) <= 5000),
    category         text REFERENCES org.category (code),
    org_unit         text REFERENCES org.org_unit (code),
    level            integer NOT NULL DEFAULT 0 CHECK (level >= 0),
    appeal_count     integer NOT NULL DEFAULT 0 CHECK (appeal_count >= 0),
    reason           text CHECK (char_length(reason) <= 32),
    added_at         timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved')),
    outcome          text CHECK (char_length(outcome) BETWEEN 1 AND 2000),
    resolved_by_unit text REFERENCES org.member_unit (code),
    resolved_at      timestamptz,
    CONSTRAINT agenda_item_resolved_check
        CHECK ((status = 'resolved') = (outcome IS NOT NULL AND resolved_at IS NOT NULL))
);
COMMENT ON TABLE alliance.agenda_item IS 'Large items (大问题) on a joint meeting''s agenda: one row per escalated item, which sits on exactly one agenda.';
COMMENT ON COLUMN alliance.agenda_item.item_id IS 'The consolidated item (triage.item.id).';
COMMENT ON COLUMN alliance.agenda_item.meeting_id IS 'Meeting whose agenda it is on.';
COMMENT ON COLUMN alliance.agenda_item.title IS 'Short title (the item''s, or the start of its text when it had none).';
COMMENT ON COLUMN alliance.agenda_item.body IS 'The item''s text as escalated.';
COMMENT ON COLUMN alliance.agenda_item.category IS 'Category (org.category), or NULL.';
COMMENT ON COLUMN alliance.agenda_item.org_unit IS 'Org unit where the matter is, or NULL.';
COMMENT ON COLUMN alliance.agenda_item.level IS 'Escalation level the item had reached (the highest seen when it escalated again).';
COMMENT ON COLUMN alliance.agenda_item.appeal_count IS 'Appeals consolidated into the item (the highest seen).';
COMMENT ON COLUMN alliance.agenda_item.reason IS 'Why it escalated: large (sorted large) or overdue (ran past its time limit).';
COMMENT ON COLUMN alliance.agenda_item.added_at IS 'When it was put on the agenda.';
COMMENT ON COLUMN alliance.agenda_item.status IS 'pending, then resolved once the meeting recorded an outcome.';
COMMENT ON COLUMN alliance.agenda_item.outcome IS 'What the meeting decided and did; NULL while pending.';
COMMENT ON COLUMN alliance.agenda_item.resolved_by_unit IS 'Member unit (org.member_unit) that took the item on; NULL when the joint meeting itself resolved it.';
COMMENT ON COLUMN alliance.agenda_item.resolved_at IS 'When the outcome was recorded (also ItemResolved.resolved_at_us).';
CREATE INDEX agenda_item_meeting_idx ON alliance.agenda_item (meeting_id, added_at);

CREATE TABLE alliance.claim (
    unit       text NOT NULL REFERENCES org.member_unit (code),
    item_id    uuid NOT NULL REFERENCES alliance.agenda_item (item_id),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, unit)
);
COMMENT ON TABLE alliance.claim IS 'Member units claiming large items by function domain (directly or through the Shuang Lian Shuang Ying platform); filled by the platform webhooks (not yet built).';
COMMENT ON COLUMN alliance.claim.unit IS 'Claiming member unit (org.member_unit).';
COMMENT ON COLUMN alliance.claim.item_id IS 'Item claimed (alliance.agenda_item).';
COMMENT ON COLUMN alliance.claim.claimed_at IS 'When it was claimed.';
CREATE INDEX claim_unit_idx ON alliance.claim (unit);

-- Puts an escalated item on the next planned meeting's agenda (the earliest planned
-- meeting on or after today), planning one p_interval_days ahead when there is none.
-- The meeting row is share-locked until commit, so it cannot be marked held under
-- the new item. An item already on an agenda stays where it is; while pending, its
-- level and appeal count rise to the newer values. Returns the meeting id.
CREATE FUNCTION alliance.place_item(p_new_meeting uuid, p_interval_days int, p_item uuid,
                                    p_title text, p_body text, p_category text,
                                    p_org_unit text, p_level int, p_appeal_count int,
                                    p_reason text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_meeting uuid;
BEGIN
    FOR attempt IN 1..5 LOOP
        SELECT id INTO v_meeting FROM alliance.meeting
         WHERE status = 'planned' AND scheduled_for >= current_date
         ORDER BY scheduled_for, id LIMIT 1
           FOR SHARE;
        EXIT WHEN FOUND;
        -- A concurrent transaction planning the same day makes this wait for it and
        -- then do nothing; the next SELECT (a new snapshot) sees its meeting.
        INSERT INTO alliance.meeting (id, scheduled_for)
        SELECT p_new_meeting, current_date + p_interval_days
         WHERE NOT EXISTS (SELECT 1 FROM alliance.meeting
                            WHERE status = 'planned' AND scheduled_for >= current_date)
        ON CONFLICT DO NOTHING;
    END LOOP;
    IF v_meeting IS NULL THEN
        RAISE EXCEPTION 'could not find or plan a joint meeting for item %', p_item
            USING ERRCODE = '40001';
    END IF;
    INSERT INTO alliance.agenda_item AS a (item_id, meeting_id, title, body, category,
                                           org_unit, level, appeal_count, reason)
    VALUES (p_item, v_meeting, p_title, p_body, p_category, p_org_unit, p_level,
            p_appeal_count, p_reason)
    ON CONFLICT (item_id) DO UPDATE
       SET level = greatest(a.level, EXCLUDED.level),
           appeal_count = greatest(a.appeal_count, EXCLUDED.appeal_count)
     WHERE a.status = 'pending';
    RETURN v_meeting;
END
$$;
COMMENT ON FUNCTION alliance.place_item(uuid, int, uuid, text, text, text, text, int, int, text) IS
    'Puts an escalated item on the next planned joint meeting''s agenda, planning a meeting when none is; race-free between replicas.';

-- Records a meeting's outcome for one item on its agenda. Raises HL404 (constraint
-- "meeting" or "item_id") for an unknown meeting or an item not on its agenda, HL409
-- when the item was resolved already; an unknown unit fails the foreign key
-- agenda_item_resolved_by_unit_fkey.
CREATE FUNCTION alliance.record_outcome(p_meeting uuid, p_item uuid, p_outcome text,
                                        p_unit text, p_resolved_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM alliance.meeting WHERE id = p_meeting;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no joint meeting has id %', p_meeting
            USING ERRCODE = 'HL404', CONSTRAINT = 'meeting';
    END IF;
    UPDATE alliance.agenda_item
       SET status = 'resolved', outcome = p_outcome, resolved_by_unit = p_unit,
           resolved_at = p_resolved_at
     WHERE meeting_id = p_meeting AND item_id = p_item AND status = 'pending';
    IF FOUND THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM alliance.agenda_item WHERE meeting_id = p_meeting AND item_id = p_item) THEN
        RAISE EXCEPTION 'item % was resolved already', p_item
            USING ERRCODE = 'HL409', CONSTRAINT = 'item_id';
    END IF;
    RAISE EXCEPTION 'item % is not on the agenda of meeting %', p_item, p_meeting
        USING ERRCODE = 'HL404', CONSTRAINT = 'item_id';
END
$$;
COMMENT ON FUNCTION alliance.record_outcome(uuid, uuid, text, text, timestamptz) IS
    'Resolves one agenda item of a meeting, exactly once (HL404 unknown, HL409 resolved already).';

-- Marks a meeting held with its minutes; HL404 when unknown, HL409 when held already.
CREATE FUNCTION alliance.mark_held(p_meeting uuid, p_minutes text) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz;
BEGIN
    UPDATE alliance.meeting SET status = 'held', held_at = now(), minutes = p_minutes
     WHERE id = p_meeting AND status = 'planned'
    RETURNING held_at INTO v_at;
    IF FOUND THEN
        RETURN v_at;
    END IF;
    IF EXISTS (SELECT 1 FROM alliance.meeting WHERE id = p_meeting) THEN
        RAISE EXCEPTION 'meeting % was marked held already', p_meeting
            USING ERRCODE = 'HL409', CONSTRAINT = 'meeting';
    END IF;
    RAISE EXCEPTION 'no joint meeting has id %', p_meeting
        USING ERRCODE = 'HL404', CONSTRAINT = 'meeting';
END
$$;
COMMENT ON FUNCTION alliance.mark_held(uuid, text) IS
    'Marks a planned meeting held with its minutes (HL404 unknown, HL409 held already).';

GRANT SELECT, INSERT, UPDATE ON alliance.meeting, alliance.agenda_item TO hl_alliance;
GRANT SELECT, INSERT, DELETE ON alliance.claim TO hl_alliance;
GRANT EXECUTE ON FUNCTION alliance.place_item(uuid, int, uuid, text, text, text, text, int, int, text),
                          alliance.record_outcome(uuid, uuid, text, text, timestamptz),
                          alliance.mark_held(uuid, text) TO hl_alliance;

-- ---------------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------------

CREATE VIEW reporting.large_item AS
SELECT a.item_id, a.meeting_id, m.scheduled_for AS meeting_date, m.status AS meeting_status,
       a.category, a.org_unit, u.parent AS community, a.level, a.appeal_count, a.reason,
       a.added_at, a.status, a.outcome, a.resolved_by_unit, mu.kind AS resolved_by_kind,
       a.resolved_at, a.resolved_at - a.added_at AS time_to_resolve,
       date_trunc('quarter', a.added_at) AS quarter
  FROM alliance.agenda_item a
  JOIN alliance.meeting m ON m.id = a.meeting_id
  LEFT JOIN org.org_unit u ON u.code = a.org_unit
  LEFT JOIN org.member_unit mu ON mu.code = a.resolved_by_unit;
COMMENT ON VIEW reporting.large_item IS 'Large items taken to the alliance (大事项): the joint meeting that has them, whether and how they were resolved, and by which member unit; for the quarterly large-item board and the count of large items solved with member units.';
COMMENT ON COLUMN reporting.large_item.item_id IS 'The consolidated item (triage.item.id).';
COMMENT ON COLUMN reporting.large_item.meeting_id IS 'Joint meeting whose agenda it is on.';
COMMENT ON COLUMN reporting.large_item.meeting_date IS 'Day that meeting is (or was) to sit.';
COMMENT ON COLUMN reporting.large_item.meeting_status IS 'planned or held.';
COMMENT ON COLUMN reporting.large_item.category IS 'Category of the item, or NULL.';
COMMENT ON COLUMN reporting.large_item.org_unit IS 'Org unit where the matter is, or NULL.';
COMMENT ON COLUMN reporting.large_item.community IS 'Parent of that org unit (the community, for a compound).';
COMMENT ON COLUMN reporting.large_item.level IS 'Escalation level the item reached.';
COMMENT ON COLUMN reporting.large_item.appeal_count IS 'Appeals consolidated into the item.';
COMMENT ON COLUMN reporting.large_item.reason IS 'large or overdue.';
COMMENT ON COLUMN reporting.large_item.added_at IS 'When it was put on the agenda.';
COMMENT ON COLUMN reporting.large_item.status IS 'pending or resolved.';
COMMENT ON COLUMN reporting.large_item.outcome IS 'Outcome recorded by the meeting (public text, no personal data).';
COMMENT ON COLUMN reporting.large_item.resolved_by_unit IS 'Member unit that took it on, or NULL when the joint meeting itself resolved it.';
COMMENT ON COLUMN reporting.large_item.resolved_by_kind IS 'Kind of that member unit: agency, enterprise or social_org.';
COMMENT ON COLUMN reporting.large_item.resolved_at IS 'When the outcome was recorded.';
COMMENT ON COLUMN reporting.large_item.time_to_resolve IS 'From agenda to outcome; NULL while pending.';
COMMENT ON COLUMN reporting.large_item.quarter IS 'Quarter it reached the agenda, for the quarterly board.';
GRANT SELECT ON reporting.large_item TO analyst;

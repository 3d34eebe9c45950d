-- 052_alliance_meetings: an alliance per community plus the city level, joint meetings
-- on a schedule (data) and extra ones, minutes with attendance, per-item decisions
-- tagged with the five shared mechanisms (五共) and followed-up action items, and
-- carry-over of every undecided item when a meeting is held (issue 13).
--
-- Before this migration every large item landed on one city-wide meeting and a held
-- meeting orphaned its pending items. Now:
--   * alliance.alliance holds one row per community (its "big party committee" and the
--     member units paired with it) and one for the city. Rows follow org.org_unit by
--     trigger, so a city seeded or loaded later gets its alliances.
--   * An escalated item goes to the alliance of its level: an item at compound or
--     community level to its community's alliance, one at town or city level (or with no
--     community) to the city's. alliance.place_item() puts it on that alliance's next
--     planned meeting, planning the next sitting of its schedule when there is none.
--   * alliance.hold_meeting() records the minutes in one transaction: attendance,
--     decisions (resolved / assigned with action items / sent to the board), and every
--     item left undecided carried to the alliance's next meeting (decision 'carried').
--   * Action items past their deadline are followed up by hl-alliance (ActionOverdue to
--     hl-triage, which escalates the item; see services/alliance/README.md).
--
-- The existing meetings and agenda items (one city-wide meeting) are kept and assigned to
-- the city alliance.

-- ---------------------------------------------------------------------------
-- Alliances and their schedules
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.alliance (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,32}$'),
    level       text NOT NULL CHECK (level IN ('community', 'city')),
    community   text UNIQUE REFERENCES org.org_unit (code),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    cadence     text NOT NULL DEFAULT 'monthly'
                CHECK (cadence IN ('weekly', 'fortnightly', 'monthly', 'quarterly')),
    sitting_day integer NOT NULL DEFAULT 15 CHECK (sitting_day BETWEEN 1 AND 28),
    venue       text REFERENCES org.venue (code),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alliance_community_check CHECK ((level = 'community') = (community IS NOT NULL)),
    CONSTRAINT alliance_weekday_check
        CHECK (cadence NOT IN ('weekly', 'fortnightly') OR sitting_day BETWEEN 1 AND 7)
);
COMMENT ON TABLE alliance.alliance IS 'The regional alliances (区域化党建联盟): one per community (its "big party committee" and the member units paired with it) and one at city level for items escalated to the city; each sits in joint meetings on its own schedule.';
COMMENT ON COLUMN alliance.alliance.code IS 'The community''s org unit code, or "city" for the city level.';
COMMENT ON COLUMN alliance.alliance.level IS 'community or city.';
COMMENT ON COLUMN alliance.alliance.community IS 'The community (org.org_unit) whose alliance it is; NULL for the city level.';
COMMENT ON COLUMN alliance.alliance.name IS 'Name of the alliance.';
COMMENT ON COLUMN alliance.alliance.cadence IS 'How often scheduled joint meetings sit: weekly, fortnightly, monthly or quarterly (January, April, July, October).';
COMMENT ON COLUMN alliance.alliance.sitting_day IS 'Day the scheduled meeting sits: day of the month (1-28) for monthly and quarterly, ISO weekday (1 Monday - 7 Sunday) for weekly and fortnightly.';
COMMENT ON COLUMN alliance.alliance.venue IS 'Where its meetings sit by default (org.venue); NULL: the community''s consultation hall (晚茶议事厅 or 红色议事厅), or undecided for the city.';
COMMENT ON COLUMN alliance.alliance.created_at IS 'When the alliance was set up.';

INSERT INTO alliance.alliance (code, level, community, name, cadence, sitting_day)
VALUES ('city', 'city', NULL, '市级区域化党建联盟', 'monthly', 25);
INSERT INTO alliance.alliance (code, level, community, name, venue)
SELECT u.code, 'community', u.code, u.name || '“大党委”联盟',
       (SELECT v.code FROM org.venue v WHERE v.org_unit = u.code AND v.kind IN ('evening_tea', 'red_hall')
         ORDER BY v.code LIMIT 1)
  FROM org.org_unit u WHERE u.level = 'community' AND u.code ~ '^[a-z0-9_]{1,32}$'
ON CONFLICT DO NOTHING;

-- Every community gets its alliance when it is created (org.seed_demo(), a real city's
-- load); its default venue is set once the venues exist (see alliance.venue_default()).
CREATE FUNCTION alliance.community_alliance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.level = 'community' AND NEW.code ~ '^[a-z0-9_]{1,32}$' THEN
        INSERT INTO alliance.alliance (code, level, community, name)
        VALUES (NEW.code, 'community', NEW.code, NEW.name || '“大党委”联盟')
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION alliance.community_alliance() IS 'Trigger function: a new community gets its alliance.';
CREATE TRIGGER community_alliance AFTER INSERT ON org.org_unit
    FOR EACH ROW EXECUTE FUNCTION alliance.community_alliance();

-- The next date on or after `from_date` an alliance with this schedule sits.
CREATE FUNCTION alliance.next_sitting(p_cadence text, p_day int, p_from date) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    d date;
BEGIN
    IF p_cadence IN ('weekly', 'fortnightly') THEN
        d := p_from + ((p_day - extract(isodow FROM p_from)::int + 7) % 7);
        -- Fortnightly meetings sit in the even ISO weeks.
        IF p_cadence = 'fortnightly' AND extract(week FROM d)::int % 2 = 1 THEN
            d := d + 7;
        END IF;
        RETURN d;
    END IF;
    d := make_date(extract(year FROM p_from)::int, extract(month FROM p_from)::int, p_day);
    IF d < p_from THEN
        d := (d + interval '1 month')::date;
    END IF;
    IF p_cadence = 'quarterly' THEN
        WHILE extract(month FROM d)::int % 3 <> 1 LOOP
            d := (d + interval '1 month')::date;
        END LOOP;
    END IF;
    RETURN d;
END
$$;
COMMENT ON FUNCTION alliance.next_sitting(text, int, date) IS
    'The first date on or after p_from on which a schedule (cadence, sitting day) sits.';

-- ---------------------------------------------------------------------------
-- Meetings: per alliance, scheduled or extra; attendance
-- ---------------------------------------------------------------------------

ALTER TABLE alliance.meeting
    ADD COLUMN alliance text REFERENCES alliance.alliance (code),
    ADD COLUMN kind     text NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'extra')),
    ADD COLUMN purpose  text CHECK (char_length(purpose) BETWEEN 1 AND 500);
UPDATE alliance.meeting SET alliance = 'city' WHERE alliance IS NULL;
ALTER TABLE alliance.meeting ALTER COLUMN alliance SET NOT NULL,
                             ALTER COLUMN alliance SET DEFAULT 'city';
COMMENT ON COLUMN alliance.meeting.alliance IS 'Alliance (alliance.alliance) whose joint meeting it is (the city''s unless said).';
COMMENT ON COLUMN alliance.meeting.kind IS 'scheduled (a sitting of the alliance''s schedule) or extra (called in between).';
COMMENT ON COLUMN alliance.meeting.purpose IS 'Why an extra meeting was called; NULL for scheduled ones.';
COMMENT ON COLUMN alliance.meeting.scheduled_for IS 'Day the meeting is to sit: the alliance''s next sitting (alliance.next_sitting) for scheduled meetings, any day for extra ones.';

DROP INDEX alliance.meeting_one_planned_per_day;
-- Two replicas planning an alliance's next sitting at once must not plan it twice.
CREATE UNIQUE INDEX meeting_one_planned_per_sitting ON alliance.meeting (alliance, scheduled_for)
    WHERE status = 'planned' AND kind = 'scheduled';
CREATE INDEX meeting_alliance_idx ON alliance.meeting (alliance, status, scheduled_for);

CREATE TABLE alliance.attendance (
    meeting_id uuid NOT NULL REFERENCES alliance.meeting (id),
    unit       text NOT NULL REFERENCES org.member_unit (code),
    PRIMARY KEY (meeting_id, unit)
);
COMMENT ON TABLE alliance.attendance IS 'Which member units came to a held joint meeting (from its minutes).';
COMMENT ON COLUMN alliance.attendance.meeting_id IS 'The meeting.';
COMMENT ON COLUMN alliance.attendance.unit IS 'A member unit (org.member_unit) that attended.';
CREATE INDEX attendance_unit_idx ON alliance.attendance (unit);

-- ---------------------------------------------------------------------------
-- Agenda items: which alliance, where from, what state
-- ---------------------------------------------------------------------------

ALTER TABLE alliance.agenda_item
    ADD COLUMN alliance  text REFERENCES alliance.alliance (code),
    ADD COLUMN community text REFERENCES org.org_unit (code),
    ADD COLUMN source    text NOT NULL DEFAULT 'escalated' CHECK (source IN ('escalated', 'direct')),
    ADD COLUMN carried   integer NOT NULL DEFAULT 0 CHECK (carried >= 0),
    ADD COLUMN placed_at timestamptz;
UPDATE alliance.agenda_item SET alliance = 'city', placed_at = added_at WHERE alliance IS NULL;
ALTER TABLE alliance.agenda_item ALTER COLUMN alliance SET NOT NULL,
                                 ALTER COLUMN alliance SET DEFAULT 'city',
                                 ALTER COLUMN placed_at SET NOT NULL,
                                 ALTER COLUMN placed_at SET DEFAULT now();
ALTER TABLE alliance.agenda_item DROP CONSTRAINT agenda_item_status_check;
ALTER TABLE alliance.agenda_item ADD CONSTRAINT agenda_item_status_check
    CHECK (status IN ('pending', 'assigned', 'board', 'resolved'));
COMMENT ON COLUMN alliance.agenda_item.meeting_id IS 'Meeting whose agenda it is on now: the one that resolved it, or for an open item the next meeting (undecided items are carried from meeting to meeting).';
COMMENT ON COLUMN alliance.agenda_item.status IS 'pending (undecided), assigned (decided, action items open), board (sent to the quarterly large-item board), resolved.';
COMMENT ON COLUMN alliance.agenda_item.added_at IS 'When it first reached an agenda (its age counts from here).';
COMMENT ON COLUMN alliance.agenda_item.alliance IS 'Alliance (alliance.alliance) that has it: its community''s, or the city''s once it escalated to town or city level.';
COMMENT ON COLUMN alliance.agenda_item.community IS 'Community the matter is in (the community ancestor of org_unit), or NULL above community level.';
COMMENT ON COLUMN alliance.agenda_item.source IS 'escalated (from hl-triage) or direct (put on the agenda by the community).';
COMMENT ON COLUMN alliance.agenda_item.carried IS 'How many held meetings left it undecided and carried it on.';
COMMENT ON COLUMN alliance.agenda_item.placed_at IS 'When it was put on its current meeting''s agenda.';
CREATE INDEX agenda_item_alliance_idx ON alliance.agenda_item (alliance, status);

-- The community a unit lies in (itself, or its community ancestor); NULL above.
CREATE FUNCTION alliance.community_of(p_unit text) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up (code, level, parent, depth) AS (
        SELECT code, level, parent, 0 FROM org.org_unit WHERE code = p_unit
        UNION ALL
        SELECT u.code, u.level, u.parent, up.depth + 1
          FROM org.org_unit u JOIN up ON u.code = up.parent
         WHERE up.level NOT IN ('community', 'town', 'city') AND up.depth < 8)
    SELECT code FROM up WHERE level = 'community'
$$;
COMMENT ON FUNCTION alliance.community_of(text) IS 'The community an org unit lies in (itself when a community), or NULL for towns, the city and unknown codes.';

UPDATE alliance.agenda_item SET community = alliance.community_of(org_unit) WHERE community IS NULL;

-- Which alliance takes an item at escalation level `p_level` (compound 1, community 2,
-- town 3, city 4) about `p_org_unit`: the community's up to community level, else the city.
CREATE FUNCTION alliance.alliance_for(p_level int, p_org_unit text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(CASE WHEN coalesce(p_level, 0) <= 2 THEN
                             (SELECT a.code FROM alliance.alliance a
                               WHERE a.community = alliance.community_of(p_org_unit))
                    END, 'city')
$$;
COMMENT ON FUNCTION alliance.alliance_for(int, text) IS 'The alliance an escalated item goes to: its community''s alliance at compound or community level, the city''s at town or city level or when it lies in no community.';

-- ---------------------------------------------------------------------------
-- Decisions (minutes per item), the five shared mechanisms, action items
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.mechanism (
    code text PRIMARY KEY,
    name text NOT NULL
);
COMMENT ON TABLE alliance.mechanism IS 'The five shared mechanisms (五共) a decision may be tagged with.';
COMMENT ON COLUMN alliance.mechanism.code IS 'Tag code used in decisions.';
COMMENT ON COLUMN alliance.mechanism.name IS 'Chinese name.';
INSERT INTO alliance.mechanism (code, name) VALUES
    ('co_build', '组织共建'), ('share_venues', '阵地共享'), ('share_resources', '资源共用'),
    ('discuss_together', '大事共商'), ('solve_together', '难题共解');

CREATE TABLE alliance.decision (
    meeting_id uuid NOT NULL REFERENCES alliance.meeting (id),
    item_id    uuid NOT NULL REFERENCES alliance.agenda_item (item_id),
    kind       text NOT NULL CHECK (kind IN ('resolved', 'assigned', 'board', 'carried')),
    text       text CHECK (char_length(text) BETWEEN 1 AND 2000),
    tags       text[] NOT NULL DEFAULT '{}',
    unit       text REFERENCES org.member_unit (code),
    to_meeting uuid REFERENCES alliance.meeting (id),
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, item_id),
    CONSTRAINT decision_carried_text_check CHECK ((kind = 'carried') = (text IS NULL)),
    CONSTRAINT decision_carried_check CHECK ((kind = 'carried') = (to_meeting IS NOT NULL)),
    CONSTRAINT decision_tags_check
        CHECK (tags <@ ARRAY['co_build', 'share_venues', 'share_resources', 'discuss_together',
                             'solve_together']::text[])
);
COMMENT ON TABLE alliance.decision IS 'What a joint meeting decided on each item of its agenda (the minutes, per item); an item left undecided when the meeting was held is recorded as carried to the next meeting.';
COMMENT ON COLUMN alliance.decision.meeting_id IS 'The meeting.';
COMMENT ON COLUMN alliance.decision.item_id IS 'The agenda item.';
COMMENT ON COLUMN alliance.decision.kind IS 'resolved (done), assigned (member units take it on by action items), board (sent to the quarterly large-item board), carried (undecided, moved to to_meeting).';
COMMENT ON COLUMN alliance.decision.text IS 'The decision as minuted; NULL for carried items.';
COMMENT ON COLUMN alliance.decision.tags IS 'Five shared mechanisms (alliance.mechanism codes) the decision used.';
COMMENT ON COLUMN alliance.decision.unit IS 'Member unit that resolved the item (kind resolved), or NULL.';
COMMENT ON COLUMN alliance.decision.to_meeting IS 'Meeting a carried item went to.';
COMMENT ON COLUMN alliance.decision.decided_at IS 'When it was recorded.';
CREATE INDEX decision_item_idx ON alliance.decision (item_id);

-- Tags must be known mechanisms; the CHECK names them, this keeps the table the source.
CREATE FUNCTION alliance.decision_check_tags() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unknown text;
BEGIN
    SELECT t INTO unknown FROM unnest(NEW.tags) AS t
     WHERE NOT EXISTS (SELECT 1 FROM alliance.mechanism m WHERE m.code = t) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown mechanism tag "%"', unknown
            USING ERRCODE = 'HL400', CONSTRAINT = 'tags';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION alliance.decision_check_tags() IS 'Trigger function: refuses decision tags missing from alliance.mechanism.';
CREATE TRIGGER decision_check_tags BEFORE INSERT OR UPDATE OF tags ON alliance.decision
    FOR EACH ROW EXECUTE FUNCTION alliance.decision_check_tags();

CREATE TABLE alliance.action_item (
    id                  uuid PRIMARY KEY,
    meeting_id          uuid NOT NULL,
    item_id             uuid NOT NULL,
    unit                text NOT NULL REFERENCES org.member_unit (code),
    task                text NOT NULL CHECK (char_length(task) BETWEEN 1 AND 1000),
    due_at              timestamptz NOT NULL,
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    done_at             timestamptz,
    report              text CHECK (char_length(report) BETWEEN 1 AND 2000),
    hours               numeric(7, 1) CHECK (hours >= 0 AND hours <= 100000),
    overdue_notified_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (meeting_id, item_id) REFERENCES alliance.decision (meeting_id, item_id),
    CONSTRAINT action_item_done_check CHECK ((status = 'done') = (done_at IS NOT NULL))
);
COMMENT ON TABLE alliance.action_item IS 'Action items of a decision: a member unit does a task by a deadline; followed up until done (overdue ones are reported and fed to hl-triage''s escalation).';
COMMENT ON COLUMN alliance.action_item.id IS 'Action item id.';
COMMENT ON COLUMN alliance.action_item.meeting_id IS 'Meeting that decided it.';
COMMENT ON COLUMN alliance.action_item.item_id IS 'The agenda item it serves.';
COMMENT ON COLUMN alliance.action_item.unit IS 'Member unit (org.member_unit) responsible; its function domains fit the item''s category.';
COMMENT ON COLUMN alliance.action_item.task IS 'What it is to do.';
COMMENT ON COLUMN alliance.action_item.due_at IS 'Deadline.';
COMMENT ON COLUMN alliance.action_item.status IS 'open or done.';
COMMENT ON COLUMN alliance.action_item.done_at IS 'When the unit reported it done; NULL while open.';
COMMENT ON COLUMN alliance.action_item.report IS 'The unit''s report on what it did.';
COMMENT ON COLUMN alliance.action_item.hours IS 'Hours the unit put in (unit contributions).';
COMMENT ON COLUMN alliance.action_item.overdue_notified_at IS 'When its overrun was reported to hl-triage (ActionOverdue), once; NULL while not.';
COMMENT ON COLUMN alliance.action_item.created_at IS 'When it was minuted.';
CREATE INDEX action_item_overdue_idx ON alliance.action_item (due_at)
    WHERE status = 'open' AND overdue_notified_at IS NULL;
CREATE INDEX action_item_item_idx ON alliance.action_item (item_id);
CREATE INDEX action_item_unit_idx ON alliance.action_item (unit);

-- ---------------------------------------------------------------------------
-- Placing items
-- ---------------------------------------------------------------------------

-- The next planned meeting of alliance `p_alliance` on or after `p_from` (other than
-- `p_not`), share-locked; when there is none, plans the next sitting of its schedule
-- (id `p_new`). Concurrent planners meet at meeting_one_planned_per_sitting: the
-- second waits for the first and then finds its meeting.
CREATE FUNCTION alliance.next_meeting(p_alliance text, p_new uuid, p_from date, p_not uuid)
    RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_meeting uuid;
    v_date    date;
BEGIN
    SELECT alliance.next_sitting(cadence, sitting_day, p_from) INTO v_date
      FROM alliance.alliance WHERE code = p_alliance;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no alliance has code %', p_alliance
            USING ERRCODE = 'HL404', CONSTRAINT = 'alliance';
    END IF;
    FOR attempt IN 1..5 LOOP
        SELECT id INTO v_meeting FROM alliance.meeting
         WHERE alliance = p_alliance AND status = 'planned' AND scheduled_for >= p_from
           AND id IS DISTINCT FROM p_not
         ORDER BY scheduled_for, id LIMIT 1
           FOR SHARE;
        EXIT WHEN FOUND;
        INSERT INTO alliance.meeting (id, alliance, scheduled_for, kind, venue)
        SELECT p_new, p_alliance, v_date, 'scheduled',
               COALESCE(a.venue, (SELECT v.code FROM org.venue v
                                   WHERE v.org_unit = a.community
                                     AND v.kind IN ('evening_tea', 'red_hall')
                                   ORDER BY v.code LIMIT 1))
          FROM alliance.alliance a WHERE a.code = p_alliance
        ON CONFLICT DO NOTHING;
    END LOOP;
    IF v_meeting IS NULL THEN
        RAISE EXCEPTION 'could not find or plan a joint meeting of alliance %', p_alliance
            USING ERRCODE = '40001';
    END IF;
    RETURN v_meeting;
END
$$;
COMMENT ON FUNCTION alliance.next_meeting(text, uuid, date, uuid) IS
    'The next planned meeting of an alliance (share-locked), planning the next sitting of its schedule when there is none; race-free between replicas.';

DROP FUNCTION alliance.place_item(uuid, int, uuid, text, text, text, text, int, int, text);

-- Puts an escalated item on the next meeting of the alliance of its level. An item
-- already known stays where it is unless it climbed to another alliance (an overdue
-- item escalated from its community to the town or city): then, unless resolved, it
-- moves to that alliance's next meeting and is undecided again. Level and appeal count
-- only rise. Returns the meeting id.
CREATE FUNCTION alliance.place_item(p_new_meeting uuid, p_item uuid, p_title text, p_body text,
                                    p_category text, p_org_unit text, p_level int,
                                    p_appeal_count int, p_reason text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_alliance text := alliance.alliance_for(p_level, p_org_unit);
    v_meeting  uuid;
    v_old      alliance.agenda_item%ROWTYPE;
BEGIN
    SELECT * INTO v_old FROM alliance.agenda_item WHERE item_id = p_item FOR UPDATE;
    IF FOUND THEN
        IF v_old.status = 'resolved' THEN
            RETURN v_old.meeting_id;
        END IF;
        IF v_old.alliance = v_alliance OR v_old.level >= p_level THEN
            UPDATE alliance.agenda_item
               SET level = greatest(level, p_level), appeal_count = greatest(appeal_count, p_appeal_count)
             WHERE item_id = p_item;
            RETURN v_old.meeting_id;
        END IF;
        v_meeting := alliance.next_meeting(v_alliance, p_new_meeting, current_date, NULL);
        UPDATE alliance.agenda_item
           SET alliance = v_alliance, meeting_id = v_meeting, status = 'pending',
               level = greatest(level, p_level), appeal_count = greatest(appeal_count, p_appeal_count),
               reason = p_reason, placed_at = now()
         WHERE item_id = p_item;
        RETURN v_meeting;
    END IF;
    v_meeting := alliance.next_meeting(v_alliance, p_new_meeting, current_date, NULL);
    INSERT INTO alliance.agenda_item (item_id, meeting_id, title, body, category, org_unit, level,
                                      appeal_count, reason, alliance, community, source)
    VALUES (p_item, v_meeting, p_title, p_body, p_category, p_org_unit, p_level, p_appeal_count,
            p_reason, v_alliance, alliance.community_of(p_org_unit), 'escalated');
    RETURN v_meeting;
END
$$;
COMMENT ON FUNCTION alliance.place_item(uuid, uuid, text, text, text, text, int, int, text) IS
    'Puts an escalated item on the next meeting of the alliance of its level (moving it when it climbed to another alliance); race-free between replicas.';

-- A community puts an item on its own alliance's agenda directly. Raises HL404
-- (alliance), HL422-class errors through the foreign keys (category, org_unit), and
-- HL400 (org_unit) when the place is not in that community. Returns the meeting id.
CREATE FUNCTION alliance.add_direct(p_new_meeting uuid, p_alliance text, p_item uuid, p_title text,
                                    p_body text, p_category text, p_org_unit text,
                                    p_appeal_count int) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_community text;
    v_meeting   uuid;
BEGIN
    SELECT community INTO v_community FROM alliance.alliance WHERE code = p_alliance;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no alliance has code %', p_alliance
            USING ERRCODE = 'HL404', CONSTRAINT = 'alliance';
    END IF;
    IF p_org_unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org.org_unit WHERE code = p_org_unit) THEN
        RAISE EXCEPTION 'no org unit has code %', p_org_unit
            USING ERRCODE = 'HL400', CONSTRAINT = 'org_unit';
    END IF;
    IF p_category IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org.category WHERE code = p_category) THEN
        RAISE EXCEPTION 'no category has code %', p_category
            USING ERRCODE = 'HL400', CONSTRAINT = 'category';
    END IF;
    IF v_community IS NOT NULL AND p_org_unit IS NOT NULL
       AND alliance.community_of(p_org_unit) IS DISTINCT FROM v_community THEN
        RAISE EXCEPTION 'org unit % is not in community %', p_org_unit, v_community
            USING ERRCODE = 'HL400', CONSTRAINT = 'org_unit';
    END IF;
    v_meeting := alliance.next_meeting(p_alliance, p_new_meeting, current_date, NULL);
    INSERT INTO alliance.agenda_item (item_id, meeting_id, title, body, category, org_unit, level,
                                      appeal_count, reason, alliance, community, source)
    VALUES (p_item, v_meeting, p_title, p_body, p_category, COALESCE(p_org_unit, v_community),
            CASE WHEN v_community IS NULL THEN 4 ELSE 2 END, p_appeal_count, 'direct', p_alliance,
            COALESCE(v_community, alliance.community_of(p_org_unit)), 'direct');
    RETURN v_meeting;
END
$$;
COMMENT ON FUNCTION alliance.add_direct(uuid, text, uuid, text, text, text, text, int) IS
    'Puts an item on an alliance''s next agenda at the community''s own request (source direct).';

-- Raises HL422 (field `p_field`) for an unknown member unit and HL403 (rule
-- function_domain) when none of its function domains fits the item's category.
CREATE FUNCTION alliance.check_unit(p_unit text, p_item uuid, p_field text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_category text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM org.member_unit WHERE code = p_unit) THEN
        RAISE EXCEPTION 'no member unit has code %', p_unit
            USING ERRCODE = 'HL422', CONSTRAINT = p_field;
    END IF;
    SELECT category INTO v_category FROM alliance.agenda_item WHERE item_id = p_item;
    IF NOT org.unit_fits_category(p_unit, v_category) THEN
        RAISE EXCEPTION 'member unit % has no function domain that fits category % (org.category_domain)',
                        p_unit, v_category
            USING ERRCODE = 'HL403', CONSTRAINT = 'function_domain';
    END IF;
END
$$;
COMMENT ON FUNCTION alliance.check_unit(text, uuid, text) IS
    'The function-domain rule: a member unit may take or resolve an item only if one of its domains fits the item''s category (HL422 unknown unit, HL403 rule function_domain).';

-- Records a meeting's outcome for one item on its agenda (an item resolved at or
-- before the meeting). HL404 (id: the meeting / item_id), HL409 when decided already, HL422
-- (unit) unknown unit, HL403 (function_domain) when the unit does not fit.
CREATE OR REPLACE FUNCTION alliance.record_outcome(p_meeting uuid, p_item uuid, p_outcome text,
                                                   p_unit text, p_resolved_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    PERFORM 1 FROM alliance.meeting WHERE id = p_meeting;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no joint meeting has id %', p_meeting
            USING ERRCODE = 'HL404', CONSTRAINT = 'id';
    END IF;
    SELECT status INTO v_status FROM alliance.agenda_item
     WHERE meeting_id = p_meeting AND item_id = p_item FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'item % is not on the agenda of meeting %', p_item, p_meeting
            USING ERRCODE = 'HL404', CONSTRAINT = 'item_id';
    END IF;
    IF v_status = 'resolved' OR EXISTS (SELECT 1 FROM alliance.decision
                                         WHERE meeting_id = p_meeting AND item_id = p_item) THEN
        RAISE EXCEPTION 'item % was decided already', p_item
            USING ERRCODE = 'HL409', CONSTRAINT = 'item_id';
    END IF;
    IF p_unit IS NOT NULL THEN
        PERFORM alliance.check_unit(p_unit, p_item, 'unit');
    END IF;
    UPDATE alliance.agenda_item
       SET status = 'resolved', outcome = p_outcome, resolved_by_unit = p_unit,
           resolved_at = p_resolved_at
     WHERE item_id = p_item;
    INSERT INTO alliance.decision (meeting_id, item_id, kind, text, unit, decided_at)
    VALUES (p_meeting, p_item, 'resolved', p_outcome, p_unit, p_resolved_at);
END
$$;

-- ---------------------------------------------------------------------------
-- Holding a meeting
-- ---------------------------------------------------------------------------

DROP FUNCTION alliance.mark_held(uuid, text);

-- Holds a planned meeting: its minutes, attendance (member unit codes), and decisions,
-- a JSON array of {item_id, kind: resolved|assigned|board, text, tags[], unit,
-- actions: [{unit, task, due_at}]}; every item on its agenda left undecided is carried
-- to the alliance's next meeting (planned when none is, id p_next). One transaction:
-- all of it or nothing. Raises HL404 (id / decisions.item_id), HL409 (id when held
-- already, decisions.item_id when decided twice), HL422 (attendance / unit fields) for
-- unknown units, HL403 (function_domain) for a unit whose domains do not fit, HL400
-- (the field) for a deadline not after the meeting. Returns
-- {held_at, decided, carried, next_meeting}.
CREATE FUNCTION alliance.hold_meeting(p_meeting uuid, p_minutes text, p_attendance text[],
                                      p_decisions jsonb, p_next uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_m        alliance.meeting%ROWTYPE;
    v_at       timestamptz := now();
    v_d        jsonb;
    v_a        jsonb;
    v_i        int := 0;
    v_j        int;
    v_item     uuid;
    v_kind     text;
    v_unit     text;
    v_next     uuid;
    v_carried  int := 0;
    v_decided  int := 0;
BEGIN
    SELECT * INTO v_m FROM alliance.meeting WHERE id = p_meeting FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no joint meeting has id %', p_meeting USING ERRCODE = 'HL404', CONSTRAINT = 'id';
    END IF;
    IF v_m.status = 'held' THEN
        RAISE EXCEPTION 'meeting % was marked held already', p_meeting
            USING ERRCODE = 'HL409', CONSTRAINT = 'id';
    END IF;
    FOR v_j IN 1..coalesce(array_length(p_attendance, 1), 0) LOOP
        IF NOT EXISTS (SELECT 1 FROM org.member_unit WHERE code = p_attendance[v_j]) THEN
            RAISE EXCEPTION 'no member unit has code %', p_attendance[v_j]
                USING ERRCODE = 'HL422', CONSTRAINT = format('attendance[%s]', v_j - 1);
        END IF;
        INSERT INTO alliance.attendance (meeting_id, unit) VALUES (p_meeting, p_attendance[v_j])
        ON CONFLICT DO NOTHING;
    END LOOP;

    FOR v_d IN SELECT * FROM jsonb_array_elements(coalesce(p_decisions, '[]')) LOOP
        v_item := (v_d->>'item_id')::uuid;
        v_kind := v_d->>'kind';
        v_unit := v_d->>'unit';
        PERFORM 1 FROM alliance.agenda_item
         WHERE item_id = v_item AND meeting_id = p_meeting AND status <> 'resolved' FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'item % is not open on the agenda of meeting %', v_item, p_meeting
                USING ERRCODE = 'HL404', CONSTRAINT = format('decisions[%s].item_id', v_i);
        END IF;
        IF EXISTS (SELECT 1 FROM alliance.decision WHERE meeting_id = p_meeting AND item_id = v_item) THEN
            RAISE EXCEPTION 'item % was decided already at this meeting', v_item
                USING ERRCODE = 'HL409', CONSTRAINT = format('decisions[%s].item_id', v_i);
        END IF;
        IF v_unit IS NOT NULL THEN
            PERFORM alliance.check_unit(v_unit, v_item, format('decisions[%s].unit', v_i));
        END IF;
        INSERT INTO alliance.decision (meeting_id, item_id, kind, text, tags, unit, decided_at)
        VALUES (p_meeting, v_item, v_kind, v_d->>'text',
                ARRAY(SELECT jsonb_array_elements_text(coalesce(v_d->'tags', '[]'))), v_unit, v_at);
        v_j := 0;
        FOR v_a IN SELECT * FROM jsonb_array_elements(coalesce(v_d->'actions', '[]')) LOOP
            PERFORM alliance.check_unit(v_a->>'unit', v_item,
                                        format('decisions[%s].actions[%s].unit', v_i, v_j));
            IF (v_a->>'due_at')::timestamptz <= v_at THEN
                RAISE EXCEPTION 'deadline % is not after the meeting', v_a->>'due_at'
                    USING ERRCODE = 'HL400', CONSTRAINT = format('decisions[%s].actions[%s].due_at', v_i, v_j);
            END IF;
            INSERT INTO alliance.action_item (id, meeting_id, item_id, unit, task, due_at)
            VALUES ((v_a->>'id')::uuid, p_meeting, v_item, v_a->>'unit', v_a->>'task',
                    (v_a->>'due_at')::timestamptz);
            v_j := v_j + 1;
        END LOOP;
        UPDATE alliance.agenda_item
           SET status = CASE v_kind WHEN 'resolved' THEN 'resolved' WHEN 'board' THEN 'board'
                                    ELSE 'assigned' END,
               outcome = CASE WHEN v_kind = 'resolved' THEN v_d->>'text' END,
               resolved_by_unit = CASE WHEN v_kind = 'resolved' THEN v_unit END,
               resolved_at = CASE WHEN v_kind = 'resolved' THEN v_at END
         WHERE item_id = v_item;
        v_i := v_i + 1;
        v_decided := v_decided + 1;
    END LOOP;

    UPDATE alliance.meeting SET status = 'held', held_at = v_at, minutes = p_minutes
     WHERE id = p_meeting;

    -- Nothing is orphaned: every item still open on this agenda and not decided here
    -- goes to the alliance's next meeting.
    IF EXISTS (SELECT 1 FROM alliance.agenda_item a
                WHERE a.meeting_id = p_meeting AND a.status = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM alliance.decision d
                                   WHERE d.meeting_id = p_meeting AND d.item_id = a.item_id)) THEN
        v_next := alliance.next_meeting(v_m.alliance, p_next,
                                        greatest(current_date, v_m.scheduled_for) + 1, p_meeting);
        INSERT INTO alliance.decision (meeting_id, item_id, kind, to_meeting, decided_at)
        SELECT p_meeting, a.item_id, 'carried', v_next, v_at
          FROM alliance.agenda_item a
         WHERE a.meeting_id = p_meeting AND a.status = 'pending'
           AND NOT EXISTS (SELECT 1 FROM alliance.decision d
                            WHERE d.meeting_id = p_meeting AND d.item_id = a.item_id);
        GET DIAGNOSTICS v_carried = ROW_COUNT;
        UPDATE alliance.agenda_item a
           SET meeting_id = v_next, carried = carried + 1, placed_at = v_at
          FROM alliance.decision d
         WHERE d.meeting_id = p_meeting AND d.item_id = a.item_id AND d.kind = 'carried'
           AND a.meeting_id = p_meeting;
    END IF;
    RETURN jsonb_build_object('held_at', v_at, 'decided', v_decided, 'carried', v_carried,
                              'next_meeting', v_next);
END
$$;
COMMENT ON FUNCTION alliance.hold_meeting(uuid, text, text[], jsonb, uuid) IS
    'Holds a meeting with its minutes, attendance, decisions and action items, and carries every undecided item to the alliance''s next meeting, in one transaction.';

-- Marks an action item done with the unit's report; completes the item when it was its
-- last open action. HL404 (id), HL409 (done already). Returns whether the item is now
-- resolved (every action of its latest decision done).
CREATE FUNCTION alliance.complete_action(p_action uuid, p_report text, p_hours numeric,
                                         p_at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_item uuid;
    v_unit text;
    v_st   text;
BEGIN
    SELECT item_id, unit, status INTO v_item, v_unit, v_st FROM alliance.action_item
     WHERE id = p_action FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no action item has id %', p_action USING ERRCODE = 'HL404', CONSTRAINT = 'id';
    END IF;
    IF v_st = 'done' THEN
        RAISE EXCEPTION 'action item % is done already', p_action
            USING ERRCODE = 'HL409', CONSTRAINT = 'id';
    END IF;
    UPDATE alliance.action_item SET status = 'done', done_at = p_at, report = p_report, hours = p_hours
     WHERE id = p_action;
    IF EXISTS (SELECT 1 FROM alliance.action_item WHERE item_id = v_item AND status = 'open') THEN
        RETURN false;
    END IF;
    UPDATE alliance.agenda_item
       SET status = 'resolved', outcome = p_report, resolved_by_unit = v_unit, resolved_at = p_at
     WHERE item_id = v_item AND status = 'assigned';
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION alliance.complete_action(uuid, text, numeric, timestamptz) IS
    'Marks an action item done; resolves its item (assigned) when no action of it is open any more.';

-- Marks an overdue action item reported (once); HL409 when another replica did.
CREATE FUNCTION alliance.mark_overdue(p_action uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE alliance.action_item SET overdue_notified_at = now()
     WHERE id = p_action AND status = 'open' AND overdue_notified_at IS NULL AND due_at <= now();
    IF NOT FOUND THEN
        RAISE EXCEPTION 'action item % was followed up already', p_action
            USING ERRCODE = 'HL409', CONSTRAINT = 'id';
    END IF;
END
$$;
COMMENT ON FUNCTION alliance.mark_overdue(uuid) IS 'Marks an overdue action item reported to hl-triage, exactly once.';

-- ---------------------------------------------------------------------------
-- Agenda order
-- ---------------------------------------------------------------------------

-- One row per item open on a planned meeting: age, residents affected, overdue time.
CREATE VIEW alliance.agenda AS
SELECT a.*, m.alliance AS meeting_alliance, m.scheduled_for,
       extract(epoch FROM now() - a.added_at)::bigint AS age_s,
       coalesce((SELECT extract(epoch FROM now() - min(x.due_at))::bigint
                   FROM alliance.action_item x
                  WHERE x.item_id = a.item_id AND x.status = 'open' AND x.due_at < now()), 0)
           AS overdue_s
  FROM alliance.agenda_item a JOIN alliance.meeting m ON m.id = a.meeting_id;
COMMENT ON VIEW alliance.agenda IS 'Agenda items with what orders them: age (since first on an agenda), residents affected (appeal_count) and overdue time (oldest open action item past its deadline).';

GRANT SELECT, INSERT, UPDATE ON alliance.alliance TO hl_alliance;
GRANT SELECT, INSERT ON alliance.attendance TO hl_alliance;
GRANT SELECT ON alliance.mechanism, alliance.agenda TO hl_alliance;
GRANT SELECT, INSERT ON alliance.decision TO hl_alliance;
GRANT SELECT, INSERT, UPDATE ON alliance.action_item TO hl_alliance;
GRANT EXECUTE ON FUNCTION alliance.place_item(uuid, uuid, text, text, text, text, int, int, text),
                          alliance.add_direct(uuid, text, uuid, text, text, text, text, int),
                          alliance.next_meeting(text, uuid, date, uuid),
                          alliance.hold_meeting(uuid, text, text[], jsonb, uuid),
                          alliance.complete_action(uuid, text, numeric, timestamptz),
                          alliance.mark_overdue(uuid),
                          alliance.check_unit(text, uuid, text) TO hl_alliance;

-- 021_triage_items: consolidation, the commissioner's overrides, time limits
-- and escalation (hl-triage; see services/triage/README.md).
--
-- Items gain a version (bumped by every change; the commissioner's writes
-- name the version they saw and get 409 when it moved), the compound and
-- community they sit in (consolidation looks for open items there), a
-- deadline (due_at, in working days by triage.time_limit and the holiday
-- calendar) and a reopen count. Overrides and escalations are rows of their
-- own beside the automatic decision, never replacing it; rule edits keep
-- the old version in triage.rule_history.

-- ---------------------------------------------------------------------------
-- Items: version, place, deadline, merge
-- ---------------------------------------------------------------------------

ALTER TABLE triage.item
    ADD COLUMN version      integer NOT NULL DEFAULT 1,
    ADD COLUMN compound     text REFERENCES org.org_unit (code),
    ADD COLUMN community    text REFERENCES org.org_unit (code),
    ADD COLUMN due_at       timestamptz,
    ADD COLUMN due_stage    text CHECK (due_stage IN ('accept', 'hear', 'resolve')),
    ADD COLUMN reopen_count integer NOT NULL DEFAULT 0,
    ADD COLUMN merged_into  uuid REFERENCES triage.item (id);
ALTER TABLE triage.item DROP CONSTRAINT item_status_check;
ALTER TABLE triage.item ADD CONSTRAINT item_status_check
    CHECK (status IN ('open', 'routed', 'resolved', 'merged'));
ALTER TABLE triage.item ADD CONSTRAINT item_merged_check
    CHECK ((status = 'merged') = (merged_into IS NOT NULL));
COMMENT ON COLUMN triage.item.status IS 'open (not yet routed), routed, resolved, or merged (its appeals moved into merged_into by the commissioner).';
COMMENT ON COLUMN triage.item.version IS 'Bumped by every change (consolidation, override, merge, split, escalation, resolution); the commissioner''s writes name the version they saw and are refused (409) when it moved.';
COMMENT ON COLUMN triage.item.compound IS 'Compound the first appeal lies in (NULL when anchored above one); consolidation looks for open items of the same compound first.';
COMMENT ON COLUMN triage.item.community IS 'Community the first appeal lies in; consolidation looks for open items of this community (neighbouring compounds).';
COMMENT ON COLUMN triage.item.due_at IS 'When the current stage''s time limit runs out (working days, triage.time_limit and triage.holiday); the deadline scanner escalates items past it. NULL once resolved or merged.';
COMMENT ON COLUMN triage.item.due_stage IS 'The stage due_at limits: hear (small items, the council) or resolve.';
COMMENT ON COLUMN triage.item.reopen_count IS 'How often residents reopened it (a second reopening escalates it).';
COMMENT ON COLUMN triage.item.merged_into IS 'The item this one was merged into; NULL unless status is merged.';
CREATE INDEX item_place_idx ON triage.item (community, created_at) WHERE status = 'routed';
CREATE INDEX item_due_idx ON triage.item (due_at) WHERE status = 'routed';

-- ---------------------------------------------------------------------------
-- Rule history
-- ---------------------------------------------------------------------------

CREATE TABLE triage.rule_history (
    rule_id          bigint NOT NULL REFERENCES triage.rule (id),
    version          integer NOT NULL,
    priority         integer NOT NULL,
    active           boolean NOT NULL,
    category         text,
    channel          text,
    keywords         text[] NOT NULL,
    exclude_keywords text[] NOT NULL,
    size             text,
    set_category     text,
    note             text NOT NULL,
    valid_from       timestamptz NOT NULL,
    valid_to         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, version)
);
COMMENT ON TABLE triage.rule_history IS 'Every earlier version of every rule, written by the trigger rule_keep_history on UPDATE: with triage."case".rule_id and rule_version a past decision can be explained by the rule as it then was.';
COMMENT ON COLUMN triage.rule_history.rule_id IS 'The rule.';
COMMENT ON COLUMN triage.rule_history.version IS 'The version this row describes.';
COMMENT ON COLUMN triage.rule_history.priority IS 'Its priority then.';
COMMENT ON COLUMN triage.rule_history.active IS 'Whether it was active then.';
COMMENT ON COLUMN triage.rule_history.category IS 'Its category condition then.';
COMMENT ON COLUMN triage.rule_history.channel IS 'Its channel condition then.';
COMMENT ON COLUMN triage.rule_history.keywords IS 'Its keywords then.';
COMMENT ON COLUMN triage.rule_history.exclude_keywords IS 'Its excluded keywords then.';
COMMENT ON COLUMN triage.rule_history.size IS 'The size it decided then.';
COMMENT ON COLUMN triage.rule_history.set_category IS 'The category it inferred then.';
COMMENT ON COLUMN triage.rule_history.note IS 'Its note then.';
COMMENT ON COLUMN triage.rule_history.valid_from IS 'When this version was written.';
COMMENT ON COLUMN triage.rule_history.valid_to IS 'When the next version replaced it.';

CREATE FUNCTION triage.rule_keep_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO triage.rule_history (rule_id, version, priority, active, category, channel,
                                     keywords, exclude_keywords, size, set_category, note,
                                     valid_from)
    VALUES (OLD.id, OLD.version, OLD.priority, OLD.active, OLD.category, OLD.channel,
            OLD.keywords, OLD.exclude_keywords, OLD.size, OLD.set_category, OLD.note,
            OLD.updated_at);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION triage.rule_keep_history() IS 'Trigger function: keeps the version an UPDATE replaces in triage.rule_history.';
CREATE TRIGGER rule_keep_history AFTER UPDATE ON triage.rule
    FOR EACH ROW EXECUTE FUNCTION triage.rule_keep_history();

-- ---------------------------------------------------------------------------
-- Overrides
-- ---------------------------------------------------------------------------

CREATE TABLE triage.override (
    id            uuid PRIMARY KEY,
    item_id       uuid NOT NULL REFERENCES triage.item (id),
    kind          text NOT NULL CHECK (kind IN ('override', 'merge', 'split')),
    size_before   text,
    size_after    text,
    category_before text,
    category_after  text,
    target_before text,
    target_after  text,
    other_item    uuid REFERENCES triage.item (id),
    appeal_ids    uuid[] NOT NULL DEFAULT '{}',
    reason        text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 2000),
    version       integer NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE triage.override IS 'The commissioner''s decisions over items, recorded beside the automatic ones (triage."case" keeps what the rules decided): an override of size, category or target, a merge into another item, a split of appeals into a new one.';
COMMENT ON COLUMN triage.override.id IS 'Override id.';
COMMENT ON COLUMN triage.override.item_id IS 'The item acted on (for a merge: the one merged away; for a split: the one split).';
COMMENT ON COLUMN triage.override.kind IS 'override, merge or split.';
COMMENT ON COLUMN triage.override.size_before IS 'Size before (override).';
COMMENT ON COLUMN triage.override.size_after IS 'Size after (override).';
COMMENT ON COLUMN triage.override.category_before IS 'Category before (override).';
COMMENT ON COLUMN triage.override.category_after IS 'Category after (override).';
COMMENT ON COLUMN triage.override.target_before IS 'Target org unit before (override).';
COMMENT ON COLUMN triage.override.target_after IS 'Target org unit after (override).';
COMMENT ON COLUMN triage.override.other_item IS 'merge: the item merged into; split: the new item.';
COMMENT ON COLUMN triage.override.appeal_ids IS 'split: the appeals moved; merge: the appeals moved.';
COMMENT ON COLUMN triage.override.reason IS 'Why, in the commissioner''s words.';
COMMENT ON COLUMN triage.override.version IS 'The item version the commissioner acted on.';
COMMENT ON COLUMN triage.override.at IS 'When.';
CREATE INDEX override_item_idx ON triage.override (item_id, at);

-- Bumps an item's version when it is still `version`; raises HL409 (mapped
-- to HL_ECONFLICT: the whole unit rolls back) when another change came first.
CREATE FUNCTION triage.item_claim_version(p_item uuid, p_version integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v integer;
BEGIN
    UPDATE triage.item SET version = version + 1
     WHERE id = p_item AND version = p_version AND status IN ('open', 'routed')
    RETURNING version INTO v;
    IF v IS NULL THEN
        RAISE EXCEPTION 'item % is not at version % or is closed', p_item, p_version
            USING ERRCODE = 'HL409';
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION triage.item_claim_version(uuid, integer) IS 'Optimistic lock of the commissioner''s writes: bumps the item''s version if it is still the one given and the item is open or routed; raises SQLSTATE HL409 (the unit rolls back, nothing half-applied) otherwise.';

-- Joins an appeal to an open item; raises 40001 (retry: the message is left
-- for re-send, and the next read opens a new item) if it closed meanwhile.
CREATE FUNCTION triage.item_join(p_item uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE triage.item SET appeal_count = appeal_count + 1, version = version + 1
     WHERE id = p_item AND status = 'routed'
    RETURNING appeal_count INTO n;
    IF n IS NULL THEN
        RAISE EXCEPTION 'item % closed before the appeal could join it', p_item
            USING ERRCODE = '40001';
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION triage.item_join(uuid) IS 'Consolidation: counts one more appeal on a routed item; raises 40001 (the message is re-sent and decided again) if the item was resolved or merged since it was read.';

-- ---------------------------------------------------------------------------
-- Time limits, the holiday calendar, working days
-- ---------------------------------------------------------------------------

CREATE TABLE triage.time_limit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    size         text NOT NULL CHECK (size IN ('wish', 'small', 'large')),
    stage        text NOT NULL CHECK (stage IN ('accept', 'hear', 'resolve')),
    category     text REFERENCES org.category (code),
    working_days integer NOT NULL CHECK (working_days BETWEEN 1 AND 365),
    UNIQUE NULLS NOT DISTINCT (size, stage, category)
);
COMMENT ON TABLE triage.time_limit IS 'Time limits by size and stage, in working days; a row with a category overrides the default row (category NULL) for that category. Edit in SQL: new deadlines use it at once.';
COMMENT ON COLUMN triage.time_limit.id IS 'Row id.';
COMMENT ON COLUMN triage.time_limit.size IS 'wish, small or large.';
COMMENT ON COLUMN triage.time_limit.stage IS 'accept (reserved: no acceptance step is recorded yet), hear (small items: the council must sit) or resolve (after routing or an escalation).';
COMMENT ON COLUMN triage.time_limit.category IS 'Category this limit applies to; NULL: the default.';
COMMENT ON COLUMN triage.time_limit.working_days IS 'Working days allowed (weekends and triage.holiday days do not count; triage.holiday workdays do).';
INSERT INTO triage.time_limit (size, stage, category, working_days) VALUES
    ('small', 'accept', NULL, 1), ('small', 'hear', NULL, 5), ('small', 'resolve', NULL, 10),
    ('wish', 'accept', NULL, 2), ('wish', 'hear', NULL, 10), ('wish', 'resolve', NULL, 20),
    ('large', 'accept', NULL, 2), ('large', 'hear', NULL, 15), ('large', 'resolve', NULL, 30),
    ('small', 'hear', 'safety', 2), ('small', 'resolve', 'safety', 5);

CREATE TABLE triage.holiday (
    day  date PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL
);
COMMENT ON TABLE triage.holiday IS 'The public holiday calendar: days off (holiday) and the weekend days worked in exchange (workday, 调休). Seeded with 2026 as in the State Council notice (国办发明电〔2025〕7号, as the authors recall it: verify and correct here; 2027 is not published yet). Editable without a redeploy.';
COMMENT ON COLUMN triage.holiday.day IS 'The date (Asia/Shanghai).';
COMMENT ON COLUMN triage.holiday.kind IS 'holiday: not a working day; workday: a Saturday or Sunday that is worked.';
COMMENT ON COLUMN triage.holiday.name IS 'Which holiday.';
INSERT INTO triage.holiday (day, kind, name)
SELECT d::date, 'holiday', n FROM (VALUES
    ('2026-01-01', '2026-01-03', '元旦'),
    ('2026-02-15', '2026-02-23', '春节'),
    ('2026-04-04', '2026-04-06', '清明节'),
    ('2026-05-01', '2026-05-05', '劳动节'),
    ('2026-06-19', '2026-06-21', '端午节'),
    ('2026-09-25', '2026-09-27', '中秋节'),
    ('2026-10-01', '2026-10-07', '国庆节')) v(a, b, n),
    generate_series(a::date, b::date, interval '1 day') d;
INSERT INTO triage.holiday (day, kind, name) VALUES
    ('2026-01-04', 'workday', '元旦调休'), ('2026-02-14', 'workday', '春节调休'),
    ('2026-02-28', 'workday', '春节调休'), ('2026-05-09', 'workday', '劳动节调休'),
    ('2026-09-20', 'workday', '国庆节调休'), ('2026-10-10', 'workday', '国庆节调休');

CREATE FUNCTION triage.is_working_day(d date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT kind = 'workday' FROM triage.holiday WHERE day = d),
                    extract(isodow FROM d) < 6)
$$;
COMMENT ON FUNCTION triage.is_working_day(date) IS 'True for a working day: Monday to Friday unless a holiday, and the weekend days listed as workday.';

-- `start` plus `n` working days, in Asia/Shanghai: the deadline falls at the
-- same time of day on the n-th working day after start's date.
CREATE FUNCTION triage.add_working_days(start timestamptz, n integer) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    local timestamp := start AT TIME ZONE 'Asia/Shanghai';
    d date := local::date;
    left_ integer := n;
BEGIN
    WHILE left_ > 0 LOOP
        d := d + 1;
        IF triage.is_working_day(d) THEN
            left_ := left_ - 1;
        END IF;
    END LOOP;
    RETURN (d + local::time) AT TIME ZONE 'Asia/Shanghai';
END
$$;
COMMENT ON FUNCTION triage.add_working_days(timestamptz, integer) IS 'The moment n working days after start (same local time of day, Asia/Shanghai), skipping weekends and holidays and counting the listed weekend workdays.';

CREATE FUNCTION triage.deadline(start timestamptz, p_size text, p_stage text, p_category text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT triage.add_working_days(start, COALESCE(
        (SELECT working_days FROM triage.time_limit
          WHERE size = p_size AND stage = p_stage AND category = p_category),
        (SELECT working_days FROM triage.time_limit
          WHERE size = p_size AND stage = p_stage AND category IS NULL),
        10))
$$;
COMMENT ON FUNCTION triage.deadline(timestamptz, text, text, text) IS 'Deadline of a stage: start plus the time limit of (size, stage, category), falling back to the default row, then to 10 working days.';

-- ---------------------------------------------------------------------------
-- Escalations
-- ---------------------------------------------------------------------------

CREATE TABLE triage.escalation (
    id          uuid PRIMARY KEY,
    item_id     uuid NOT NULL REFERENCES triage.item (id),
    from_level  text NOT NULL,
    to_level    text NOT NULL,
    from_target text,
    to_target   text,
    reason      text NOT NULL CHECK (reason IN ('overdue', 'reopened', 'override')),
    due_at      timestamptz,
    at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE triage.escalation IS 'Every time an item climbed the hierarchy (compound -> community -> town -> city): overdue (its deadline passed), reopened (a second reopening by a resident) or override.';
COMMENT ON COLUMN triage.escalation.id IS 'Escalation id.';
COMMENT ON COLUMN triage.escalation.item_id IS 'The item.';
COMMENT ON COLUMN triage.escalation.from_level IS 'Level before.';
COMMENT ON COLUMN triage.escalation.to_level IS 'Level after (the same at the city: it can climb no further, the alliance is told again).';
COMMENT ON COLUMN triage.escalation.from_target IS 'Org unit before.';
COMMENT ON COLUMN triage.escalation.to_target IS 'Org unit after (the parent).';
COMMENT ON COLUMN triage.escalation.reason IS 'overdue, reopened or override.';
COMMENT ON COLUMN triage.escalation.due_at IS 'The deadline that was missed (overdue).';
COMMENT ON COLUMN triage.escalation.at IS 'When (the scanner''s clock, which tests may shift).';
CREATE INDEX escalation_item_idx ON triage.escalation (item_id, at);

GRANT SELECT, INSERT ON triage.override, triage.escalation TO hl_triage;
GRANT SELECT ON triage.time_limit, triage.holiday TO hl_triage;
GRANT EXECUTE ON FUNCTION triage.item_claim_version(uuid, integer), triage.item_join(uuid),
    triage.is_working_day(date), triage.add_working_days(timestamptz, integer),
    triage.deadline(timestamptz, text, text, text) TO hl_triage;

-- ---------------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------------

CREATE VIEW reporting.item_appeals AS
SELECT i.id AS item_id, i.size, i.category, i.compound, i.community, i.status, i.level,
       count(c.appeal_id) AS appeals, min(c.received_at) AS first_received_at,
       max(c.received_at) AS last_received_at, i.created_at
  FROM triage.item i
  LEFT JOIN triage."case" c ON c.item_id = i.id
 GROUP BY i.id;
COMMENT ON VIEW reporting.item_appeals IS 'Appeals per item: how many appeals each consolidated item gathered (e.g. 2,100 appeals into 366 items).';
COMMENT ON COLUMN reporting.item_appeals.item_id IS 'Item id.';
COMMENT ON COLUMN reporting.item_appeals.size IS 'wish, small or large.';
COMMENT ON COLUMN reporting.item_appeals.category IS 'Category.';
COMMENT ON COLUMN reporting.item_appeals.compound IS 'Compound of the item.';
COMMENT ON COLUMN reporting.item_appeals.community IS 'Community of the item.';
COMMENT ON COLUMN reporting.item_appeals.status IS 'open, routed, resolved or merged.';
COMMENT ON COLUMN reporting.item_appeals.level IS 'Level it sits at now.';
COMMENT ON COLUMN reporting.item_appeals.appeals IS 'Appeals in it now.';
COMMENT ON COLUMN reporting.item_appeals.first_received_at IS 'First appeal received.';
COMMENT ON COLUMN reporting.item_appeals.last_received_at IS 'Latest appeal received.';
COMMENT ON COLUMN reporting.item_appeals.created_at IS 'When the item was opened.';

CREATE VIEW reporting.escalation AS
SELECT e.id, e.item_id, i.size, i.category, e.from_level, e.to_level, e.to_target, e.reason,
       e.due_at, e.at, date_trunc('month', e.at) AS month
  FROM triage.escalation e
  JOIN triage.item i ON i.id = e.item_id;
COMMENT ON VIEW reporting.escalation IS 'Escalated items: every climb of the hierarchy, why and when.';
COMMENT ON COLUMN reporting.escalation.id IS 'Escalation id.';
COMMENT ON COLUMN reporting.escalation.item_id IS 'Item.';
COMMENT ON COLUMN reporting.escalation.size IS 'Its size.';
COMMENT ON COLUMN reporting.escalation.category IS 'Its category.';
COMMENT ON COLUMN reporting.escalation.from_level IS 'Level before.';
COMMENT ON COLUMN reporting.escalation.to_level IS 'Level after.';
COMMENT ON COLUMN reporting.escalation.to_target IS 'Org unit it went to.';
COMMENT ON COLUMN reporting.escalation.reason IS 'overdue, reopened or override.';
COMMENT ON COLUMN reporting.escalation.due_at IS 'The deadline missed (overdue).';
COMMENT ON COLUMN reporting.escalation.at IS 'When.';
COMMENT ON COLUMN reporting.escalation.month IS 'Month, for monthly counts.';

CREATE VIEW reporting.overdue AS
SELECT i.id AS item_id, i.size, i.category, i.level, i.target, i.due_stage, i.due_at,
       extract(epoch FROM now() - i.due_at) / 3600.0 AS hours_overdue
  FROM triage.item i
 WHERE i.status = 'routed' AND i.due_at < now();
COMMENT ON VIEW reporting.overdue IS 'Items past their deadline right now (the scanner escalates them within seconds, so rows here are brief unless hl-triage is down).';
COMMENT ON COLUMN reporting.overdue.item_id IS 'Item.';
COMMENT ON COLUMN reporting.overdue.size IS 'Its size.';
COMMENT ON COLUMN reporting.overdue.category IS 'Its category.';
COMMENT ON COLUMN reporting.overdue.level IS 'Level it sits at.';
COMMENT ON COLUMN reporting.overdue.target IS 'Org unit responsible.';
COMMENT ON COLUMN reporting.overdue.due_stage IS 'The stage whose limit passed.';
COMMENT ON COLUMN reporting.overdue.due_at IS 'The deadline.';
COMMENT ON COLUMN reporting.overdue.hours_overdue IS 'Hours past it.';

GRANT SELECT ON reporting.item_appeals, reporting.escalation, reporting.overdue TO analyst;

-- 022_triage_feedback: what residents said of resolved items (hl-triage,
-- services/triage/feedback.c). hl-intake sends AppealFeedback on stage
-- "feedback" when a resident confirms or reopens a resolved appeal; every
-- one is recorded here, and a reopening of a resolved small item sends it
-- back to its council (the first time) or up to the alliance (the second).

CREATE TABLE triage.feedback (
    id        uuid PRIMARY KEY,
    appeal_id uuid NOT NULL,
    item_id   uuid REFERENCES triage.item (id),
    kind      text NOT NULL CHECK (kind IN ('confirm', 'reopen')),
    reason    text CHECK (char_length(reason) BETWEEN 1 AND 500),
    effect    text NOT NULL CHECK (effect IN ('recorded', 'council', 'escalated')),
    hearing   jsonb,
    at        timestamptz NOT NULL
);
COMMENT ON TABLE triage.feedback IS 'Residents'' confirmations and reopenings of resolved appeals, one row per AppealFeedback message, with what it did to the item.';
COMMENT ON COLUMN triage.feedback.id IS 'Feedback id.';
COMMENT ON COLUMN triage.feedback.appeal_id IS 'The appeal (intake.appeal.id) the resident answered for.';
COMMENT ON COLUMN triage.feedback.item_id IS 'The item the appeal belonged to, when known.';
COMMENT ON COLUMN triage.feedback.kind IS 'confirm or reopen.';
COMMENT ON COLUMN triage.feedback.reason IS 'The resident''s words (required for reopen); resident text, not exposed in reporting.';
COMMENT ON COLUMN triage.feedback.effect IS 'recorded (nothing else changed: a confirmation, or a reopening of an item not resolved any more or not small), council (the item went back to its council for a new hearing) or escalated (reopened a second time: up one level, large, to the alliance).';
COMMENT ON COLUMN triage.feedback.hearing IS 'effect council: the council record as it was before it was reset for the new hearing (the earlier decision and outcome are kept here).';
COMMENT ON COLUMN triage.feedback.at IS 'When the resident gave it (hl-intake''s clock).';
CREATE INDEX feedback_item_idx ON triage.feedback (item_id, at);
CREATE INDEX feedback_appeal_idx ON triage.feedback (appeal_id, at);

-- Reopens resolved item p_item if it is still at version p_version: status
-- routed again, resolution cleared, reopen_count + 1, version + 1; with
-- p_escalate it becomes large and goes to the alliance (level and target
-- are moved by the escalation statement that follows), otherwise its
-- council must hear it again (new "hear" deadline). Raises 40001 (the
-- message is left for re-delivery and re-read) when the item moved.
CREATE FUNCTION triage.item_reopen(p_item uuid, p_version integer, p_escalate boolean,
                                   p_now timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE triage.item
       SET version = version + 1, reopen_count = reopen_count + 1, status = 'routed',
           resolved_at = NULL, outcome = NULL, resolved_by = NULL, resolved_message = NULL,
           size = CASE WHEN p_escalate THEN 'large' ELSE size END,
           route = CASE WHEN p_escalate THEN 'alliance' ELSE route END,
           due_stage = CASE WHEN p_escalate THEN 'resolve' ELSE 'hear' END,
           due_at = triage.deadline(p_now, CASE WHEN p_escalate THEN 'large' ELSE size END,
                                    CASE WHEN p_escalate THEN 'resolve' ELSE 'hear' END, category)
     WHERE id = p_item AND version = p_version AND status = 'resolved'
    RETURNING reopen_count INTO n;
    IF n IS NULL THEN
        RAISE EXCEPTION 'item % moved from version % while being reopened', p_item, p_version
            USING ERRCODE = '40001';
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION triage.item_reopen(uuid, integer, boolean, timestamptz) IS 'A resident''s reopening of a resolved item at a known version: routed again (to its council, or with p_escalate as a large item to the alliance), resolution cleared, reopen_count and version bumped; raises 40001 (retry after a re-read) when the item moved.';

GRANT SELECT, INSERT ON triage.feedback TO hl_triage;
GRANT EXECUTE ON FUNCTION triage.item_reopen(uuid, integer, boolean, timestamptz) TO hl_triage;

-- Reporting: counts, no resident text.
CREATE VIEW reporting.feedback AS
SELECT f.id, f.appeal_id, f.item_id, f.kind, f.effect, i.size, i.category, i.org_unit,
       i.reopen_count, f.at
  FROM triage.feedback f
  LEFT JOIN triage.item i ON i.id = f.item_id;
COMMENT ON VIEW reporting.feedback IS 'Residents'' confirmations and reopenings of resolved appeals and what they did (satisfaction with resolutions, reopen rates by category and compound); the residents'' reasons are left out.';
COMMENT ON COLUMN reporting.feedback.id IS 'Feedback id.';
COMMENT ON COLUMN reporting.feedback.appeal_id IS 'The appeal.';
COMMENT ON COLUMN reporting.feedback.item_id IS 'Its item.';
COMMENT ON COLUMN reporting.feedback.kind IS 'confirm or reopen.';
COMMENT ON COLUMN reporting.feedback.effect IS 'recorded, council (back to the council) or escalated (second reopening).';
COMMENT ON COLUMN reporting.feedback.size IS 'The item''s size now.';
COMMENT ON COLUMN reporting.feedback.category IS 'The item''s category.';
COMMENT ON COLUMN reporting.feedback.org_unit IS 'Where the item is (usually a compound).';
COMMENT ON COLUMN reporting.feedback.reopen_count IS 'How often the item has been reopened so far.';
COMMENT ON COLUMN reporting.feedback.at IS 'When the resident answered.';
GRANT SELECT ON reporting.feedback TO analyst;

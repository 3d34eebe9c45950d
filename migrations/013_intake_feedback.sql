-- 013_intake_feedback: residents confirm or reopen a resolved appeal with
-- their tracking code (hl-intake, services/intake/feedback.c).
--
-- A resolved appeal may be confirmed (final) or reopened; a reopened appeal
-- comes back to the council (or, reopened twice, climbs to the alliance)
-- and may be resolved, and so confirmed or reopened, again. Statuses still
-- never move backwards through a late message: intake.status_next says
-- which status a step leads to.

-- The status after `next` arrives at an appeal in status `cur`: the higher
-- by intake.status_rank, except that a reopened appeal is moved on by its
-- new resolution or escalation (they rank below "reopened" but come after
-- it), and a confirmed appeal stays confirmed.
CREATE FUNCTION intake.status_next(cur text, next text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
             WHEN cur = 'confirmed' THEN cur
             WHEN cur = 'reopened' AND next IN ('resolved', 'escalated') THEN next
             WHEN intake.status_rank(next) > intake.status_rank(cur) THEN next
             ELSE cur
           END
$$;
COMMENT ON FUNCTION intake.status_next(text, text) IS 'The status an appeal in status cur takes when step next arrives: the higher by intake.status_rank, except that resolved and escalated move a reopened appeal on (a new round) and confirmed is final.';

-- The guarded feedback transition: resolved -> confirmed or reopened.
-- Raises HL409 (the unit rolls back, the AppealFeedback message with it)
-- with the current status when the appeal is not resolved any more.
CREATE FUNCTION intake.feedback_apply(p_appeal uuid, p_kind text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_next text := CASE p_kind WHEN 'confirm' THEN 'confirmed' WHEN 'reopen' THEN 'reopened' END;
    cur  text;
BEGIN
    IF v_next IS NULL THEN
        RAISE EXCEPTION 'feedback kind must be confirm or reopen, not %', p_kind
            USING ERRCODE = 'HL400';
    END IF;
    UPDATE intake.appeal SET status = v_next, updated_at = now()
     WHERE id = p_appeal AND status = 'resolved';
    IF NOT FOUND THEN
        SELECT status INTO cur FROM intake.appeal WHERE id = p_appeal;
        IF cur IS NULL THEN
            RAISE EXCEPTION 'no appeal has id %', p_appeal USING ERRCODE = 'HL404';
        END IF;
        RAISE EXCEPTION 'the appeal is %, not resolved: only a resolved appeal can be confirmed or reopened', cur
            USING ERRCODE = 'HL409';
    END IF;
    RETURN v_next;
END
$$;
COMMENT ON FUNCTION intake.feedback_apply(uuid, text) IS 'Moves a resolved appeal to confirmed (kind confirm) or reopened (kind reopen); raises SQLSTATE HL409 naming the current status when it is not resolved, HL404 when there is no such appeal.';

GRANT EXECUTE ON FUNCTION intake.status_next(text, text), intake.feedback_apply(uuid, text)
    TO hl_intake;

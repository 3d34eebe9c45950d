-- 024_triage_case_once: two cheaper statements on the path of every appeal.
--
-- triage.case_absent(): "this appeal has no case yet", checked inside the unit that
-- writes the case, instead of a read before it (one round trip and one transaction per
-- appeal fewer). A second AppealReceived about an appeal that has a case (a new message
-- id for the same appeal) fails the unit with 40001 and constraint case_pkey; hl-triage
-- then applies that message with nothing but its claim.
CREATE FUNCTION triage.case_absent(p_appeal uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM triage."case" WHERE appeal_id = p_appeal) THEN
        RAISE EXCEPTION 'appeal % has a case already', p_appeal
            USING ERRCODE = '40001', CONSTRAINT = 'case_pkey';
    END IF;
END
$$;
COMMENT ON FUNCTION triage.case_absent(uuid) IS 'Raises 40001 (constraint case_pkey) when the appeal has a case already; hl-triage runs it first in the unit that decides the appeal.';
GRANT EXECUTE ON FUNCTION triage.case_absent(uuid) TO hl_triage;

-- item_join looks the item up by its key alone. With the status, route and target in
-- the WHERE clause the planner (statistics of an empty table at start) chose the partial
-- index item_due_idx and filtered every routed item for the id: 1.5 ms a join once a few
-- thousand items were open, the largest cost in `make bench`. The row is now found by the
-- primary key, and the route is checked on the row returned; a mismatch raises 40001 as
-- before, which rolls the increment back with the unit.
CREATE OR REPLACE FUNCTION triage.item_join(p_item uuid, p_route text, p_target text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    UPDATE triage.item SET appeal_count = appeal_count + 1, version = version + 1
     WHERE id = p_item
    RETURNING status, route, target, appeal_count INTO r;
    IF r IS NULL OR r.status <> 'routed' OR r.route IS DISTINCT FROM p_route
       OR r.target IS DISTINCT FROM p_target THEN
        RAISE EXCEPTION 'item % is no longer routed to % %', p_item, p_route, p_target
            USING ERRCODE = '40001';
    END IF;
    RETURN r.appeal_count;
END
$$;

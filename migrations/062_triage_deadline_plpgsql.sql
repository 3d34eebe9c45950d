-- 062: triage.deadline() in PL/pgSQL.
--
-- As a SQL function it was inlined where the planner could (a SELECT list) and
-- otherwise run as an SQL function, whose body is parsed and planned again on
-- every call: inside hl-triage's INSERT INTO triage.item ... VALUES (...,
-- triage.deadline(...)) that was ~200 microseconds per new item, three
-- quarters of the insert (measured: 2,000 inserts 544 ms with it, 130 ms with
-- a constant). PL/pgSQL keeps its plans for the session: ~20 microseconds.
-- Same answers: the category's row, else the default row, else 10 days.
CREATE OR REPLACE FUNCTION triage.deadline(start timestamptz, p_size text, p_stage text,
                                           p_category text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    days integer;
BEGIN
    SELECT working_days INTO days FROM triage.time_limit
     WHERE size = p_size AND stage = p_stage AND category = p_category;
    IF days IS NULL THEN
        SELECT working_days INTO days FROM triage.time_limit
         WHERE size = p_size AND stage = p_stage AND category IS NULL;
    END IF;
    RETURN triage.add_working_days(start, COALESCE(days, 10));
END
$$;
COMMENT ON FUNCTION triage.deadline(timestamptz, text, text, text) IS 'Deadline of a stage: start plus the time limit of (size, stage, category), falling back to the default row, then to 10 working days.';

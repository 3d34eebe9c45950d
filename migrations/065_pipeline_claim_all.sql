-- Consumer side of exactly-once for a batch (hl_pipeline's batched handlers,
-- e.g. hl-intake's TriageDecisions): marks every message of p_ids done, or
-- raises HLDUP when any of them was applied already (or is unknown), which
-- rolls the batch's effects back; the consumer then applies its messages one
-- by one through pipeline.claim, so each duplicate is found and dropped alone.
CREATE FUNCTION pipeline.claim_all(p_ids uuid[], p_consumer text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE pipeline.message
       SET done_at = clock_timestamp(), done_by = p_consumer, dead_at = NULL
     WHERE id = ANY (p_ids) AND done_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> cardinality(p_ids) THEN
        RAISE EXCEPTION '% of % messages were applied already', cardinality(p_ids) - n,
            cardinality(p_ids) USING ERRCODE = 'HLDUP';
    END IF;
END $$;
COMMENT ON FUNCTION pipeline.claim_all(uuid[], text) IS 'Consumer side of exactly-once for a batch: mark every message done, or raise HLDUP if any was applied already.';
GRANT EXECUTE ON FUNCTION pipeline.claim_all(uuid[], text) TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;

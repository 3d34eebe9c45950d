-- helpers.sql: loaded once by tests/pgtap.sh after CREATE EXTENSION pgtap
-- (both in schema tap, which no hongling role can use); not a test file.

-- Runs p_sql as role p_role and returns its SQLSTATE: '00000' when it
-- worked, '42501' when a privilege was missing. Whatever it did is rolled
-- back (a subtransaction), so a test can try writes freely.
CREATE FUNCTION tap.sqlstate_as(p_role text, p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text := '00000';
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', p_role);
        EXECUTE p_sql;
        RAISE EXCEPTION USING ERRCODE = 'HLTAP'; -- undo what it did
    EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE <> 'HLTAP' THEN
            state := SQLSTATE;
        END IF;
    END;
    RESET ROLE;
    RETURN state;
END $$;

-- Rows of any reporting view whose text (the whole row cast to text)
-- contains one of p_needles: (view, row).
CREATE FUNCTION tap.reporting_rows_containing(p_needles text[]) RETURNS TABLE (view_name text, row_text text)
LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    FOR v IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'reporting' AND c.relkind IN ('v', 'm') ORDER BY 1
    LOOP
        RETURN QUERY EXECUTE format(
            'SELECT %L::text, x::text FROM reporting.%I x'
            ' WHERE EXISTS (SELECT 1 FROM unnest($1) n WHERE strpos(x::text, n) > 0)', v, v)
            USING p_needles;
    END LOOP;
END $$;

-- Columns holding personal data: names, phone numbers, free text written by
-- or about residents (titles, bodies, outcomes, notes), where they live,
-- and what identifies a resident or their appeal. hl_analyst reads none of
-- them and no reporting view refers to one.
CREATE VIEW tap.personal_column (schema_name, table_name, column_name) AS VALUES
    ('intake', 'resident', 'name'), ('intake', 'resident', 'phone'),
    ('intake', 'appeal', 'title'), ('intake', 'appeal', 'body'),
    ('intake', 'appeal', 'resident_id'), ('intake', 'appeal', 'tracking_code'),
    ('intake', 'appeal', 'staff'),
    ('intake', 'appeal', 'source_ref'), ('intake', 'appeal', 'lat'), ('intake', 'appeal', 'lon'),
    ('intake', 'appeal', 'idempotency_key'),
    ('intake', 'appeal_event', 'detail'),
    ('intake', 'open311_request', 'address'), ('intake', 'open311_request', 'media_url'),
    ('triage', 'case', 'title'), ('triage', 'case', 'body'), ('triage', 'case', 'tracking_code'),
    ('triage', 'item', 'title'), ('triage', 'item', 'outcome'),
    ('triage', 'council', 'venue'), ('triage', 'council', 'decision'),
    ('triage', 'council', 'outcome'), ('triage', 'council', 'assignee'),
    ('triage', 'feedback', 'reason'), ('triage', 'feedback', 'hearing'),
    ('triage', 'override', 'reason'),
    ('bounty', 'wish', 'title'), ('bounty', 'wish', 'body'), ('bounty', 'wish', 'evidence'),
    ('bounty', 'wish', 'review_note'), ('bounty', 'wish_event', 'note'),
    ('points', 'ledger', 'reason'),
    ('alliance', 'agenda_item', 'title'), ('alliance', 'agenda_item', 'body'),
    ('alliance', 'agenda_item', 'outcome'), ('alliance', 'meeting', 'minutes');

-- Base-table columns (of the daemons' schemas and org) that reporting views
-- refer to: (view, schema, table, column, type).
CREATE VIEW tap.reporting_source_column AS
SELECT DISTINCT v.relname::text AS view_name, tn.nspname::text AS schema_name,
       t.relname::text AS table_name, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class v
  JOIN pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname = 'reporting'
  JOIN pg_rewrite r ON r.ev_class = v.oid
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
  JOIN pg_class t ON t.oid = d.refobjid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace AND tn.nspname <> 'reporting'
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid;

-- Schemas the system itself keeps (readable catalogues, toast, temp), and
-- tap, which only the tests' database has (pgTAP grants its own views to
-- PUBLIC; no hongling role can use the schema).
CREATE FUNCTION tap.is_system_schema(p_name name) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_name IN ('pg_catalog', 'information_schema', 'tap')
        OR p_name LIKE 'pg\_toast%' OR p_name LIKE 'pg\_temp%'
$$;

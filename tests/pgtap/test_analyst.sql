-- hl_analyst reads the schema reporting and nothing else: it can write
-- nowhere, read no table or column with personal data, and use no other
-- daemon's schema (nor org, whose household names are people's names).
BEGIN;
SET search_path = tap, public;
SELECT plan(16);

SELECT has_role('hl_analyst');
SELECT hasnt_role('analyst', 'the old name analyst is gone: hl_analyst is the one analyst role');
SELECT ok(NOT rolcanlogin, 'hl_analyst is a group role: people log in as themselves and are granted it')
  FROM pg_roles WHERE rolname = 'hl_analyst';

SELECT is_empty($$
    SELECT nspname FROM pg_namespace
     WHERE NOT tap.is_system_schema(nspname) AND nspname <> 'reporting'
       AND has_schema_privilege('hl_analyst', oid, 'USAGE')
$$, 'hl_analyst can use no schema but reporting (not org, public, pipeline or a daemon''s)');

SELECT is_empty($$
    SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT tap.is_system_schema(n.nspname) AND n.nspname <> 'reporting'
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND (has_table_privilege('hl_analyst', c.oid, 'SELECT')
            OR has_any_column_privilege('hl_analyst', c.oid, 'SELECT'))
$$, 'hl_analyst can select from nothing outside reporting');

SELECT is_empty($$
    SELECT p.schema_name || '.' || p.table_name || '.' || p.column_name
      FROM tap.personal_column p
     WHERE has_column_privilege('hl_analyst', format('%I.%I', p.schema_name, p.table_name)::regclass,
                                p.column_name, 'SELECT')
$$, 'hl_analyst can read no column with personal data');

SELECT is_empty($$
    SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT tap.is_system_schema(n.nspname) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND (has_table_privilege('hl_analyst', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            OR has_any_column_privilege('hl_analyst', c.oid, 'INSERT, UPDATE, REFERENCES'))
$$, 'hl_analyst can write to no table or view');

SELECT is_empty($$
    SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT tap.is_system_schema(n.nspname) AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('hl_analyst', c.oid, 'USAGE, UPDATE') END
$$, 'hl_analyst can advance no sequence');

SELECT is_empty($$
    SELECT nspname FROM pg_namespace
     WHERE NOT tap.is_system_schema(nspname) AND has_schema_privilege('hl_analyst', oid, 'CREATE')
$$, 'hl_analyst can create in no schema');

SELECT ok(NOT has_database_privilege('hl_analyst', current_database(), 'CREATE, TEMPORARY'),
          'hl_analyst can create neither schemas nor temporary tables in the database');

SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE NOT tap.is_system_schema(n.nspname)
       AND has_schema_privilege('hl_analyst', n.oid, 'USAGE')
       AND has_function_privilege('hl_analyst', p.oid, 'EXECUTE')
$$, 'hl_analyst can call no hongling function');

SELECT is_empty($$
    SELECT r.rolname FROM pg_roles r
     WHERE r.rolname <> 'hl_analyst' AND r.rolname NOT LIKE 'pg\_%'
       AND pg_has_role('hl_analyst', r.oid, 'USAGE')
$$, 'hl_analyst inherits no other role');

-- The same, as the role itself would meet it.
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT count(*) FROM reporting.headline'), '00000',
          'hl_analyst reads reporting.headline');
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT name, phone FROM intake.resident'), '42501',
          'hl_analyst cannot read residents'' names and phones');
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT name FROM org.org_unit WHERE level = ''household'''), '42501',
          'hl_analyst cannot read household names in org');
SELECT is(tap.sqlstate_as('hl_analyst', 'DELETE FROM reporting.category'), '42501',
          'hl_analyst cannot delete through a reporting view');

SELECT * FROM finish();
ROLLBACK;

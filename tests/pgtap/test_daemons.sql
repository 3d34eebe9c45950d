-- Each daemon role writes only its own schema and pipeline, reads org
-- (reference data) but no other daemon's schema and not reporting, and
-- creates nothing.
BEGIN;
SET search_path = tap, public;
SELECT plan(11);

CREATE TEMP VIEW daemon (role_name, own_schema) AS VALUES
    ('hl_intake', 'intake'), ('hl_triage', 'triage'), ('hl_bounty', 'bounty'),
    ('hl_points', 'points'), ('hl_alliance', 'alliance');

SELECT is((SELECT count(*)::int FROM daemon d JOIN pg_roles r ON r.rolname = d.role_name), 5,
          'the five daemon roles exist');

SELECT is_empty($$
    SELECT d.role_name || ' -> ' || n.nspname || '.' || c.relname
      FROM daemon d, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT tap.is_system_schema(n.nspname) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND n.nspname NOT IN (d.own_schema, 'pipeline')
       AND (has_table_privilege(d.role_name, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            OR has_any_column_privilege(d.role_name, c.oid, 'INSERT, UPDATE, REFERENCES'))
$$, 'a daemon role writes to no table outside its own schema and pipeline');

SELECT is_empty($$
    SELECT d.role_name || ' -> ' || n.nspname || '.' || c.relname
      FROM daemon d, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT tap.is_system_schema(n.nspname) AND n.nspname NOT IN (d.own_schema, 'pipeline')
       AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(d.role_name, c.oid, 'USAGE, UPDATE') END
$$, 'a daemon role advances no sequence outside its own schema and pipeline');

SELECT is_empty($$
    SELECT d.role_name || ' -> ' || n.nspname
      FROM daemon d, pg_namespace n
     WHERE NOT tap.is_system_schema(n.nspname)
       AND n.nspname NOT IN (d.own_schema, 'pipeline', 'org')
       AND has_schema_privilege(d.role_name, n.oid, 'USAGE')
$$, 'a daemon role can use no other daemon''s schema, nor reporting or public');

SELECT is_empty($$
    SELECT d.role_name || ' -> ' || n.nspname || '.' || c.relname
      FROM daemon d, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT tap.is_system_schema(n.nspname) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND n.nspname NOT IN (d.own_schema, 'pipeline', 'org')
       AND (has_table_privilege(d.role_name, c.oid, 'SELECT')
            OR has_any_column_privilege(d.role_name, c.oid, 'SELECT'))
$$, 'a daemon role can select from no other daemon''s tables');

SELECT is_empty($$
    SELECT d.role_name || ' -> ' || n.nspname || '.' || c.relname
      FROM daemon d, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'org' AND c.relkind IN ('r', 'p')
       AND NOT has_table_privilege(d.role_name, c.oid, 'SELECT')
$$, 'every daemon role reads the reference data in org');

SELECT is_empty($$
    SELECT d.role_name || ' -> ' || n.nspname
      FROM daemon d, pg_namespace n
     WHERE NOT tap.is_system_schema(n.nspname) AND has_schema_privilege(d.role_name, n.oid, 'CREATE')
    UNION ALL
    SELECT d.role_name || ' -> database' FROM daemon d
     WHERE has_database_privilege(d.role_name, current_database(), 'CREATE, TEMPORARY')
$$, 'a daemon role creates nothing: no schema objects, no schemas, no temporary tables');

SELECT is_empty($$
    SELECT d.role_name || ' is ' || r.rolname
      FROM daemon d, pg_roles r
     WHERE r.rolname <> d.role_name AND r.rolname NOT LIKE 'pg\_%'
       AND pg_has_role(d.role_name, r.oid, 'USAGE')
$$, 'a daemon role inherits no other role (no daemon''s, not hl_analyst)');

SELECT is(tap.sqlstate_as('hl_triage', 'SELECT name, phone FROM intake.resident'), '42501',
          'hl_triage cannot read residents'' contact data');
SELECT is(tap.sqlstate_as('hl_bounty', 'UPDATE triage.item SET status = status'), '42501',
          'hl_bounty cannot write triage''s items');
SELECT is(tap.sqlstate_as('hl_points', 'INSERT INTO pipeline.dead_letter (consumer, stage, reason, raw) VALUES (''t'', ''t'', ''t'', ''\x00'')'), '00000',
          'hl_points writes to pipeline');

SELECT * FROM finish();
ROLLBACK;

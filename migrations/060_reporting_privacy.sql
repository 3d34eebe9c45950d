-- 060_reporting_privacy: what analysts may read, and months in Beijing time.
--
-- The analyst role is hl_analyst, named like the daemons' hl_* roles so that
-- it cannot collide with (or silently grant hongling's data to) a role of
-- the same generic name that another application keeps in a shared cluster.
-- It reads the schema reporting and nothing else: the org schema is closed
-- to it (a party-member household's name is a person's name) and reporting
-- offers the reference data again without household names. No reporting
-- view exposes a name, a phone number, free text written by or about a
-- resident, or a household's name: the points ledger loses its reason (the
-- wish's title), large items their outcome, appeals their pseudonymous
-- resident id; where a title would help, views offer category and place.
--
-- Every month or quarter a view buckets by is taken in Asia/Shanghai with
-- AT TIME ZONE, so a dashboard's session time zone (UTC on a fresh cluster)
-- moves no appeal into another month. Buckets are dates (the first day).
--
-- A view whose columns change is renamed away (X_before_060), created
-- again, and dropped at the end, after its comments on the columns that did
-- not change were carried over: this file comments only what is new.
-- tests/pgtap/ proves the grants and the comments, and docs/reporting.md
-- (make docs) is generated from the catalogue.

-- ---------------------------------------------------------------------------
-- The analyst role
-- ---------------------------------------------------------------------------

-- hl_analyst takes over from analyst (created by 001): its members move
-- over, its grants in this database are revoked, and it is dropped unless
-- it still holds privileges in another database of the cluster (that
-- database's own migration drops it later).
DO $$
DECLARE
    member text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hl_analyst') THEN
        CREATE ROLE hl_analyst NOLOGIN;
    END IF;
    GRANT hl_analyst TO CURRENT_USER;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analyst') THEN
        FOR member IN
            SELECT m.rolname FROM pg_auth_members am
              JOIN pg_roles r ON r.oid = am.roleid
              JOIN pg_roles m ON m.oid = am.member
             WHERE r.rolname = 'analyst' AND m.rolname <> current_user
        LOOP
            EXECUTE format('GRANT hl_analyst TO %I', member);
        END LOOP;
        REVOKE ALL ON ALL TABLES IN SCHEMA org, reporting FROM analyst;
        REVOKE ALL ON SCHEMA org, reporting FROM analyst;
        BEGIN
            DROP ROLE analyst;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'role analyst kept: it still holds privileges in another database; hl_analyst replaces it';
        END;
    END IF;
END $$;

-- Nothing for anyone in schema public (only hl_migration lives there, read
-- by the migrating login), and no temporary tables: analysts read, they
-- never write, not even scratch tables.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;

GRANT USAGE ON SCHEMA reporting TO hl_analyst;
COMMENT ON SCHEMA reporting IS 'Stable, documented views for analysts (role hl_analyst, which reads nothing else): no names, phone numbers, residents'' free text or household names; months and quarters in Asia/Shanghai. Dictionary: docs/reporting.md.';

-- ---------------------------------------------------------------------------
-- Reference data, without household names
-- ---------------------------------------------------------------------------

CREATE VIEW reporting.org_unit AS
SELECT u.code, u.level, u.parent,
       CASE WHEN u.level <> 'household' THEN u.name END AS name,
       CASE u.level WHEN 'compound' THEN u.code
                    WHEN 'micro_grid' THEN u.parent
                    WHEN 'household' THEN p.parent END AS compound,
       CASE u.level WHEN 'community' THEN u.code
                    WHEN 'compound' THEN u.parent
                    WHEN 'micro_grid' THEN p.parent
                    WHEN 'household' THEN g.parent END AS community,
       u.chain, u.grade, u.shopping_area
  FROM org.org_unit u
  LEFT JOIN org.org_unit p ON p.code = u.parent
  LEFT JOIN org.org_unit g ON g.code = p.parent;
COMMENT ON VIEW reporting.org_unit IS 'The six-level organisation tree (city, town, community, compound, micro-grid, household) for grouping and labelling; a party-member household''s name names a person and is left out.';
COMMENT ON COLUMN reporting.org_unit.code IS 'Code of the node (joins org_unit, compound and community columns of the other views).';
COMMENT ON COLUMN reporting.org_unit.level IS 'city, town, community, compound, micro_grid or household.';
COMMENT ON COLUMN reporting.org_unit.parent IS 'Code of the node one level up; NULL for the city.';
COMMENT ON COLUMN reporting.org_unit.name IS 'Chinese name (e.g. 春江花城); NULL for households, whose names are people''s names.';
COMMENT ON COLUMN reporting.org_unit.compound IS 'Compound the node lies in (itself for a compound); NULL above compounds.';
COMMENT ON COLUMN reporting.org_unit.community IS 'Community the node lies in (itself for a community); NULL above communities.';
COMMENT ON COLUMN reporting.org_unit.chain IS 'Chain of a compound (improve, consolidate, innovate), or NULL.';
COMMENT ON COLUMN reporting.org_unit.grade IS 'A/B/C grade of a compound, or NULL.';
COMMENT ON COLUMN reporting.org_unit.shopping_area IS 'Shopping area a compound lies in, or NULL.';

CREATE VIEW reporting.category AS
SELECT code, name, sort FROM org.category;
COMMENT ON VIEW reporting.category IS 'The 12 major categories appeals are sorted into.';
COMMENT ON COLUMN reporting.category.code IS 'Category code (the category column of the other views).';
COMMENT ON COLUMN reporting.category.name IS 'Chinese name, e.g. 停车管理.';
COMMENT ON COLUMN reporting.category.sort IS 'Display order, 1 first.';

CREATE VIEW reporting.chain AS
SELECT code, name FROM org.chain;
COMMENT ON VIEW reporting.chain IS 'The three party-building chains compounds compete on.';
COMMENT ON COLUMN reporting.chain.code IS 'improve, consolidate or innovate.';
COMMENT ON COLUMN reporting.chain.name IS 'Chinese name (提升链, 巩固链, 创新链).';

CREATE VIEW reporting.function_domain AS
SELECT code, name FROM org.function_domain;
COMMENT ON VIEW reporting.function_domain IS 'Function domains member units act in (large items are claimed by domain).';
COMMENT ON COLUMN reporting.function_domain.code IS 'Domain code, e.g. city_management.';
COMMENT ON COLUMN reporting.function_domain.name IS 'Chinese name.';

CREATE VIEW reporting.member_unit AS
SELECT code, name, kind, domains, community FROM org.member_unit;
COMMENT ON VIEW reporting.member_unit IS 'Alliance member units: agencies, enterprises and social organisations (organisations, not people).';
COMMENT ON COLUMN reporting.member_unit.code IS 'Member unit code (resolved_by_unit of reporting.large_item).';
COMMENT ON COLUMN reporting.member_unit.name IS 'Chinese name of the organisation.';
COMMENT ON COLUMN reporting.member_unit.kind IS 'agency, enterprise or social_org.';
COMMENT ON COLUMN reporting.member_unit.domains IS 'Function domains it acts in (reporting.function_domain).';
COMMENT ON COLUMN reporting.member_unit.community IS 'Community it is paired with, or NULL.';

CREATE VIEW reporting.venue AS
SELECT code, name, kind, org_unit FROM org.venue;
COMMENT ON VIEW reporting.venue IS 'Consultation venues and service points (pioneer stations, red classrooms, service centres).';
COMMENT ON COLUMN reporting.venue.code IS 'Venue code (venue_code of reporting.council).';
COMMENT ON COLUMN reporting.venue.name IS 'Chinese name of the venue.';
COMMENT ON COLUMN reporting.venue.kind IS 'fengqiao, evening_tea, red_hall, service_centre, pioneer_station or red_classroom.';
COMMENT ON COLUMN reporting.venue.org_unit IS 'Community or compound that runs it.';

CREATE VIEW reporting.mailbox AS
SELECT number, compound, location FROM org.mailbox;
COMMENT ON VIEW reporting.mailbox IS 'The red mailboxes and where they hang.';
COMMENT ON COLUMN reporting.mailbox.number IS 'Number on the box (mailbox of reporting.appeal_source).';
COMMENT ON COLUMN reporting.mailbox.compound IS 'Compound it belongs to.';
COMMENT ON COLUMN reporting.mailbox.location IS 'Where it hangs (a public place, e.g. 安德利商圈·正门广场).';

-- ---------------------------------------------------------------------------
-- Appeals and items: Beijing-time months, no resident id, no text
-- ---------------------------------------------------------------------------

ALTER VIEW reporting.appeal RENAME TO appeal_before_060;
CREATE VIEW reporting.appeal AS
SELECT a.id, a.channel, a.org_unit, c.parent AS community, a.category, a.status, a.size, a.item_id,
       a.received_at,
       date_trunc('month', a.received_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       a.resident_id IS NOT NULL AS has_contact
  FROM intake.appeal a
  JOIN org.org_unit c ON c.code = a.org_unit;
COMMENT ON COLUMN reporting.appeal.month IS 'First day of the month (Asia/Shanghai) it was received in.';
COMMENT ON COLUMN reporting.appeal.has_contact IS 'Whether the resident left contact details (which only hl-intake can read).';

ALTER VIEW reporting."case" RENAME TO case_before_060;
CREATE VIEW reporting."case" AS
SELECT c.appeal_id, c.item_id, c.channel, c.org_unit, u.parent AS community, c.category_given,
       c.category, c.size, c.rule_id, c.category_rule_id, c.received_at, c.decided_at,
       date_trunc('month', c.received_at AT TIME ZONE 'Asia/Shanghai')::date AS month
  FROM triage."case" c
  JOIN org.org_unit u ON u.code = c.org_unit;
COMMENT ON COLUMN reporting."case".rule_id IS 'Rule that decided the size (reporting.rule_usage).';
COMMENT ON COLUMN reporting."case".month IS 'First day of the month (Asia/Shanghai) the appeal was received in.';

-- An item's title is the residents' own words (it may name the old lady it
-- is about); the subject says what and where instead.
ALTER VIEW reporting.item RENAME TO item_before_060;
CREATE VIEW reporting.item AS
SELECT i.id, i.size, i.category, i.org_unit, u.parent AS community, i.status, i.route, i.level,
       i.target, i.appeal_count, i.created_at, i.routed_at, i.resolved_at, i.resolved_by,
       extract(epoch FROM i.resolved_at - i.created_at) / 3600.0 AS hours_to_resolve,
       date_trunc('month', i.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       concat_ws(' · ', coalesce(k.name, '未分类'), coalesce(cp.name, CASE WHEN u.level <> 'household' THEN u.name END),
                 CASE i.size WHEN 'wish' THEN '微心愿' WHEN 'small' THEN '小事' ELSE '大事' END) AS subject
  FROM triage.item i
  JOIN org.org_unit u ON u.code = i.org_unit
  LEFT JOIN org.org_unit cp ON cp.code = i.compound
  LEFT JOIN org.category k ON k.code = i.category;
COMMENT ON VIEW reporting.item IS 'Consolidated items: how appeals became items, where each was routed, and when it was resolved. No title: subject names category, place and size instead.';
COMMENT ON COLUMN reporting.item.status IS 'open, routed, resolved or merged.';
COMMENT ON COLUMN reporting.item.resolved_by IS 'Who resolved it: council, joint meeting, or the code of a member unit or claimant organisation.';
COMMENT ON COLUMN reporting.item.month IS 'First day of the month (Asia/Shanghai) it was opened in.';
COMMENT ON COLUMN reporting.item.subject IS 'What and where, in place of the residents'' title: category name · compound (or higher unit) name · 小事/大事/微心愿.';

ALTER VIEW reporting.item_resolution RENAME TO item_resolution_before_060;
CREATE VIEW reporting.item_resolution AS
SELECT date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai')::date AS month, size, category,
       count(*) AS items,
       sum(appeal_count) AS appeals,
       count(*) FILTER (WHERE status = 'resolved') AS resolved,
       round(count(*) FILTER (WHERE status = 'resolved')::numeric / count(*), 3) AS resolution_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at) / 3600.0)
           FILTER (WHERE status = 'resolved') AS median_hours_to_resolve
  FROM triage.item
 WHERE status <> 'merged'
 GROUP BY 1, 2, 3;
COMMENT ON VIEW reporting.item_resolution IS 'Resolution rate and time of items by month opened, size and category (e.g. 366 items, 360 resolved); items merged into another are left out.';
COMMENT ON COLUMN reporting.item_resolution.month IS 'First day of the month (Asia/Shanghai) the items were opened in.';

ALTER VIEW reporting.escalation RENAME TO escalation_before_060;
CREATE VIEW reporting.escalation AS
SELECT e.id, e.item_id, i.size, i.category, e.from_level, e.to_level, e.to_target, e.reason,
       e.due_at, e.at, date_trunc('month', e.at AT TIME ZONE 'Asia/Shanghai')::date AS month
  FROM triage.escalation e
  JOIN triage.item i ON i.id = e.item_id;
COMMENT ON COLUMN reporting.escalation.month IS 'First day of the month (Asia/Shanghai) it happened in.';

-- ---------------------------------------------------------------------------
-- Wishes and points: months in Beijing time, no titles
-- ---------------------------------------------------------------------------

-- A wish's month is the month it was posted in, Beijing time (hl-bounty puts
-- it on that month's board, computed the same way since this migration).
CREATE OR REPLACE VIEW reporting.wish AS
SELECT w.id,
       date_trunc('month', w.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       w.org_unit AS compound,
       c.parent AS community,
       w.category,
       w.status,
       w.points,
       w.claimant_kind,
       w.claimant,
       w.item_id,
       w.created_at,
       w.claimed_at,
       w.completed_at,
       CASE WHEN w.status = 'approved' THEN w.reviewed_at END AS approved_at,
       CASE WHEN w.status = 'approved' THEN w.points ELSE 0 END AS points_awarded,
       (SELECT count(*) FROM bounty.wish_event e
         WHERE e.wish_id = w.id AND e.action = 'rejected') AS rejections,
       b.period_start AS board_month
  FROM bounty.wish w
  JOIN bounty.board b ON b.id = w.board_id
  JOIN org.org_unit c ON c.code = w.org_unit;
COMMENT ON COLUMN reporting.wish.month IS 'First day of the month (Asia/Shanghai) the wish was posted in.';
COMMENT ON COLUMN reporting.wish_board.month IS 'First day of the board''s month (Asia/Shanghai: hl-bounty puts a wish on the board of the Beijing-time month it is posted in).';
COMMENT ON COLUMN reporting.wish.board_month IS 'First day of the month of the board it is on (the same as month for wishes posted since migration 060).';

-- Accounts that are organisations (org units, member units) are shown;
-- anything else (a volunteer's code) is a person and stays hidden.
ALTER VIEW reporting.points_ledger RENAME TO points_ledger_before_060;
CREATE VIEW reporting.points_ledger AS
SELECT l.award_id,
       CASE WHEN ou.code IS NOT NULL OR mu.code IS NOT NULL THEN l.account END AS account,
       CASE WHEN ou.code IS NOT NULL THEN 'org_unit'
            WHEN mu.code IS NOT NULL THEN 'member_unit'
            ELSE 'other' END AS account_kind,
       l.amount, l.source_kind, l.source_id, w.category, l.org_unit, l.awarded_at,
       date_trunc('month', l.awarded_at AT TIME ZONE 'Asia/Shanghai')::date AS month
  FROM points.ledger l
  LEFT JOIN org.org_unit ou ON ou.code = l.account
  LEFT JOIN org.member_unit mu ON mu.code = l.account
  LEFT JOIN bounty.wish w
         ON l.source_kind = 'wish'
        AND w.id = CASE WHEN l.source_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                        THEN l.source_id::uuid END;
COMMENT ON VIEW reporting.points_ledger IS 'Every points award, for points by month, source, category and org unit. The reason (a wish''s title, in residents'' words) is left out: category says what the work was; accounts that are not organisations are hidden.';
COMMENT ON COLUMN reporting.points_ledger.account IS 'Account credited when it is an organisation (org unit or member unit code); NULL for any other account (a person''s code).';
COMMENT ON COLUMN reporting.points_ledger.account_kind IS 'org_unit, member_unit or other (hidden account).';
COMMENT ON COLUMN reporting.points_ledger.source_id IS 'Id of the source within its kind (reporting.wish.id for a wish).';
COMMENT ON COLUMN reporting.points_ledger.category IS 'Category of the wish the points were earned for; NULL for other sources.';
COMMENT ON COLUMN reporting.points_ledger.month IS 'First day of the month (Asia/Shanghai) of the award.';

-- ---------------------------------------------------------------------------
-- Large items: no outcome text, quarters in Beijing time
-- ---------------------------------------------------------------------------

ALTER VIEW reporting.large_item RENAME TO large_item_before_060;
CREATE VIEW reporting.large_item AS
SELECT a.item_id, a.meeting_id, m.scheduled_for AS meeting_date, m.status AS meeting_status,
       a.category, a.org_unit, u.parent AS community, a.level, a.appeal_count, a.reason,
       a.added_at, a.status, a.resolved_by_unit, mu.kind AS resolved_by_kind,
       a.resolved_at, a.resolved_at - a.added_at AS time_to_resolve,
       date_trunc('quarter', a.added_at AT TIME ZONE 'Asia/Shanghai')::date AS quarter,
       mu.name AS resolved_by_name,
       concat_ws(' · ', coalesce(k.name, '未分类'), CASE WHEN u.level <> 'household' THEN u.name END) AS subject
  FROM alliance.agenda_item a
  JOIN alliance.meeting m ON m.id = a.meeting_id
  LEFT JOIN org.org_unit u ON u.code = a.org_unit
  LEFT JOIN org.member_unit mu ON mu.code = a.resolved_by_unit
  LEFT JOIN org.category k ON k.code = a.category;
COMMENT ON VIEW reporting.large_item IS 'Large items taken to the alliance (大事项): the joint meeting that has them, whether they were resolved and by which member unit; for the quarterly large-item board and the count of large items solved with member units. The title, text and recorded outcome are free text and left out.';
COMMENT ON COLUMN reporting.large_item.item_id IS 'The consolidated item (reporting.item.id).';
COMMENT ON COLUMN reporting.large_item.level IS 'Escalation level the item reached (compound 1, community 2, town 3, city 4).';
COMMENT ON COLUMN reporting.large_item.quarter IS 'First day of the quarter (Asia/Shanghai) it reached the agenda in, for the quarterly board.';
COMMENT ON COLUMN reporting.large_item.resolved_by_name IS 'Name of the member unit that took it on (an organisation).';
COMMENT ON COLUMN reporting.large_item.subject IS 'What and where, in place of the title: category name · place name.';

-- ---------------------------------------------------------------------------
-- The views replaced: their comments carried over, then gone
-- ---------------------------------------------------------------------------

DO $$
DECLARE
    old_view record;
    col record;
BEGIN
    FOR old_view IN
        SELECT c.oid, c.relname, substr(c.relname, 1, length(c.relname) - length('_before_060')) AS name
          FROM pg_class c
         WHERE c.relnamespace = 'reporting'::regnamespace AND c.relname LIKE '%\_before\_060'
    LOOP
        IF obj_description(format('reporting.%I', old_view.name)::regclass, 'pg_class') IS NULL THEN
            EXECUTE format('COMMENT ON VIEW reporting.%I IS %L', old_view.name,
                           obj_description(old_view.oid, 'pg_class'));
        END IF;
        FOR col IN
            SELECT a.attname, col_description(old_view.oid, a.attnum) AS comment
              FROM pg_attribute a
              JOIN pg_attribute n ON n.attrelid = format('reporting.%I', old_view.name)::regclass
                                 AND n.attname = a.attname AND n.attnum > 0
             WHERE a.attrelid = old_view.oid AND a.attnum > 0
               AND col_description(n.attrelid, n.attnum) IS NULL
        LOOP
            EXECUTE format('COMMENT ON COLUMN reporting.%I.%I IS %L', old_view.name, col.attname,
                           col.comment);
        END LOOP;
        EXECUTE format('DROP VIEW reporting.%I', old_view.relname);
    END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- Grants: every reporting view, now and later, to hl_analyst only
-- ---------------------------------------------------------------------------

GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO hl_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO hl_analyst;

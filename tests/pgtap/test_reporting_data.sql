-- Reporting with data in it: a resident's name, phone and words written
-- into every free-text column of the daemons' tables never come out of a
-- reporting view, nor does a household's name; and rows stored at 00:30
-- Beijing time on the 1st (16:30 UTC the day before) count in the new
-- month (and quarter) whatever the session's time zone.
BEGIN;
SET search_path = tap, public;
SELECT plan(18);

-- The resident: 张叔叔, 13912345678, and what is written about him.
INSERT INTO intake.resident (id, phone, name)
VALUES ('00000000-0000-4000-8000-0000000000a1', '13912345678', '张叔叔');
INSERT INTO triage.item (id, size, category, org_unit, title, status, route, level, target,
                         created_at, routed_at, resolved_at, outcome, resolved_by, compound, community)
VALUES ('00000000-0000-4000-8000-0000000000b1', 'wish', 'elderly', 'hh0001',
        '残疾人张叔叔想请志愿者推轮椅', 'resolved', 'board', 'compound', 'cp001',
        '2026-01-31 16:30+00', '2026-01-31 16:31+00', '2026-02-03 09:00+00',
        '志愿者陪张叔叔去了医院', 'mg001', 'cp001', 'cm01'),
       ('00000000-0000-4000-8000-0000000000b2', 'small', 'neighbour', 'cp001',
        '张叔叔家楼上半夜喧哗', 'routed', 'council', 'community', 'cm01',
        '2026-01-31 16:30+00', '2026-01-31 16:31+00', NULL, NULL, NULL, 'cp001', 'cm01'),
       ('00000000-0000-4000-8000-0000000000b3', 'large', 'roads', 'cp001',
        '张叔叔门口的主干道坑洼', 'resolved', 'alliance', 'community', 'cm01',
        '2026-03-31 16:30+00', '2026-03-31 16:31+00', '2026-04-20 09:00+00',
        '市城管局给张叔叔回了电话', 'mu001', 'cp001', 'cm01');
INSERT INTO intake.appeal (id, tracking_code, channel, org_unit, category, title, body, resident_id,
                           source_ref, lat, lon, idempotency_key, status, size, item_id,
                           received_at, staff)
VALUES ('00000000-0000-4000-8000-0000000000c1', 'HLTAPTAPTAP1', 'visit', 'hh0001', 'elderly',
        '张叔叔的微心愿', '残疾人张叔叔（13912345678）想请志愿者推轮椅去医院复查', 
        '00000000-0000-4000-8000-0000000000a1', 'visit-note:张叔叔', 31.3, 117.9, 'key-张叔叔',
        'resolved', 'wish', '00000000-0000-4000-8000-0000000000b1', '2026-01-31 16:30+00', '网格员看望张叔叔');
INSERT INTO intake.appeal_event (appeal_id, status, at, detail)
VALUES ('00000000-0000-4000-8000-0000000000c1', 'resolved', '2026-02-03 09:00+00', '张叔叔已去医院');
INSERT INTO intake.open311_request (appeal_id, client, address, media_url)
VALUES ('00000000-0000-4000-8000-0000000000c1', 'platform', '张叔叔家门口',
        'https://example.cn/张叔叔.jpg');
INSERT INTO triage."case" (appeal_id, item_id, tracking_code, channel, org_unit, category_given,
                           category, size, rule_id, rule_version, title, body, received_at, decided_at)
VALUES ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000b1',
        'HLTAPTAPTAP1', 'visit', 'hh0001', 'elderly', 'elderly', 'wish', 100, 1, '张叔叔的微心愿',
        '残疾人张叔叔（13912345678）想请志愿者推轮椅去医院复查', '2026-01-31 16:30+00',
        '2026-01-31 16:30:01+00');
INSERT INTO triage.council (id, item_id, venue, heard_at, attendees, decision, outcome, assignee, recorded_at)
VALUES ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000b2',
        '张叔叔家客厅', '2026-02-02 10:00+00', '{party_branch,owners_committee,property_company}',
        '请楼上邻居向张叔叔道歉', '张叔叔满意', '张叔叔的儿子', '2026-02-02 11:00+00');
INSERT INTO triage.feedback (id, appeal_id, item_id, kind, reason, effect, at)
VALUES ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000c1',
        '00000000-0000-4000-8000-0000000000b1', 'reopen', '张叔叔说轮椅还没人推', 'recorded',
        '2026-02-04 09:00+00');
INSERT INTO triage.override (id, item_id, kind, reason, version)
VALUES ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000b2', 'override',
        '张叔叔打电话来催', 1);
INSERT INTO triage.escalation (id, item_id, from_level, to_level, from_target, to_target, reason, at)
VALUES ('00000000-0000-4000-8000-0000000000e3', '00000000-0000-4000-8000-0000000000b2', 'compound',
        'community', 'cp001', 'cm01', 'overdue', '2026-01-31 16:30+00');
INSERT INTO bounty.board (id, kind, community, period_start, published_at)
VALUES ('00000000-0000-4000-8000-0000000000f1', 'wish', 'cm01', '2026-02-01', '2026-02-01 00:00+00');
INSERT INTO bounty.wish (id, board_id, item_id, appeal_id, org_unit, category, title, body, points,
                         status, claimant, claimant_kind, claimed_at, evidence, completed_at,
                         reviewer, reviewed_at, review_note, award_id, created_at)
VALUES ('00000000-0000-4000-8000-0000000000f2', '00000000-0000-4000-8000-0000000000f1',
        '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000c1', 'cp001',
        'elderly', '残疾人张叔叔想请志愿者推轮椅', '张叔叔（13912345678）腿脚不便', 10, 'approved',
        'mg001', 'org_unit', '2026-02-01 01:00+00', '已陪张叔叔复查', '2026-02-02 01:00+00', 'cm01',
        '2026-02-03 01:00+00', '张叔叔很满意', '00000000-0000-4000-8000-0000000000f3',
        '2026-01-31 16:30+00');
INSERT INTO bounty.wish_event (wish_id, action, status, actor, note)
VALUES ('00000000-0000-4000-8000-0000000000f2', 'completed', 'completed', 'mg001', '已陪张叔叔复查');
SELECT points.award('00000000-0000-4000-8000-0000000000f3', 'mg001', 'grid_org', 10,
                    '残疾人张叔叔想请志愿者推轮椅', 'wish', '00000000-0000-4000-8000-0000000000f2',
                    'hh0001', '2026-01-31 16:30+00', '00000000-0000-4000-8000-000000000101', 'fixed',
                    1, NULL, 'cm01', 'cm01'),
       points.award('00000000-0000-4000-8000-0000000000f4', 'volunteer-张叔叔的邻居', 'volunteer', 5,
                    '帮张叔叔推轮椅', 'event', NULL, 'cp001', '2026-01-31 16:30+00',
                    '00000000-0000-4000-8000-000000000102', 'fixed', 1, NULL, 'cm01', 'cm01');
INSERT INTO alliance.meeting (id, scheduled_for, status, held_at, minutes)
VALUES ('00000000-0000-4000-8000-000000000201', '2026-04-20', 'held', '2026-04-20 09:00+00',
        '会议听取了张叔叔（13912345678）的意见');
INSERT INTO alliance.agenda_item (item_id, meeting_id, title, body, category, org_unit, level,
                                  appeal_count, reason, added_at, status, outcome, resolved_by_unit,
                                  resolved_at)
VALUES ('00000000-0000-4000-8000-0000000000b3', '00000000-0000-4000-8000-000000000201',
        '张叔叔门口的主干道坑洼', '张叔叔（13912345678）说主干道坑洼', 'roads', 'cp001', 2, 1, 'large',
        '2026-03-31 16:30+00', 'resolved', '市城管局给张叔叔回了电话', 'mu001', '2026-04-20 09:00+00');

SELECT is((SELECT count(*)::int FROM bounty.wish WHERE title LIKE '%张叔叔%'), 1,
          'the fixture wrote 张叔叔 into the base tables (the tests below are not vacuous)');

SELECT is_empty($$ SELECT view_name || ': ' || row_text
                     FROM tap.reporting_rows_containing(ARRAY['张叔叔', '13912345678']) $$,
                'no reporting view shows a resident''s name, phone number or words');

SELECT is_empty($$ SELECT view_name || ': ' || row_text
                     FROM tap.reporting_rows_containing(ARRAY(SELECT name FROM org.org_unit
                                                               WHERE level = 'household')) $$,
                'no reporting view shows a household''s name');

SELECT is((SELECT count(*)::int FROM reporting.org_unit WHERE level = 'household' AND name IS NULL),
          (SELECT count(*)::int FROM org.org_unit WHERE level = 'household'),
          'reporting.org_unit lists every household, without its name');

SELECT results_eq($$ SELECT account, account_kind FROM reporting.points_ledger ORDER BY award_id $$,
                  $$ VALUES ('mg001'::text, 'org_unit'::text), (NULL, 'other') $$,
                  'the ledger shows organisations'' accounts and hides anyone else''s');

SELECT is((SELECT category FROM reporting.points_ledger WHERE award_id = '00000000-0000-4000-8000-0000000000f3'),
          'elderly', 'a wish''s award says what the work was by the wish''s category');

SELECT is((SELECT subject FROM reporting.item WHERE id = '00000000-0000-4000-8000-0000000000b1'),
          (SELECT '一老一小 · ' || name || ' · 微心愿' FROM org.org_unit WHERE code = 'cp001'),
          'an item anchored at a household is named by category, compound and size');

SELECT is((SELECT has_contact FROM reporting.appeal WHERE id = '00000000-0000-4000-8000-0000000000c1'),
          true, 'an appeal says that contact details were left, not whose');

-- Months in Beijing time whatever the session's zone.
CREATE TEMP VIEW bucket AS
SELECT 'appeal' AS view_name, month FROM reporting.appeal WHERE id = '00000000-0000-4000-8000-0000000000c1'
UNION ALL SELECT 'case', month FROM reporting."case" WHERE appeal_id = '00000000-0000-4000-8000-0000000000c1'
UNION ALL SELECT 'item', month FROM reporting.item WHERE id = '00000000-0000-4000-8000-0000000000b2'
UNION ALL SELECT 'item_resolution', month FROM reporting.item_resolution WHERE size = 'small'
UNION ALL SELECT 'escalation', month FROM reporting.escalation WHERE item_id = '00000000-0000-4000-8000-0000000000b2'
UNION ALL SELECT 'wish', month FROM reporting.wish WHERE id = '00000000-0000-4000-8000-0000000000f2'
UNION ALL SELECT 'points_ledger', month FROM reporting.points_ledger WHERE award_id = '00000000-0000-4000-8000-0000000000f3'
UNION ALL SELECT 'large_item', quarter FROM reporting.large_item WHERE item_id = '00000000-0000-4000-8000-0000000000b3';

CREATE TEMP VIEW bucket_expected (view_name, month) AS VALUES
    ('appeal', '2026-02-01'::date), ('case', '2026-02-01'), ('item', '2026-02-01'),
    ('item_resolution', '2026-02-01'), ('escalation', '2026-02-01'), ('wish', '2026-02-01'),
    ('points_ledger', '2026-02-01'), ('large_item', '2026-04-01');

SET LOCAL TIME ZONE 'UTC';
SELECT set_eq('SELECT * FROM bucket', 'SELECT * FROM bucket_expected',
              'session in UTC: 00:30 Beijing time on the 1st counts in the new month and quarter');
SET LOCAL TIME ZONE 'America/Los_Angeles';
SELECT set_eq('SELECT * FROM bucket', 'SELECT * FROM bucket_expected',
              'session in America/Los_Angeles: the same months');
SET LOCAL TIME ZONE 'Asia/Shanghai';
SELECT set_eq('SELECT * FROM bucket', 'SELECT * FROM bucket_expected',
              'session in Asia/Shanghai: the same months');

-- And 23:30 Beijing time on the last day stays in the old month.
UPDATE intake.appeal SET received_at = '2026-02-28 15:30+00'
 WHERE id = '00000000-0000-4000-8000-0000000000c1';
SET LOCAL TIME ZONE 'Pacific/Kiritimati';
SELECT is((SELECT month FROM reporting.appeal WHERE id = '00000000-0000-4000-8000-0000000000c1'),
          '2026-02-01'::date, 'session at UTC+14: 23:30 Beijing time on 28 February is still February');
RESET TIME ZONE;

-- The views that bucket by month all say which zone they use.
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'reporting'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname IN ('month', 'quarter')
     WHERE col_description(c.oid, a.attnum) NOT LIKE '%Asia/Shanghai%'
$$, 'every month and quarter column says it is Asia/Shanghai');

-- What the analyst gets when reading these rows as hl_analyst.
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT * FROM reporting.points_ledger'), '00000',
          'hl_analyst reads the ledger');
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT * FROM reporting.large_item'), '00000',
          'hl_analyst reads the large items');
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT reason FROM points.ledger'), '42501',
          'hl_analyst cannot read the ledger''s reasons');
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT outcome FROM alliance.agenda_item'), '42501',
          'hl_analyst cannot read large items'' outcomes');
SELECT is(tap.sqlstate_as('hl_analyst', 'SELECT title FROM triage.item'), '42501',
          'hl_analyst cannot read items'' titles');

SELECT * FROM finish();
ROLLBACK;

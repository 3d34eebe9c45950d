-- 061_reporting_headline: the report's headline figures in one view.
--
-- One row per figure the news report on the programme states (DOMAIN.md,
-- "Figures in the report"), each computed from the data beside the
-- report's own figure. `hlctl demo --month-of-report` produces a city whose
-- computed figures come within 5% of the report's (tests/integration/
-- test_int_headline.c). Figures the system does not record have value NULL
-- and say why in their definition; the README lists them.
--
-- Definitions, where the report is vague:
--   appeals       every appeal received, of every size (wishes included);
--   items         consolidated matters other than wishes (the report counts
--                 micro-wishes on their own), not merged away;
--   council_*     appeals (problems residents raised, not items) whose item
--                 went to a three-party council, and those whose council
--                 recorded its hearing and resolved the item.

CREATE VIEW reporting.headline AS
WITH figure (ord, section, figure, label, label_zh, report_value, report_text, definition) AS (
    VALUES
    (1, 'network', 'communities', 'urban communities', '城市社区', 14, '14',
     'org units of level community'),
    (2, 'network', 'member_units', 'alliance member units', '区域化党建联盟成员单位', 260, '260+',
     'member units (agencies, enterprises, social organisations)'),
    (3, 'network', 'compounds', 'compound party branches (grids)', '小区(网格)党支部', 94, '94',
     'org units of level compound'),
    (4, 'network', 'micro_grids', 'micro-grid party groups', '楼栋(微网格)党小组', 251, '251',
     'org units of level micro_grid'),
    (5, 'network', 'households', 'party-member central households', '党员中心户', 1433, '1,433',
     'org units of level household'),
    (6, 'network', 'compound_secretaries', 'compound party secretaries', '小区党支部书记', 94, '94',
     'not recorded: the system keeps no people, only the units they lead'),
    (7, 'network', 'secretaries_chairing_owners', 'secretaries who also chair the owners'' committee', '书记兼任业委会主任', 12, '12',
     'not recorded: the system keeps no people, only the units they lead'),
    (8, 'network', 'mailboxes', 'red mailboxes with QR codes', '红色信箱', 122, '122',
     'red mailboxes'),
    (9, 'network', 'shopping_areas', 'shopping areas with mailboxes', '商圈', 3, '3',
     'distinct shopping areas of compounds'),
    (10, 'co_governance', 'appeals', 'appeals collected', '收集民意诉求', 2100, '2,100+',
     'appeals received, every channel and size'),
    (11, 'co_governance', 'categories', 'categories appeals were sorted into', '梳理大类', 12, '12',
     'distinct categories triage decided for appeals'),
    (12, 'co_governance', 'items', 'items (consolidated matters)', '小件', 366, '366',
     'items other than wishes, not merged into another'),
    (13, 'co_governance', 'items_resolved', 'items resolved', '解决', 360, '360',
     'of those items, the resolved ones'),
    (14, 'co_governance', 'rules_improved', 'rules improved from residents'' suggestions', '完善制度', 3, '3',
     'not recorded: a council''s or meeting''s outcome is free text, with no mark for a rule it made'),
    (15, 'co_governance', 'council_accepted', 'problems accepted by consultation venues', '议事厅受理问题', 698, '698',
     'appeals whose item went to a three-party council'),
    (16, 'co_governance', 'council_resolved', 'problems resolved by consultation venues', '议事厅解决问题', 689, '689',
     'appeals whose item''s council recorded its hearing and resolved it'),
    (17, 'co_governance', 'governance_rules', 'governance rules made at consultation venues', '形成治理规则', 15, '15',
     'not recorded: a council''s or meeting''s outcome is free text, with no mark for a rule it made'),
    (18, 'co_governance', 'wishes_completed', 'micro-wishes completed', '完成微心愿', 336, '336',
     'wishes the community approved as completed'),
    (19, 'co_governance', 'large_items_by_units', 'large items solved with member units', '成员单位解决大事项', 28, '28',
     'large items the joint meeting resolved naming a member unit that took them on'),
    (20, 'sharing', 'chain_workstations', 'chain workstations', '链上工作站', 42, '42',
     'not recorded: chains are kept per compound, workstations not at all'),
    (21, 'sharing', 'pioneer_stations', 'pioneer stations', '先锋驿站', 61, '61',
     'venues of kind pioneer_station'),
    (22, 'sharing', 'red_classrooms', 'red classrooms', '红邻课堂', 48, '48',
     'venues of kind red_classroom'),
    (23, 'sharing', 'social_organisations', 'social organisations incubated', '孵化社会组织', 156, '156',
     'not recorded: only the social organisations that are alliance member units are known'),
    (24, 'learning', 'recurring_events', 'recurring community events', '常态化活动', 14, '14',
     'not recorded: the learning circle is not modelled'),
    (25, 'learning', 'event_participations', 'participations in those events', '参与人次', 30000, '30,000+',
     'not recorded: the learning circle is not modelled'),
    (26, 'learning', 'study_pairs', 'study pairs', '学习搭子', 349, '349',
     'not recorded: the learning circle is not modelled'),
    (27, 'learning', 'book_bags', 'book bags handed out', '书袋', 698, '698',
     'not recorded: the learning circle is not modelled')
),
computed (figure, value) AS (
    SELECT 'communities', count(*) FROM org.org_unit WHERE level = 'community'
    UNION ALL SELECT 'member_units', count(*) FROM org.member_unit
    UNION ALL SELECT 'compounds', count(*) FROM org.org_unit WHERE level = 'compound'
    UNION ALL SELECT 'micro_grids', count(*) FROM org.org_unit WHERE level = 'micro_grid'
    UNION ALL SELECT 'households', count(*) FROM org.org_unit WHERE level = 'household'
    UNION ALL SELECT 'mailboxes', count(*) FROM org.mailbox
    UNION ALL SELECT 'shopping_areas', count(DISTINCT shopping_area) FROM org.org_unit
    UNION ALL SELECT 'appeals', count(*) FROM intake.appeal
    UNION ALL SELECT 'categories', count(DISTINCT category) FROM triage."case"
    UNION ALL SELECT 'items', count(*) FROM triage.item WHERE size <> 'wish' AND status <> 'merged'
    UNION ALL SELECT 'items_resolved', count(*) FROM triage.item
               WHERE size <> 'wish' AND status = 'resolved'
    UNION ALL SELECT 'council_accepted', count(*) FROM triage."case" c
               JOIN triage.council k ON k.item_id = c.item_id
    UNION ALL SELECT 'council_resolved', count(*) FROM triage."case" c
               JOIN triage.council k ON k.item_id = c.item_id
               JOIN triage.item i ON i.id = c.item_id
               WHERE k.recorded_at IS NOT NULL AND i.status = 'resolved'
    UNION ALL SELECT 'wishes_completed', count(*) FROM bounty.wish WHERE status = 'approved'
    UNION ALL SELECT 'large_items_by_units', count(*) FROM alliance.agenda_item
               WHERE status = 'resolved' AND resolved_by_unit IS NOT NULL
    UNION ALL SELECT 'pioneer_stations', count(*) FROM org.venue WHERE kind = 'pioneer_station'
    UNION ALL SELECT 'red_classrooms', count(*) FROM org.venue WHERE kind = 'red_classroom'
)
SELECT f.ord, f.section, f.figure, f.label, f.label_zh, c.value, f.report_value, f.report_text,
       round(c.value::numeric / f.report_value - 1, 3) AS deviation, f.definition
  FROM figure f
  LEFT JOIN computed c ON c.figure = f.figure
 ORDER BY f.ord;
COMMENT ON VIEW reporting.headline IS 'The headline figures of the report on the programme, one row each, computed from the data beside the report''s own figure (hlctl demo --month-of-report reproduces them within 5%). value is NULL for figures the system does not record.';
COMMENT ON COLUMN reporting.headline.ord IS 'Order in which the report states the figure.';
COMMENT ON COLUMN reporting.headline.section IS 'Part of the programme: network (the organisation), co_governance, sharing or learning (the three circles).';
COMMENT ON COLUMN reporting.headline.figure IS 'Stable code of the figure, e.g. items_resolved.';
COMMENT ON COLUMN reporting.headline.label IS 'What is counted, in English.';
COMMENT ON COLUMN reporting.headline.label_zh IS 'What is counted, in the report''s words.';
COMMENT ON COLUMN reporting.headline.value IS 'The figure computed from the data now; NULL when the system does not record it.';
COMMENT ON COLUMN reporting.headline.report_value IS 'The report''s figure (a lower bound where the report says "+").';
COMMENT ON COLUMN reporting.headline.report_text IS 'The report''s figure as printed, e.g. 2,100+.';
COMMENT ON COLUMN reporting.headline.deviation IS 'value / report_value - 1, to three places (0.02 is 2% above the report); NULL when value is.';
COMMENT ON COLUMN reporting.headline.definition IS 'How value is computed, or why the system cannot compute it.';
GRANT SELECT ON reporting.headline TO hl_analyst;

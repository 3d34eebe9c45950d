-- reporting.headline: one row per figure the report states, with the
-- report's figure beside the computed one; the figures the system does not
-- record say so (value NULL). On the seeded demo city (no appeals yet) the
-- organisation's figures are already the report's.
BEGIN;
SET search_path = tap, public;
SELECT plan(6);

SELECT has_view('reporting', 'headline', 'reporting.headline exists');

SELECT set_eq($$ SELECT figure, report_value FROM reporting.headline $$, $$ VALUES
    ('communities', 14), ('member_units', 260), ('compounds', 94), ('micro_grids', 251),
    ('households', 1433), ('compound_secretaries', 94), ('secretaries_chairing_owners', 12),
    ('mailboxes', 122), ('shopping_areas', 3), ('appeals', 2100), ('categories', 12),
    ('items', 366), ('items_resolved', 360), ('rules_improved', 3), ('council_accepted', 698),
    ('council_resolved', 689), ('governance_rules', 15), ('wishes_completed', 336),
    ('large_items_by_units', 28), ('chain_workstations', 42), ('pioneer_stations', 61),
    ('red_classrooms', 48), ('social_organisations', 156), ('recurring_events', 14),
    ('event_participations', 30000), ('study_pairs', 349), ('book_bags', 698) $$,
    'one row per figure of the report, with the report''s figure');

SELECT set_eq($$ SELECT figure FROM reporting.headline WHERE value IS NULL $$,
              ARRAY['compound_secretaries', 'secretaries_chairing_owners', 'rules_improved',
                    'governance_rules', 'chain_workstations', 'social_organisations',
                    'recurring_events', 'event_participations', 'study_pairs', 'book_bags'],
              'exactly the figures the system does not record have no value (README lists them)');

SELECT is_empty($$ SELECT figure FROM reporting.headline
                    WHERE (value IS NULL) <> (definition LIKE 'not recorded:%') $$,
                'a figure without a value says why in its definition');

SELECT is_empty($$ SELECT figure, value, report_value FROM reporting.headline
                    WHERE section = 'network' AND value IS NOT NULL AND value <> report_value
                    UNION ALL
                   SELECT figure, value, report_value FROM reporting.headline
                    WHERE figure IN ('pioneer_stations', 'red_classrooms') AND value <> report_value $$,
                'the seeded demo city has the report''s organisation, mailboxes and service points');

SELECT results_eq($$ SELECT ord FROM reporting.headline $$,
                  $$ SELECT generate_series(1, 27) $$,
                  'figures come in the report''s order');

SELECT * FROM finish();
ROLLBACK;

-- The points ledger's invariants, held by the database itself: points.award()
-- writes a balanced transaction once (a second call moves nothing), refuses
-- an account of another kind, and the deferred constraint triggers refuse at
-- commit a ledger row without its postings or postings that do not sum to zero.
BEGIN;
SET search_path = tap, public;
SELECT plan(8);

SELECT is(points.award('00000000-0000-4000-8000-00000000aa01', 'cp001', 'grid_org', 20, '测试',
                       'wish', 'w-1', 'cp001', now(), '00000000-0000-4000-8000-00000000bb01',
                       'wish.hard', 1, 'hard', 'cm01', 'cm01'),
          'recorded', 'an award is recorded');
SELECT is(points.award('00000000-0000-4000-8000-00000000aa01', 'cp001', 'grid_org', 20, '测试',
                       'wish', 'w-1', 'cp001', now(), '00000000-0000-4000-8000-00000000bb02',
                       'wish.hard', 1, 'hard', 'cm01', 'cm01'),
          'repeated', 'the same award_id again moves nothing');
SELECT is(points.award('00000000-0000-4000-8000-00000000aa02', 'cp001', 'volunteer', 5, '测试',
                       'event', NULL, NULL, now(), '00000000-0000-4000-8000-00000000bb03',
                       'event', 1, NULL, 'cm01', 'cm01'),
          'kind:grid_org', 'an account of another kind is refused');
SELECT is((SELECT array_agg(account || ' ' || amount ORDER BY amount)
             FROM points.posting WHERE award_id = '00000000-0000-4000-8000-00000000aa01'),
          ARRAY['budget.cm01 -20', 'cp001 20'], 'the budget pays, the earner receives');
SELECT is((SELECT balance FROM points.balance WHERE account = 'budget.cm01'), -20::bigint,
          'the budget''s balance follows its postings');

SET CONSTRAINTS ALL IMMEDIATE;
SELECT throws_ok($$
    INSERT INTO points.ledger (award_id, account, amount, reason, awarded_at, message_id, rule_id,
                               rule_version, budget)
    VALUES ('00000000-0000-4000-8000-00000000aa03', 'cp001', 7, 'x', now(),
            '00000000-0000-4000-8000-00000000bb04', 'fixed', 1, 'budget.city')
$$, '23514', NULL, 'a ledger row without its postings is refused');
SELECT throws_ok($$
    WITH l AS (INSERT INTO points.ledger (award_id, account, amount, reason, awarded_at,
                                          message_id, rule_id, rule_version, budget)
               VALUES ('00000000-0000-4000-8000-00000000aa04', 'cp001', 7, 'x', now(),
                       '00000000-0000-4000-8000-00000000bb05', 'fixed', 1, 'budget.city')
               RETURNING award_id)
    INSERT INTO points.posting (award_id, account, amount)
    SELECT award_id, a, v FROM l, (VALUES ('cp001', 7), ('budget.city', -6)) AS p (a, v)
$$, '23514', NULL, 'postings that do not sum to zero are refused');
SELECT is((SELECT coalesce(sum(amount), 0) FROM points.posting), 0::bigint,
          'the ledger sums to zero');

SELECT * FROM finish();
ROLLBACK;

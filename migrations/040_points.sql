-- 040_points: the points ledger, balances and the contest standings (schema points).
--
-- hl-bounty awards points once the community approved a completed task; each award
-- arrives on the "points" stage as PointsAwarded and is written here exactly once:
-- the pipeline claim stops a re-delivered message, and the award_id primary key stops
-- the same award sent again under a new message id. Balances (per account and per
-- credited org unit) are kept in the same statement as the ledger insert and change
-- only when that insert really inserted, so a balance is always the sum of its
-- ledger rows.

CREATE TABLE points.ledger (
    award_id    uuid PRIMARY KEY,
    account     text NOT NULL CHECK (char_length(account) BETWEEN 1 AND 64),
    amount      integer NOT NULL CHECK (amount <> 0 AND amount BETWEEN -10000 AND 10000),
    reason      text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 200),
    source_kind text CHECK (char_length(source_kind) BETWEEN 1 AND 32),
    source_id   text CHECK (char_length(source_id) BETWEEN 1 AND 64),
    org_unit    text REFERENCES org.org_unit (code),
    awarded_at  timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    message_id  uuid NOT NULL
);
COMMENT ON TABLE points.ledger IS 'Every points award, recorded once (积分激励): the source of truth for balances, leaderboards and chain standings. Rows are never updated; a correction is a new award with a negative amount.';
COMMENT ON COLUMN points.ledger.award_id IS 'Award id chosen by the awarding service (PointsAwarded.award_id); the same award sent twice is recorded once.';
COMMENT ON COLUMN points.ledger.account IS 'Who earned the points: a claimant code (member unit, grid organisation, volunteer code), never a name or phone number.';
COMMENT ON COLUMN points.ledger.amount IS 'Points awarded, non-zero, at most 10000 either way; negative for a correction.';
COMMENT ON COLUMN points.ledger.reason IS 'Why the points were awarded, in a few words (e.g. the wish title).';
COMMENT ON COLUMN points.ledger.source_kind IS 'What earned them: wish, event, class, contest, correction ...; NULL when not given.';
COMMENT ON COLUMN points.ledger.source_id IS 'Id of the source within its kind (e.g. bounty.wish id); NULL when not given.';
COMMENT ON COLUMN points.ledger.org_unit IS 'Org unit credited with the points (usually the compound, for the chain contest); NULL when none.';
COMMENT ON COLUMN points.ledger.awarded_at IS 'When the award was made (the producer''s time on the message).';
COMMENT ON COLUMN points.ledger.recorded_at IS 'When hl-points wrote the row.';
COMMENT ON COLUMN points.ledger.message_id IS 'Pipeline message (pipeline.message.id) that carried the award first.';
CREATE INDEX ledger_account_idx ON points.ledger (account, awarded_at DESC);
CREATE INDEX ledger_org_unit_idx ON points.ledger (org_unit) WHERE org_unit IS NOT NULL;
CREATE INDEX ledger_awarded_idx ON points.ledger (awarded_at);

CREATE TABLE points.balance (
    account    text PRIMARY KEY CHECK (char_length(account) BETWEEN 1 AND 64),
    balance    bigint NOT NULL,
    awards     integer NOT NULL CHECK (awards > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE points.balance IS 'Running balance per account, kept in the same statement as each ledger insert (so it always equals the sum of the account''s ledger rows).';
COMMENT ON COLUMN points.balance.account IS 'The account (points.ledger.account).';
COMMENT ON COLUMN points.balance.balance IS 'Sum of the account''s awards.';
COMMENT ON COLUMN points.balance.awards IS 'Number of awards summed.';
COMMENT ON COLUMN points.balance.updated_at IS 'Last award recorded.';
CREATE INDEX balance_rank_idx ON points.balance (balance DESC, account);

CREATE TABLE points.org_unit_balance (
    org_unit   text PRIMARY KEY REFERENCES org.org_unit (code),
    balance    bigint NOT NULL,
    awards     integer NOT NULL CHECK (awards > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE points.org_unit_balance IS 'Running balance per credited org unit (the compound leaderboard), kept like points.balance.';
COMMENT ON COLUMN points.org_unit_balance.org_unit IS 'The credited org unit (points.ledger.org_unit).';
COMMENT ON COLUMN points.org_unit_balance.balance IS 'Sum of the awards credited to it.';
COMMENT ON COLUMN points.org_unit_balance.awards IS 'Number of awards summed.';
COMMENT ON COLUMN points.org_unit_balance.updated_at IS 'Last award recorded.';
CREATE INDEX org_unit_balance_rank_idx ON points.org_unit_balance (balance DESC, org_unit);

-- hl-points appends to the ledger and keeps the balances; it never rewrites history.
GRANT SELECT, INSERT ON points.ledger TO hl_points;
GRANT SELECT, INSERT, UPDATE ON points.balance, points.org_unit_balance TO hl_points;

-- ---------------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------------

CREATE VIEW reporting.points_ledger AS
SELECT l.award_id, l.account, l.amount, l.reason, l.source_kind, l.source_id, l.org_unit,
       l.awarded_at, date_trunc('month', l.awarded_at) AS month
  FROM points.ledger l;
COMMENT ON VIEW reporting.points_ledger IS 'Every points award (accounts are org, member-unit or claimant codes, no personal data): for points awarded by month, source and org unit.';
COMMENT ON COLUMN reporting.points_ledger.award_id IS 'Award id.';
COMMENT ON COLUMN reporting.points_ledger.account IS 'Account credited (a code, not a person''s name).';
COMMENT ON COLUMN reporting.points_ledger.amount IS 'Points, negative for a correction.';
COMMENT ON COLUMN reporting.points_ledger.reason IS 'Why they were awarded.';
COMMENT ON COLUMN reporting.points_ledger.source_kind IS 'wish, event, class, contest, correction ...';
COMMENT ON COLUMN reporting.points_ledger.source_id IS 'Id of the source within its kind.';
COMMENT ON COLUMN reporting.points_ledger.org_unit IS 'Org unit credited (usually a compound), or NULL.';
COMMENT ON COLUMN reporting.points_ledger.awarded_at IS 'When the award was made.';
COMMENT ON COLUMN reporting.points_ledger.month IS 'Month of the award, for monthly sums.';
GRANT SELECT ON reporting.points_ledger TO analyst;

-- Points credited at a micro-grid or household count for the compound above it;
-- points credited higher up (community, town) belong to no compound and are left out.
CREATE VIEW reporting.points_by_compound AS
WITH credited AS (
    SELECT CASE u.level WHEN 'compound' THEN u.code
                        WHEN 'micro_grid' THEN u.parent
                        WHEN 'household' THEN p.parent END AS compound,
           l.amount
      FROM points.ledger l
      JOIN org.org_unit u ON u.code = l.org_unit
      LEFT JOIN org.org_unit p ON p.code = u.parent
)
SELECT c.code AS compound, c.name, c.parent AS community, c.chain, c.grade,
       coalesce(sum(cr.amount), 0)::bigint AS points,
       count(cr.amount)::int AS awards
  FROM org.org_unit c
  LEFT JOIN credited cr ON cr.compound = c.code
 WHERE c.level = 'compound'
 GROUP BY c.code, c.name, c.parent, c.chain, c.grade;
COMMENT ON VIEW reporting.points_by_compound IS 'Points per compound (awards credited to the compound or to a micro-grid or household under it), with its community and chain: the compound side of the chain contest. Compounds without awards show 0.';
COMMENT ON COLUMN reporting.points_by_compound.compound IS 'Compound code (org.org_unit, level compound).';
COMMENT ON COLUMN reporting.points_by_compound.name IS 'Compound name.';
COMMENT ON COLUMN reporting.points_by_compound.community IS 'Community the compound belongs to.';
COMMENT ON COLUMN reporting.points_by_compound.chain IS 'Chain the compound is on (improve, consolidate, innovate), or NULL.';
COMMENT ON COLUMN reporting.points_by_compound.grade IS 'Current A/B/C grade of the compound, or NULL.';
COMMENT ON COLUMN reporting.points_by_compound.points IS 'Sum of the points credited.';
COMMENT ON COLUMN reporting.points_by_compound.awards IS 'Number of awards credited.';
GRANT SELECT ON reporting.points_by_compound TO analyst;

CREATE VIEW reporting.chain_standings AS
SELECT ch.code AS chain, ch.name,
       count(pc.compound)::int AS compounds,
       coalesce(sum(pc.points), 0)::bigint AS points,
       coalesce(sum(pc.awards), 0)::int AS awards,
       round(coalesce(sum(pc.points), 0)::numeric / nullif(count(pc.compound), 0), 1) AS points_per_compound,
       rank() OVER (ORDER BY coalesce(sum(pc.points), 0) DESC)::int AS rank
  FROM org.chain ch
  LEFT JOIN reporting.points_by_compound pc ON pc.chain = ch.code
 GROUP BY ch.code, ch.name;
COMMENT ON VIEW reporting.chain_standings IS 'Chain contest (三链比武) standings by points: the points of the compounds on each chain, summed and ranked.';
COMMENT ON COLUMN reporting.chain_standings.chain IS 'Chain code: improve, consolidate, innovate.';
COMMENT ON COLUMN reporting.chain_standings.name IS 'Chinese name of the chain.';
COMMENT ON COLUMN reporting.chain_standings.compounds IS 'Compounds on the chain.';
COMMENT ON COLUMN reporting.chain_standings.points IS 'Points credited to those compounds.';
COMMENT ON COLUMN reporting.chain_standings.awards IS 'Awards credited to those compounds.';
COMMENT ON COLUMN reporting.chain_standings.points_per_compound IS 'Points per compound on the chain (chains have 3-4 compounds, so this is the fair comparison); NULL for a chain without compounds.';
COMMENT ON COLUMN reporting.chain_standings.rank IS 'Rank by points, 1 first; equal points share a rank.';
GRANT SELECT ON reporting.chain_standings TO analyst;

-- 041_points_rules: points rules as versioned data, accounts by type, every
-- award a balanced two-line transaction, and chains per community.
--
-- Rules. A rule is (source_kind, basis) -> amount; its id is
-- "<source_kind>[.<basis>]" and every change is a new version with the time
-- it takes effect. The rule in force at time t is the latest version whose
-- valid_from is at or before t (a version with active false retires the
-- rule from then on). hl-points picks it for the event's time (award.c,
-- points_rule_pick) and every award cites rule id and version. An award
-- sent with a fixed amount (the legacy PointsAwarded) cites rule "fixed".
--
-- Double entry. Each award (points.ledger, one row: the transaction) has two
-- postings (points.posting): the budget account of the earner's community
-- pays, the earner receives. A deferred constraint trigger refuses a
-- transaction whose postings do not sum to zero, so the whole ledger sums to
-- zero and every point can be traced to the budget it came from.
--
-- Chains. org.chain had three city-wide codes; the programme runs three
-- chains in each community (DOMAIN.md). Chains become rows per community
-- (code "<community>.<kind>") with a workstation each; a compound has one
-- home chain (org.org_unit.chain) and chains may also link a compound of a
-- neighbouring grade (org.chain_member), so that every chain links 3 of its
-- community's 6-7 compounds.

-- ---------------------------------------------------------------------------
-- Rules
-- ---------------------------------------------------------------------------

CREATE TABLE points.rule (
    id          text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    source_kind text NOT NULL
                CHECK (source_kind IN ('wish', 'large_item', 'study_pair', 'event', 'council', 'fixed')),
    basis       text CHECK (basis ~ '^[a-z][a-z0-9_]{0,31}$'),
    amount      integer CHECK (amount BETWEEN 1 AND 10000),
    active      boolean NOT NULL DEFAULT true,
    valid_from  timestamptz NOT NULL,
    note        text NOT NULL CHECK (char_length(note) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version),
    CONSTRAINT rule_id_check CHECK (id = source_kind || coalesce('.' || basis, '')),
    CONSTRAINT rule_fixed_amount_check CHECK ((source_kind = 'fixed') = (amount IS NULL) OR NOT active),
    CONSTRAINT rule_valid_from_key UNIQUE (id, valid_from)
);
COMMENT ON TABLE points.rule IS 'Points rules as versioned data: what an event of a kind (and basis, e.g. a wish''s difficulty) earns. A change is a new version with the time it takes effect; the rule in force at a time is the latest version valid from then or before. Rows are never updated.';
COMMENT ON COLUMN points.rule.id IS 'Rule id: source_kind, then "." and the basis when there is one (wish.hard, council, fixed).';
COMMENT ON COLUMN points.rule.version IS 'Version of the rule, 1 first; an award cites id and version.';
COMMENT ON COLUMN points.rule.source_kind IS 'What earns the points: wish, large_item, study_pair, event, council; fixed is the rule for awards that arrive with their own amount.';
COMMENT ON COLUMN points.rule.basis IS 'Selector within the kind (a wish''s difficulty: easy, normal, hard); NULL for the rule of events that give none.';
COMMENT ON COLUMN points.rule.amount IS 'Points paid per award; NULL for fixed (the amount comes with the award) and for a retiring version.';
COMMENT ON COLUMN points.rule.active IS 'false: from valid_from on the rule pays nothing and events of its kind and basis are refused.';
COMMENT ON COLUMN points.rule.valid_from IS 'When this version takes effect (the event''s time decides, not the time it arrives).';
COMMENT ON COLUMN points.rule.note IS 'Why the rule (or this version) exists, in a few words.';
COMMENT ON COLUMN points.rule.created_at IS 'When the version was written.';

INSERT INTO points.rule (id, version, source_kind, basis, amount, valid_from, note) VALUES
    ('wish', 1, 'wish', NULL, 10, '2023-01-01 00:00+08', 'micro-wish completed, difficulty not stated (the old flat 10)'),
    ('wish.easy', 1, 'wish', 'easy', 5, '2023-01-01 00:00+08', 'micro-wish completed: easy'),
    ('wish.normal', 1, 'wish', 'normal', 10, '2023-01-01 00:00+08', 'micro-wish completed: normal'),
    ('wish.hard', 1, 'wish', 'hard', 20, '2023-01-01 00:00+08', 'micro-wish completed: hard'),
    ('large_item', 1, 'large_item', NULL, 50, '2023-01-01 00:00+08', 'large item solved by a member unit, confirmed by the community'),
    ('study_pair', 1, 'study_pair', NULL, 3, '2023-01-01 00:00+08', 'study pair (学习搭子) formed'),
    ('event', 1, 'event', NULL, 2, '2023-01-01 00:00+08', 'community event attended'),
    ('council', 1, 'council', NULL, 8, '2023-01-01 00:00+08', 'three-party council held and recorded'),
    ('fixed', 1, 'fixed', NULL, NULL, '2000-01-01 00:00+00', 'award sent with its own amount (legacy PointsAwarded.amount)');

-- ---------------------------------------------------------------------------
-- Accounts and the double entry
-- ---------------------------------------------------------------------------

CREATE TABLE points.account (
    code       text PRIMARY KEY CHECK (char_length(code) BETWEEN 1 AND 64),
    kind       text NOT NULL CHECK (kind IN ('grid_org', 'party_member', 'volunteer', 'member_unit',
                                             'compound', 'chain', 'budget')),
    community  text REFERENCES org.org_unit (code),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE points.account IS 'Every account of the ledger with its type: earners (grid organisation, party member, volunteer, member unit, compound, chain) and the budget accounts that pay them (one per community, budget.city for awards of no community).';
COMMENT ON COLUMN points.account.code IS 'Account code (points.ledger.account): an org unit, member unit, volunteer or party-member code, or budget.<community>.';
COMMENT ON COLUMN points.account.kind IS 'grid_org, party_member, volunteer, member_unit, compound, chain or budget. Set by the first award; a later award naming another kind is refused.';
COMMENT ON COLUMN points.account.community IS 'Community of the account when known (the first award''s), for per-community leaderboards; NULL for city-wide accounts.';
COMMENT ON COLUMN points.account.created_at IS 'When the first award opened it.';

INSERT INTO points.account (code, kind, community) VALUES ('budget.city', 'budget', NULL);

ALTER TABLE points.ledger
    ADD COLUMN rule_id      text,
    ADD COLUMN rule_version integer,
    ADD COLUMN basis        text CHECK (char_length(basis) BETWEEN 1 AND 32),
    ADD COLUMN reviewer     text CHECK (char_length(reviewer) BETWEEN 1 AND 64),
    ADD COLUMN community    text REFERENCES org.org_unit (code),
    ADD COLUMN budget       text REFERENCES points.account (code);
COMMENT ON COLUMN points.ledger.rule_id IS 'Rule (points.rule.id) the amount was set by; fixed for an award that came with its own amount.';
COMMENT ON COLUMN points.ledger.rule_version IS 'Version of that rule in force at awarded_at.';
COMMENT ON COLUMN points.ledger.basis IS 'The selector the rule was picked by (e.g. the wish''s difficulty), or NULL.';
COMMENT ON COLUMN points.ledger.reviewer IS 'Who approved it (the reviewing actor, the council, the recorder of an activity); NULL for awards made before rules.';
COMMENT ON COLUMN points.ledger.community IS 'Community the award belongs to (per-community leaderboards); NULL for a city-wide award.';
COMMENT ON COLUMN points.ledger.budget IS 'Budget account that paid (the other side of the transaction): budget.<community> or budget.city.';
COMMENT ON COLUMN points.ledger.account IS 'Who earned the points (points.account.code): a grid organisation, member unit, volunteer or party-member code, never a name or phone number.';

CREATE TABLE points.posting (
    award_id uuid NOT NULL REFERENCES points.ledger (award_id),
    account  text NOT NULL REFERENCES points.account (code),
    amount   integer NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (award_id, account)
);
COMMENT ON TABLE points.posting IS 'The double entry: two postings per award, the budget paying (negative) and the earner receiving (positive). Each award''s postings sum to zero (checked at commit), so the ledger does.';
COMMENT ON COLUMN points.posting.award_id IS 'The award (points.ledger.award_id) this line belongs to.';
COMMENT ON COLUMN points.posting.account IS 'Account debited or credited.';
COMMENT ON COLUMN points.posting.amount IS 'Positive for the earner, negative for the budget (reversed for a correction).';
CREATE INDEX posting_account_idx ON points.posting (account);

CREATE FUNCTION points.posting_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
    lines integer;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, lines
      FROM points.posting WHERE award_id = NEW.award_id;
    IF total <> 0 OR lines <> 2 THEN
        RAISE EXCEPTION 'award % is not balanced: % postings summing to %', NEW.award_id, lines, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION points.posting_balanced() IS 'Constraint trigger (deferred to commit): an award has exactly two postings and they sum to zero.';
CREATE CONSTRAINT TRIGGER posting_balanced AFTER INSERT ON points.posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points.posting_balanced();

-- Awards recorded before this migration: the earner's account (its kind
-- inferred from the org tables), rule fixed, paid from budget.city.
UPDATE points.ledger SET rule_id = 'fixed', rule_version = 1, budget = 'budget.city';
INSERT INTO points.account (code, kind, community)
SELECT DISTINCT ON (l.account) l.account,
       CASE WHEN ou.code IS NOT NULL THEN 'grid_org' WHEN mu.code IS NOT NULL THEN 'member_unit'
            ELSE 'volunteer' END,
       NULL
  FROM points.ledger l
  LEFT JOIN org.org_unit ou ON ou.code = l.account
  LEFT JOIN org.member_unit mu ON mu.code = l.account
 ORDER BY l.account
ON CONFLICT (code) DO NOTHING;
INSERT INTO points.posting (award_id, account, amount)
SELECT award_id, account, amount FROM points.ledger
UNION ALL
SELECT award_id, 'budget.city', -amount FROM points.ledger;
INSERT INTO points.balance AS b (account, balance, awards)
SELECT 'budget.city', -sum(amount), count(*) FROM points.ledger HAVING count(*) > 0
ON CONFLICT (account) DO UPDATE SET balance = EXCLUDED.balance, awards = EXCLUDED.awards;

ALTER TABLE points.ledger
    ALTER COLUMN rule_id SET NOT NULL,
    ALTER COLUMN rule_version SET NOT NULL,
    ALTER COLUMN budget SET NOT NULL,
    ADD CONSTRAINT ledger_rule_fkey FOREIGN KEY (rule_id, rule_version) REFERENCES points.rule (id, version),
    ADD CONSTRAINT ledger_account_fkey FOREIGN KEY (account) REFERENCES points.account (code);
CREATE INDEX ledger_community_idx ON points.ledger (community, awarded_at);
-- An award written without its postings (or with unbalanced ones) is refused at commit.
CREATE CONSTRAINT TRIGGER ledger_balanced AFTER INSERT ON points.ledger
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points.posting_balanced();

-- Records one award: the transaction row, its two postings, the accounts
-- and the running balances, all or nothing, in one statement (so balances
-- follow the ledger). Returns 'recorded', 'repeated' (award_id seen
-- before: nothing moves) or, with nothing written, 'kind:<the account's
-- kind>' when the account exists with another kind.
CREATE FUNCTION points.award(p_award uuid, p_account text, p_kind text, p_amount integer,
                             p_reason text, p_source_kind text, p_source_id text, p_org_unit text,
                             p_awarded_at timestamptz, p_message uuid, p_rule text,
                             p_rule_version integer, p_basis text, p_reviewer text,
                             p_community text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    known text;
    budget text := CASE WHEN p_community IS NULL THEN 'budget.city' ELSE 'budget.' || p_community END;
BEGIN
    IF EXISTS (SELECT 1 FROM points.ledger WHERE award_id = p_award) THEN
        RETURN 'repeated';
    END IF;
    SELECT kind INTO known FROM points.account WHERE code = p_account;
    IF known IS NOT NULL AND known <> p_kind THEN
        RETURN 'kind:' || known;
    END IF;
    INSERT INTO points.account (code, kind, community) VALUES (p_account, p_kind, p_community)
        ON CONFLICT (code) DO NOTHING;
    INSERT INTO points.account (code, kind, community) VALUES (budget, 'budget', p_community)
        ON CONFLICT (code) DO NOTHING;
    INSERT INTO points.ledger (award_id, account, amount, reason, source_kind, source_id, org_unit,
                               awarded_at, message_id, rule_id, rule_version, basis, reviewer,
                               community, budget)
    VALUES (p_award, p_account, p_amount, p_reason, p_source_kind, p_source_id, p_org_unit,
            p_awarded_at, p_message, p_rule, p_rule_version, p_basis, p_reviewer, p_community, budget)
    ON CONFLICT (award_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'repeated'; -- a concurrent twin got there first
    END IF;
    INSERT INTO points.posting (award_id, account, amount)
    VALUES (p_award, p_account, p_amount), (p_award, budget, -p_amount);
    INSERT INTO points.balance AS b (account, balance, awards)
    VALUES (p_account, p_amount, 1), (budget, -p_amount, 1)
    ON CONFLICT (account) DO UPDATE
       SET balance = b.balance + EXCLUDED.balance, awards = b.awards + 1, updated_at = now();
    IF p_org_unit IS NOT NULL THEN
        INSERT INTO points.org_unit_balance AS o (org_unit, balance, awards)
        VALUES (p_org_unit, p_amount, 1)
        ON CONFLICT (org_unit) DO UPDATE
           SET balance = o.balance + EXCLUDED.balance, awards = o.awards + 1, updated_at = now();
    END IF;
    RETURN 'recorded';
END
$$;
COMMENT ON FUNCTION points.award(uuid, text, text, integer, text, text, text, text, timestamptz, uuid, text, integer, text, text, text) IS 'Records one award as a balanced transaction (ledger row, two postings, accounts, balances) in one statement; returns recorded, repeated (award_id seen: nothing moves) or kind:<k> (the account exists with kind k: nothing written).';

GRANT SELECT, INSERT ON points.account, points.posting TO hl_points;
GRANT SELECT ON points.rule TO hl_points;
GRANT EXECUTE ON FUNCTION points.award(uuid, text, text, integer, text, text, text, text, timestamptz, uuid, text, integer, text, text, text) TO hl_points;

-- ---------------------------------------------------------------------------
-- Credentials for the recording endpoints (study pairs, events, manual
-- contest scores, grade computation)
-- ---------------------------------------------------------------------------

CREATE TABLE points.api_key (
    name       text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    key_hash   text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    role       text NOT NULL CHECK (role IN ('recorder', 'jury')),
    community  text REFERENCES org.org_unit (code),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
COMMENT ON TABLE points.api_key IS 'Keys of the people who record activities and contest scores at hl-points (hlctl points-key create); only a SHA-256 is stored. The name is recorded as the reviewer or recorder of what the key did.';
COMMENT ON COLUMN points.api_key.name IS 'Who holds the key (an actor code: letters, digits, ".", "_", "-").';
COMMENT ON COLUMN points.api_key.key_hash IS 'SHA-256 of the key, lower-case hex.';
COMMENT ON COLUMN points.api_key.role IS 'recorder (records study pairs and events attended) or jury (records manual contest scores, computes a quarter''s contest and grades).';
COMMENT ON COLUMN points.api_key.community IS 'Community the actor may act for; NULL for the whole city.';
COMMENT ON COLUMN points.api_key.created_at IS 'When the key was created.';
COMMENT ON COLUMN points.api_key.revoked_at IS 'When it was revoked; NULL while active.';
GRANT SELECT ON points.api_key TO hl_points;

-- ---------------------------------------------------------------------------
-- Chains per community
-- ---------------------------------------------------------------------------

ALTER TABLE org.chain DROP CONSTRAINT chain_code_check;
ALTER TABLE org.chain
    ADD COLUMN kind        text CHECK (kind IN ('improve', 'consolidate', 'innovate')),
    ADD COLUMN community   text REFERENCES org.org_unit (code),
    ADD COLUMN workstation text CHECK (char_length(workstation) BETWEEN 1 AND 200),
    ADD COLUMN lead        text REFERENCES org.org_unit (code);
-- Rows of the three old city-wide codes exist only while org.seed_demo_tree
-- runs (it still names them) and are gone when it returns.
ALTER TABLE org.chain ADD CONSTRAINT chain_shape_check CHECK (
    CASE WHEN community IS NULL THEN code IN ('improve', 'consolidate', 'innovate')
         ELSE code = community || '.' || kind AND workstation IS NOT NULL END);
COMMENT ON TABLE org.chain IS 'Party-building chains (党建链): three in each community (improve, consolidate, innovate), each linking 3 of its compounds and run from a workstation (链上工作站); compounds compete on them in the chain contest (三链比武).';
COMMENT ON COLUMN org.chain.code IS 'Chain code: <community>.<kind>, e.g. cm01.improve.';
COMMENT ON COLUMN org.chain.kind IS 'improve (提升链, compounds that need lifting), consolidate (巩固链, holding their level), innovate (创新链, trying new ways).';
COMMENT ON COLUMN org.chain.community IS 'Community the chain runs in.';
COMMENT ON COLUMN org.chain.workstation IS 'Its workstation (链上工作站): the room it works from, in Chinese.';
COMMENT ON COLUMN org.chain.lead IS 'Compound whose property or community room hosts the workstation.';
COMMENT ON COLUMN org.chain.name IS 'Chinese name, e.g. 滨湖社区提升链.';
COMMENT ON COLUMN org.org_unit.chain IS 'Home chain of a compound (org.chain.code, compounds only); a compound may also link another chain of its community (org.chain_member).';

CREATE TABLE org.chain_member (
    chain    text NOT NULL REFERENCES org.chain (code) ON DELETE CASCADE,
    compound text NOT NULL REFERENCES org.org_unit (code),
    home     boolean NOT NULL,
    PRIMARY KEY (chain, compound)
);
COMMENT ON TABLE org.chain_member IS 'Compounds a chain links: its home compounds and a compound of a neighbouring grade that links two chains (so every chain has 3 of a community''s 6-7 compounds).';
COMMENT ON COLUMN org.chain_member.chain IS 'The chain.';
COMMENT ON COLUMN org.chain_member.compound IS 'A compound of the chain''s community.';
COMMENT ON COLUMN org.chain_member.home IS 'true when this is the compound''s home chain (org.org_unit.chain).';
CREATE INDEX chain_member_compound_idx ON org.chain_member (compound);
GRANT SELECT ON org.chain_member TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance;

-- Forms the three chains of every community from its compounds' grades:
-- compounds ordered best grade first (then by code) fill three windows of
-- 3 (positions 1-3, then from 1 + round(j * (n - 3) / 2)), innovate, then
-- consolidate, then improve; a compound's home chain is the first window
-- that holds it. Existing chains and memberships are replaced. Returns the
-- number of chains.
CREATE FUNCTION org.form_chains() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    kinds constant text[] := ARRAY['innovate', 'consolidate', 'improve'];
    names constant text[] := ARRAY['创新链', '巩固链', '提升链'];
    made integer;
BEGIN
    UPDATE org.org_unit SET chain = NULL WHERE chain IS NOT NULL;
    DELETE FROM org.chain_member;
    DELETE FROM org.chain;
    CREATE TEMP TABLE chain_slot ON COMMIT DROP AS
    WITH ranked AS (
        SELECT c.code, c.parent AS community,
               row_number() OVER (PARTITION BY c.parent ORDER BY coalesce(c.grade, 'B'), c.code) AS pos,
               count(*) OVER (PARTITION BY c.parent) AS n
          FROM org.org_unit c
         WHERE c.level = 'compound'
    )
    SELECT r.community, j, r.code, r.pos
      FROM ranked r, generate_series(0, 2) AS j
     WHERE r.n >= 3
       AND r.pos BETWEEN 1 + round(j * (r.n - 3) / 2.0) AND 3 + round(j * (r.n - 3) / 2.0);
    INSERT INTO org.chain (code, name, kind, community, workstation, lead)
    SELECT s.community || '.' || kinds[s.j + 1], u.name || names[s.j + 1], kinds[s.j + 1],
           s.community, l.name || '·' || names[s.j + 1] || '工作站', s.code
      FROM (SELECT DISTINCT ON (community, j) community, j, code
              FROM chain_slot ORDER BY community, j, pos) AS s
      JOIN org.org_unit u ON u.code = s.community
      JOIN org.org_unit l ON l.code = s.code;
    INSERT INTO org.chain_member (chain, compound, home)
    SELECT s.community || '.' || kinds[s.j + 1], s.code,
           s.j = min(s.j) OVER (PARTITION BY s.code)
      FROM chain_slot s;
    UPDATE org.org_unit u SET chain = m.chain
      FROM org.chain_member m WHERE m.compound = u.code AND m.home;
    SELECT count(*) INTO made FROM org.chain;
    DROP TABLE chain_slot;
    RETURN made;
END
$$;
COMMENT ON FUNCTION org.form_chains() IS 'Forms three chains (innovate, consolidate, improve) in every community with at least 3 compounds, from the compounds'' grades, each with its workstation; replaces the chains there were. Returns how many.';
REVOKE ALL ON FUNCTION org.form_chains() FROM PUBLIC;

-- The demo city keeps its tree; its chains are formed per community after it.
ALTER FUNCTION org.seed_demo() RENAME TO seed_demo_tree;
COMMENT ON FUNCTION org.seed_demo_tree() IS 'The demo tree of migration 002 (org units, mailboxes, QR codes, member units, venues); called by org.seed_demo(), which then forms the chains per community.';
CREATE FUNCTION org.seed_demo() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM org.org_unit WHERE level = 'city') THEN
        RETURN;
    END IF;
    -- seed_demo_tree still puts ten compounds on the three old codes.
    INSERT INTO org.chain (code, name) VALUES
        ('improve', '提升链'), ('consolidate', '巩固链'), ('innovate', '创新链');
    PERFORM org.seed_demo_tree();
    PERFORM org.form_chains();
END
$$;
COMMENT ON FUNCTION org.seed_demo() IS 'Fills the demo city (org.seed_demo_tree) and forms three chains in each of its 14 communities (org.form_chains): 42 chains, 42 workstations. Does nothing if a city is present.';
REVOKE ALL ON FUNCTION org.seed_demo() FROM PUBLIC;
REVOKE ALL ON FUNCTION org.seed_demo_tree() FROM PUBLIC;

-- A database seeded before this migration: chains per community from now.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM org.org_unit WHERE level = 'compound') THEN
        PERFORM org.form_chains();
    ELSE
        UPDATE org.org_unit SET chain = NULL WHERE chain IS NOT NULL;
        DELETE FROM org.chain;
    END IF;
END $$;

ALTER TABLE org.org_unit DROP CONSTRAINT org_unit_chain_fkey;
ALTER TABLE org.org_unit ADD CONSTRAINT org_unit_chain_fkey
    FOREIGN KEY (chain) REFERENCES org.chain (code) ON DELETE SET NULL;

-- The chain standings now rank chains within their community too.
CREATE OR REPLACE VIEW reporting.chain_standings AS
WITH member_points AS (
    SELECT m.chain, pc.points, pc.awards
      FROM org.chain_member m
      JOIN reporting.points_by_compound pc ON pc.compound = m.compound
)
SELECT ch.code AS chain, ch.name,
       count(mp.chain)::int AS compounds,
       coalesce(sum(mp.points), 0)::bigint AS points,
       coalesce(sum(mp.awards), 0)::int AS awards,
       round(coalesce(sum(mp.points), 0)::numeric / nullif(count(mp.chain), 0), 1) AS points_per_compound,
       rank() OVER (ORDER BY coalesce(sum(mp.points), 0)::numeric / greatest(count(mp.chain), 1) DESC)::int AS rank,
       ch.community, ch.kind,
       rank() OVER (PARTITION BY ch.community
                    ORDER BY coalesce(sum(mp.points), 0)::numeric / greatest(count(mp.chain), 1) DESC)::int
           AS rank_in_community
  FROM org.chain ch
  LEFT JOIN member_points mp ON mp.chain = ch.code
 WHERE ch.community IS NOT NULL
 GROUP BY ch.code, ch.name, ch.community, ch.kind;
COMMENT ON VIEW reporting.chain_standings IS 'Chain contest (三链比武) standings by points: the points of the compounds each chain links, summed and ranked city-wide and within the community. The quarterly contest on the four criteria is reporting.chain_contest.';
COMMENT ON COLUMN reporting.chain_standings.chain IS 'Chain code: <community>.<kind>.';
COMMENT ON COLUMN reporting.chain_standings.compounds IS 'Compounds the chain links (a linking compound counts on both its chains).';
COMMENT ON COLUMN reporting.chain_standings.points IS 'Points credited to those compounds.';
COMMENT ON COLUMN reporting.chain_standings.rank IS 'Rank city-wide by points per compound, 1 first; equal values share a rank.';
COMMENT ON COLUMN reporting.chain_standings.community IS 'Community the chain runs in.';
COMMENT ON COLUMN reporting.chain_standings.kind IS 'improve, consolidate or innovate.';
COMMENT ON COLUMN reporting.chain_standings.rank_in_community IS 'Rank among the three chains of its community by points per compound.';
COMMENT ON COLUMN reporting.points_by_compound.chain IS 'Home chain of the compound (<community>.<kind>), or NULL.';

-- 042_points_contest: the quarterly chain contest (三链比武) on the four
-- criteria and the A/B/C compound grades computed from it.
--
-- hl-points computes a quarter (POST /v1/contests/{quarter}/compute):
-- for every compound it reads the system's own aggregates through
-- points.compound_inputs (a SECURITY DEFINER function: hl_points may not
-- read triage's or bounty's tables, and gets only counts and averages
-- from them), the manual scores recorded for the quarter, the weights and
-- the grade thresholds in force at the quarter's start; scores the four
-- criteria (services/points/grade.c), and stores per compound every input,
-- every criterion's score and where it came from, the total and the grade.
-- Chains score the mean total of the compounds they link. The grades of
-- the latest quarter computed become org.org_unit.grade through
-- points.publish_grades, another narrow SECURITY DEFINER function.

CREATE TABLE points.criterion (
    code text PRIMARY KEY CHECK (code IN ('party_building', 'sanitation', 'petitions_stability', 'satisfaction')),
    name text NOT NULL,
    sort integer NOT NULL UNIQUE,
    how  text NOT NULL
);
COMMENT ON TABLE points.criterion IS 'The four criteria of the chain contest (三链比武) as the report names them; a compound scores 0-100 on each.';
COMMENT ON COLUMN points.criterion.code IS 'party_building, sanitation, petitions_stability or satisfaction.';
COMMENT ON COLUMN points.criterion.name IS 'Chinese name.';
COMMENT ON COLUMN points.criterion.sort IS 'Order of the criteria in tables, 1 first.';
COMMENT ON COLUMN points.criterion.how IS 'How the score is found when no manual score is recorded (services/points/README.md gives the formulas).';
INSERT INTO points.criterion (code, name, sort, how) VALUES
    ('party_building', '党建特色', 1, 'system: 50 + 10 per council held + 5 per wish completed, at most 100'),
    ('sanitation', '环境卫生', 2, 'manual only: the system records no sanitation inspections'),
    ('petitions_stability', '信访稳定', 3, 'system: 50 x resolution rate + 30 x speed (full within 7 days, none after 30) + 20 x (1 - reopen rate), from the quarter''s items; none without items'),
    ('satisfaction', '居民满意度', 4, 'system: 100 x confirmations / (confirmations + reopenings) of the quarter''s feedback; none without feedback');

CREATE TABLE points.criterion_weight (
    criterion  text NOT NULL REFERENCES points.criterion (code),
    weight     numeric(5, 2) NOT NULL CHECK (weight >= 0 AND weight <= 100),
    valid_from date NOT NULL,
    PRIMARY KEY (criterion, valid_from)
);
COMMENT ON TABLE points.criterion_weight IS 'Weights of the criteria, as data: a quarter uses for each criterion the weight valid from its first day or earlier (the latest such row).';
COMMENT ON COLUMN points.criterion_weight.criterion IS 'The criterion.';
COMMENT ON COLUMN points.criterion_weight.weight IS 'Its weight; the total is the weighted mean over the criteria that have a score.';
COMMENT ON COLUMN points.criterion_weight.valid_from IS 'First day (Beijing time) of the first quarter that uses it.';
INSERT INTO points.criterion_weight (criterion, weight, valid_from) VALUES
    ('party_building', 30, '2023-01-01'), ('sanitation', 20, '2023-01-01'),
    ('petitions_stability', 25, '2023-01-01'), ('satisfaction', 25, '2023-01-01');

CREATE TABLE points.grade_threshold (
    grade      text NOT NULL CHECK (grade IN ('A', 'B')),
    min_total  numeric(5, 1) NOT NULL CHECK (min_total BETWEEN 0 AND 100),
    valid_from date NOT NULL,
    PRIMARY KEY (grade, valid_from)
);
COMMENT ON TABLE points.grade_threshold IS 'Grade thresholds as data: a total at or above A''s minimum is A, else at or above B''s is B, else C. A quarter uses the rows valid from its first day or earlier.';
COMMENT ON COLUMN points.grade_threshold.grade IS 'A or B (C is what is left).';
COMMENT ON COLUMN points.grade_threshold.min_total IS 'Least total (0-100) for the grade.';
COMMENT ON COLUMN points.grade_threshold.valid_from IS 'First day of the first quarter that uses it.';
INSERT INTO points.grade_threshold (grade, min_total, valid_from) VALUES
    ('A', 85, '2023-01-01'), ('B', 70, '2023-01-01');

CREATE TABLE points.manual_score (
    id          bigserial PRIMARY KEY,
    quarter     date NOT NULL CHECK (quarter = date_trunc('quarter', quarter)::date),
    compound    text NOT NULL REFERENCES org.org_unit (code),
    criterion   text NOT NULL REFERENCES points.criterion (code),
    score       numeric(4, 1) NOT NULL CHECK (score BETWEEN 0 AND 100),
    note        text CHECK (char_length(note) BETWEEN 1 AND 500),
    recorded_by text NOT NULL CHECK (char_length(recorded_by) BETWEEN 1 AND 64),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE points.manual_score IS 'Scores the contest jury recorded by hand (POST /v1/contests/{quarter}/scores), where the system has no data (sanitation) or the jury overrides it. Every recording is kept; the latest per quarter, compound and criterion counts.';
COMMENT ON COLUMN points.manual_score.id IS 'Row id (later rows win).';
COMMENT ON COLUMN points.manual_score.quarter IS 'First day of the quarter scored.';
COMMENT ON COLUMN points.manual_score.compound IS 'The compound scored.';
COMMENT ON COLUMN points.manual_score.criterion IS 'The criterion.';
COMMENT ON COLUMN points.manual_score.score IS 'Score 0-100.';
COMMENT ON COLUMN points.manual_score.note IS 'What the score rests on (an inspection, a survey), if given.';
COMMENT ON COLUMN points.manual_score.recorded_by IS 'The jury member''s key name (points.api_key.name).';
COMMENT ON COLUMN points.manual_score.recorded_at IS 'When it was recorded.';
CREATE INDEX manual_score_quarter_idx ON points.manual_score (quarter, compound, criterion, id DESC);

CREATE TABLE points.grade (
    quarter     date NOT NULL,
    compound    text NOT NULL REFERENCES org.org_unit (code),
    community   text NOT NULL REFERENCES org.org_unit (code),
    chain       text,
    total       numeric(4, 1),
    grade       text CHECK (grade IN ('A', 'B', 'C')),
    scores      jsonb NOT NULL,
    inputs      jsonb NOT NULL,
    weights     jsonb NOT NULL,
    thresholds  jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    computed_by text NOT NULL,
    PRIMARY KEY (quarter, compound)
);
COMMENT ON TABLE points.grade IS 'A/B/C grade of every compound for a quarter, with everything it was computed from: the system''s aggregates, each criterion''s score and source, the weights and thresholds. Computing a quarter again replaces its rows.';
COMMENT ON COLUMN points.grade.quarter IS 'First day (Beijing time) of the quarter.';
COMMENT ON COLUMN points.grade.compound IS 'The compound.';
COMMENT ON COLUMN points.grade.community IS 'Its community.';
COMMENT ON COLUMN points.grade.chain IS 'Its home chain then (org.chain.code), or NULL.';
COMMENT ON COLUMN points.grade.total IS 'Weighted mean of the criteria that have a score, 0-100, one decimal.';
COMMENT ON COLUMN points.grade.grade IS 'A, B or C by the thresholds; NULL only when no criterion has a score.';
COMMENT ON COLUMN points.grade.scores IS 'Per criterion: score (or null), source (manual, system or none), weight, and the manual score''s recorder and note.';
COMMENT ON COLUMN points.grade.inputs IS 'The system''s aggregates for the compound and quarter (points.compound_inputs): items, resolution, hours to resolve, reopenings, confirmations, wishes done, councils held.';
COMMENT ON COLUMN points.grade.weights IS 'The criterion weights used.';
COMMENT ON COLUMN points.grade.thresholds IS 'The grade thresholds used.';
COMMENT ON COLUMN points.grade.computed_at IS 'When it was computed.';
COMMENT ON COLUMN points.grade.computed_by IS 'Who asked (the jury key''s name).';
CREATE INDEX grade_community_idx ON points.grade (quarter, community);

CREATE TABLE points.chain_score (
    quarter           date NOT NULL,
    chain             text NOT NULL,
    community         text NOT NULL REFERENCES org.org_unit (code),
    kind              text NOT NULL,
    compounds         integer NOT NULL,
    score             numeric(4, 1),
    rank_in_community integer,
    rank              integer,
    PRIMARY KEY (quarter, chain)
);
COMMENT ON TABLE points.chain_score IS 'The contest table of a quarter: each chain''s score (the mean total of the compounds it links) and its rank in its community and in the city.';
COMMENT ON COLUMN points.chain_score.quarter IS 'First day of the quarter.';
COMMENT ON COLUMN points.chain_score.chain IS 'The chain (org.chain.code at the time).';
COMMENT ON COLUMN points.chain_score.community IS 'Its community.';
COMMENT ON COLUMN points.chain_score.kind IS 'improve, consolidate or innovate.';
COMMENT ON COLUMN points.chain_score.compounds IS 'Compounds it links that have a total.';
COMMENT ON COLUMN points.chain_score.score IS 'Mean total of those compounds; NULL when none.';
COMMENT ON COLUMN points.chain_score.rank_in_community IS 'Rank among its community''s chains, 1 first.';
COMMENT ON COLUMN points.chain_score.rank IS 'Rank among all chains of the city, 1 first.';

-- The system's own aggregates per compound for [p_from, p_to): items opened
-- (wishes aside; merged items left out), resolved, hours to resolve,
-- reopenings of those items; residents' confirmations and reopenings
-- given in the period; wishes approved and councils recorded in it. Only
-- numbers leave: no title, text or person.
CREATE FUNCTION points.compound_inputs(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (compound text, items integer, items_resolved integer, resolve_hours numeric,
               item_reopens integer, confirms integer, feedback_reopens integer,
               wishes_done integer, councils_held integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH c AS (SELECT code FROM org.org_unit WHERE level = 'compound'),
    it AS (
        SELECT i.compound, count(*)::int AS items,
               count(*) FILTER (WHERE i.status = 'resolved')::int AS resolved,
               round((avg(extract(epoch FROM i.resolved_at - i.created_at))
                      FILTER (WHERE i.status = 'resolved') / 3600)::numeric, 1) AS hours,
               sum(i.reopen_count)::int AS reopens
          FROM triage.item i
         WHERE i.size <> 'wish' AND i.status <> 'merged'
           AND i.created_at >= p_from AND i.created_at < p_to
         GROUP BY i.compound),
    fb AS (
        SELECT i.compound, count(*) FILTER (WHERE f.kind = 'confirm')::int AS confirms,
               count(*) FILTER (WHERE f.kind = 'reopen')::int AS reopens
          FROM triage.feedback f JOIN triage.item i ON i.id = f.item_id
         WHERE f.at >= p_from AND f.at < p_to
         GROUP BY i.compound),
    w AS (
        SELECT CASE u.level WHEN 'compound' THEN u.code WHEN 'micro_grid' THEN u.parent
                            WHEN 'household' THEN p.parent END AS compound,
               count(*)::int AS done
          FROM bounty.wish w
          JOIN org.org_unit u ON u.code = w.org_unit
          LEFT JOIN org.org_unit p ON p.code = u.parent
         WHERE w.status = 'approved' AND w.reviewed_at >= p_from AND w.reviewed_at < p_to
         GROUP BY 1),
    k AS (
        SELECT i.compound, count(*)::int AS held
          FROM triage.council k JOIN triage.item i ON i.id = k.item_id
         WHERE k.recorded_at >= p_from AND k.recorded_at < p_to
         GROUP BY i.compound)
    SELECT c.code, coalesce(it.items, 0), coalesce(it.resolved, 0), it.hours,
           coalesce(it.reopens, 0), coalesce(fb.confirms, 0), coalesce(fb.reopens, 0),
           coalesce(w.done, 0), coalesce(k.held, 0)
      FROM c
      LEFT JOIN it ON it.compound = c.code
      LEFT JOIN fb ON fb.compound = c.code
      LEFT JOIN w ON w.compound = c.code
      LEFT JOIN k ON k.compound = c.code
     ORDER BY c.code
$$;
COMMENT ON FUNCTION points.compound_inputs(timestamptz, timestamptz) IS 'SECURITY DEFINER: the contest''s system inputs per compound for a period, as counts and averages only (hl_points reads no triage or bounty table itself).';
REVOKE ALL ON FUNCTION points.compound_inputs(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION points.compound_inputs(timestamptz, timestamptz) TO hl_points;

-- Copies the grades of quarter p_quarter to org.org_unit.grade when it is
-- the latest quarter computed (an older quarter computed again changes
-- nothing there). Returns the compounds updated.
CREATE FUNCTION points.publish_grades(p_quarter date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    IF p_quarter < (SELECT max(quarter) FROM points.grade) THEN
        RETURN 0;
    END IF;
    UPDATE org.org_unit u SET grade = g.grade
      FROM points.grade g
     WHERE g.quarter = p_quarter AND g.compound = u.code AND g.grade IS NOT NULL
       AND u.grade IS DISTINCT FROM g.grade;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION points.publish_grades(date) IS 'SECURITY DEFINER: the grades of the latest computed quarter become org.org_unit.grade (the only write hl_points makes outside its schema).';
REVOKE ALL ON FUNCTION points.publish_grades(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION points.publish_grades(date) TO hl_points;

GRANT SELECT ON points.criterion, points.criterion_weight, points.grade_threshold TO hl_points;
GRANT SELECT, INSERT ON points.manual_score TO hl_points;
GRANT USAGE ON SEQUENCE points.manual_score_id_seq TO hl_points;
GRANT SELECT, INSERT, UPDATE, DELETE ON points.grade, points.chain_score TO hl_points;

-- ---------------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------------

CREATE VIEW reporting.points_rule AS
SELECT id, version, source_kind, basis, amount, active, valid_from, note FROM points.rule;
COMMENT ON VIEW reporting.points_rule IS 'Points rules and their versions (what each kind of event earns, since when).';
COMMENT ON COLUMN reporting.points_rule.id IS 'Rule id (kind[.basis]).';
COMMENT ON COLUMN reporting.points_rule.version IS 'Version.';
COMMENT ON COLUMN reporting.points_rule.source_kind IS 'wish, large_item, study_pair, event, council or fixed.';
COMMENT ON COLUMN reporting.points_rule.basis IS 'Selector within the kind (wish difficulty), or NULL.';
COMMENT ON COLUMN reporting.points_rule.amount IS 'Points per award (NULL for fixed).';
COMMENT ON COLUMN reporting.points_rule.active IS 'false: the rule is retired from valid_from on.';
COMMENT ON COLUMN reporting.points_rule.valid_from IS 'When the version takes effect.';
COMMENT ON COLUMN reporting.points_rule.note IS 'Why it exists.';

CREATE VIEW reporting.points_by_rule AS
SELECT l.rule_id, l.rule_version, l.source_kind,
       date_trunc('month', l.awarded_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       l.community, count(*)::int AS awards, sum(l.amount)::bigint AS points
  FROM points.ledger l
 GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW reporting.points_by_rule IS 'Points paid by rule, month (Asia/Shanghai) and community.';
COMMENT ON COLUMN reporting.points_by_rule.rule_id IS 'Rule id.';
COMMENT ON COLUMN reporting.points_by_rule.rule_version IS 'Version.';
COMMENT ON COLUMN reporting.points_by_rule.source_kind IS 'What earned them.';
COMMENT ON COLUMN reporting.points_by_rule.month IS 'First day of the month (Asia/Shanghai) of the awards.';
COMMENT ON COLUMN reporting.points_by_rule.community IS 'Community, NULL for city-wide awards.';
COMMENT ON COLUMN reporting.points_by_rule.awards IS 'Awards.';
COMMENT ON COLUMN reporting.points_by_rule.points IS 'Points paid.';

CREATE VIEW reporting.compound_grade AS
SELECT g.quarter, g.compound, g.community, g.chain, g.total, g.grade,
       (g.scores #>> '{party_building,score}')::numeric AS party_building,
       (g.scores #>> '{sanitation,score}')::numeric AS sanitation,
       (g.scores #>> '{petitions_stability,score}')::numeric AS petitions_stability,
       (g.scores #>> '{satisfaction,score}')::numeric AS satisfaction,
       g.computed_at
  FROM points.grade g;
COMMENT ON VIEW reporting.compound_grade IS 'A/B/C grades of compounds by quarter with the four criterion scores (inputs: GET /v1/grades/{quarter}/{compound} at hl-points).';
COMMENT ON COLUMN reporting.compound_grade.quarter IS 'First day (Asia/Shanghai) of the quarter.';
COMMENT ON COLUMN reporting.compound_grade.compound IS 'Compound code.';
COMMENT ON COLUMN reporting.compound_grade.community IS 'Its community.';
COMMENT ON COLUMN reporting.compound_grade.chain IS 'Its home chain.';
COMMENT ON COLUMN reporting.compound_grade.total IS 'Weighted total 0-100.';
COMMENT ON COLUMN reporting.compound_grade.grade IS 'A, B or C.';
COMMENT ON COLUMN reporting.compound_grade.party_building IS 'Score on party-building (党建特色), or NULL.';
COMMENT ON COLUMN reporting.compound_grade.sanitation IS 'Score on sanitation (环境卫生), or NULL.';
COMMENT ON COLUMN reporting.compound_grade.petitions_stability IS 'Score on petitions and stability (信访稳定), or NULL.';
COMMENT ON COLUMN reporting.compound_grade.satisfaction IS 'Score on residents'' satisfaction (居民满意度), or NULL.';
COMMENT ON COLUMN reporting.compound_grade.computed_at IS 'When it was computed.';

CREATE VIEW reporting.chain_contest AS
SELECT quarter, chain, community, kind, compounds, score, rank_in_community, rank
  FROM points.chain_score;
COMMENT ON VIEW reporting.chain_contest IS 'The quarterly chain contest table: each chain''s score and ranks.';
COMMENT ON COLUMN reporting.chain_contest.quarter IS 'First day (Asia/Shanghai) of the quarter.';
COMMENT ON COLUMN reporting.chain_contest.chain IS 'Chain code.';
COMMENT ON COLUMN reporting.chain_contest.community IS 'Its community.';
COMMENT ON COLUMN reporting.chain_contest.kind IS 'improve, consolidate or innovate.';
COMMENT ON COLUMN reporting.chain_contest.compounds IS 'Compounds scored.';
COMMENT ON COLUMN reporting.chain_contest.score IS 'Mean total of its compounds.';
COMMENT ON COLUMN reporting.chain_contest.rank_in_community IS 'Rank in its community.';
COMMENT ON COLUMN reporting.chain_contest.rank IS 'Rank in the city.';

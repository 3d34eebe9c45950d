-- 030_bounty: the claim board (揭榜认领) of hl-bounty.
--
-- hl-triage posts each micro-wish (WishPosted, stage "bounty"); it lands on
-- the board of the month it arrived in. An eligible grid organisation or
-- member unit claims it exclusively, completes it with evidence, and the
-- wish's community reviews it: approval awards points (PointsAwarded, stage
-- "points") and tells triage the item is done (TaskApproved, stage
-- "resolution") in the same transaction; rejection sends it back to the
-- claimant. Months were the database session's TimeZone when this was
-- written; hl-bounty takes them in Asia/Shanghai since 060_reporting_privacy.

CREATE TABLE bounty.board (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind IN ('wish', 'large')),
    period_start date NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT board_kind_period_key UNIQUE (kind, period_start),
    CONSTRAINT board_period_check CHECK (
        extract(day FROM period_start) = 1
        AND (kind = 'wish' OR extract(month FROM period_start)::int % 3 = 1))
);
COMMENT ON TABLE bounty.board IS 'One published list per period and kind: the monthly micro-wish board (微心愿) and the quarterly large-item board (大事项榜单).';
COMMENT ON COLUMN bounty.board.id IS 'Board id.';
COMMENT ON COLUMN bounty.board.kind IS 'wish (monthly micro-wish board) or large (quarterly large-item board).';
COMMENT ON COLUMN bounty.board.period_start IS 'First day of the month (wish) or quarter (large) the board covers.';
COMMENT ON COLUMN bounty.board.published_at IS 'When the board was opened, i.e. when its first entry was posted.';

CREATE TABLE bounty.wish (
    id            uuid PRIMARY KEY,
    board_id      uuid NOT NULL REFERENCES bounty.board (id),
    item_id       uuid NOT NULL,
    appeal_id     uuid,
    org_unit      text NOT NULL REFERENCES org.org_unit (code),
    category      text REFERENCES org.category (code),
    title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    body          text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
    points        integer NOT NULL CHECK (points BETWEEN 1 AND 1000),
    status        text NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'claimed', 'completed', 'approved')),
    claimant      text CHECK (char_length(claimant) <= 32),
    claimant_kind text CHECK (claimant_kind IN ('org_unit', 'member_unit')),
    claimed_at    timestamptz,
    evidence      text CHECK (char_length(evidence) BETWEEN 1 AND 2000),
    completed_at  timestamptz,
    reviewer      text REFERENCES org.org_unit (code),
    reviewed_at   timestamptz,
    review_note   text CHECK (char_length(review_note) <= 1000),
    award_id      uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wish_item_id_key UNIQUE (item_id),
    CONSTRAINT wish_award_id_key UNIQUE (award_id),
    CONSTRAINT wish_claim_state_check CHECK (
        (status = 'open') = (claimant IS NULL)
        AND (claimant IS NULL) = (claimant_kind IS NULL)
        AND (claimant IS NULL) = (claimed_at IS NULL)),
    CONSTRAINT wish_completion_state_check CHECK (
        status NOT IN ('completed', 'approved') OR (evidence IS NOT NULL AND completed_at IS NOT NULL)),
    CONSTRAINT wish_approval_state_check CHECK (
        (status = 'approved') = (award_id IS NOT NULL)
        AND (status <> 'approved' OR (reviewer IS NOT NULL AND reviewed_at IS NOT NULL)))
);
COMMENT ON TABLE bounty.wish IS 'A micro-wish (微心愿) on a monthly board: posted open, claimed exclusively, completed with evidence, approved by its community (a rejection returns it to claimed). Title, body, evidence and notes are free text and may hold personal data.';
COMMENT ON COLUMN bounty.wish.id IS 'Wish id (source_id of its PointsAwarded, wish_id of its TaskApproved).';
COMMENT ON COLUMN bounty.wish.board_id IS 'Board of the month the wish was posted in.';
COMMENT ON COLUMN bounty.wish.item_id IS 'Consolidated triage item the wish came from; unique, so a redelivered WishPosted cannot post it twice.';
COMMENT ON COLUMN bounty.wish.appeal_id IS 'First appeal of the item, when triage gave it.';
COMMENT ON COLUMN bounty.wish.org_unit IS 'Compound (grid) the wish belongs to; a wish anchored below a compound is lifted to it.';
COMMENT ON COLUMN bounty.wish.category IS 'Category of the item, if any.';
COMMENT ON COLUMN bounty.wish.title IS 'Short title shown on the board.';
COMMENT ON COLUMN bounty.wish.body IS 'What the resident wishes for, as triage passed it on.';
COMMENT ON COLUMN bounty.wish.points IS 'Points the claimant earns once the community approves the completed wish (WishPosted.points, else HL_WISH_POINTS).';
COMMENT ON COLUMN bounty.wish.status IS 'open (on the board), claimed, completed (awaiting review), approved (points awarded; final).';
COMMENT ON COLUMN bounty.wish.claimant IS 'Code of the claimant: an org unit (compound or micro-grid of the same community) or a member unit; NULL while open.';
COMMENT ON COLUMN bounty.wish.claimant_kind IS 'org_unit or member_unit: where the claimant code is defined.';
COMMENT ON COLUMN bounty.wish.claimed_at IS 'When it was claimed.';
COMMENT ON COLUMN bounty.wish.evidence IS 'The claimant''s latest account of the work done (text or a link to photos).';
COMMENT ON COLUMN bounty.wish.completed_at IS 'When the claimant last reported it complete.';
COMMENT ON COLUMN bounty.wish.reviewer IS 'Community (org unit code) that last reviewed it.';
COMMENT ON COLUMN bounty.wish.reviewed_at IS 'When it was last reviewed (the approval time once approved).';
COMMENT ON COLUMN bounty.wish.review_note IS 'The reviewer''s note, e.g. why it was rejected.';
COMMENT ON COLUMN bounty.wish.award_id IS 'Id of the PointsAwarded sent on approval; fixed here so the ledger can refuse a second award.';
COMMENT ON COLUMN bounty.wish.created_at IS 'When it was posted to the board.';
CREATE INDEX wish_board_status_idx ON bounty.wish (board_id, status);
CREATE INDEX wish_org_unit_idx ON bounty.wish (org_unit, created_at);
CREATE INDEX wish_status_idx ON bounty.wish (status, created_at);
CREATE INDEX wish_claimant_idx ON bounty.wish (claimant) WHERE claimant IS NOT NULL;

CREATE TABLE bounty.wish_event (
    id      bigserial PRIMARY KEY,
    wish_id uuid NOT NULL REFERENCES bounty.wish (id),
    at      timestamptz NOT NULL DEFAULT now(),
    action  text NOT NULL CHECK (action IN ('posted', 'claimed', 'completed', 'approved', 'rejected')),
    status  text NOT NULL CHECK (status IN ('open', 'claimed', 'completed', 'approved')),
    actor   text,
    note    text
);
COMMENT ON TABLE bounty.wish_event IS 'Each step in a wish''s life, in order.';
COMMENT ON COLUMN bounty.wish_event.id IS 'Event id (orders events of the same instant).';
COMMENT ON COLUMN bounty.wish_event.wish_id IS 'The wish.';
COMMENT ON COLUMN bounty.wish_event.at IS 'When it happened.';
COMMENT ON COLUMN bounty.wish_event.action IS 'posted, claimed, completed, approved or rejected.';
COMMENT ON COLUMN bounty.wish_event.status IS 'Status of the wish after the step (a rejection leaves it claimed).';
COMMENT ON COLUMN bounty.wish_event.actor IS 'Who acted: the claimant, the reviewing community, or the posting service.';
COMMENT ON COLUMN bounty.wish_event.note IS 'Evidence given, the reviewer''s note, or the board posted to; free text.';
CREATE INDEX wish_event_wish_idx ON bounty.wish_event (wish_id, at, id);

-- The compound a wish belongs to: the org unit itself if it is one, else
-- the compound above a micro-grid or household. Raises HL400 (refused as
-- bad input: the message is dead-lettered, not retried) otherwise.
CREATE FUNCTION bounty.compound_of(p_code text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u_level text;
    result text;
BEGIN
    SELECT u.level,
           CASE u.level WHEN 'compound' THEN u.code
                        WHEN 'micro_grid' THEN u.parent
                        WHEN 'household' THEN p.parent END
      INTO u_level, result
      FROM org.org_unit u LEFT JOIN org.org_unit p ON p.code = u.parent
     WHERE u.code = p_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown org unit "%"', p_code USING ERRCODE = 'HL400';
    END IF;
    IF result IS NULL THEN
        RAISE EXCEPTION 'org unit "%" is a %, not a compound or below one', p_code, u_level
            USING ERRCODE = 'HL400';
    END IF;
    RETURN result;
END $$;
COMMENT ON FUNCTION bounty.compound_of(text) IS 'The compound an org unit lies in (itself for a compound); raises HL400 for unknown codes and units above compounds.';

-- Makes a guarded transition all-or-nothing: when the guarded UPDATE changed
-- no row the transaction fails with HL409 (conflict), so messages emitted
-- beside it are never written for a transition that did not happen.
CREATE FUNCTION bounty.expect_changed(p_rows bigint, p_what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_rows = 0 THEN
        RAISE EXCEPTION '%', p_what USING ERRCODE = 'HL409';
    END IF;
END $$;
COMMENT ON FUNCTION bounty.expect_changed(bigint, text) IS 'Raises HL409 with the given message when a guarded transition changed no row.';

GRANT SELECT, INSERT ON bounty.board TO hl_bounty;
GRANT SELECT, INSERT, UPDATE ON bounty.wish TO hl_bounty;
GRANT SELECT, INSERT ON bounty.wish_event TO hl_bounty;
GRANT USAGE ON SEQUENCE bounty.wish_event_id_seq TO hl_bounty;
GRANT EXECUTE ON FUNCTION bounty.compound_of(text), bounty.expect_changed(bigint, text) TO hl_bounty;

CREATE VIEW reporting.wish AS
SELECT w.id,
       b.period_start AS month,
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
         WHERE e.wish_id = w.id AND e.action = 'rejected') AS rejections
  FROM bounty.wish w
  JOIN bounty.board b ON b.id = w.board_id
  JOIN org.org_unit c ON c.code = w.org_unit;
COMMENT ON VIEW reporting.wish IS 'Micro-wishes without their text (title, body, evidence and notes may hold personal data), for counts by status, month, compound, community and claimant.';
COMMENT ON COLUMN reporting.wish.id IS 'Wish id.';
COMMENT ON COLUMN reporting.wish.month IS 'First day of the month whose board the wish was posted on.';
COMMENT ON COLUMN reporting.wish.compound IS 'Compound (grid) the wish belongs to.';
COMMENT ON COLUMN reporting.wish.community IS 'Community of that compound.';
COMMENT ON COLUMN reporting.wish.category IS 'Category of the wish, if any.';
COMMENT ON COLUMN reporting.wish.status IS 'open, claimed, completed (awaiting review) or approved.';
COMMENT ON COLUMN reporting.wish.points IS 'Points on offer.';
COMMENT ON COLUMN reporting.wish.claimant_kind IS 'org_unit (a grid organisation) or member_unit (alliance member, e.g. a social organisation); NULL while open.';
COMMENT ON COLUMN reporting.wish.claimant IS 'Code of the claiming organisation (never a person).';
COMMENT ON COLUMN reporting.wish.item_id IS 'Consolidated triage item (join reporting views of triage).';
COMMENT ON COLUMN reporting.wish.created_at IS 'When it was posted.';
COMMENT ON COLUMN reporting.wish.claimed_at IS 'When it was claimed.';
COMMENT ON COLUMN reporting.wish.completed_at IS 'When it was last reported complete.';
COMMENT ON COLUMN reporting.wish.approved_at IS 'When the community approved it; NULL until then.';
COMMENT ON COLUMN reporting.wish.points_awarded IS 'Points awarded for it: its points once approved, else 0.';
COMMENT ON COLUMN reporting.wish.rejections IS 'How often the community sent the completed work back.';
GRANT SELECT ON reporting.wish TO analyst;

CREATE VIEW reporting.wish_board AS
SELECT b.period_start AS month,
       c.parent AS community,
       count(*) AS posted,
       count(*) FILTER (WHERE w.status = 'open') AS open,
       count(*) FILTER (WHERE w.status = 'claimed') AS claimed,
       count(*) FILTER (WHERE w.status = 'completed') AS completed,
       count(*) FILTER (WHERE w.status = 'approved') AS approved,
       coalesce(sum(w.points) FILTER (WHERE w.status = 'approved'), 0) AS points_awarded,
       avg(w.reviewed_at - w.created_at) FILTER (WHERE w.status = 'approved') AS avg_time_to_approval
  FROM bounty.board b
  JOIN bounty.wish w ON w.board_id = b.id
  JOIN org.org_unit c ON c.code = w.org_unit
 WHERE b.kind = 'wish'
 GROUP BY b.period_start, c.parent;
COMMENT ON VIEW reporting.wish_board IS 'The monthly micro-wish boards per community: wishes posted and where they stand, points awarded, time from posting to approval.';
COMMENT ON COLUMN reporting.wish_board.month IS 'First day of the board''s month.';
COMMENT ON COLUMN reporting.wish_board.community IS 'Community the wishes'' compounds belong to.';
COMMENT ON COLUMN reporting.wish_board.posted IS 'Wishes posted on that month''s board.';
COMMENT ON COLUMN reporting.wish_board.open IS 'Of those, still open (unclaimed).';
COMMENT ON COLUMN reporting.wish_board.claimed IS 'Of those, claimed and not yet reported complete (or sent back).';
COMMENT ON COLUMN reporting.wish_board.completed IS 'Of those, completed and awaiting the community''s review.';
COMMENT ON COLUMN reporting.wish_board.approved IS 'Of those, approved (points awarded).';
COMMENT ON COLUMN reporting.wish_board.points_awarded IS 'Points awarded for the approved ones.';
COMMENT ON COLUMN reporting.wish_board.avg_time_to_approval IS 'Mean time from posting to approval over the approved ones.';
GRANT SELECT ON reporting.wish_board TO analyst;

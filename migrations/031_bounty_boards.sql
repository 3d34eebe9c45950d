-- 031_bounty_boards: the boards as the report runs them (issue 12).
--
-- * One monthly micro-wish board per community and one quarterly large-item
--   board (大事项榜单) per community (or the city): drafted as entries arrive,
--   published by the commissioner, then live. Open entries carry over to the
--   next period's board, keeping their age.
-- * Actors: who calls. Every claim, completion, review and publication
--   presents an API key bound to one actor (a grid organisation, a
--   volunteer, a party member, a community reviewer, a commissioner or a
--   member unit); only the key's SHA-256 is stored.
-- * Eligibility as data: bounty.eligibility_rule says which kind of actor
--   may claim which kind of entry, and within which scope.
-- * Leases: a claim holds until lease_until; it may be extended once or
--   released, and a scanner returns expired claims to the board.
-- * A change feed per board (bounty.board_change), numbered without gaps
--   in commit order, for the grid workers' group client.
-- * Large items, offered by hl-alliance (LargeItemOffered) and acted on
--   directly or through the city platform (LargeItemAction, once per
--   action id: bounty.platform_action).

-- ---------------------------------------------------------------------------
-- Actors and their keys
-- ---------------------------------------------------------------------------

CREATE TABLE bounty.actor (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    kind        text NOT NULL CHECK (kind IN ('grid_org', 'volunteer', 'party_member', 'reviewer',
                                              'commissioner', 'member_unit')),
    org_unit    text REFERENCES org.org_unit (code),
    member_unit text REFERENCES org.member_unit (code),
    person      text CHECK (person ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT actor_unit_check CHECK (
        (kind = 'member_unit') = (member_unit IS NOT NULL)
        AND (kind = 'member_unit') = (org_unit IS NULL))
);
COMMENT ON TABLE bounty.actor IS 'Who may call hl-bounty''s claim, complete, review and publish endpoints: each API key is bound to one actor, and each step records the actor. A volunteer or party member registered here is registered with that community.';
COMMENT ON COLUMN bounty.actor.name IS 'Actor code (pseudonymous for people, e.g. vol-cm01-017); recorded on every step the actor takes.';
COMMENT ON COLUMN bounty.actor.kind IS 'grid_org (the party organisation of a micro-grid, compound or community), volunteer, party_member (both registered with a community), reviewer (a community''s reviewer), commissioner (publishes a community''s or the city''s boards), member_unit (an alliance member unit).';
COMMENT ON COLUMN bounty.actor.org_unit IS 'The org unit the actor stands for or is registered with: a micro-grid, compound or community for grid_org; a community for volunteer, party_member and reviewer; a community or the city for commissioner. NULL for member_unit.';
COMMENT ON COLUMN bounty.actor.member_unit IS 'The member unit (org.member_unit) a member_unit actor stands for; NULL otherwise.';
COMMENT ON COLUMN bounty.actor.person IS 'Optional pseudonymous id of the person holding the actor''s key: two actors with one person are one reviewer for the rule that nobody reviews their own completion.';
COMMENT ON COLUMN bounty.actor.created_at IS 'When the actor was registered.';

-- The level an actor's org unit must have, by kind.
CREATE FUNCTION bounty.actor_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    u_level text;
BEGIN
    IF NEW.kind = 'member_unit' THEN
        RETURN NEW;
    END IF;
    SELECT level INTO u_level FROM org.org_unit WHERE code = NEW.org_unit;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a % needs an org unit', NEW.kind USING ERRCODE = 'HL400';
    END IF;
    IF (NEW.kind = 'grid_org' AND u_level NOT IN ('micro_grid', 'compound', 'community'))
       OR (NEW.kind IN ('volunteer', 'party_member', 'reviewer') AND u_level <> 'community')
       OR (NEW.kind = 'commissioner' AND u_level NOT IN ('community', 'city')) THEN
        RAISE EXCEPTION 'a % cannot stand for org unit "%" (a %)', NEW.kind, NEW.org_unit, u_level
            USING ERRCODE = 'HL400',
                  HINT = 'grid_org: micro_grid, compound or community; volunteer, party_member, reviewer: community; commissioner: community or city';
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION bounty.actor_check() IS 'Trigger function: refuses an actor whose org unit is not of a level its kind stands for.';
CREATE TRIGGER actor_check BEFORE INSERT OR UPDATE ON bounty.actor
    FOR EACH ROW EXECUTE FUNCTION bounty.actor_check();

CREATE TABLE bounty.api_key (
    id         bigserial PRIMARY KEY,
    actor      text NOT NULL REFERENCES bounty.actor (name),
    key_hash   text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE UNIQUE INDEX api_key_one_active_idx ON bounty.api_key (actor) WHERE revoked_at IS NULL;
COMMENT ON TABLE bounty.api_key IS 'API keys of actors (hlctl actor-key create); the key itself is shown once and never stored. Revoked keys are kept for the record.';
COMMENT ON COLUMN bounty.api_key.id IS 'Row id.';
COMMENT ON COLUMN bounty.api_key.actor IS 'The actor the key is bound to (at most one active key each).';
COMMENT ON COLUMN bounty.api_key.key_hash IS 'SHA-256 of the key, lower-case hex.';
COMMENT ON COLUMN bounty.api_key.created_at IS 'When the key was created.';
COMMENT ON COLUMN bounty.api_key.revoked_at IS 'When it was revoked (NULL while active); hl-bounty refuses it within about 2 s.';

-- ---------------------------------------------------------------------------
-- Eligibility rules (data)
-- ---------------------------------------------------------------------------

CREATE TABLE bounty.eligibility_rule (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z_]+(\.[a-z_]+)+$'),
    entry_kind  text NOT NULL CHECK (entry_kind IN ('wish', 'large')),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('grid_org', 'volunteer', 'party_member', 'member_unit')),
    scope       text NOT NULL CHECK (scope IN ('micro_grid', 'compound', 'community', 'category_domain')),
    description text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    CONSTRAINT eligibility_rule_kind_scope_check CHECK (
        (scope = 'category_domain') = (actor_kind = 'member_unit'))
);
COMMENT ON TABLE bounty.eligibility_rule IS 'Who may claim what: an actor may claim an entry when an active rule for the entry''s kind and the actor''s kind admits it in its scope. A refused claim is answered 403 naming the rule (or that no rule admits the actor''s kind). Read by hl-bounty on every claim, so a change applies at once.';
COMMENT ON COLUMN bounty.eligibility_rule.code IS 'Rule code, named in refusals, e.g. wish.volunteer.community.';
COMMENT ON COLUMN bounty.eligibility_rule.entry_kind IS 'wish (micro-wish board) or large (quarterly large-item board).';
COMMENT ON COLUMN bounty.eligibility_rule.actor_kind IS 'Kind of actor the rule admits.';
COMMENT ON COLUMN bounty.eligibility_rule.scope IS 'micro_grid: the actor stands for the entry''s micro-grid (or, for an entry anchored to a whole compound, a micro-grid of that compound); compound: the entry''s compound; community: the entry''s community; category_domain: a member unit with a function domain that fits the entry''s category (org.unit_fits_category).';
COMMENT ON COLUMN bounty.eligibility_rule.description IS 'The rule in words, as refusals quote it.';
COMMENT ON COLUMN bounty.eligibility_rule.active IS 'Inactive rules admit nobody.';

INSERT INTO bounty.eligibility_rule (code, entry_kind, actor_kind, scope, description) VALUES
    ('wish.grid_org.micro_grid', 'wish', 'grid_org', 'micro_grid',
     'the party group of the wish''s micro-grid may claim it'),
    ('wish.grid_org.compound', 'wish', 'grid_org', 'compound',
     'the party branch of the wish''s compound (grid) may claim it'),
    ('wish.grid_org.community', 'wish', 'grid_org', 'community',
     'the party committee of the wish''s community may claim it'),
    ('wish.volunteer.community', 'wish', 'volunteer', 'community',
     'a volunteer registered with the wish''s community may claim it'),
    ('wish.party_member.community', 'wish', 'party_member', 'community',
     'a party member registered with the wish''s community may claim it'),
    ('large.member_unit.category_domain', 'large', 'member_unit', 'category_domain',
     'a member unit whose function domains fit the item''s category may claim it');

-- ---------------------------------------------------------------------------
-- Boards: per community, drafted, published, with a change feed
-- ---------------------------------------------------------------------------

ALTER TABLE bounty.board DROP CONSTRAINT board_kind_period_key;
ALTER TABLE bounty.board
    ADD COLUMN community text REFERENCES org.org_unit (code),
    ADD COLUMN published_by text REFERENCES bounty.actor (name),
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_change bigint NOT NULL DEFAULT 0 CHECK (last_change >= 0);
ALTER TABLE bounty.board ALTER COLUMN published_at DROP NOT NULL;
ALTER TABLE bounty.board ALTER COLUMN published_at DROP DEFAULT;

-- The city-wide boards of 030 become one board per community, published as
-- they were.
INSERT INTO bounty.board (kind, community, period_start, published_at, created_at)
SELECT DISTINCT b.kind, c.parent, b.period_start, b.published_at, b.published_at
  FROM bounty.board b
  JOIN bounty.wish w ON w.board_id = b.id
  JOIN org.org_unit c ON c.code = w.org_unit
 WHERE b.community IS NULL;
UPDATE bounty.wish w SET board_id = nb.id
  FROM bounty.board ob, org.org_unit c, bounty.board nb
 WHERE ob.id = w.board_id AND ob.community IS NULL AND c.code = w.org_unit
   AND nb.kind = ob.kind AND nb.period_start = ob.period_start AND nb.community = c.parent;
DELETE FROM bounty.board WHERE community IS NULL;
ALTER TABLE bounty.board ALTER COLUMN community SET NOT NULL;
ALTER TABLE bounty.board ADD CONSTRAINT board_kind_community_period_key
    UNIQUE (kind, community, period_start);
ALTER TABLE bounty.board ADD CONSTRAINT board_published_by_check
    CHECK (published_by IS NULL OR published_at IS NOT NULL);

COMMENT ON TABLE bounty.board IS 'One board per kind, community and period: the monthly micro-wish board (微心愿) and the quarterly large-item board (大事项榜单). A board is a draft until its commissioner publishes it; entries arriving later appear on it live.';
COMMENT ON COLUMN bounty.board.community IS 'Community whose board it is (for a large-item board offered city-wide, the city).';
COMMENT ON COLUMN bounty.board.published_at IS 'When the commissioner published it; NULL while it is a draft (its entries cannot be claimed yet).';
COMMENT ON COLUMN bounty.board.published_by IS 'The commissioner (bounty.actor) who published it; NULL for boards published before actors existed.';
COMMENT ON COLUMN bounty.board.created_at IS 'When the board was drafted (its first entry arrived or an open entry carried over to it).';
COMMENT ON COLUMN bounty.board.last_change IS 'Number of the board''s latest change (bounty.board_change.seq); the row lock taken to raise it orders the feed in commit order.';
CREATE INDEX board_community_idx ON bounty.board (community, kind, period_start);

CREATE TABLE bounty.board_change (
    board_id   uuid NOT NULL REFERENCES bounty.board (id),
    seq        bigint NOT NULL CHECK (seq >= 1),
    at         timestamptz NOT NULL DEFAULT now(),
    action     text NOT NULL,
    entry_kind text NOT NULL CHECK (entry_kind IN ('board', 'wish', 'large')),
    entry_id   uuid,
    status     text,
    actor      text,
    note       text,
    PRIMARY KEY (board_id, seq)
);
COMMENT ON TABLE bounty.board_change IS 'Change feed of each board (GET /v1/boards/{id}/changes?since=seq): every entry added, carried in or out, claimed, extended, released, expired, completed, reviewed, and the board''s publication. seq has no gaps and grows in commit order, so a client that has seen seq N has seen everything before it.';
COMMENT ON COLUMN bounty.board_change.board_id IS 'The board.';
COMMENT ON COLUMN bounty.board_change.seq IS 'Number of the change on its board, 1, 2, 3 ...';
COMMENT ON COLUMN bounty.board_change.at IS 'When it happened.';
COMMENT ON COLUMN bounty.board_change.action IS 'published, posted, carried_in, carried_out, claimed, extended, released, expired, completed, progress, approved, rejected.';
COMMENT ON COLUMN bounty.board_change.entry_kind IS 'board (the board itself), wish or large (a large item).';
COMMENT ON COLUMN bounty.board_change.entry_id IS 'The wish or large item; NULL for the board''s own changes.';
COMMENT ON COLUMN bounty.board_change.status IS 'Status of the entry after the change.';
COMMENT ON COLUMN bounty.board_change.actor IS 'Who acted (an actor, the platform partner, or hl-bounty).';
COMMENT ON COLUMN bounty.board_change.note IS 'Reviewer''s note, progress report or the board carried from/to; free text.';

-- Appends a change to a board's feed; the UPDATE locks the board row until
-- commit, so numbers are handed out in commit order.
CREATE FUNCTION bounty.note_change(p_board uuid, p_action text, p_entry_kind text, p_entry uuid,
                                   p_status text, p_actor text, p_note text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    UPDATE bounty.board SET last_change = last_change + 1 WHERE id = p_board
    RETURNING last_change INTO n;
    INSERT INTO bounty.board_change (board_id, seq, action, entry_kind, entry_id, status, actor, note)
    VALUES (p_board, n, p_action, p_entry_kind, p_entry, p_status, p_actor, p_note);
    RETURN n;
END $$;
COMMENT ON FUNCTION bounty.note_change(uuid, text, text, uuid, text, text, text) IS 'Appends one change to a board''s feed with the next number; returns it.';

-- The board of `kind` for `community` and the period containing now
-- (Beijing time): created as a draft when missing.
CREATE FUNCTION bounty.board_for(p_kind text, p_community text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    start date := CASE p_kind WHEN 'wish'
                      THEN date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date
                      ELSE date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')::date END;
    b uuid;
BEGIN
    INSERT INTO bounty.board (kind, community, period_start) VALUES (p_kind, p_community, start)
    ON CONFLICT (kind, community, period_start) DO NOTHING;
    SELECT id INTO b FROM bounty.board
     WHERE kind = p_kind AND community = p_community AND period_start = start;
    RETURN b;
END $$;
COMMENT ON FUNCTION bounty.board_for(text, text) IS 'The current month''s (wish) or quarter''s (large) board of a community, drafted when missing.';

-- ---------------------------------------------------------------------------
-- Wishes: difficulty, micro-grid, leases, the actor on every step, carry-over
-- ---------------------------------------------------------------------------

ALTER TABLE bounty.wish DROP CONSTRAINT wish_claimant_kind_check;
ALTER TABLE bounty.wish DROP CONSTRAINT wish_reviewer_fkey;
ALTER TABLE bounty.wish
    ADD COLUMN difficulty text NOT NULL DEFAULT 'normal' CHECK (difficulty IN ('easy', 'normal', 'hard')),
    ADD COLUMN micro_grid text REFERENCES org.org_unit (code),
    ADD COLUMN claimed_by text REFERENCES bounty.actor (name),
    ADD COLUMN completed_by text REFERENCES bounty.actor (name),
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN lease_extended boolean NOT NULL DEFAULT false,
    ADD COLUMN first_board_id uuid REFERENCES bounty.board (id),
    ADD COLUMN carried_over integer NOT NULL DEFAULT 0 CHECK (carried_over >= 0);
UPDATE bounty.wish SET first_board_id = board_id;
UPDATE bounty.wish SET lease_until = claimed_at + interval '7 days' WHERE status = 'claimed';
ALTER TABLE bounty.wish ALTER COLUMN first_board_id SET NOT NULL;

-- A wish inserted without its first board (as before this migration) was
-- first posted on the board it is on.
CREATE FUNCTION bounty.wish_first_board() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.first_board_id := coalesce(NEW.first_board_id, NEW.board_id);
    RETURN NEW;
END $$;
COMMENT ON FUNCTION bounty.wish_first_board() IS 'Trigger function: a new wish''s first board is the board it is posted on unless given.';
CREATE TRIGGER wish_first_board BEFORE INSERT ON bounty.wish
    FOR EACH ROW EXECUTE FUNCTION bounty.wish_first_board();
ALTER TABLE bounty.wish ADD CONSTRAINT wish_claimant_kind_check CHECK (
    claimant_kind IN ('org_unit', 'member_unit', 'grid_org', 'volunteer', 'party_member'));
ALTER TABLE bounty.wish ADD CONSTRAINT wish_lease_check CHECK (
    (status = 'claimed') = (lease_until IS NOT NULL));
COMMENT ON COLUMN bounty.wish.board_id IS 'Board the wish is on now: the community''s board of the month it was posted in, or a later one it was carried over to while open.';
COMMENT ON COLUMN bounty.wish.difficulty IS 'easy, normal or hard (default normal); the basis hl-points'' rules price the wish by.';
COMMENT ON COLUMN bounty.wish.micro_grid IS 'Micro-grid the wish was anchored to, when it was posted below its compound (NULL: the compound as a whole).';
COMMENT ON COLUMN bounty.wish.claimant IS 'Who earns the points: the grid organisation''s org unit code, the volunteer''s or party member''s actor code, or (before actors) an org unit or member unit; NULL while open.';
COMMENT ON COLUMN bounty.wish.claimant_kind IS 'grid_org, volunteer or party_member (the account kind points are paid to); org_unit or member_unit on claims made before actors existed.';
COMMENT ON COLUMN bounty.wish.reviewer IS 'Actor (bounty.actor) that last reviewed it; the community''s code for reviews made before actors existed.';
COMMENT ON COLUMN bounty.wish.claimed_by IS 'The actor whose key made the current claim.';
COMMENT ON COLUMN bounty.wish.completed_by IS 'The actor whose key reported it complete (may not review it).';
COMMENT ON COLUMN bounty.wish.lease_until IS 'While claimed: when the claim lapses and the wish returns to the board by itself.';
COMMENT ON COLUMN bounty.wish.lease_extended IS 'The current claim''s lease was extended (allowed once per claim).';
COMMENT ON COLUMN bounty.wish.first_board_id IS 'Board it was first posted on (its month of posting).';
COMMENT ON COLUMN bounty.wish.carried_over IS 'How often it was carried over, open, to a later month''s board.';
CREATE INDEX wish_lease_idx ON bounty.wish (lease_until) WHERE status = 'claimed';

ALTER TABLE bounty.wish_event DROP CONSTRAINT wish_event_action_check;
ALTER TABLE bounty.wish_event ADD CONSTRAINT wish_event_action_check CHECK (
    action IN ('posted', 'claimed', 'completed', 'approved', 'rejected', 'extended', 'released',
               'expired', 'carried', 'difficulty'));
ALTER TABLE bounty.wish_event ADD COLUMN actor_kind text;
COMMENT ON COLUMN bounty.wish_event.action IS 'posted, claimed, extended, released, expired, carried (to a later board), completed, approved, rejected, difficulty (set by the commissioner).';
COMMENT ON COLUMN bounty.wish_event.actor IS 'Who acted: the actor (bounty.actor) whose key was presented, or the service (hl-triage posting, hl-bounty expiring or carrying).';
COMMENT ON COLUMN bounty.wish_event.actor_kind IS 'Kind of that actor (bounty.actor.kind), or service.';

-- Every step of a wish also lands in its board's change feed.
CREATE FUNCTION bounty.wish_event_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bounty.note_change((SELECT board_id FROM bounty.wish WHERE id = NEW.wish_id),
                               CASE NEW.action WHEN 'carried' THEN 'carried_in' ELSE NEW.action END,
                               'wish', NEW.wish_id, NEW.status, NEW.actor,
                               CASE WHEN NEW.action IN ('rejected', 'carried') THEN NEW.note END);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION bounty.wish_event_feed() IS 'Trigger function: appends each wish step to the change feed of the board the wish is on.';
CREATE TRIGGER wish_event_feed AFTER INSERT ON bounty.wish_event
    FOR EACH ROW EXECUTE FUNCTION bounty.wish_event_feed();

-- ---------------------------------------------------------------------------
-- Large items (大事项榜单)
-- ---------------------------------------------------------------------------

CREATE TABLE bounty.large_item (
    id             uuid PRIMARY KEY,
    board_id       uuid NOT NULL REFERENCES bounty.board (id),
    first_board_id uuid NOT NULL REFERENCES bounty.board (id),
    item_id        uuid NOT NULL UNIQUE,
    title          text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    body           text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
    category       text REFERENCES org.category (code),
    community      text NOT NULL REFERENCES org.org_unit (code),
    org_unit       text REFERENCES org.org_unit (code),
    meeting_id     uuid,
    appeal_count   integer NOT NULL DEFAULT 0 CHECK (appeal_count >= 0),
    difficulty     text NOT NULL DEFAULT 'normal' CHECK (difficulty IN ('easy', 'normal', 'hard')),
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'claimed', 'completed', 'approved')),
    claimant       text REFERENCES org.member_unit (code),
    claimed_by     text,
    claimed_at     timestamptz,
    lease_until    timestamptz,
    lease_extended boolean NOT NULL DEFAULT false,
    progress       text CHECK (char_length(progress) <= 2000),
    progress_at    timestamptz,
    evidence       text CHECK (char_length(evidence) BETWEEN 1 AND 2000),
    completed_by   text,
    completed_at   timestamptz,
    reviewer       text REFERENCES bounty.actor (name),
    reviewed_at    timestamptz,
    review_note    text CHECK (char_length(review_note) <= 1000),
    award_id       uuid UNIQUE,
    carried_over   integer NOT NULL DEFAULT 0 CHECK (carried_over >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT large_item_claim_check CHECK (
        (status = 'open') = (claimant IS NULL)
        AND (claimant IS NULL) = (claimed_at IS NULL)
        AND (status = 'claimed') = (lease_until IS NOT NULL)),
    CONSTRAINT large_item_completion_check CHECK (
        status NOT IN ('completed', 'approved') OR (evidence IS NOT NULL AND completed_at IS NOT NULL)),
    CONSTRAINT large_item_approval_check CHECK ((status = 'approved') = (award_id IS NOT NULL))
);
COMMENT ON TABLE bounty.large_item IS 'A large item on a community''s quarterly board (大事项榜单): offered by a joint meeting, claimed by a member unit whose function domains fit its category (directly or through the city platform), progress reported, completed, and confirmed by the community (a rejection returns it to claimed).';
COMMENT ON COLUMN bounty.large_item.id IS 'Large-item entry id (source_id of its PointsAwarded).';
COMMENT ON COLUMN bounty.large_item.board_id IS 'Board it is on now (its quarter, or a later one it was carried over to while open).';
COMMENT ON COLUMN bounty.large_item.first_board_id IS 'Board it was first offered on.';
COMMENT ON COLUMN bounty.large_item.item_id IS 'Triage item (triage.item.id); unique, so a re-sent LargeItemOffered offers nothing twice.';
COMMENT ON COLUMN bounty.large_item.title IS 'Short title shown on the board.';
COMMENT ON COLUMN bounty.large_item.body IS 'What the matter is.';
COMMENT ON COLUMN bounty.large_item.category IS 'Category of the item; decides which member units fit (org.unit_fits_category).';
COMMENT ON COLUMN bounty.large_item.community IS 'Community whose board it is on (the city for a city-wide item).';
COMMENT ON COLUMN bounty.large_item.org_unit IS 'Where the matter is, if known.';
COMMENT ON COLUMN bounty.large_item.meeting_id IS 'Joint meeting that sent it to the board.';
COMMENT ON COLUMN bounty.large_item.appeal_count IS 'Residents'' appeals consolidated in the item.';
COMMENT ON COLUMN bounty.large_item.difficulty IS 'Basis for hl-points'' large-item rule (normal unless set).';
COMMENT ON COLUMN bounty.large_item.status IS 'open, claimed, completed (awaiting the community), approved (confirmed by the community; final).';
COMMENT ON COLUMN bounty.large_item.claimant IS 'Member unit that holds the claim; NULL while open.';
COMMENT ON COLUMN bounty.large_item.claimed_by IS 'Actor whose key made the claim, or "platform:<partner>" for a claim through the city platform.';
COMMENT ON COLUMN bounty.large_item.claimed_at IS 'When it was claimed.';
COMMENT ON COLUMN bounty.large_item.lease_until IS 'While claimed: when the claim lapses and the item returns to the board.';
COMMENT ON COLUMN bounty.large_item.lease_extended IS 'The current claim''s lease was extended (once per claim).';
COMMENT ON COLUMN bounty.large_item.progress IS 'The latest progress report.';
COMMENT ON COLUMN bounty.large_item.progress_at IS 'When it was reported.';
COMMENT ON COLUMN bounty.large_item.evidence IS 'The completion report.';
COMMENT ON COLUMN bounty.large_item.completed_by IS 'Actor (or platform partner) that reported it complete.';
COMMENT ON COLUMN bounty.large_item.completed_at IS 'When it was last reported complete.';
COMMENT ON COLUMN bounty.large_item.reviewer IS 'Community reviewer who last confirmed or rejected it.';
COMMENT ON COLUMN bounty.large_item.reviewed_at IS 'When.';
COMMENT ON COLUMN bounty.large_item.review_note IS 'The reviewer''s note, e.g. why it was rejected.';
COMMENT ON COLUMN bounty.large_item.award_id IS 'Id of the PointsAwarded sent on confirmation.';
COMMENT ON COLUMN bounty.large_item.carried_over IS 'How often it was carried over, open, to a later quarter''s board.';
COMMENT ON COLUMN bounty.large_item.created_at IS 'When it was offered.';
CREATE INDEX large_item_board_idx ON bounty.large_item (board_id, status);
CREATE INDEX large_item_lease_idx ON bounty.large_item (lease_until) WHERE status = 'claimed';

CREATE TABLE bounty.large_item_event (
    id         bigserial PRIMARY KEY,
    item_id    uuid NOT NULL REFERENCES bounty.large_item (id),
    at         timestamptz NOT NULL DEFAULT now(),
    action     text NOT NULL CHECK (action IN ('offered', 'claimed', 'extended', 'released', 'expired',
                                               'carried', 'progress', 'completed', 'approved', 'rejected')),
    status     text NOT NULL CHECK (status IN ('open', 'claimed', 'completed', 'approved')),
    actor      text,
    actor_kind text,
    note       text
);
COMMENT ON TABLE bounty.large_item_event IS 'Each step in a large item''s life, in order.';
COMMENT ON COLUMN bounty.large_item_event.id IS 'Event id.';
COMMENT ON COLUMN bounty.large_item_event.item_id IS 'The large-item entry (bounty.large_item.id).';
COMMENT ON COLUMN bounty.large_item_event.at IS 'When it happened.';
COMMENT ON COLUMN bounty.large_item_event.action IS 'offered, claimed, extended, released, expired, carried, progress, completed, approved (confirmed), rejected.';
COMMENT ON COLUMN bounty.large_item_event.status IS 'Status after the step.';
COMMENT ON COLUMN bounty.large_item_event.actor IS 'Who acted: an actor, platform:<partner>, or the service.';
COMMENT ON COLUMN bounty.large_item_event.actor_kind IS 'Kind of that actor, platform, or service.';
COMMENT ON COLUMN bounty.large_item_event.note IS 'Progress report, evidence, reviewer''s note; free text.';
CREATE INDEX large_item_event_item_idx ON bounty.large_item_event (item_id, at, id);

CREATE FUNCTION bounty.large_item_event_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bounty.note_change((SELECT board_id FROM bounty.large_item WHERE id = NEW.item_id),
                               CASE NEW.action WHEN 'carried' THEN 'carried_in'
                                               WHEN 'offered' THEN 'posted' ELSE NEW.action END,
                               'large', NEW.item_id, NEW.status, NEW.actor,
                               CASE WHEN NEW.action IN ('rejected', 'carried', 'progress') THEN NEW.note END);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION bounty.large_item_event_feed() IS 'Trigger function: appends each large-item step to its board''s change feed.';
CREATE TRIGGER large_item_event_feed AFTER INSERT ON bounty.large_item_event
    FOR EACH ROW EXECUTE FUNCTION bounty.large_item_event_feed();

CREATE TABLE bounty.platform_action (
    action_id  text PRIMARY KEY CHECK (char_length(action_id) BETWEEN 1 AND 128),
    kind       text NOT NULL,
    item_id    text,
    unit       text,
    partner    text,
    outcome    text NOT NULL CHECK (outcome IN ('applied', 'refused')),
    reason     text,
    at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bounty.platform_action IS 'Each unit action received from the city platform (LargeItemAction), applied or refused exactly once per action id.';
COMMENT ON COLUMN bounty.platform_action.action_id IS 'The webhook id the platform gave the action.';
COMMENT ON COLUMN bounty.platform_action.kind IS 'claim, progress or complete (as sent).';
COMMENT ON COLUMN bounty.platform_action.item_id IS 'Triage item id it named (as sent).';
COMMENT ON COLUMN bounty.platform_action.unit IS 'Member unit it named (as sent).';
COMMENT ON COLUMN bounty.platform_action.partner IS 'Platform partner that sent it.';
COMMENT ON COLUMN bounty.platform_action.outcome IS 'applied, or refused (see reason; the platform was told by action.refused).';
COMMENT ON COLUMN bounty.platform_action.reason IS 'Why it was refused, naming the field or rule.';
COMMENT ON COLUMN bounty.platform_action.at IS 'When it was processed.';

-- Records a platform action once. A second delivery of the same action id
-- raises 40001, so the consumer decides again and finds it done.
CREATE FUNCTION bounty.action_once(p_action text, p_kind text, p_item text, p_unit text,
                                   p_partner text, p_outcome text, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bounty.platform_action (action_id, kind, item_id, unit, partner, outcome, reason)
    VALUES (p_action, p_kind, p_item, p_unit, p_partner, p_outcome, p_reason)
    ON CONFLICT (action_id) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'platform action % was applied already', p_action
            USING ERRCODE = '40001';
    END IF;
END $$;
COMMENT ON FUNCTION bounty.action_once(text, text, text, text, text, text, text) IS 'Records a platform action; raises 40001 (decide again) when its id was recorded before.';

-- A guarded transition that changed nothing, seen from a consumer: raise
-- 40001 so it decides again on what is there now.
CREATE FUNCTION bounty.expect_changed_as(p_rows bigint, p_what text, p_sqlstate text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_rows = 0 AND p_sqlstate IS NOT NULL THEN
        RAISE EXCEPTION '%', p_what USING ERRCODE = p_sqlstate;
    END IF;
END $$;
COMMENT ON FUNCTION bounty.expect_changed_as(bigint, text, text) IS 'Raises the given SQLSTATE (HL409 for a caller to answer 409, 40001 for a consumer to decide again) when a guarded transition changed no row; nothing when the SQLSTATE is NULL.';

-- ---------------------------------------------------------------------------
-- The scanner: expired leases back to the board, open entries carried over
-- ---------------------------------------------------------------------------

-- Returns claimed entries whose lease ended to their board, once: the
-- UPDATE's guard (status claimed, lease over) holds for one transaction only.
CREATE FUNCTION bounty.expire_leases(p_limit integer) RETURNS TABLE (out_kind text, out_id uuid, out_claimant text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT w.id FROM bounty.wish w
         WHERE w.status = 'claimed' AND w.lease_until <= now()
         ORDER BY w.lease_until LIMIT p_limit FOR UPDATE SKIP LOCKED),
    u AS (
        UPDATE bounty.wish w SET status = 'open', claimant = NULL, claimant_kind = NULL,
               claimed_at = NULL, claimed_by = NULL, lease_until = NULL, lease_extended = false
          FROM due d, bounty.wish old
         WHERE w.id = d.id AND old.id = d.id
        RETURNING w.id, old.claimant, old.lease_until),
    e AS (
        INSERT INTO bounty.wish_event (wish_id, action, status, actor, actor_kind, note)
        SELECT u.id, 'expired', 'open', 'hl-bounty', 'service',
               'lease of ' || u.claimant || ' ended ' || u.lease_until
          FROM u)
    SELECT 'wish'::text, u.id, u.claimant FROM u;

    RETURN QUERY
    WITH due AS (
        SELECT l.id FROM bounty.large_item l
         WHERE l.status = 'claimed' AND l.lease_until <= now()
         ORDER BY l.lease_until LIMIT p_limit FOR UPDATE SKIP LOCKED),
    u AS (
        UPDATE bounty.large_item l SET status = 'open', claimant = NULL, claimed_at = NULL,
               claimed_by = NULL, lease_until = NULL, lease_extended = false
          FROM due d, bounty.large_item old
         WHERE l.id = d.id AND old.id = d.id
        RETURNING l.id, old.claimant, old.lease_until),
    e AS (
        INSERT INTO bounty.large_item_event (item_id, action, status, actor, actor_kind, note)
        SELECT u.id, 'expired', 'open', 'hl-bounty', 'service',
               'lease of ' || u.claimant || ' ended ' || u.lease_until
          FROM u)
    SELECT 'large'::text, u.id, u.claimant FROM u;
END $$;
COMMENT ON FUNCTION bounty.expire_leases(integer) IS 'Returns up to p_limit expired claims of each kind to their board (status open, history step expired); returns what it returned.';

-- Carries open entries of earlier periods to their community's current
-- board (drafted when missing), keeping their age (created_at).
CREATE FUNCTION bounty.carry_over(p_limit integer) RETURNS TABLE (out_kind text, out_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    nb uuid;
BEGIN
    FOR r IN
        SELECT 'wish' AS k, w.id, w.board_id, b.community, b.period_start
          FROM bounty.wish w JOIN bounty.board b ON b.id = w.board_id
         WHERE w.status = 'open'
           AND b.period_start < date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date
        UNION ALL
        SELECT 'large', l.id, l.board_id, b.community, b.period_start
          FROM bounty.large_item l JOIN bounty.board b ON b.id = l.board_id
         WHERE l.status = 'open'
           AND b.period_start < date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')::date
         LIMIT p_limit
    LOOP
        nb := bounty.board_for(r.k, r.community);
        PERFORM bounty.note_change(r.board_id, 'carried_out', r.k, r.id, 'open', 'hl-bounty',
                                   'carried over to ' || nb);
        IF r.k = 'wish' THEN
            UPDATE bounty.wish SET board_id = nb, carried_over = carried_over + 1
             WHERE bounty.wish.id = r.id AND status = 'open';
            INSERT INTO bounty.wish_event (wish_id, action, status, actor, actor_kind, note)
            VALUES (r.id, 'carried', 'open', 'hl-bounty', 'service',
                    'carried over from the board of ' || to_char(r.period_start, 'YYYY-MM'));
        ELSE
            UPDATE bounty.large_item SET board_id = nb, carried_over = carried_over + 1
             WHERE bounty.large_item.id = r.id AND status = 'open';
            INSERT INTO bounty.large_item_event (item_id, action, status, actor, actor_kind, note)
            VALUES (r.id, 'carried', 'open', 'hl-bounty', 'service',
                    'carried over from the board of ' || to_char(r.period_start, 'YYYY-MM'));
        END IF;
        out_kind := r.k;
        out_id := r.id;
        RETURN NEXT;
    END LOOP;
END $$;
COMMENT ON FUNCTION bounty.carry_over(integer) IS 'Moves up to p_limit open wishes (large items) of earlier months (quarters) to their community''s current board, keeping their age; notes carried_out and carried_in in both boards'' feeds.';

-- The community (or the city) whose board an entry goes on: raises HL400
-- (the message is refused) for anything else.
CREATE FUNCTION bounty.board_scope(p_code text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u_level text;
BEGIN
    IF p_code IS NULL OR p_code = '' THEN
        SELECT code INTO p_code FROM org.org_unit WHERE level = 'city' ORDER BY code LIMIT 1;
    END IF;
    SELECT level INTO u_level FROM org.org_unit WHERE code = p_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown community "%"', p_code USING ERRCODE = 'HL400';
    END IF;
    IF u_level NOT IN ('community', 'city') THEN
        RAISE EXCEPTION 'org unit "%" is a %, not a community or the city', p_code, u_level
            USING ERRCODE = 'HL400';
    END IF;
    RETURN p_code;
END $$;
COMMENT ON FUNCTION bounty.board_scope(text) IS 'The community (empty: the city) a large item''s board belongs to; HL400 for other units.';

-- Publishes a board; raises HL409 when it was published already.
CREATE FUNCTION bounty.publish(p_board uuid, p_actor text) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz;
BEGIN
    UPDATE bounty.board SET published_at = now(), published_by = p_actor
     WHERE id = p_board AND published_at IS NULL
    RETURNING published_at INTO at;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'board % is published already', p_board USING ERRCODE = 'HL409';
    END IF;
    PERFORM bounty.note_change(p_board, 'published', 'board', NULL, 'published', p_actor, NULL);
    RETURN at;
END $$;
COMMENT ON FUNCTION bounty.publish(uuid, text) IS 'Publishes a draft board and notes it in its feed; HL409 when it was published already.';

GRANT SELECT ON bounty.actor, bounty.api_key, bounty.eligibility_rule TO hl_bounty;
GRANT SELECT, UPDATE ON bounty.board TO hl_bounty;
GRANT SELECT, INSERT ON bounty.board_change TO hl_bounty;
GRANT SELECT, INSERT, UPDATE ON bounty.large_item TO hl_bounty;
GRANT SELECT, INSERT ON bounty.large_item_event, bounty.platform_action TO hl_bounty;
GRANT USAGE ON SEQUENCE bounty.large_item_event_id_seq TO hl_bounty;
GRANT EXECUTE ON FUNCTION bounty.note_change(uuid, text, text, uuid, text, text, text),
    bounty.board_for(text, text), bounty.action_once(text, text, text, text, text, text, text),
    bounty.expect_changed_as(bigint, text, text), bounty.expire_leases(integer),
    bounty.carry_over(integer), bounty.publish(uuid, text), bounty.board_scope(text) TO hl_bounty;

-- ---------------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------------

-- reporting.wish is left as migration 060 defines it (month = the month the
-- wish was posted in; board_month = the board it is on now, which moves on
-- carry-over): 060 replaces the view after this migration on a new database.

CREATE VIEW reporting.board_large_item AS
SELECT l.id,
       b.period_start AS quarter,
       l.community,
       l.category,
       l.org_unit,
       l.item_id,
       l.status,
       l.claimant AS member_unit,
       l.created_at,
       l.claimed_at,
       l.completed_at,
       CASE WHEN l.status = 'approved' THEN l.reviewed_at END AS confirmed_at,
       l.carried_over,
       (SELECT count(*) FROM bounty.large_item_event e
         WHERE e.item_id = l.id AND e.action = 'rejected') AS rejections
  FROM bounty.large_item l
  JOIN bounty.board b ON b.id = l.first_board_id;
COMMENT ON VIEW reporting.board_large_item IS 'Large items on the quarterly boards (大事项榜单) without their text: who claimed them and where they stand.';
COMMENT ON COLUMN reporting.board_large_item.id IS 'Large-item entry id.';
COMMENT ON COLUMN reporting.board_large_item.quarter IS 'First day of the quarter (Asia/Shanghai) whose board it was first offered on.';
COMMENT ON COLUMN reporting.board_large_item.community IS 'Community whose board it is on (the city for city-wide items).';
COMMENT ON COLUMN reporting.board_large_item.category IS 'Category of the item.';
COMMENT ON COLUMN reporting.board_large_item.org_unit IS 'Where the matter is.';
COMMENT ON COLUMN reporting.board_large_item.item_id IS 'Triage item.';
COMMENT ON COLUMN reporting.board_large_item.status IS 'open, claimed, completed or approved (confirmed by the community).';
COMMENT ON COLUMN reporting.board_large_item.member_unit IS 'Member unit holding or having done it; NULL while open.';
COMMENT ON COLUMN reporting.board_large_item.created_at IS 'When it was offered.';
COMMENT ON COLUMN reporting.board_large_item.claimed_at IS 'When it was claimed.';
COMMENT ON COLUMN reporting.board_large_item.completed_at IS 'When it was last reported complete.';
COMMENT ON COLUMN reporting.board_large_item.confirmed_at IS 'When the community confirmed it; NULL until then.';
COMMENT ON COLUMN reporting.board_large_item.carried_over IS 'Quarters it was carried over, open.';
COMMENT ON COLUMN reporting.board_large_item.rejections IS 'How often the community sent the completed work back.';


CREATE VIEW reporting.board AS
SELECT b.id, b.kind, b.community, b.period_start, b.created_at, b.published_at,
       b.published_at IS NOT NULL AS published, b.last_change AS changes
  FROM bounty.board b;
COMMENT ON VIEW reporting.board IS 'Every board: kind, community, period, whether and when it was published.';
COMMENT ON COLUMN reporting.board.id IS 'Board id.';
COMMENT ON COLUMN reporting.board.kind IS 'wish (monthly) or large (quarterly).';
COMMENT ON COLUMN reporting.board.community IS 'Community (or the city) the board belongs to.';
COMMENT ON COLUMN reporting.board.period_start IS 'First day of its month or quarter (Asia/Shanghai).';
COMMENT ON COLUMN reporting.board.created_at IS 'When it was drafted.';
COMMENT ON COLUMN reporting.board.published_at IS 'When its commissioner published it.';
COMMENT ON COLUMN reporting.board.published IS 'Whether it is published.';
COMMENT ON COLUMN reporting.board.changes IS 'Changes in its feed so far.';
-- The analysts' role is hl_analyst since migration 060 (analyst before it,
-- which 060 hands over): grant to whichever exists now.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hl_analyst') THEN
        GRANT SELECT ON reporting.board, reporting.board_large_item TO hl_analyst;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analyst') THEN
        GRANT SELECT ON reporting.board, reporting.board_large_item TO analyst;
    END IF;
END $$;

-- 053_alliance_platform: pairing (双联), party members registering with their residential
-- community, and the Shuang Lian Shuang Ying platform (双联双应): partners with their
-- webhook secrets, the inbound webhooks received (the replay guard) and the outbound
-- delivery outbox (issue 13).
--
-- Webhooks follow Standard Webhooks both ways: HMAC-SHA256 over "id.timestamp.body"
-- with a partner's secret ("whsec_" + base64 of the key), headers webhook-id,
-- webhook-timestamp and webhook-signature. A partner has at most two active secrets:
-- adding a third retires the oldest, so a secret rotates without downtime (outbound
-- deliveries carry a signature by each active secret; inbound ones may use either).
-- Secrets are readable by hl_alliance only; no reporting view reads them.

-- ---------------------------------------------------------------------------
-- Pairing: member units <-> communities, with dates
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.pairing (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit       text NOT NULL REFERENCES org.member_unit (code),
    community  text NOT NULL REFERENCES org.org_unit (code),
    starts_on  date NOT NULL,
    ends_on    date,
    note       text CHECK (char_length(note) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pairing_dates_check CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
COMMENT ON TABLE alliance.pairing IS 'Pairing (双联): a member unit paired with a community from one date to another (open-ended while ends_on is NULL). A unit may be paired with several communities; pairings of one unit with one community do not overlap.';
COMMENT ON COLUMN alliance.pairing.id IS 'Pairing id.';
COMMENT ON COLUMN alliance.pairing.unit IS 'Member unit (org.member_unit).';
COMMENT ON COLUMN alliance.pairing.community IS 'Community (org.org_unit at level community).';
COMMENT ON COLUMN alliance.pairing.starts_on IS 'First day of the pairing.';
COMMENT ON COLUMN alliance.pairing.ends_on IS 'Last day of the pairing, NULL while it lasts.';
COMMENT ON COLUMN alliance.pairing.note IS 'What the pairing covers (free text by the alliance secretariat).';
COMMENT ON COLUMN alliance.pairing.created_at IS 'When it was recorded.';
CREATE INDEX pairing_unit_idx ON alliance.pairing (unit);
CREATE INDEX pairing_community_idx ON alliance.pairing (community);

-- HL422 (unit / community) unless `p_unit` is a member unit and `p_community` a community.
CREATE FUNCTION alliance.require_unit_community(p_unit text, p_community text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM org.member_unit WHERE code = p_unit) THEN
        RAISE EXCEPTION 'no member unit has code %', p_unit USING ERRCODE = 'HL422', CONSTRAINT = 'unit';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM org.org_unit WHERE code = p_community AND level = 'community') THEN
        RAISE EXCEPTION 'no community has code %', p_community
            USING ERRCODE = 'HL422', CONSTRAINT = 'community';
    END IF;
END
$$;
COMMENT ON FUNCTION alliance.require_unit_community(text, text) IS
    'Raises HL422 naming unit or community unless both codes are known (a member unit; an org unit at level community).';

-- Records a pairing; HL422 (unit / community) for unknown codes or a community that is
-- not one, HL409 (starts_on) when it overlaps a pairing of the same unit and community.
CREATE FUNCTION alliance.pair(p_unit text, p_community text, p_starts date, p_ends date,
                              p_note text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_row alliance.pairing%ROWTYPE;
BEGIN
    PERFORM alliance.require_unit_community(p_unit, p_community);
    -- Two requests pairing the same unit at once must not both pass the overlap test.
    PERFORM pg_advisory_xact_lock(hashtext('alliance.pair:' || p_unit || ':' || p_community));
    IF EXISTS (SELECT 1 FROM alliance.pairing
                WHERE unit = p_unit AND community = p_community
                  AND daterange(starts_on, ends_on, '[]') && daterange(p_starts, p_ends, '[]')) THEN
        RAISE EXCEPTION 'unit % is paired with community % in that period already', p_unit, p_community
            USING ERRCODE = 'HL409', CONSTRAINT = 'starts_on';
    END IF;
    INSERT INTO alliance.pairing (unit, community, starts_on, ends_on, note)
    VALUES (p_unit, p_community, p_starts, p_ends, p_note) RETURNING * INTO v_row;
    RETURN jsonb_build_object('id', v_row.id, 'unit', v_row.unit, 'community', v_row.community,
                              'starts_on', v_row.starts_on, 'ends_on', v_row.ends_on,
                              'note', v_row.note);
END
$$;
COMMENT ON FUNCTION alliance.pair(text, text, date, date, text) IS
    'Pairs a member unit with a community for a period (HL422 unknown unit or community, HL409 overlap).';

-- A member unit's own community (org.member_unit.community) is its first pairing.
CREATE FUNCTION alliance.member_unit_pairing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.community IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.community IS DISTINCT FROM OLD.community)
       AND NOT EXISTS (SELECT 1 FROM alliance.pairing
                        WHERE unit = NEW.code AND community = NEW.community AND ends_on IS NULL) THEN
        INSERT INTO alliance.pairing (unit, community, starts_on, note)
        VALUES (NEW.code, NEW.community, current_date, '成员单位所属社区');
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION alliance.member_unit_pairing() IS 'Trigger function: a member unit''s community (org.member_unit.community) opens a pairing with it.';
CREATE TRIGGER member_unit_pairing AFTER INSERT OR UPDATE OF community ON org.member_unit
    FOR EACH ROW EXECUTE FUNCTION alliance.member_unit_pairing();
INSERT INTO alliance.pairing (unit, community, starts_on, note)
SELECT code, community, current_date, '成员单位所属社区' FROM org.member_unit WHERE community IS NOT NULL;

-- ---------------------------------------------------------------------------
-- In-service party members registering with their residential community
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.party_member (
    id            uuid PRIMARY KEY,
    member_no     text NOT NULL UNIQUE CHECK (member_no ~ '^[A-Za-z0-9-]{1,32}$'),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    unit          text NOT NULL REFERENCES org.member_unit (code),
    community     text NOT NULL REFERENCES org.org_unit (code),
    registered_on date NOT NULL DEFAULT current_date,
    left_on       date,
    CONSTRAINT party_member_dates_check CHECK (left_on IS NULL OR left_on >= registered_on)
);
COMMENT ON TABLE alliance.party_member IS 'In-service party members (在职党员) registering (报到) with the community they live in, named with the member unit they work for. Personal data: read by hl_alliance only; reporting shows counts.';
COMMENT ON COLUMN alliance.party_member.id IS 'Registration id.';
COMMENT ON COLUMN alliance.party_member.member_no IS 'Party membership or staff number (one registration per member).';
COMMENT ON COLUMN alliance.party_member.name IS 'Name of the party member (personal data).';
COMMENT ON COLUMN alliance.party_member.unit IS 'Member unit (org.member_unit) the member works for.';
COMMENT ON COLUMN alliance.party_member.community IS 'Residential community (org.org_unit at level community) the member registered with.';
COMMENT ON COLUMN alliance.party_member.registered_on IS 'Day of registration.';
COMMENT ON COLUMN alliance.party_member.left_on IS 'Day the registration ended (moved away, retired), NULL while active.';
CREATE INDEX party_member_community_idx ON alliance.party_member (community);
CREATE INDEX party_member_unit_idx ON alliance.party_member (unit);

-- ---------------------------------------------------------------------------
-- Platform partners and their secrets
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.partner (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    endpoint   text NOT NULL CHECK (endpoint ~ '^https?://[^[:space:]]+$' AND char_length(endpoint) <= 2000),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE alliance.partner IS 'Partners of the Shuang Lian Shuang Ying platform (双联双应): where outbound webhooks go and whose inbound webhooks are accepted (POST /v1/platform/{code}/webhooks).';
COMMENT ON COLUMN alliance.partner.code IS 'Partner code, in the inbound webhook path.';
COMMENT ON COLUMN alliance.partner.name IS 'Name of the platform or its operator.';
COMMENT ON COLUMN alliance.partner.endpoint IS 'URL outbound webhooks are POSTed to.';
COMMENT ON COLUMN alliance.partner.active IS 'false: nothing is sent and nothing accepted.';
COMMENT ON COLUMN alliance.partner.created_at IS 'When it was set up.';

CREATE TABLE alliance.partner_secret (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner    text NOT NULL REFERENCES alliance.partner (code),
    secret     text NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{22,}={0,2}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    UNIQUE (partner, secret)
);
COMMENT ON TABLE alliance.partner_secret IS 'Webhook signing secrets of a partner; at most two active (retired_at NULL) at once, so a secret rotates without downtime.';
COMMENT ON COLUMN alliance.partner_secret.id IS 'Secret id (newer is larger).';
COMMENT ON COLUMN alliance.partner_secret.partner IS 'The partner.';
COMMENT ON COLUMN alliance.partner_secret.secret IS 'whsec_ followed by the base64 of the key (at least 16 bytes).';
COMMENT ON COLUMN alliance.partner_secret.created_at IS 'When it was added.';
COMMENT ON COLUMN alliance.partner_secret.retired_at IS 'When it stopped being accepted and used; NULL while active.';

-- A third active secret retires the oldest.
CREATE FUNCTION alliance.partner_secret_rotate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE alliance.partner_secret SET retired_at = now()
     WHERE partner = NEW.partner AND retired_at IS NULL
       AND id NOT IN (SELECT id FROM alliance.partner_secret
                       WHERE partner = NEW.partner AND retired_at IS NULL
                       ORDER BY id DESC LIMIT 2);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION alliance.partner_secret_rotate() IS 'Trigger function: keeps the two newest secrets of a partner active.';
CREATE TRIGGER partner_secret_rotate AFTER INSERT ON alliance.partner_secret
    FOR EACH ROW EXECUTE FUNCTION alliance.partner_secret_rotate();

-- Sets up (or updates) a partner; for operators (psql, hlctl).
CREATE FUNCTION alliance.set_partner(p_code text, p_name text, p_endpoint text, p_secret text)
    RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO alliance.partner (code, name, endpoint) VALUES (p_code, p_name, p_endpoint)
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, endpoint = EXCLUDED.endpoint;
    IF p_secret IS NOT NULL THEN
        INSERT INTO alliance.partner_secret (partner, secret) VALUES (p_code, p_secret)
        ON CONFLICT DO NOTHING;
    END IF;
END
$$;
COMMENT ON FUNCTION alliance.set_partner(text, text, text, text) IS
    'Sets up or updates a platform partner and adds a secret (the third active one retires the oldest).';

-- ---------------------------------------------------------------------------
-- Inbound webhooks (verified) and claims
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.inbound (
    partner     text NOT NULL REFERENCES alliance.partner (code),
    webhook_id  text NOT NULL CHECK (char_length(webhook_id) BETWEEN 1 AND 128),
    sent_at     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('claim', 'progress', 'complete')),
    item_id     uuid NOT NULL REFERENCES alliance.agenda_item (item_id),
    unit        text NOT NULL REFERENCES org.member_unit (code),
    note        text CHECK (char_length(note) <= 2000),
    hours       numeric(7, 1) CHECK (hours >= 0 AND hours <= 100000),
    PRIMARY KEY (partner, webhook_id)
);
COMMENT ON TABLE alliance.inbound IS 'Verified inbound platform webhooks (unit claims, progress reports, completions), one row per webhook-id: a second delivery of an id is a replay and refused. Each became one LargeItemAction for hl-bounty.';
COMMENT ON COLUMN alliance.inbound.partner IS 'Partner that sent it.';
COMMENT ON COLUMN alliance.inbound.webhook_id IS 'The webhook-id header (also LargeItemAction.action_id).';
COMMENT ON COLUMN alliance.inbound.sent_at IS 'The webhook-timestamp header.';
COMMENT ON COLUMN alliance.inbound.received_at IS 'When it was accepted.';
COMMENT ON COLUMN alliance.inbound.kind IS 'claim, progress or complete.';
COMMENT ON COLUMN alliance.inbound.item_id IS 'The large item (alliance.agenda_item).';
COMMENT ON COLUMN alliance.inbound.unit IS 'Member unit acting.';
COMMENT ON COLUMN alliance.inbound.note IS 'Progress report or completion evidence as sent.';
COMMENT ON COLUMN alliance.inbound.hours IS 'Hours the unit reports (unit contributions), or NULL.';
CREATE INDEX inbound_item_idx ON alliance.inbound (item_id);

ALTER TABLE alliance.claim
    ADD COLUMN partner   text REFERENCES alliance.partner (code),
    ADD COLUMN action_id text;
COMMENT ON TABLE alliance.claim IS 'Member units claiming large items by function domain through the Shuang Lian Shuang Ying platform (verified inbound webhooks); hl-bounty''s board decides which claim holds.';
COMMENT ON COLUMN alliance.claim.partner IS 'Platform partner the claim came through.';
COMMENT ON COLUMN alliance.claim.action_id IS 'The webhook-id it came with.';

-- ---------------------------------------------------------------------------
-- Outbound deliveries
-- ---------------------------------------------------------------------------

CREATE TABLE alliance.delivery (
    partner      text NOT NULL REFERENCES alliance.partner (code),
    event_id     text NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 128),
    type         text NOT NULL CHECK (char_length(type) BETWEEN 1 AND 64),
    body         text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at      timestamptz NOT NULL DEFAULT now(),
    last_status  integer,
    last_error   text CHECK (char_length(last_error) <= 500),
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (partner, event_id),
    CONSTRAINT delivery_delivered_check CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
COMMENT ON TABLE alliance.delivery IS 'Outbound webhook outbox: one row per event and partner, delivered at least once (the event id is the webhook-id, so the partner drops repeats), retried with back-off, dead after HL_WEBHOOK_MAX_ATTEMPTS.';
COMMENT ON COLUMN alliance.delivery.partner IS 'Partner it goes to.';
COMMENT ON COLUMN alliance.delivery.event_id IS 'Event id, sent as webhook-id.';
COMMENT ON COLUMN alliance.delivery.type IS 'Event type: board.published, large_item.claimed, large_item.progress, large_item.resolved, meeting.held, action.refused.';
COMMENT ON COLUMN alliance.delivery.body IS 'The JSON body sent ({"type", "timestamp", "data"}).';
COMMENT ON COLUMN alliance.delivery.status IS 'pending, delivered (a 2xx answer) or dead (given up).';
COMMENT ON COLUMN alliance.delivery.attempts IS 'Attempts made.';
COMMENT ON COLUMN alliance.delivery.next_at IS 'When the next attempt is due (also the lease of an attempt in flight).';
COMMENT ON COLUMN alliance.delivery.last_status IS 'HTTP status of the last attempt, NULL when it got no answer.';
COMMENT ON COLUMN alliance.delivery.last_error IS 'Why the last attempt failed.';
COMMENT ON COLUMN alliance.delivery.created_at IS 'When the event was queued.';
COMMENT ON COLUMN alliance.delivery.delivered_at IS 'When a 2xx answer came.';
CREATE INDEX delivery_due_idx ON alliance.delivery (next_at) WHERE status = 'pending';

-- Queues event `p_id` for every active partner (once per partner).
CREATE FUNCTION alliance.enqueue_event(p_id text, p_type text, p_body text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    INSERT INTO alliance.delivery (partner, event_id, type, body)
    SELECT code, p_id, p_type, p_body FROM alliance.partner WHERE active
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION alliance.enqueue_event(text, text, text) IS 'Queues an outbound platform event for every active partner, once per event id.';

-- Takes up to p_limit due deliveries for an attempt: leases them for p_lease_s seconds
-- (another replica skips them meanwhile) and counts the attempt. Returns what the
-- sender needs, the partner's active secrets newest first.
CREATE FUNCTION alliance.take_deliveries(p_limit int, p_lease_s int)
    RETURNS TABLE (partner text, event_id text, body text, attempts int, endpoint text,
                   secrets text[])
LANGUAGE sql AS $$
    WITH due AS (
        SELECT d.partner, d.event_id FROM alliance.delivery d
         WHERE d.status = 'pending' AND d.next_at <= now()
         ORDER BY d.next_at LIMIT p_limit FOR UPDATE SKIP LOCKED),
    taken AS (
        UPDATE alliance.delivery d
           SET attempts = d.attempts + 1, next_at = now() + make_interval(secs => p_lease_s)
          FROM due WHERE d.partner = due.partner AND d.event_id = due.event_id
        RETURNING d.partner, d.event_id, d.body, d.attempts)
    SELECT t.partner, t.event_id, t.body, t.attempts, p.endpoint,
           ARRAY(SELECT s.secret FROM alliance.partner_secret s
                  WHERE s.partner = t.partner AND s.retired_at IS NULL ORDER BY s.id DESC)
      FROM taken t JOIN alliance.partner p ON p.code = t.partner
$$;
COMMENT ON FUNCTION alliance.take_deliveries(int, int) IS 'Leases due outbound deliveries for one attempt each.';

GRANT SELECT, INSERT, UPDATE ON alliance.pairing, alliance.party_member TO hl_alliance;
GRANT SELECT, UPDATE ON alliance.partner TO hl_alliance;
GRANT SELECT ON alliance.partner_secret TO hl_alliance;
GRANT SELECT, INSERT ON alliance.inbound TO hl_alliance;
GRANT SELECT, INSERT, UPDATE ON alliance.delivery TO hl_alliance;
GRANT EXECUTE ON FUNCTION alliance.pair(text, text, date, date, text),
                          alliance.enqueue_event(text, text, text),
                          alliance.take_deliveries(int, int) TO hl_alliance;

-- ---------------------------------------------------------------------------
-- Unit contributions per quarter
-- ---------------------------------------------------------------------------

-- Items taken (claimed through the platform or given as action items), items resolved
-- (by the unit, at a meeting or by its last action) and hours (reported with done
-- actions and platform progress), per member unit and quarter (Asia/Shanghai).
CREATE VIEW alliance.unit_contribution AS
WITH ev AS (
    SELECT c.unit, c.item_id, c.claimed_at AS at, 'taken' AS what, NULL::numeric AS hours
      FROM alliance.claim c
    UNION ALL
    SELECT x.unit, x.item_id, x.created_at, 'taken', NULL FROM alliance.action_item x
    UNION ALL
    SELECT a.resolved_by_unit, a.item_id, a.resolved_at, 'resolved', NULL
      FROM alliance.agenda_item a WHERE a.status = 'resolved' AND a.resolved_by_unit IS NOT NULL
    UNION ALL
    SELECT x.unit, x.item_id, x.done_at, 'hours', x.hours
      FROM alliance.action_item x WHERE x.status = 'done' AND x.hours IS NOT NULL
    UNION ALL
    SELECT i.unit, i.item_id, i.received_at, 'hours', i.hours
      FROM alliance.inbound i WHERE i.hours IS NOT NULL)
SELECT unit, date_trunc('quarter', at AT TIME ZONE 'Asia/Shanghai')::date AS quarter,
       count(DISTINCT item_id) FILTER (WHERE what = 'taken') AS items_taken,
       count(DISTINCT item_id) FILTER (WHERE what = 'resolved') AS items_resolved,
       coalesce(sum(hours) FILTER (WHERE what = 'hours'), 0)::numeric(9, 1) AS hours
  FROM ev GROUP BY unit, date_trunc('quarter', at AT TIME ZONE 'Asia/Shanghai')::date;
COMMENT ON VIEW alliance.unit_contribution IS 'What each member unit contributed per quarter (Asia/Shanghai): large items taken (platform claims, action items), resolved, and hours reported.';
GRANT SELECT ON alliance.unit_contribution TO hl_alliance;

-- Registers an in-service party member with their residential community: HL422 (unit /
-- community) for unknown codes, HL409 (member_no) when registered already.
CREATE FUNCTION alliance.register_party_member(p_id uuid, p_no text, p_name text, p_unit text,
                                               p_community text, p_on date) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alliance.require_unit_community(p_unit, p_community);
    INSERT INTO alliance.party_member (id, member_no, name, unit, community, registered_on)
    VALUES (p_id, p_no, p_name, p_unit, p_community, COALESCE(p_on, current_date))
    ON CONFLICT (member_no) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'party member % is registered already', p_no
            USING ERRCODE = 'HL409', CONSTRAINT = 'member_no';
    END IF;
    RETURN jsonb_build_object('id', p_id, 'member_no', p_no, 'unit', p_unit,
                              'community', p_community,
                              'registered_on', COALESCE(p_on, current_date));
END
$$;
COMMENT ON FUNCTION alliance.register_party_member(uuid, text, text, text, text, date) IS
    'Registers an in-service party member with their residential community (HL422 unknown unit or community, HL409 registered already).';
GRANT EXECUTE ON FUNCTION alliance.register_party_member(uuid, text, text, text, text, date) TO hl_alliance;

-- Takes a verified inbound webhook: HL409 (webhook-id) when its id was received already
-- (a replay: nothing is stored), HL404 (item_id) for an item the alliance does not
-- have, HL422 (unit) for an unknown unit, HL403 (function_domain) when the unit's
-- domains do not fit the item. A claim is also recorded in alliance.claim.
CREATE FUNCTION alliance.accept_inbound(p_partner text, p_id text, p_sent_at timestamptz,
                                        p_kind text, p_item uuid, p_unit text, p_note text,
                                        p_hours numeric) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM alliance.agenda_item WHERE item_id = p_item) THEN
        RAISE EXCEPTION 'no large item has id %', p_item USING ERRCODE = 'HL404', CONSTRAINT = 'item_id';
    END IF;
    PERFORM alliance.check_unit(p_unit, p_item, 'unit');
    INSERT INTO alliance.inbound (partner, webhook_id, sent_at, kind, item_id, unit, note, hours)
    VALUES (p_partner, p_id, p_sent_at, p_kind, p_item, p_unit, p_note, p_hours)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'webhook-id % was received already (replay)', p_id
            USING ERRCODE = 'HL409', CONSTRAINT = 'webhook-id';
    END IF;
    IF p_kind = 'claim' THEN
        INSERT INTO alliance.claim (unit, item_id, claimed_at, partner, action_id)
        VALUES (p_unit, p_item, now(), p_partner, p_id)
        ON CONFLICT DO NOTHING;
    END IF;
END
$$;
COMMENT ON FUNCTION alliance.accept_inbound(text, text, timestamptz, text, uuid, text, text, numeric) IS
    'Stores a verified inbound platform webhook once per webhook-id (HL409 replay, HL404 item, HL422 unit, HL403 function domain).';
GRANT EXECUTE ON FUNCTION alliance.accept_inbound(text, text, timestamptz, text, uuid, text, text, numeric) TO hl_alliance;

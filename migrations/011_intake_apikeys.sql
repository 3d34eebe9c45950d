-- 011_intake_apikeys: API keys for machine clients of hl-intake (the
-- external platform, Open311 aggregators). Only a key's SHA-256 is stored;
-- the key itself is shown once by `hlctl api-key create NAME`. Also what an
-- Open311 request carries beyond an appeal (address, media URL).

CREATE TABLE intake.api_key (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    key_hash     text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    rate_per_min integer CHECK (rate_per_min BETWEEN 1 AND 1000000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
COMMENT ON TABLE intake.api_key IS 'API keys of machine clients (external platform, Open311 aggregators). Revoked keys are kept for the record.';
COMMENT ON COLUMN intake.api_key.id IS 'Row id.';
COMMENT ON COLUMN intake.api_key.name IS 'Who holds the key (letters, digits, ".", "_", "-"; at most 64); also the rate-limit bucket.';
COMMENT ON COLUMN intake.api_key.key_hash IS 'SHA-256 of the key, lower-case hex; the key itself is never stored.';
COMMENT ON COLUMN intake.api_key.rate_per_min IS 'Requests per minute this key may make; NULL means HL_RATE_PER_KEY_PER_MIN.';
COMMENT ON COLUMN intake.api_key.created_at IS 'When the key was created.';
COMMENT ON COLUMN intake.api_key.revoked_at IS 'When the key was revoked (NULL while active); hl-intake stops accepting it within about 10 s.';

GRANT SELECT ON intake.api_key TO hl_intake;

CREATE TABLE intake.open311_request (
    appeal_id  uuid PRIMARY KEY REFERENCES intake.appeal (id),
    client     text NOT NULL,
    address    text CHECK (char_length(address) <= 200),
    address_id text CHECK (char_length(address_id) <= 32),
    media_url  text CHECK (char_length(media_url) <= 500)
);
COMMENT ON TABLE intake.open311_request IS 'What an Open311 POST carried beyond the appeal itself (the appeal row holds the rest; channel platform).';
COMMENT ON COLUMN intake.open311_request.appeal_id IS 'The appeal the request created.';
COMMENT ON COLUMN intake.open311_request.client IS 'Name of the API key that posted it.';
COMMENT ON COLUMN intake.open311_request.address IS 'address_string as given (a human-readable place), if any.';
COMMENT ON COLUMN intake.open311_request.address_id IS 'address_id as given (an org unit code here), if any.';
COMMENT ON COLUMN intake.open311_request.media_url IS 'media_url as given (a public URL of a photo), if any.';
GRANT SELECT, INSERT ON intake.open311_request TO hl_intake;

CREATE VIEW reporting.api_client AS
SELECT k.name, k.created_at, k.revoked_at, k.revoked_at IS NULL AS active, k.rate_per_min
  FROM intake.api_key k;
COMMENT ON VIEW reporting.api_client IS 'Machine clients that hold (or held) an API key; no key material.';
COMMENT ON COLUMN reporting.api_client.name IS 'Client name.';
COMMENT ON COLUMN reporting.api_client.created_at IS 'When its key was created.';
COMMENT ON COLUMN reporting.api_client.revoked_at IS 'When its key was revoked, if it was.';
COMMENT ON COLUMN reporting.api_client.active IS 'Whether the key is still accepted.';
COMMENT ON COLUMN reporting.api_client.rate_per_min IS 'Its own rate limit per minute (NULL: the default).';
GRANT SELECT ON reporting.api_client TO analyst;

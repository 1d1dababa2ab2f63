-- Sign-in with providers (GitHub, Google, any OpenID Connect issuer).
--
-- An account may now have no password (it signs in through its identities) and no
-- email (a provider need not give one). That it keeps at least one way to sign in
-- is kept by the code that removes one (identities::unlink), under a row lock.
ALTER TABLE users DROP CONSTRAINT users_credentials_check;
ALTER TABLE users
    ADD COLUMN display_name TEXT CHECK (display_name IS NULL OR length(display_name) <= 200),
    ADD COLUMN avatar_url   TEXT CHECK (avatar_url IS NULL OR length(avatar_url) <= 2000);

-- One account at a provider, linked to one of ours.
CREATE TABLE identities (
    id        BIGSERIAL   PRIMARY KEY,
    user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The provider's id in the server's configuration: github, google, or an OIDC name.
    provider  TEXT        NOT NULL,
    -- The provider's stable id of the account (`sub`, GitHub's numeric id).
    subject   TEXT        NOT NULL,
    email     TEXT,
    linked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider, subject),
    -- One account per provider per user: "unlink GitHub" means one thing.
    UNIQUE (user_id, provider)
);

-- Sign-ins under way: what the callback needs (PKCE verifier, nonce, who is
-- linking), found by the hash of the `state` the browser carries in a cookie.
-- Taken once; older than ten minutes, refused and swept.
CREATE TABLE sign_in_flows (
    state_hash BYTEA       PRIMARY KEY,
    provider   TEXT        NOT NULL,
    verifier   TEXT        NOT NULL,
    nonce      TEXT        NOT NULL,
    link_user  BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    made_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

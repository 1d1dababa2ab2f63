-- Accounts and guests made, by address, kept an hour for the sign-up rate limit.
CREATE TABLE signups (
    id      BIGSERIAL   PRIMARY KEY,
    kind    TEXT        NOT NULL CHECK (kind IN ('register', 'guest')),
    address TEXT        NOT NULL,
    made_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX signups_address_idx ON signups (address, kind, made_at);

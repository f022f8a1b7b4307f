-- Idempotency-Key claims and the responses they replay (service/idempotency.py): one row
-- per (caller, key); the primary key is what lets only one of concurrent requests claim it.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    token text NOT NULL,
    status integer,
    body bytea NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),  -- the claim: its lease and the key's TTL
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

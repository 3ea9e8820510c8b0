-- Outgoing e-mail, confirmed e-mail addresses, one-time account tokens (issue 13, 1-3).

-- The mail outbox, a leased queue like deliveries (storage/queue.py): the whole message
-- is built when it is queued (in the caller's transaction), so a worker only sends it.
-- queued -> sent | failed (after the last retry). A sent row keeps no message body.
CREATE TABLE mail_outbox (
    id bigserial PRIMARY KEY,
    recipient text NOT NULL,
    subject text NOT NULL,
    message bytea,                 -- the RFC 5322 message; NULL once sent
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    claimed_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX mail_outbox_claimed ON mail_outbox (claimed_by)
    WHERE claimed_by IS NOT NULL AND state = 'queued';
CREATE INDEX mail_outbox_recipient ON mail_outbox (lower(recipient));

-- When the account's e-mail address was confirmed; NULL: not yet (the API shows the
-- status "unconfirmed"). Accounts that exist already count as confirmed.
ALTER TABLE accounts ADD COLUMN email_confirmed_at timestamptz;
UPDATE accounts SET email_confirmed_at = created_at;

-- Tokens sent by mail: confirming an address, resetting a password. Only the SHA-256 of
-- the token is stored; a token works once (used_at) and until expires_at.
CREATE TABLE account_tokens (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password')),
    token_hash bytea NOT NULL UNIQUE,
    email text NOT NULL,           -- the address the token was sent to (and confirms)
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose);

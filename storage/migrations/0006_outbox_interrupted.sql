-- A send a crash interrupted may have reached Telegram already (no idempotency key there): when it is
-- sent again, the message says so, so that a possible second copy explains itself.
ALTER TABLE duty_outbox ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;

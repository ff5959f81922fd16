-- Duties, issue #13: managers get one message a day, files sent without a button find their duty.

-- What managers are to be told, one row per fact: a duty overdue past its escalation moment, a
-- reminder that could not reach one of its recipients, a duty whose reminders can reach nobody.
-- Each manager's waiting facts go out together in one daily digest (``digest`` = the key of the
-- outbox row that carries it; NULL while it waits), so 200 overdue sites make one message, not 200.
-- The unique key makes each fact told once per duty, whatever happens around it.
CREATE TABLE duty_alerts (
    id         INTEGER PRIMARY KEY,
    duty_id    INTEGER NOT NULL REFERENCES duties(id),
    chat_id    INTEGER NOT NULL,                -- the manager (or admin) told
    kind       TEXT NOT NULL CHECK (kind IN ('escalation', 'unreachable', 'nobody')),
    about      INTEGER NOT NULL DEFAULT 0,      -- unreachable: the chat not reached; 0 otherwise
    reason     TEXT,                            -- unreachable: blocked | not_started | removed | failed
    digest     TEXT,                            -- key of the digest part that carries it
    created_at TEXT NOT NULL,
    UNIQUE (duty_id, chat_id, kind, about)
);
CREATE INDEX duty_alerts_waiting ON duty_alerts (chat_id, id) WHERE digest IS NULL;
CREATE INDEX duty_alerts_digest ON duty_alerts (digest);

-- The outbox carries the digests too: a digest belongs to no single duty, so duty_id may be NULL,
-- and a long one is cut into parts (each its own row, sent and recorded on its own) at planning.
-- SQLite cannot change a CHECK or a NOT NULL in place: the table is copied.
CREATE TABLE duty_outbox_new (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,            -- ... and digest:<chat>:<local day>:<part>
    duty_id     INTEGER REFERENCES duties(id),   -- NULL for a digest
    kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'escalation', 'unreachable', 'digest')),
    chat_id     INTEGER NOT NULL,
    round       INTEGER NOT NULL DEFAULT 0,      -- reminder: its round; digest: its part, from 1
    about       INTEGER,
    day         TEXT,                            -- digest: the local day it is for
    parts       INTEGER,                         -- digest: how many parts that day's digest has
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    message_id  INTEGER,
    error       TEXT,
    created_at  TEXT NOT NULL,
    claimed_at  TEXT,
    sent_at     TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0
);
INSERT INTO duty_outbox_new (id, key, duty_id, kind, chat_id, round, about, status, attempts, message_id, error,
                             created_at, claimed_at, sent_at, interrupted)
    SELECT id, key, duty_id, kind, chat_id, round, about, status, attempts, message_id, error,
           created_at, claimed_at, sent_at, interrupted
    FROM duty_outbox;
-- Escalations and unreachable notices not sent yet become facts of the next digest: none is lost.
INSERT OR IGNORE INTO duty_alerts (duty_id, chat_id, kind, about, created_at)
    SELECT duty_id, chat_id, kind, COALESCE(about, 0), created_at FROM duty_outbox_new
    WHERE status IN ('pending', 'sending') AND kind IN ('escalation', 'unreachable');
UPDATE duty_outbox_new SET status = 'skipped', error = 'moved to the daily digest'
    WHERE status IN ('pending', 'sending') AND kind IN ('escalation', 'unreachable');
DROP TABLE duty_outbox;
ALTER TABLE duty_outbox_new RENAME TO duty_outbox;
CREATE INDEX duty_outbox_status ON duty_outbox (status, id);
CREATE INDEX duty_outbox_duty ON duty_outbox (duty_id);
-- A reply to a reminder names its duty: the message a person replied to, found by chat and id.
CREATE INDEX duty_outbox_message ON duty_outbox (chat_id, message_id) WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX duty_outbox_digest_day ON duty_outbox (chat_id, day, round) WHERE kind = 'digest';

-- Other messages about one duty that a person may reply to (a /mytasks card, an upload prompt, a
-- confirmation): a reply with a file or a text then goes to that duty.
CREATE TABLE duty_messages (
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    duty_id    INTEGER NOT NULL REFERENCES duties(id),
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;

-- A file sent while the person has several open duties and no reply says which: kept here (bytes
-- already in the file store, by sha256) until a button ``da:<duty>:<batch>`` files it. ``batch`` is
-- the id of its first file; the pictures of one album share it.
CREATE TABLE duty_pending_files (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    batch          INTEGER NOT NULL DEFAULT 0,
    media_group_id TEXT,
    kind           TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    file_name      TEXT,
    mime_type      TEXT,
    size           INTEGER,
    sha256         TEXT,
    caption        TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX duty_pending_files_batch ON duty_pending_files (user_id, batch);
CREATE INDEX duty_pending_files_album ON duty_pending_files (user_id, media_group_id) WHERE media_group_id IS NOT NULL;

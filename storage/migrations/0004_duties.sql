-- Periodic duties: one row per (rule, site, period), their evidence, and an outbox of every send.
-- The rules themselves live in the config; these rows are the schedule, recomputed at start.

-- When the engine first saw each rule: a rule (or a site) starts with the first period whose first
-- reminder comes after that, so a new install does not fire a quarter's overdue reminders at once.
CREATE TABLE duty_rules (
    rule_id       TEXT PRIMARY KEY,
    first_seen_at TEXT NOT NULL
);

CREATE TABLE duties (
    id             INTEGER PRIMARY KEY,
    rule_id        TEXT NOT NULL,
    site_id        INTEGER NOT NULL REFERENCES sites(id),
    period         TEXT NOT NULL,               -- 2026-Q2, 2026-05, 2026-H1, 2026, or a cron day 2026-05-04
    period_start   TEXT NOT NULL,               -- local date, inclusive
    period_end     TEXT NOT NULL,               -- local date, exclusive
    remind_at      TEXT NOT NULL,               -- first reminder (UTC)
    due_date       TEXT NOT NULL,               -- local date, last day to do it
    due_at         TEXT NOT NULL,               -- overdue from this moment (UTC)
    escalate_at    TEXT,                        -- managers are told from this moment if still open (UTC)
    -- open, done or na (not applicable). "overdue" and "escalated" are open duties past due_at /
    -- with escalated_at set: derived from the clock, so they can never disagree with it.
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'na')),
    next_remind_at TEXT,                        -- next reminder or follow-up (UTC); NULL: none planned
    rounds         INTEGER NOT NULL DEFAULT 0,  -- reminder rounds planned so far
    escalated_at   TEXT,
    done_by        INTEGER REFERENCES users(id),
    done_at        TEXT,
    note           TEXT,                        -- texts sent while uploading evidence
    na_reason      TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (rule_id, site_id, period)
);
CREATE INDEX duties_next_remind ON duties (status, next_remind_at);
CREATE INDEX duties_escalate ON duties (status, escalate_at) WHERE escalated_at IS NULL;
CREATE INDEX duties_site ON duties (site_id, rule_id, remind_at);
CREATE INDEX duties_due ON duties (status, due_at);

-- Report files and photos sent as evidence. Telegram's file_id re-sends them; the bytes are kept
-- in BOT_DATA_DIR/files/<sha256[:2]>/<sha256> as well.
CREATE TABLE duty_evidence (
    id             INTEGER PRIMARY KEY,
    duty_id        INTEGER NOT NULL REFERENCES duties(id),
    kind           TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    file_name      TEXT,
    mime_type      TEXT,
    size           INTEGER,
    sha256         TEXT,
    caption        TEXT,
    sent_by        INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL,
    UNIQUE (duty_id, file_unique_id)
);

-- Every message the duty engine sends, recorded under a unique key BEFORE it is sent:
--   reminder:<duty>:<chat>:<round>   escalation:<duty>:<chat>   unreachable:<duty>:<whom>:<chat>
-- pending -> sending (claimed by one sender) -> sent | blocked (403) | failed | skipped (duty closed).
-- A row left 'sending' by a crash is sent again at start: see bot/flows/duties/answers.py on why.
CREATE TABLE duty_outbox (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    duty_id    INTEGER NOT NULL REFERENCES duties(id),
    kind       TEXT NOT NULL CHECK (kind IN ('reminder', 'escalation', 'unreachable')),
    chat_id    INTEGER NOT NULL,
    round      INTEGER NOT NULL DEFAULT 0,
    about      INTEGER,                         -- unreachable: the chat that could not be reached
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'skipped')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    message_id INTEGER,
    error      TEXT,
    created_at TEXT NOT NULL,
    claimed_at TEXT,
    sent_at    TEXT
);
CREATE INDEX duty_outbox_status ON duty_outbox (status, id);
CREATE INDEX duty_outbox_duty ON duty_outbox (duty_id);

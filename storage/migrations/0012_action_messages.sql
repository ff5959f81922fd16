-- What corrective actions tell people (issue #15): the site's 整改通知单, a verifier's batch of
-- proof to check, the result to whoever sent the proof, overdue follow-ups and managers' escalations.

-- One row per thing to tell, written in the same transaction as the change that causes it (a
-- submitted inspection, proof submitted, passed or returned) or by the engine's tick (an action
-- past its due date). Unique per action, kind and round, so each is told once whatever happens.
CREATE TABLE action_alerts (
    id          INTEGER PRIMARY KEY,
    action_id   INTEGER NOT NULL REFERENCES actions(id),
    kind        TEXT NOT NULL
                CHECK (kind IN ('notice', 'review', 'returned', 'closed', 'overdue', 'escalation')),
    round       INTEGER NOT NULL,               -- the action's round; overdue: the follow-up's number
    actor_id    INTEGER,                        -- who caused it: never told of their own act
    planned_at  TEXT,                           -- its recipients were chosen (NULL: at the next tick)
    created_at  TEXT NOT NULL,
    UNIQUE (action_id, kind, round)
);
CREATE INDEX action_alerts_waiting ON action_alerts (id) WHERE planned_at IS NULL;

-- Each recipient of an alert. The alerts waiting for one chat go out together as one message (an
-- outbox row, ``message`` = its key): one notice per inspection, one batch of proof per verifier,
-- one escalation message per manager per day.
CREATE TABLE action_recipients (
    alert_id    INTEGER NOT NULL REFERENCES action_alerts(id),
    chat_id     INTEGER NOT NULL,
    message     TEXT,                           -- key of the outbox row that carries it; NULL: waiting
    PRIMARY KEY (alert_id, chat_id)
) WITHOUT ROWID;
CREATE INDEX action_recipients_waiting ON action_recipients (chat_id) WHERE message IS NULL;
CREATE INDEX action_recipients_message ON action_recipients (message);

-- The outbox carries these messages too (kinds action_notice, action_review, ...): its kind CHECK
-- goes, the code names the kinds (bot/flows/duties/views.py NoticeKind). SQLite cannot drop a
-- CHECK in place: the table is copied, as in 0008.
CREATE TABLE duty_outbox_new (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    duty_id     INTEGER REFERENCES duties(id),   -- NULL for a digest or an action message
    kind        TEXT NOT NULL,
    chat_id     INTEGER NOT NULL,
    round       INTEGER NOT NULL DEFAULT 0,
    about       INTEGER,
    day         TEXT,
    parts       INTEGER,
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
INSERT INTO duty_outbox_new SELECT id, key, duty_id, kind, chat_id, round, about, day, parts, status, attempts,
    message_id, error, created_at, claimed_at, sent_at, interrupted FROM duty_outbox;
DROP TABLE duty_outbox;
ALTER TABLE duty_outbox_new RENAME TO duty_outbox;
CREATE INDEX duty_outbox_status ON duty_outbox (status, id);
CREATE INDEX duty_outbox_duty ON duty_outbox (duty_id);
CREATE INDEX duty_outbox_message ON duty_outbox (chat_id, message_id) WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX duty_outbox_digest_day ON duty_outbox (chat_id, day, round) WHERE kind = 'digest';
-- An escalation message per manager per day.
CREATE UNIQUE INDEX duty_outbox_action_day ON duty_outbox (chat_id, day) WHERE kind = 'action_escalation';

-- When an open action past its due date next gets a follow-up, how many it got, and when its
-- managers are told (local dates, computed with the working-day calendar when the action is created
-- or its due date changes; NULL: nothing more planned).
ALTER TABLE actions ADD COLUMN follow_up_on TEXT;
ALTER TABLE actions ADD COLUMN follow_ups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE actions ADD COLUMN escalate_on TEXT;
-- A repeat finding (重复问题): the clause was also below 符合 at the site's previous inspection (its id).
ALTER TABLE actions ADD COLUMN repeat_of INTEGER REFERENCES inspections(id);
-- Actions from before this version: calendar days stand in for working days, once.
UPDATE actions SET follow_up_on = date(due_date, '+1 day'), escalate_on = date(due_date, '+3 day')
    WHERE status IN ('open', 'submitted');
CREATE INDEX actions_follow_up ON actions (follow_up_on) WHERE status = 'open';
CREATE INDEX actions_escalate ON actions (escalate_on) WHERE status = 'open';

-- The 复查 section of the next visit: when an inspection of a site begins, each action of the site
-- still open, or closed since the site's last visit, is to be re-checked on site. The outcome:
-- fixed (已整改; an open action is closed), not_fixed (未整改; a closed one opens again), recurred
-- (整改后复发: fixed, but back) or skipped; NULL while undecided.
CREATE TABLE action_rechecks (
    inspection_id INTEGER NOT NULL REFERENCES inspections(id),
    action_id     INTEGER NOT NULL REFERENCES actions(id),
    outcome       TEXT CHECK (outcome IN ('fixed', 'not_fixed', 'recurred', 'skipped')),
    decided_at    TEXT,
    PRIMARY KEY (inspection_id, action_id)
) WITHOUT ROWID;
-- Visits that found the action not fixed (or back): it counts as a repeat finding (重复问题).
ALTER TABLE actions ADD COLUMN found_again INTEGER NOT NULL DEFAULT 0;

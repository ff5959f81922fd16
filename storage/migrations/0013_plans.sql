-- Inspection plans (督导计划, issue #17): how often each site is inspected and by whom, the planned
-- visits period by period, and the reminders and escalations about them.

-- A plan for one site, or for every site of a region (site_id NULL). A site without one follows its
-- region's, else ``[plans] frequency``. ``inspector_id`` NULL: any inspector of the site.
CREATE TABLE plans (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER REFERENCES sites(id),
    region       TEXT,
    frequency    TEXT,                        -- monthly | quarterly | half-yearly | yearly | a cron expression; NULL: inherited
    inspector_id INTEGER REFERENCES users(id),
    updated_by   INTEGER,
    updated_at   TEXT NOT NULL,
    CHECK ((site_id IS NULL) <> (region IS NULL))
);
CREATE UNIQUE INDEX plans_site ON plans (site_id) WHERE site_id IS NOT NULL;
CREATE UNIQUE INDEX plans_region ON plans (region) WHERE region IS NOT NULL;

-- One planned visit per site and period, created when its period begins with the frequency in force
-- then (a change of plan applies from the next period). Its outcome (done on time, done late,
-- missed, not required) is not stored: it is computed from the site's submitted inspections, so a
-- reopened and resubmitted inspection can never leave it stale. What is stored is what was DONE
-- about it: the nudge, the escalation, a manager's waiver.
CREATE TABLE plan_visits (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites(id),
    period       TEXT NOT NULL,               -- 2026-Q2, 2026-05, 2026-H1, 2026, or a cron period's first day
    frequency    TEXT NOT NULL,
    period_start TEXT NOT NULL,               -- local date, inclusive
    period_end   TEXT NOT NULL,               -- local date, exclusive
    due_date     TEXT NOT NULL,               -- local date: done on or before it is on time
    closes_on    TEXT NOT NULL,               -- local date: the last day a visit still counts (late)
    inspector_id INTEGER REFERENCES users(id),  -- NULL: any inspector of the site
    on_watch     INTEGER NOT NULL DEFAULT 0,  -- the watch rule raised the frequency for this period
    nudged_at    TEXT,
    closed_at    TEXT,                        -- its window was over and its outcome settled (UTC)
    escalated_at TEXT,                        -- ... and, missed, its managers were told
    archived     INTEGER NOT NULL DEFAULT 0,  -- ... the site was archived then: not required for good
    waived_reason TEXT,                       -- not required, with a manager's reason
    waived_by    INTEGER,
    waived_at    TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (site_id, period_start)
);
CREATE INDEX plan_visits_dates ON plan_visits (period_start, closes_on);
CREATE INDEX plan_visits_open ON plan_visits (closes_on) WHERE closed_at IS NULL;
CREATE INDEX plan_visits_site ON plan_visits (site_id, period_start);

-- A missed visit as a fact for a manager; each manager's waiting facts go out in one message a day
-- (``digest`` = the key of the outbox row that carries it), as the duties' facts do.
CREATE TABLE plan_alerts (
    id         INTEGER PRIMARY KEY,
    visit_id   INTEGER NOT NULL REFERENCES plan_visits(id),
    chat_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('missed')),
    digest     TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (visit_id, chat_id, kind)
);
CREATE INDEX plan_alerts_waiting ON plan_alerts (chat_id, id) WHERE digest IS NULL;
CREATE INDEX plan_alerts_digest ON plan_alerts (digest);

-- The duty engine's outbox carries the plans' messages too (same sender, pacing, at-least-once):
--   plan_week:<chat>:<week>        an inspector's visits due this week (on the week's first working day)
--   plan_nudge:<visit>:<chat>      a visit due in [plans] nudge_days working days
--   plan_digest:<chat>:<day>:<part>  a manager's missed visits of the day
-- Each row names the visit it is about (visit_id); SQLite adds a foreign key only with the table, so
-- it is copied, as in 0008 and 0012.
CREATE TABLE duty_outbox_new (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    duty_id     INTEGER REFERENCES duties(id),
    visit_id    INTEGER REFERENCES plan_visits(id),
    kind        TEXT NOT NULL,                   -- named in code since 0012 (NoticeKind)
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
INSERT INTO duty_outbox_new (id, key, duty_id, kind, chat_id, round, about, day, parts, status, attempts, message_id,
                             error, created_at, claimed_at, sent_at, interrupted)
    SELECT id, key, duty_id, kind, chat_id, round, about, day, parts, status, attempts, message_id,
           error, created_at, claimed_at, sent_at, interrupted
    FROM duty_outbox;
DROP TABLE duty_outbox;
ALTER TABLE duty_outbox_new RENAME TO duty_outbox;
CREATE INDEX duty_outbox_status ON duty_outbox (status, id);
CREATE INDEX duty_outbox_duty ON duty_outbox (duty_id);
CREATE INDEX duty_outbox_message ON duty_outbox (chat_id, message_id) WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX duty_outbox_digest_day ON duty_outbox (chat_id, day, round) WHERE kind = 'digest';
CREATE UNIQUE INDEX duty_outbox_plan_digest_day ON duty_outbox (chat_id, day, round) WHERE kind = 'plan_digest';
CREATE UNIQUE INDEX duty_outbox_action_day ON duty_outbox (chat_id, day) WHERE kind = 'action_escalation';

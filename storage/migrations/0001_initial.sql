-- People, sites, roles and the audit log: what every feature checks access against.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,          -- Telegram user id
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT,
    username      TEXT,
    tg_language   TEXT,                         -- Telegram's language_code as last seen
    language      TEXT,                         -- chosen with /lang; NULL follows tg_language
    active        INTEGER NOT NULL DEFAULT 1,   -- 0 = deactivated: history kept, may not act
    unreachable_at TEXT,                        -- set when a send answered 403 (blocked the bot)
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE sites (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    region        TEXT,
    group_chat_id INTEGER UNIQUE,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

-- A person may hold several roles; staff and inspectors are tied to sites, managers to regions
-- (NULL site and region = everywhere).
CREATE TABLE user_roles (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    role       TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'inspector', 'staff')),
    site_id    INTEGER REFERENCES sites(id),
    region     TEXT,
    granted_by INTEGER,
    granted_at TEXT NOT NULL
);
CREATE UNIQUE INDEX user_roles_unique ON user_roles (user_id, role, IFNULL(site_id, 0), IFNULL(region, ''));
CREATE INDEX user_roles_site ON user_roles (site_id, role);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER,
    action   TEXT NOT NULL,
    target   TEXT,
    detail   TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- What a person's next free text means when a feature asked for it (a site search, a reason...).
-- Kept in the database so it survives a restart like everything else.
CREATE TABLE pending_inputs (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id),
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

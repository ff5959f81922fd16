"""Settings: a TOML file (``BOT_CONFIG``) with environment variables on top.

Every key is documented in ``config/example.toml``. Invalid settings raise :class:`ConfigError`
whose message is one line naming the key and what is wrong, so ``python -m bot run`` can print
it and exit instead of failing later in some handler.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.duties import DutySettings, parse_anchor, parse_duty_settings
from config.languages import LANGUAGES
from config.plans import PlanSettings, parse_frequency

DEFAULT_CONFIG_PATH = Path("config/local.toml")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class WebhookSettings:
    enabled: bool = False
    url: str = ""
    # Loopback: a reverse proxy (nginx, Caddy) terminates TLS in front; in a container, listen on 0.0.0.0
    # and publish the port on the host's loopback only (docs/deploy.md).
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"
    secret_token: str = ""


@dataclass(frozen=True)
class MetricsSettings:
    """The Prometheus endpoint (/metrics, with /healthz beside it): off by default, on loopback."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = 9108


@dataclass(frozen=True)
class InspectionSettings:
    max_photo_mb: int = 10
    allow_partial_submit: bool = False
    allow_skip_evidence: bool = True


@dataclass(frozen=True)
class AccessSettings:
    invite_ttl_days: int = 7
    notify_admins_of_requests: bool = False


@dataclass(frozen=True)
class DigestSettings:
    """The managers' weekly digest: sent on ``day`` (0 = Monday) at ``at`` in the configured zone."""

    enabled: bool = True
    day: int = 0
    at: time = time(9, 0)


@dataclass(frozen=True)
class ActionSettings:
    """Corrective actions: working days a site has to fix a finding, by severity. A 不符合 and any
    finding on a veto clause are serious (严重), a 基本符合 general (一般) unless ``partial_severity``
    says serious."""

    serious_days: int = 3
    general_days: int = 7
    partial_severity: str = "general"
    # While an action is overdue, its site's staff are reminded every ``follow_up_days`` working
    # days; its managers are told once, ``escalate_days`` working days after the due date.
    follow_up_days: int = 2
    escalate_days: int = 3
    # An extension (申请延期) may move the due date at most this many working days later.
    max_extension_days: int = 30
    # 当场整改: in review an inspector may mark a finding fixed on the spot (reason, optional photo);
    # its action is created closed at submit.
    on_the_spot: bool = True
    # Points taken off an inspection's score per repeat finding (below 符合 at the previous visit
    # too); 0 = off. Shown as its own line wherever the score is.
    repeat_deduction: float = 0.0


@dataclass(frozen=True)
class ReportSettings:
    # Also send the full inspection report as PDF when headless Chromium is installed.
    pdf: bool = True


@dataclass(frozen=True)
class BackupSettings:
    """Online backups taken by the running bot: every ``every_hours``, the newest ``keep`` kept, in
    ``dir`` (None: ``<data_dir>/backups``), evidence files copied incrementally into ``<dir>/files``."""

    enabled: bool = True
    every_hours: int = 24
    keep: int = 14
    dir: Path | None = None


@dataclass(frozen=True)
class Settings:
    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    api_file_url: str = "https://api.telegram.org/file/bot"
    data_dir: Path = Path("data")
    admin_ids: frozenset[int] = frozenset()
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh-hans"
    log_level: str = "INFO"
    # "text" (one line per record) or "json" (one JSON object per line); both carry the request id.
    log_format: str = "text"
    polling_timeout: int = 30
    # Telegram's overall send limit; raise it only for a self-hosted Bot API server or paid broadcasts.
    max_messages_per_second: int = 30
    # Share of that budget broadcasts (reminders, notices, digests) may use; the rest stays free for
    # people's own taps and replies, which never wait behind a broadcast.
    broadcast_percent: int = 80
    default_edition: int = 2
    rubric_dirs: tuple[Path, ...] = ()
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    inspection: InspectionSettings = field(default_factory=InspectionSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    duties: DutySettings = field(default_factory=DutySettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    plans: PlanSettings = field(default_factory=PlanSettings)
    config_path: Path | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @property
    def backup_dir(self) -> Path:
        return self.backup.dir or self.data_dir / "backups"

    @property
    def lock_path(self) -> Path:
        """Held (flock) by the running bot; ``restore`` refuses while another process holds it."""
        return self.data_dir / "bot.lock"


# (section, key) -> (attribute path, converter). The converter raises ValueError with a reason.
def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value.strip()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
        "0",
        "false",
        "no",
        "off",
    }:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    raise ValueError("must be true or false")


def _int_between(low: int, high: int):
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return convert


def _url(value: Any) -> str:
    text = _str(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"must start with http:// or https:// (got {text!r})")
    return text


def _admin_ids(value: Any) -> frozenset[int]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("must be a list of Telegram user ids")
    ids: set[int] = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if not text.lstrip("-").isdigit() or int(text) <= 0:
            raise ValueError(f"{text!r} is not a Telegram user id (a positive number)")
        ids.add(int(text))
    return frozenset(ids)


def _timezone(value: Any) -> str:
    name = _str(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from None
    return name


def _language(value: Any) -> str:
    text = _str(value).lower()
    if text not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return text


def _log_level(value: Any) -> str:
    text = _str(value).upper()
    if text not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return text


def _log_format(value: Any) -> str:
    text = _str(value).lower()
    if text not in {"text", "json"}:
        raise ValueError("must be text or json")
    return text


def _path(value: Any) -> Path:
    text = _str(value)
    if not text:
        raise ValueError("must not be empty")
    return Path(text).expanduser()


def _optional_path(value: Any) -> Path | None:
    text = _str(value)
    return Path(text).expanduser() if text else None


def _paths(value: Any) -> tuple[Path, ...]:
    items = value.split(os.pathsep) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("must be a list of folders")
    return tuple(_path(item) for item in items if str(item).strip())


def _webhook_path(value: Any) -> str:
    text = _str(value).strip("/")
    if not text or not all(ch.isalnum() or ch in "-_" for ch in text):
        raise ValueError("must be letters, digits, - or _")
    return text


def _secret(value: Any) -> str:
    text = _str(value)
    # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and -.
    if text and (len(text) > 256 or not all(ch.isalnum() or ch in "-_" for ch in text)):
        raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ or -")
    return text


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(value: Any) -> int:
    text = str(value).strip().lower()
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text) - 1
    for index, name in enumerate(_WEEKDAYS):
        if text in (name, name[:3]):
            return index
    raise ValueError("must be a day of the week: monday..sunday, or 1-7 (1 = Monday)")


def _clock_time(value: Any) -> time:
    if isinstance(value, time):  # TOML's own local time, e.g. time = 09:00:00
        return value.replace(second=0, microsecond=0)
    text = _str(value)
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError("must be a time of day as HH:MM, e.g. 09:00")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError("must be a time of day between 00:00 and 23:59")
    return time(int(hours), int(minutes))


def _severity(value: Any) -> str:
    text = _str(value).lower()
    if text not in ("serious", "general"):
        raise ValueError("must be serious or general")
    return text


def _points(value: Any) -> float:
    """Score points, 0 to 100 (0 turns the deduction off)."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError("must be a number") from None
    if not 0.0 <= number <= 100.0:
        raise ValueError("must be between 0 and 100")
    return number


def _frequency(value: Any):
    return parse_frequency(_str(value))


def _anchor(value: Any):
    return parse_anchor(_str(value))


def _grades(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError('must be a list of grade labels, e.g. ["不合格"]')
    return tuple(str(item).strip() for item in items if str(item).strip())


# Each setting: TOML (section, key), its environment variable (or None), target field, converter.
_SETTINGS: tuple[tuple[str, str, str | None, str, Any], ...] = (
    ("bot", "token", "BOT_TOKEN", "token", _str),
    ("bot", "api_base_url", "BOT_API_BASE_URL", "api_base_url", _url),
    ("bot", "api_file_url", "BOT_API_FILE_URL", "api_file_url", _url),
    ("bot", "data_dir", "BOT_DATA_DIR", "data_dir", _path),
    ("bot", "admin_ids", "BOT_ADMIN_IDS", "admin_ids", _admin_ids),
    ("bot", "timezone", "BOT_TIMEZONE", "timezone", _timezone),
    ("bot", "default_language", "BOT_DEFAULT_LANGUAGE", "default_language", _language),
    ("bot", "log_level", "BOT_LOG_LEVEL", "log_level", _log_level),
    ("bot", "log_format", "BOT_LOG_FORMAT", "log_format", _log_format),
    ("polling", "timeout", None, "polling_timeout", _int_between(1, 50)),
    (
        "bot",
        "max_messages_per_second",
        "BOT_MAX_MESSAGES_PER_SECOND",
        "max_messages_per_second",
        _int_between(1, 100000),
    ),
    ("bot", "broadcast_percent", "BOT_BROADCAST_PERCENT", "broadcast_percent", _int_between(10, 100)),
    ("rubric", "default_edition", "BOT_DEFAULT_EDITION", "default_edition", _int_between(1, 999)),
    ("rubric", "extra_dirs", None, "rubric_dirs", _paths),
    ("webhook", "enabled", "BOT_WEBHOOK_ENABLED", "webhook.enabled", _bool),
    ("webhook", "url", "BOT_WEBHOOK_URL", "webhook.url", _str),
    ("webhook", "listen", "BOT_WEBHOOK_LISTEN", "webhook.listen", _str),
    ("webhook", "port", "BOT_WEBHOOK_PORT", "webhook.port", _int_between(1, 65535)),
    ("webhook", "path", None, "webhook.path", _webhook_path),
    ("webhook", "secret_token", "BOT_WEBHOOK_SECRET", "webhook.secret_token", _secret),
    ("metrics", "enabled", "BOT_METRICS_ENABLED", "metrics.enabled", _bool),
    ("metrics", "listen", None, "metrics.listen", _str),
    ("metrics", "port", "BOT_METRICS_PORT", "metrics.port", _int_between(1, 65535)),
    ("inspection", "max_photo_mb", None, "inspection.max_photo_mb", _int_between(1, 20)),
    ("inspection", "allow_partial_submit", None, "inspection.allow_partial_submit", _bool),
    ("inspection", "allow_skip_evidence", None, "inspection.allow_skip_evidence", _bool),
    ("access", "invite_ttl_days", None, "access.invite_ttl_days", _int_between(1, 365)),
    ("access", "notify_admins_of_requests", None, "access.notify_admins_of_requests", _bool),
    ("digest", "enabled", None, "digest.enabled", _bool),
    ("digest", "day", None, "digest.day", _weekday),
    ("digest", "time", None, "digest.at", _clock_time),
    ("reports", "pdf", None, "reports.pdf", _bool),
    ("actions", "serious_days", None, "actions.serious_days", _int_between(1, 60)),
    ("actions", "general_days", None, "actions.general_days", _int_between(1, 60)),
    ("actions", "partial_severity", None, "actions.partial_severity", _severity),
    ("actions", "follow_up_days", None, "actions.follow_up_days", _int_between(1, 30)),
    ("actions", "escalate_days", None, "actions.escalate_days", _int_between(1, 60)),
    ("actions", "max_extension_days", None, "actions.max_extension_days", _int_between(1, 250)),
    ("actions", "on_the_spot", None, "actions.on_the_spot", _bool),
    ("actions", "repeat_deduction", None, "actions.repeat_deduction", _points),
    ("backup", "enabled", None, "backup.enabled", _bool),
    ("backup", "every_hours", None, "backup.every_hours", _int_between(1, 168)),
    ("backup", "keep", None, "backup.keep", _int_between(1, 365)),
    ("backup", "dir", "BOT_BACKUP_DIR", "backup.dir", _optional_path),
    ("plans", "enabled", None, "plans.enabled", _bool),
    ("plans", "frequency", None, "plans.frequency", _frequency),
    ("plans", "due", None, "plans.due", _anchor),
    ("plans", "grace_days", None, "plans.grace_days", _int_between(0, 90)),
    ("plans", "nudge_days", None, "plans.nudge_days", _int_between(0, 60)),
    ("plans", "time", None, "plans.at", _clock_time),
    ("plans", "weekly_list", None, "plans.weekly_list", _bool),
    ("plans", "watch_grades", None, "plans.watch_grades", _grades),
    ("plans", "watch_frequency", None, "plans.watch_frequency", _frequency),
)


def load_settings(env: Mapping[str, str] | None = None, config_path: Path | None = None) -> Settings:
    """Read the TOML file (``BOT_CONFIG``, else ``config/local.toml`` if present), then env overrides."""
    env = os.environ if env is None else env
    path = config_path or (Path(env["BOT_CONFIG"]) if env.get("BOT_CONFIG") else None)
    if path is None and DEFAULT_CONFIG_PATH.is_file():
        path = DEFAULT_CONFIG_PATH
    document = _read_toml(path) if path else {}
    _reject_unknown_keys(document)

    values: dict[str, Any] = {}
    for section, key, env_name, target, convert in _SETTINGS:
        raw = document.get(section, {}).get(key)
        name = f"[{section}] {key}"
        if env_name and env.get(env_name, "").strip():
            raw, name = env[env_name], env_name
        if raw is None:
            continue
        try:
            values[target] = convert(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None

    settings = _absolute_paths(_build(values, path))
    try:
        # [duties] holds tables of rules, so it has its own parser (config/duties.py).
        settings = replace(settings, duties=parse_duty_settings(document.get("duties")))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    _check_consistency(settings)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"BOT_CONFIG: file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"BOT_CONFIG: {path} is not valid TOML ({exc})") from None


def _reject_unknown_keys(document: dict[str, Any]) -> None:
    known: dict[str, set[str]] = {}
    for section, key, *_ in _SETTINGS:
        known.setdefault(section, set()).add(key)
    for section, body in document.items():
        if section == "duties":
            continue  # checked by parse_duty_settings
        if section not in known:
            raise ConfigError(f"[{section}]: unknown section (known: {', '.join(sorted(known))})")
        if not isinstance(body, dict):
            raise ConfigError(f"[{section}]: must be a table")
        for key in body:
            if key not in known[section]:
                raise ConfigError(f"[{section}] {key}: unknown key (known: {', '.join(sorted(known[section]))})")


def _build(values: dict[str, Any], path: Path | None) -> Settings:
    nested: dict[str, dict[str, Any]] = {
        "webhook": {},
        "metrics": {},
        "inspection": {},
        "access": {},
        "digest": {},
        "reports": {},
        "actions": {},
        "backup": {},
        "plans": {},
    }
    flat: dict[str, Any] = {}
    for target, value in values.items():
        group, _, name = target.partition(".")
        if name:
            nested[group][name] = value
        else:
            flat[group] = value
    return Settings(
        **flat,
        webhook=WebhookSettings(**nested["webhook"]),
        metrics=MetricsSettings(**nested["metrics"]),
        inspection=InspectionSettings(**nested["inspection"]),
        access=AccessSettings(**nested["access"]),
        digest=DigestSettings(**nested["digest"]),
        reports=ReportSettings(**nested["reports"]),
        actions=ActionSettings(**nested["actions"]),
        backup=BackupSettings(**nested["backup"]),
        plans=PlanSettings(**nested["plans"]),
        config_path=path,
    )


def _absolute_paths(settings: Settings) -> Settings:
    """Every path taken from the folder the bot was started in, once, here.

    A relative path breaks later and far away: a report hands its files to Chromium as file:// URIs,
    which only an absolute path can be, and anything that changed directory would look elsewhere.
    """
    return replace(
        settings,
        data_dir=_absolute(settings.data_dir),
        rubric_dirs=tuple(_absolute(d) for d in settings.rubric_dirs),
        backup=replace(settings.backup, dir=_absolute(settings.backup.dir) if settings.backup.dir else None),
        config_path=_absolute(settings.config_path) if settings.config_path else None,
    )


def _absolute(path: Path) -> Path:
    # abspath, not resolve(): tidies "a/../b" without swapping a symlinked folder for its target.
    return Path(os.path.abspath(path.expanduser()))


def _check_consistency(settings: Settings) -> None:
    hook = settings.webhook
    if hook.enabled:
        if not hook.url.startswith("https://"):
            raise ConfigError("[webhook] url: must be the public https:// address when the webhook is enabled")
        if not hook.secret_token:
            raise ConfigError("[webhook] secret_token: required when the webhook is enabled")
    metrics = settings.metrics
    if metrics.enabled and not metrics.listen:
        raise ConfigError("[metrics] listen: must be an address such as 127.0.0.1")
    if metrics.enabled and hook.enabled and metrics.port == hook.port:
        # Two servers cannot share a port; /healthz is served on both, /metrics only on its own.
        raise ConfigError("[metrics] port: must differ from [webhook] port")

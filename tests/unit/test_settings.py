from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings

EXAMPLE = Path(__file__).parents[2] / "config" / "example.toml"


def load(env: dict[str, str] | None = None, toml: str | None = None, tmp_path: Path | None = None):
    path = None
    if toml is not None:
        assert tmp_path is not None
        path = tmp_path / "bot.toml"
        path.write_text(toml, encoding="utf-8")
    return load_settings(env or {}, config_path=path)


def test_defaults_without_file_or_env():
    settings = load()
    assert settings.token == ""
    assert settings.timezone == "Asia/Shanghai"
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.data_dir == Path("data").absolute()
    assert settings.database_path == Path("data/bot.sqlite3").absolute()


def test_the_webhook_listens_on_loopback_unless_told(tmp_path):
    """Behind a reverse proxy by default; a container says 0.0.0.0 and publishes the port on loopback."""
    assert load().webhook.listen == "127.0.0.1"
    assert load_settings({}, config_path=EXAMPLE).webhook.listen == "127.0.0.1"
    assert load({"BOT_WEBHOOK_LISTEN": "0.0.0.0"}).webhook.listen == "0.0.0.0"


def test_example_file_is_valid_and_documents_every_key():
    settings = load_settings({}, config_path=EXAMPLE)
    assert settings.default_edition == 2
    text = EXAMPLE.read_text(encoding="utf-8")
    for env_name in (
        "BOT_TOKEN",
        "BOT_DATA_DIR",
        "BOT_API_BASE_URL",
        "BOT_API_FILE_URL",
        "BOT_ADMIN_IDS",
        "BOT_TIMEZONE",
        "BOT_BACKUP_DIR",
    ):
        assert env_name in text


def test_environment_overrides_file(tmp_path):
    settings = load(
        {"BOT_TOKEN": "1:abc", "BOT_ADMIN_IDS": "12, 34", "BOT_DATA_DIR": str(tmp_path / "d"), "BOT_TIMEZONE": "UTC"},
        toml='[bot]\ntoken = "file-token"\ntimezone = "Asia/Tokyo"\n',
        tmp_path=tmp_path,
    )
    assert settings.token == "1:abc"
    assert settings.admin_ids == frozenset({12, 34})
    assert settings.data_dir == tmp_path / "d"
    assert settings.timezone == "UTC"


def test_bot_config_env_names_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[inspection]\nmax_photo_mb = 5\n", encoding="utf-8")
    assert load_settings({"BOT_CONFIG": str(path)}).inspection.max_photo_mb == 5


@pytest.mark.parametrize(
    ("env", "toml", "message"),
    [
        ({"BOT_TIMEZONE": "Mars/Base"}, None, "BOT_TIMEZONE: unknown time zone 'Mars/Base'"),
        ({"BOT_ADMIN_IDS": "12,abc"}, None, "BOT_ADMIN_IDS: 'abc' is not a Telegram user id"),
        ({"BOT_API_BASE_URL": "ftp://x"}, None, "BOT_API_BASE_URL: must start with http:// or https://"),
        ({}, "[bot]\ntimezone = 5\n", "[bot] timezone: must be a string"),
        ({}, "[inspection]\nmax_photo_mb = 500\n", "[inspection] max_photo_mb: must be between 1 and 20"),
        ({}, "[bot]\ntokn = 'x'\n", "[bot] tokn: unknown key"),
        ({}, "[bots]\n", "[bots]: unknown section"),
        ({}, "[bot\n", "is not valid TOML"),
        ({}, "[webhook]\nenabled = true\nurl = 'https://example.org'\n", "[webhook] secret_token: required"),
        ({}, "[webhook]\nenabled = true\nsecret_token = 'abc'\n", "[webhook] url: must be the public https://"),
        ({"BOT_DEFAULT_LANGUAGE": "fr"}, None, "BOT_DEFAULT_LANGUAGE: must be one of"),
        ({}, "[backup]\nevery_hours = 0\n", "[backup] every_hours: must be between 1 and 168"),
        ({}, "[backup]\nkeep = 400\n", "[backup] keep: must be between 1 and 365"),
        ({}, "[backup]\nenabled = 'maybe'\n", "[backup] enabled: must be true or false"),
        ({}, "[backup]\nevery = 24\n", "[backup] every: unknown key"),
        ({}, "[actions]\nrepeat_deduction = -1\n", "[actions] repeat_deduction: must be between 0 and 100"),
        ({}, "[actions]\nrepeat_deduction = 'lots'\n", "[actions] repeat_deduction: must be a number"),
        ({}, "[actions]\non_the_spot = 'maybe'\n", "[actions] on_the_spot: must be true or false"),
        ({"BOT_LOG_FORMAT": "xml"}, None, "BOT_LOG_FORMAT: must be text or json"),
        ({"BOT_METRICS_PORT": "70000"}, None, "BOT_METRICS_PORT: must be between 1 and 65535"),
        ({"BOT_METRICS_ENABLED": "maybe"}, None, "BOT_METRICS_ENABLED: must be true or false"),
        (
            {"BOT_METRICS_ENABLED": "1", "BOT_METRICS_PORT": "8443"},
            "[webhook]\nenabled = true\nurl = 'https://example.org'\nsecret_token = 'abc'\n",
            "[metrics] port: must differ from [webhook] port",
        ),
    ],
)
def test_invalid_settings_name_the_key(tmp_path, env, toml, message):
    with pytest.raises(ConfigError) as error:
        load(env, toml, tmp_path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_config_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match=r"BOT_CONFIG: file .* does not exist"):
        load_settings({"BOT_CONFIG": str(tmp_path / "nope.toml")})


def test_relative_paths_become_absolute_when_loaded(tmp_path, monkeypatch):
    # Reports hand files to Chromium as file:// URIs, which a relative path cannot be.
    monkeypatch.chdir(tmp_path)
    defaults = load()
    assert defaults.data_dir == tmp_path / "data" and defaults.data_dir.is_absolute()
    assert defaults.database_path == tmp_path / "data" / "bot.sqlite3"
    assert (defaults.data_dir / "x.html").as_uri().startswith("file:///")
    settings = load(
        {"BOT_DATA_DIR": "store/../state"},
        toml='[rubric]\nextra_dirs = ["rubrics", "./more"]\n',
        tmp_path=tmp_path,
    )
    assert settings.data_dir == tmp_path / "state"
    assert settings.rubric_dirs == (tmp_path / "rubrics", tmp_path / "more")
    assert settings.config_path is not None and settings.config_path.is_absolute()
    relative_config = load_settings({"BOT_CONFIG": "bot.toml"})
    assert relative_config.config_path == tmp_path / "bot.toml"


def test_backups_default_to_a_folder_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    defaults = load()
    assert (defaults.backup.enabled, defaults.backup.every_hours, defaults.backup.keep) == (True, 24, 14)
    assert defaults.backup_dir == tmp_path / "data" / "backups"
    assert defaults.lock_path == tmp_path / "data" / "bot.lock"
    example = load_settings({}, config_path=EXAMPLE)  # dir = "" in the example: the default folder
    assert example.backup_dir == example.data_dir / "backups"
    toml = '[backup]\nenabled = false\nevery_hours = 6\nkeep = 30\ndir = "safe/../backups"\n'
    settings = load(toml=toml, tmp_path=tmp_path)
    assert settings.backup.enabled is False and (settings.backup.every_hours, settings.backup.keep) == (6, 30)
    assert settings.backup_dir == tmp_path / "backups"
    assert load({"BOT_BACKUP_DIR": "/mnt/other"}, toml=toml, tmp_path=tmp_path).backup_dir == Path("/mnt/other")


def test_metrics_and_log_format_from_file_and_environment(tmp_path):
    defaults = load()
    assert (defaults.metrics.enabled, defaults.metrics.listen, defaults.metrics.port) == (False, "127.0.0.1", 9108)
    assert defaults.log_format == "text"
    settings = load(
        {"BOT_METRICS_ENABLED": "true", "BOT_METRICS_PORT": "9200", "BOT_LOG_FORMAT": "JSON"},
        toml='[metrics]\nlisten = "0.0.0.0"\nport = 9300\n[bot]\nlog_format = "text"\n',
        tmp_path=tmp_path,
    )
    assert (settings.metrics.enabled, settings.metrics.listen, settings.metrics.port) == (True, "0.0.0.0", 9200)
    assert settings.log_format == "json"


def test_on_the_spot_and_the_repeat_deduction(tmp_path):
    defaults = load()
    assert defaults.actions.on_the_spot is True and defaults.actions.repeat_deduction == 0.0  # off
    settings = load(toml="[actions]\non_the_spot = false\nrepeat_deduction = 1.5\n", tmp_path=tmp_path)
    assert settings.actions.on_the_spot is False and settings.actions.repeat_deduction == 1.5

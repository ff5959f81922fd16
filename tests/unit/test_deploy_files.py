"""The deployment files name only what the repository has: paths, packages, modules, commands.

Dockerfile, compose.yaml, the systemd unit, the env file and the reverse-proxy examples are read as
text and checked against the tree and the CLI (``python -m bot run`` must be a real subcommand, a
COPY'd path must exist, the unit's module must be importable), and docs/deploy.md's relative links
must resolve. Building the image needs a Docker daemon: that test runs only when asked
(``DUDAO_DOCKER_BUILD=1`` and ``docker info`` works).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from config.settings import _SETTINGS, WebhookSettings

REPO = Path(__file__).parents[2]
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "compose.yaml"
UNIT = REPO / "deploy" / "dudao-bot.service"
ENV_EXAMPLE = REPO / "deploy" / "env.example"
NGINX = REPO / "deploy" / "nginx.conf.example"
CADDY = REPO / "deploy" / "Caddyfile.example"
DEPLOY_DOC = REPO / "docs" / "deploy.md"
DEPLOY_FILES = (DOCKERFILE, COMPOSE, UNIT, ENV_EXAMPLE, NGINX, CADDY, REPO / ".dockerignore")

# A repository path in a comment or a value: deploy/env.example, docs/deploy.md, config/example.toml ...
# (not /opt/dudao-bot/docs/..., which is a path on the server).
REPO_PATH = re.compile(r"(?<![\w/.~-])((?:bot|config|deploy|docs|rubric|storage|tests|tools)/[\w./-]*\w)")


def instructions(path: Path) -> list[tuple[str, str]]:
    """Dockerfile instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    result = []
    for line in joined:
        keyword, _, rest = line.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def bot_command_exists(args: list[str], capsys: pytest.CaptureFixture[str]) -> bool:
    """``python -m bot ARGS`` names a real subcommand: its --help answers with exit 0."""
    with pytest.raises(SystemExit) as leaving:
        main([args[0], "--help"])
    capsys.readouterr()
    return leaving.value.code == 0


def unit_settings(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def dockerignored(relative: str) -> bool:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(relative).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):  # at any depth: match the folder or file name itself
            if any(fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


# Files the operator creates from an example; git ignores them.
OPERATOR_FILES = {"config/local.toml"}


def test_every_repository_path_the_deployment_files_name_exists() -> None:
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert OPERATOR_FILES <= set(ignored)
    for path in (*DEPLOY_FILES, DEPLOY_DOC):
        for named in REPO_PATH.findall(path.read_text(encoding="utf-8")):
            if named in OPERATOR_FILES:
                continue
            assert (REPO / named).exists(), f"{path.name} names {named}, which is not in the repository"


def test_the_dockerfile_builds_the_package_and_runs_the_bot(capsys: pytest.CaptureFixture[str]) -> None:
    steps = instructions(DOCKERFILE)
    keywords = [keyword for keyword, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    apt = " ".join(args for keyword, args in steps if keyword == "RUN" and "apt-get install" in args)
    assert "chromium" in apt.split() and "fonts-noto-cjk" in apt.split()
    # Every COPY source exists in the build context and is not left out by .dockerignore.
    copied: list[str] = []
    for keyword, args in steps:
        if keyword == "COPY":
            sources = [word for word in shlex.split(args) if not word.startswith("--")][:-1]
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: no such path in the repository"
                assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
            copied += sources
    # pip installs what pyproject.toml builds: the file itself, its readme, and every package it finds.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "pyproject.toml" in copied and project["project"]["readme"] in copied
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}
    wanted = {name for name in packages if any(fnmatch(name, pattern) for pattern in includes)}
    assert wanted and wanted <= set(copied), f"packages not copied: {sorted(wanted - set(copied))}"
    assert any(keyword == "RUN" and "pip install" in args for keyword, args in steps)
    # Not root, the data in the volume, the bot's own command.
    user = next(args for keyword, args in reversed(steps) if keyword == "USER")
    assert user not in ("root", "0")
    env = " ".join(args for keyword, args in steps if keyword == "ENV")
    assert "BOT_DATA_DIR=/data" in env.split()
    assert ("VOLUME", '["/data"]') in steps
    command = next(args for keyword, args in reversed(steps) if keyword == "CMD")
    assert command == '["python", "-m", "bot", "run"]'
    assert (REPO / "bot" / "__main__.py").is_file() and bot_command_exists(["run"], capsys)
    # No HEALTHCHECK: without [metrics] there is nothing light to probe (see the Dockerfile's note).
    assert "HEALTHCHECK" not in keywords


def test_an_installed_package_has_every_file_the_bot_reads() -> None:
    """The image installs the package (not editable): a data file the package-data globs miss, such as
    the gettext catalogs once were, is absent there while every test from the checkout passes."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = project["tool"]["setuptools"]["package-data"]
    for package in ("bot", "config", "rubric", "storage"):
        root = REPO / package
        shipped = {path for pattern in package_data.get(package, []) for path in root.glob(pattern) if path.is_file()}
        data = {
            path
            for path in root.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
        }
        missing = sorted(str(path.relative_to(REPO)) for path in data - shipped)
        assert not missing, f"pyproject.toml's package-data leaves out {missing}"


def test_the_dockerignore_keeps_local_state_out_of_the_image() -> None:
    for path in (".venv", "data", ".git", ".env", "config/local.toml", "bot/__pycache__"):
        assert dockerignored(path), path
    for path in ("bot", "pyproject.toml", "README.md", "rubric/editions"):
        assert not dockerignored(path), path


def test_compose_runs_the_image_with_its_volume_and_env_file() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    context = (REPO / bot["build"]["context"]).resolve()
    assert (context / bot["build"].get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE.resolve()
    assert bot["env_file"] == ".env" and ".env" in (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert bot["restart"] == "unless-stopped"
    volume, _, target = bot["volumes"][0].partition(":")
    assert target == "/data" and volume in compose["volumes"]


def test_the_env_example_names_only_real_variables() -> None:
    known = {env for _, _, env, _, _ in _SETTINGS if env} | {"BOT_CONFIG"}
    named = set(re.findall(r"^#?\s*(BOT_[A-Z_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))
    assert named - known == set()
    assert {"BOT_TOKEN", "BOT_ADMIN_IDS", "BOT_WEBHOOK_SECRET", "BOT_WEBHOOK_LISTEN"} <= named
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "HTTPS_PROXY=" in text and "NO_PROXY=" in text


def test_the_systemd_unit_runs_the_bot_in_a_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    unit = unit_settings(UNIT)
    one = {key: values[-1] for key, values in unit.items()}
    assert one["User"] == "dudao" and one["WorkingDirectory"] == "/opt/dudao-bot"
    assert one["EnvironmentFile"] == "/etc/dudao-bot/env"
    python, *args = shlex.split(one["ExecStart"])
    assert python == f"{one['WorkingDirectory']}/.venv/bin/python"  # the venv the docs create there
    assert args[:2] == ["-m", "bot"] and (REPO / "bot" / "__main__.py").is_file()
    assert bot_command_exists(args[2:], capsys)
    assert one["Restart"] == "on-failure"
    assert one["ProtectSystem"] == "strict" and one["ReadWritePaths"] == "/var/lib/dudao-bot"
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert one[key] == "yes", key


def test_the_reverse_proxies_forward_the_webhook_with_its_secret() -> None:
    hook = WebhookSettings()
    assert hook.listen == "127.0.0.1"
    upstream = f"127.0.0.1:{hook.port}"
    nginx = NGINX.read_text(encoding="utf-8")
    assert f"location = /{hook.path} " in nginx and f"proxy_pass http://{upstream};" in nginx
    assert "proxy_set_header X-Telegram-Bot-Api-Secret-Token $http_x_telegram_bot_api_secret_token;" in nginx
    assert "ssl_certificate " in nginx and "listen 443 ssl;" in nginx
    caddy = CADDY.read_text(encoding="utf-8")
    assert f"path /{hook.path}" in caddy and f"reverse_proxy {upstream}" in caddy
    assert "X-Telegram-Bot-Api-Secret-Token" in caddy


def test_the_deploy_guide_links_resolve() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links, "docs/deploy.md links the files it talks about"
    for link in links:
        if re.match(r"[a-z]+:", link) or link.startswith("#"):
            continue
        target = (DEPLOY_DOC.parent / link.partition("#")[0]).resolve()
        assert target.exists(), f"docs/deploy.md links {link}, which does not exist"


def docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.docker
@pytest.mark.skipif(os.environ.get("DUDAO_DOCKER_BUILD") != "1", reason="opt-in: DUDAO_DOCKER_BUILD=1")
def test_the_image_builds_and_knows_its_commands() -> None:
    if not docker_works():
        pytest.fail("DUDAO_DOCKER_BUILD=1 but `docker info` fails: no Docker daemon to build with")
    tag = "dudao-bot:test"
    subprocess.run(["docker", "build", "-t", tag, str(REPO)], check=True, timeout=1800)
    check = ["docker", "run", "--rm", "-e", "BOT_TOKEN=1:x", tag, "python", "-m", "bot", "check"]
    done = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

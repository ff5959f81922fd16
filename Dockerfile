# 督导助手 · Supervision Assistant: the bot in a container (docs/deploy.md).
#   docker compose up -d --build        with compose.yaml and a .env file (deploy/env.example)
# The database, evidence files and exports live in the /data volume; the image holds no state.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOT_DATA_DIR=/data

# Chromium prints reports as PDF ([reports] pdf); the CJK font draws Chinese in trend charts and PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk fontconfig \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid, so a bind-mounted data folder can be given to it (chown 10001 /srv/dudao-data).
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/dudao dudao \
    && mkdir -p /data \
    && chown dudao:dudao /data

# Installed as a package (templates, catalogs, migrations and rubric editions are package data);
# the sources are removed so the bot runs from site-packages, as pip installed it.
WORKDIR /opt/dudao-bot
COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
COPY config /tmp/src/config
COPY rubric /tmp/src/rubric
COPY storage /tmp/src/storage
RUN pip install /tmp/src && rm -rf /tmp/src

USER dudao
VOLUME ["/data"]
# Only used in webhook mode (BOT_WEBHOOK_LISTEN=0.0.0.0 inside the container; publish it on the
# host's 127.0.0.1 and put nginx or Caddy in front).
EXPOSE 8443

# No HEALTHCHECK here: `python -m bot check` reads the whole database (quick_check), too heavy to
# repeat every minute, and a liveness probe needs [metrics] enabled (/healthz); compose.yaml has one
# to uncomment when metrics are on. A crashed bot exits, and `restart: unless-stopped` starts it again.
CMD ["python", "-m", "bot", "run"]

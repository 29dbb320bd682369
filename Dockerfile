# The bot in production: python -m bot with BOT_TOKEN set (polling, or webhook with WEBHOOK_URL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY storage ./storage
COPY sandbox ./sandbox
COPY locales ./locales
RUN pip install . && \
    useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot && \
    mkdir -p /data && chown bot:bot /data

USER bot
VOLUME ["/data"]
# The bot's HTTP server: GET /healthz in both modes, and the webhook when WEBHOOK_URL is set.
EXPOSE 8081
# Unhealthy when the database does not answer (503) or the process does not (no connection).
# start-period covers the register's loading and the retries while Telegram is unreachable.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('WEB_PORT', '8081') + '/healthz', timeout=4)"]
CMD ["python", "-m", "bot"]

# The bot in production: python -m bot with BOT_TOKEN set (polling).
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
CMD ["python", "-m", "bot"]

# syntax=docker/dockerfile:1
# Build: docker build -t postmortem-bot .
# Run:   docker run -p 3000:3000 -e SLACK_BOT_TOKEN=... -e SLACK_SIGNING_SECRET=... \
#          -e DATABASE_URL=postgresql+psycopg://... postmortem-bot

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies change less often than code: this layer caches until pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir bot && touch bot/__init__.py && pip install . && pip uninstall -y postmortem-bot
COPY bot/ bot/
RUN pip install --no-deps .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    HOST=0.0.0.0 PORT=3000
RUN useradd --system --uid 10001 --create-home --home-dir /app --shell /usr/sbin/nologin bot
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# `serve` and `migrate` run the Alembic migrations from here, whatever the working directory
# (`docker run -w …`). The code itself is the package installed in /opt/venv.
COPY --chown=root:root migrations/ migrations/
ENV POSTMORTEM_MIGRATIONS_DIR=/app/migrations
# SQLite (the default DATABASE_URL) needs a writable folder; mount a volume here to keep it.
RUN mkdir /app/data && chown bot: /app/data
ENV DATABASE_URL=sqlite:////app/data/postmortem.db
USER bot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=3)"]
CMD ["postmortem-bot", "serve"]

# syntax=docker/dockerfile:1
# One image for every part of the production stack; docker-compose.yml picks the command:
# the web app (gunicorn), the Celery workers, beat and the one-shot migration.
# No secret is baked in: settings come from the environment (docker compose: the .env file).
#
#   docker build -t changtong .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtualenv with the pinned dependencies, the project, compiled translations ------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# The dependencies first, in their own layer (rebuilt only when the lock or pyproject.toml
# changes): the project's runtime dependencies from pyproject.toml, each at the exact version
# pinned in requirements.lock (-c); the lock's test-only tools (pytest, playwright, ...) stay
# out. The build fails if anything was installed that the lock does not pin.
COPY requirements.lock pyproject.toml ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/runtime.txt \
 && pip install --no-cache-dir -c requirements.lock -r /tmp/runtime.txt \
 && if pip freeze | grep -vxiFf requirements.lock; then \
        echo "^ installed but not pinned in requirements.lock: run make lock" >&2; exit 1; fi

# The project itself, without dependencies. Editable, like `make install`: the app finds its
# templates, static files and migrations beside the packages, in /app.
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
 && pybabel compile -d web/translations -D messages \
 && python -m compileall -q casework web workers

# -- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

# WeasyPrint (the mediation agreement PDF) needs Pango and HarfBuzz; the PDF embeds
# "Noto Sans CJK SC" (fonts-noto-cjk). tzdata: Asia/Shanghai for deadlines and the calendar.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk tzdata \
 && rm -rf /var/lib/apt/lists/*

# A user of its own (never root). The data directory and the mount points of the named
# volumes belong to it: Docker gives a new, empty named volume the ownership of the
# directory it is mounted on.
RUN groupadd --system --gid 10001 changtong \
 && useradd --system --uid 10001 --gid changtong --create-home --home-dir /home/changtong \
        --shell /usr/sbin/nologin changtong \
 && mkdir -p /data/uploads /data/search /data/notices /data/beat \
 && chown -R changtong:changtong /data \
 && chmod 0750 /data /data/uploads /data/search /data/notices /data/beat

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CHANGTONG_DATA_DIR=/data \
    CHANGTONG_BIND=0.0.0.0:8000
WORKDIR /app
USER 10001:10001
# 8001: the staff's door, where CHANGTONG_STAFF_BIND is set (docker-compose.yml sets it)
EXPOSE 8000 8001

# liveness of the web process (docker-compose.yml asks the web service for /readyz instead, and
# gives the worker and beat services checks of their own)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "web.wsgi:app"]

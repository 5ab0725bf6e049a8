# relaygate's container image: multi-stage, slim Python, the lockfile's hashes, non-root.
# Config: environment variables (${VAR} in the YAML, RELAYGATE_CONFIG) and a mounted file
# at /etc/relaygate/relaygate.yaml. Build steps are checked without an engine by
# scripts/container_build_check.py (see README "Container image").

# --- build: wheels of the locked dependencies and of relaygate itself -----------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/relaygate \
 && /opt/relaygate/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/relaygate/bin/pip install --no-deps . \
 && /opt/relaygate/bin/relaygate --help >/dev/null

# --- runtime: the venv, bubblewrap for the sandbox, a user without privileges -----------
FROM python:3.11-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 relaygate \
 && useradd --system --uid 10001 --gid relaygate --home-dir /var/lib/relaygate \
      --create-home --shell /usr/sbin/nologin relaygate \
 && mkdir -p /etc/relaygate && chown relaygate:relaygate /etc/relaygate
COPY --from=build /opt/relaygate /opt/relaygate
COPY --chown=relaygate:relaygate docker/relaygate.yaml /etc/relaygate/relaygate.yaml
ENV PATH=/opt/relaygate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RELAYGATE_CONFIG=/etc/relaygate/relaygate.yaml \
    RELAYGATE_HOST=0.0.0.0 \
    RELAYGATE_PORT=8080 \
    RELAYGATE_DATABASE_URL=sqlite+aiosqlite:////var/lib/relaygate/relaygate.db
USER relaygate
WORKDIR /var/lib/relaygate
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('RELAYGATE_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=2).status == 200 else 1)"]
CMD ["relaygate", "serve"]

# The hinode image: collector, controllers, technician tools and simulators (one CLI).
# Build: docker build -t hinode:0.1.0 .   (docker compose builds it as needed)
FROM python:3.11.11-slim-bookworm AS build
ENV UV_PROJECT_ENVIRONMENT=/opt/hinode/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.5.11
WORKDIR /src
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY messages ./messages
COPY edge ./edge
COPY cloud ./cloud
COPY hinode ./hinode
COPY simulators ./simulators
COPY firmware_configs ./firmware_configs
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/hinode --shell /usr/sbin/nologin hinode \
    && install -d -o hinode -g hinode -m 0750 /var/lib/hinode /etc/hinode
COPY --from=build /opt/hinode/.venv /opt/hinode/.venv
COPY ops/compose/hinode-entrypoint.sh /usr/local/bin/hinode-entrypoint
ENV PATH=/opt/hinode/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER hinode
WORKDIR /var/lib/hinode
ENTRYPOINT ["hinode-entrypoint"]
CMD ["--help"]

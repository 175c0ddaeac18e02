# One image for every process of the system; its command picks the service and the process type:
#   partnership serve <service>   a service's REST API (priorities, tasking, projects)
#   partnership worker <service>  its relay and consumers (reporting: the projections)
#   partnership gateway           the GraphQL gateway
#   partnership demo              the worked example, loaded once into empty stores
# Build: docker build -t partnership-governance .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the application and its dependencies (wheels only; pip stays in this stage) ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/partnership
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY web ./web
RUN /opt/partnership/bin/pip install --only-binary=:all: --no-binary=partnership-governance . \
 && /opt/partnership/bin/pip uninstall --yes pip setuptools wheel \
 && find /opt/partnership -depth -name '__pycache__' -type d -exec rm -rf {} + \
 && /opt/partnership/bin/python -m compileall -q /opt/partnership/lib

# --- run: the slim base, the virtualenv, a user without privileges; no compiler, no pip ----------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="partnership-governance" \
      org.opencontainers.image.description="Partnership governance: priorities, tasking, projects, reporting over Kafka"
RUN python -m pip uninstall --yes pip setuptools wheel 2>/dev/null; \
    groupadd --system --gid 10001 partnership \
 && useradd --system --uid 10001 --gid partnership --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin partnership
COPY --from=build /opt/partnership /opt/partnership
ENV PATH=/opt/partnership/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PARTNERSHIP_DATA_DIR=/tmp/partnership
USER 10001:10001
WORKDIR /tmp
# 8000: a web process (REST API or GraphQL); 9000: a worker's /healthz, /readyz and /metrics
EXPOSE 8000 9000
# SIGTERM: web processes finish their requests; workers finish their batch and record their position.
STOPSIGNAL SIGTERM
ENTRYPOINT ["partnership"]
CMD ["--help"]

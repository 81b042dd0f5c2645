# Airflow image for jixiao (绩效), installed from uv.lock: the same locked versions as `make
# install` (Airflow, dbt, DuckDB, Great Expectations, ...), plus the `deploy` dependency group
# docker-compose needs (the FAB auth manager and the PostgreSQL metadata driver), and Chromium
# for the yearly reports' PDF. Used by docker-compose.yml; the project's code folders are also
# bind-mounted at /opt/jixiao so that a `git pull` on the host takes effect without rebuilding.
# Checked without a Docker engine by tests/unit/test_docker_compose.py, which also runs this
# file's `uv sync` line against the lock.
FROM python:3.11-slim-bookworm

# the uv release the Makefile bootstraps (UV_VERSION there)
ARG UV_VERSION=0.13.8
ARG AIRFLOW_UID=50000

ENV JIXIAO_HOME=/var/lib/jixiao \
    AIRFLOW_HOME=/opt/airflow \
    UV_PROJECT_ENVIRONMENT=/opt/jixiao/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/jixiao/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1

# curl for the compose healthchecks; Chromium and a CJK font for the yearly reports' PDF
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl chromium fonts-wqy-microhei tini \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir "uv==${UV_VERSION}"

# the user compose runs as (`user: AIRFLOW_UID:0`): group 0 owns and may write every folder
# Airflow and jixiao write, so any AIRFLOW_UID works; JIXIAO_HOME is created here so that a
# named volume mounted on it starts out owned by that user
RUN useradd --uid "${AIRFLOW_UID}" --gid 0 --home-dir /opt/airflow --create-home airflow \
    && mkdir -p /opt/jixiao /var/lib/jixiao /opt/airflow/logs \
    && chown -R "${AIRFLOW_UID}:0" /opt/jixiao /var/lib/jixiao /opt/airflow \
    && chmod -R g+rwX /opt/jixiao /var/lib/jixiao /opt/airflow

USER ${AIRFLOW_UID}
WORKDIR /opt/jixiao

# dependencies first (a layer that changes only with the lock), then the project itself,
# editable: jixiao.config.PROJECT_ROOT resolves to /opt/jixiao (dbt project, expectations and
# seeds are found there)
COPY --chown=${AIRFLOW_UID}:0 pyproject.toml uv.lock README.md /opt/jixiao/
RUN uv sync --frozen --no-dev --group deploy --no-install-project
COPY --chown=${AIRFLOW_UID}:0 src /opt/jixiao/src
COPY --chown=${AIRFLOW_UID}:0 dags /opt/jixiao/dags
COPY --chown=${AIRFLOW_UID}:0 dbt_project /opt/jixiao/dbt_project
COPY --chown=${AIRFLOW_UID}:0 expectations /opt/jixiao/expectations
COPY --chown=${AIRFLOW_UID}:0 seeds /opt/jixiao/seeds
RUN uv sync --frozen --no-dev --group deploy

WORKDIR /opt/airflow
# compose's `command: scheduler` runs `airflow scheduler`; airflow-init sets its own entrypoint
ENTRYPOINT ["/usr/bin/tini", "--", "airflow"]
CMD ["version"]

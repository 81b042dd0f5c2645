# Airflow image for jixiao (绩效): the official Airflow 3 image with the project installed.
# Used by docker-compose.yml; the project's code folders are also bind-mounted at /opt/jixiao
# so that a `git pull` on the host takes effect without rebuilding.
FROM apache/airflow:3.3.2-python3.11

ENV JIXIAO_HOME=/var/lib/jixiao

USER root
# JIXIAO_HOME is created here so that a named volume mounted on it starts out owned by the
# airflow user (Docker copies a mount point's ownership into a new named volume).
RUN mkdir -p /opt/jixiao /var/lib/jixiao \
    && chown -R airflow:root /opt/jixiao /var/lib/jixiao

USER airflow
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/jixiao/
COPY --chown=airflow:root src /opt/jixiao/src
COPY --chown=airflow:root dags /opt/jixiao/dags
COPY --chown=airflow:root dbt_project /opt/jixiao/dbt_project
COPY --chown=airflow:root expectations /opt/jixiao/expectations
COPY --chown=airflow:root seeds /opt/jixiao/seeds

# Editable install: jixiao.config.PROJECT_ROOT resolves to /opt/jixiao (dbt project,
# expectations and seeds are found there). Airflow is pinned to the image's version so pip
# never replaces it.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -e /opt/jixiao

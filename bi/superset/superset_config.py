"""Superset configuration for `make bi` and the dashboard test (SUPERSET_CONFIG_PATH).

Everything Superset writes lives under ``$JIXIAO_HOME/superset/``: the SQLite metadata
database, the generated secret key and the generated admin password (bi/superset/jixiao_bi.py
writes both on first use; nothing secret is in the repository).
"""

import os
from pathlib import Path

_HOME = Path(os.environ.get("JIXIAO_HOME") or Path(__file__).resolve().parents[2] / "var")
SUPERSET_HOME = Path(os.environ.get("JIXIAO_SUPERSET_HOME") or _HOME / "superset")
DATA_DIR = str(SUPERSET_HOME)
SQLALCHEMY_DATABASE_URI = f"sqlite:///{SUPERSET_HOME / 'superset.db'}?check_same_thread=false"
SECRET_KEY = (SUPERSET_HOME / "secret_key").read_text(encoding="utf-8").strip()

# this machine only, one analyst: no Redis, no Celery, no thumbnails
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = CACHE_CONFIG
RATELIMIT_STORAGE_URI = "memory://"
FEATURE_FLAGS = {"THUMBNAILS": False, "ALERT_REPORTS": False, "DASHBOARD_RBAC": False}
TALISMAN_ENABLED = False
WTF_CSRF_ENABLED = True
# 中文界面 by default (the marts' labels are Chinese anyway); English stays selectable
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "Chinese"},
    "en": {"flag": "us", "name": "English"},
}
SQLLAB_CTAS_NO_LIMIT = True
ROW_LIMIT = 50000

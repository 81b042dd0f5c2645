"""Airflow Asset URIs and settings shared by the DAGs (数据资产).

Kept free of heavy imports: DAG files import this at parse time.
"""

from __future__ import annotations

import os

RAW_LOADED_URI = "jixiao://warehouse/raw"
MARTS_BUILT_URI = "jixiao://warehouse/marts"
PUBLISHED_MARTS_URI = "jixiao://published/marts"
YEARLY_REPORTS_URI = "jixiao://reports/yearly"

RETRY_DELAY_SECONDS = int(os.environ.get("JIXIAO_RETRY_DELAY_SECONDS", "120"))
"""First retry delay for transient failures (doubles with exponential backoff)."""

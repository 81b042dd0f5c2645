"""Airflow Asset URIs shared by the DAGs (数据资产).

Kept free of heavy imports: DAG files import this at parse time.
"""

from __future__ import annotations

RAW_LOADED_URI = "jixiao://warehouse/raw"
MARTS_BUILT_URI = "jixiao://warehouse/marts"
PUBLISHED_MARTS_URI = "jixiao://published/marts"
YEARLY_REPORTS_URI = "jixiao://reports/yearly"

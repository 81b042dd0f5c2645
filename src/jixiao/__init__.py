"""jixiao (绩效): budget-performance data warehouse."""

"""Production monitoring: reference profile, drift and KPI checks, labels, report, alerts."""

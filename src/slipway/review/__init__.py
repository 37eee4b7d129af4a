"""The pull-request review: report, quality gate, plots, comment."""

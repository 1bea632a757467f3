"""Statistics for supervision and public disclosure: rollups the workers keep (rollup.py),
risk grades per association (risk.py) and the queries pages use (queries.py)."""

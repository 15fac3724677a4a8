"""Identity resolution: the rules handed to dbt (rules.py) and match quality measured against ground truth (quality.py)."""

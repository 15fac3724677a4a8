"""The customer lifecycle beyond dbt: its rules file and its accuracy against the sample's truth."""

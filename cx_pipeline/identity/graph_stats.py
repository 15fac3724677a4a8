"""What the identity graph did on a run: guards that fired and records linked by each rule.

Read from the working warehouse after dbt built it, for the identity asset's metadata, so an
operator sees in the UI when a guard starts firing on many values or a rule stops linking.
"""

from __future__ import annotations

import duckdb
import polars as pl

GUARDS_SQL = """
select identifier_type as value_type, guard, count(distinct identifier_value) as values_flagged,
       count(*) as records
from intermediate.int_identity__identifiers_guarded where guard is not null group by all
union all
select match_attribute, guard, count(distinct match_value), count(*)
from intermediate.int_identity__match_attributes where guard is not null group by all
order by value_type, guard
"""

RULES_SQL = """
select match_rule, count(*) as records
from marts.customer_identity_links group by all order by records desc, match_rule
"""


def guards_fired(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per identifier type or match attribute and guard: distinct values flagged, records carrying them."""
    return pl.from_arrow(con.sql(GUARDS_SQL).arrow())


def records_by_rule(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Records per linking rule (the highest-priority rule that linked each; `unmatched` for none)."""
    return pl.from_arrow(con.sql(RULES_SQL).arrow())


def markdown_table(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row) + " |" for row in frame.rows()]
    return "\n".join([header, rule, *rows])

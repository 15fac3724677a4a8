"""Key figures shown on the dbt assets in the Dagster UI, beside row count and preview, by model name.

Each is SQL over `{relation}` (the model's table), read from the working database right after
`dbt build`: what an engineer wants to see at a glance without opening a notebook.
"""

from cx_pipeline.lib.table_metadata import KeyFigure

KEY_FIGURES: dict[str, list[KeyFigure]] = {
    # customer 360
    "dim_customers": [
        KeyFigure("share_known_to_several_departments", "select avg((department_count > 1)::int) from {relation}"),
        KeyFigure("average_sources_per_customer", "select avg(source_count) from {relation}"),
    ],
    "customer_identity_links": [
        KeyFigure("customers", "select count(distinct customer_id) from {relation}"),
        KeyFigure("link_rate", "select avg((match_rule <> 'unmatched')::int) from {relation}"),
        KeyFigure(
            "records_by_rule",
            "select match_rule, count(*) as records from {relation} group by all order by records desc",
            table=True,
        ),
    ],
    "customer_contact_points": [
        KeyFigure("guarded_values", "select count(*) from {relation} where guard is not null"),
    ],
    "customer_id_changes": [
        KeyFigure(
            "changes_by_type", "select change_type, count(*) as customers from {relation} group by all order by 1", table=True
        ),
    ],
    "fct_touchpoints": [
        KeyFigure(
            "touchpoints_by_channel",
            "select channel, count(*) as touchpoints from {relation} group by all order by touchpoints desc",
            table=True,
        ),
    ],
    "customer_traits": [
        KeyFigure("average_channels_used", "select avg(channels_used) from {relation}"),
    ],
    # lifecycle
    "customer_lifecycle": [
        KeyFigure(
            "customers_by_phase",
            "select phase, count(*) as customers, round(count(*) / sum(count(*)) over (), 3) as share "
            "from {relation} group by all order by customers desc",
            table=True,
        ),
        KeyFigure("as_of_date", "select max(as_of_date)::varchar from {relation}"),
    ],
    "customer_phase_transitions": [
        KeyFigure(
            "transitions_by_direction",
            "select direction, count(*) as transitions from {relation} group by all order by 1",
            table=True,
        ),
    ],
    "lifecycle_funnel": [
        KeyFigure(
            "funnel",
            "select step, customers_reached, round(conversion_from_first, 3) as from_first "
            "from {relation} order by step_order",
            table=True,
        ),
    ],
    "cx_kpis": [
        KeyFigure("nps", "select nps from {relation} where phase = 'all' and channel = 'all'"),
        KeyFigure("average_csat", "select average_csat from {relation} where phase = 'all' and channel = 'all'"),
    ],
    # silos
    "source_link_rates": [
        KeyFigure("lowest_link_rate", "select min(link_rate) from {relation}"),
        KeyFigure(
            "link_rate_by_source",
            "select source, department, round(link_rate, 3) as link_rate from {relation} order by link_rate",
            table=True,
        ),
    ],
    "channel_department_coverage": [
        KeyFigure("average_coverage_rate", "select avg(coverage_rate) from {relation}"),
    ],
    "siloed_customers": [
        KeyFigure("customers", "select count(distinct customer_id) from {relation}"),
    ],
    "customer_consistency": [
        KeyFigure(
            "conflicts_by_attribute",
            "select attribute, count(*) filter (where not is_consistent) as conflicting, count(*) as customers "
            "from {relation} group by all order by 1",
            table=True,
        ),
    ],
}

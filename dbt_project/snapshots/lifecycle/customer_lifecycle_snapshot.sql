{#- Phase history across runs (SCD type 2): a new row whenever a customer's phase or sub-stage
    differs from the last run's. as_of_date is the as-of day of the run that first saw the row;
    a customer id that disappears (merged by identity resolution) is closed. Runs are expected
    to move forward in time: a run with an earlier as-of day records a step back. -#}
{% snapshot customer_lifecycle_snapshot %}
{{
    config(
        unique_key='customer_id',
        strategy='check',
        check_cols=['phase', 'sub_stage'],
        hard_deletes='invalidate',
    )
}}
select
    customer_id,
    as_of_date,
    phase,
    sub_stage,
    reason_code
from {{ ref('customer_lifecycle') }}
{% endsnapshot %}

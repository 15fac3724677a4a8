-- One row per customer: the golden attributes (cx_pipeline/config/survivorship.yml) and a
-- summary of the customer's activity across channels. Email and phone are published as keyed
-- hashes (pseudonymise: docs/privacy.md); the working database's intermediate models keep the raw values.
with golden as (
    select * from {{ ref('int_identity__golden_attributes') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

golden_record as (
    select
        customer_id,
        max(case when attribute = 'first_name' then attribute_value end) as first_name,
        max(case when attribute = 'last_name' then attribute_value end) as last_name,
        max(case when attribute = 'full_name' then attribute_value end) as full_name,
        max(case when attribute = 'email' then attribute_value end) as email,
        max(case when attribute = 'phone' then attribute_value end) as phone,
        max(case when attribute = 'country' then attribute_value end) as country,
        max(case when attribute = 'postal_code' then attribute_value end) as postal_code,
        max(case when attribute = 'company' then attribute_value end) as company
    from golden
    group by customer_id
),

activity as (
    select
        customer_id,
        count(*) as touchpoint_count,
        count(distinct source) as source_count,
        count(distinct department) as department_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from touchpoints
    group by customer_id
),

final as (
    select
        -- ids
        activity.customer_id,
        -- golden attributes
        golden_record.first_name,
        golden_record.last_name,
        coalesce(
            golden_record.full_name,
            nullif(trim(concat_ws(' ', golden_record.first_name, golden_record.last_name)), '')
        ) as full_name,
        {{ pseudonymise('golden_record.email') }} as email,
        {{ pseudonymise('golden_record.phone') }} as phone,
        golden_record.country,
        golden_record.postal_code,
        golden_record.company,
        -- activity
        activity.source_count,
        activity.department_count,
        activity.touchpoint_count,
        activity.first_seen_at,
        activity.last_seen_at
    from activity
    left join golden_record
        on golden_record.customer_id = activity.customer_id
)

select * from final

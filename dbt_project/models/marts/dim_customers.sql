-- One row per customer with first attributes: the CRM's latest name where the CRM knows the
-- customer, else the most recent name another channel recorded.
with links as (
    select * from {{ ref('int_identity_links') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

crm as (
    select * from {{ ref('stg_crm__contacts') }}
),

other_names as (
    select 'orders' as source, source_record_id, full_name, ordered_at as observed_at
    from {{ ref('stg_commerce__orders') }}
    union all
    select 'support_cases', source_record_id, full_name, opened_at
    from {{ ref('stg_service__cases') }}
    union all
    select 'partner_referrals', source_record_id, full_name, cast(referred_at as timestamptz)
    from {{ ref('stg_partner__referrals') }}
),

identifiers as (
    select * from {{ ref('stg_cx__identifiers') }}
),

crm_latest as (
    select
        links.customer_id,
        crm.first_name,
        crm.last_name,
        crm.country
    from crm
    inner join links
        on links.source = 'crm_contacts'
        and links.source_record_id = crm.source_record_id
    qualify row_number() over (
        partition by links.customer_id
        order by coalesce(crm.updated_at, crm.created_at) desc, crm.source_record_id
    ) = 1
),

other_latest as (
    select
        links.customer_id,
        other_names.full_name
    from other_names
    inner join links
        on links.source = other_names.source
        and links.source_record_id = other_names.source_record_id
    where other_names.full_name is not null
    qualify row_number() over (
        partition by links.customer_id
        order by other_names.observed_at desc, other_names.source_record_id
    ) = 1
),

customer_email as (
    select
        links.customer_id,
        min(identifiers.identifier_value) as email
    from links
    inner join identifiers
        on identifiers.source = links.source
        and identifiers.source_record_id = links.source_record_id
        and identifiers.identifier_type = 'email'
    group by links.customer_id
),

activity as (
    select
        customer_id,
        count(*) as touchpoint_count,
        count(distinct source) as source_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from touchpoints
    where customer_id is not null
    group by customer_id
),

final as (
    select
        -- ids
        activity.customer_id,
        -- golden attributes
        customer_email.email,
        crm_latest.first_name,
        crm_latest.last_name,
        coalesce(
            nullif(trim(concat_ws(' ', crm_latest.first_name, crm_latest.last_name)), ''),
            other_latest.full_name
        ) as full_name,
        crm_latest.country,
        -- activity
        activity.source_count,
        activity.touchpoint_count,
        activity.first_seen_at,
        activity.last_seen_at
    from activity
    left join customer_email using (customer_id)
    left join crm_latest using (customer_id)
    left join other_latest using (customer_id)
)

select * from final

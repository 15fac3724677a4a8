-- Per customer and outreach channel (cx_pipeline/config/privacy.yml: consent.channels): may we
-- contact them there? Precedence: the most recent explicit choice over all the customer's records
-- wins, whatever the source; on the same instant opt_out wins. Without any choice the channel's
-- `without_a_choice` applies. One row for each channel the customer has a usable contact point on
-- (an identifier of that type no guard flags) or made a choice for.
{%- set consent = consent_rules() %}

with choices as (
    select * from {{ ref('int_privacy__consent_events') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers_guarded') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
),

channels as (
    {%- for channel in consent.channels %}
    select
        {{ sql_literal(channel) }} as channel,
        {{ loop.index }} as channel_order,
        {{ 'true' if consent.without_a_choice[channel] == 'allowed' else 'false' }} as allowed_without_a_choice
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as varchar) as channel, 0 as channel_order, false as allowed_without_a_choice where false
    {%- endfor %}
),

contact_points as (
    select
        links.customer_id,
        identifiers.identifier_type as channel,
        count(distinct identifiers.identifier_value) as contact_points
    from identifiers
    inner join links
        on links.source = identifiers.source
        and links.source_record_id = identifiers.source_record_id
    inner join channels
        on channels.channel = identifiers.identifier_type
    where identifiers.guard is null
    group by links.customer_id, identifiers.identifier_type
),

-- the choice that stands: the latest; opt_out first on a tie
latest_choice as (
    select
        customer_id,
        channel,
        choice,
        decided_at,
        signal,
        source,
        count(*) over (partition by customer_id, channel) as choices_recorded
    from choices
    qualify row_number() over (
        partition by customer_id, channel
        order by decided_at desc, case choice when 'opt_out' then 0 else 1 end, source, source_record_id
    ) = 1
),

customer_channels as (
    select customer_id, channel from contact_points
    union
    select customer_id, channel from latest_choice
),

final as (
    select
        -- ids
        customer_channels.customer_id,
        customer_channels.channel,
        -- consent
        case latest_choice.choice
            when 'opt_in' then 'opted_in'
            when 'opt_out' then 'opted_out'
            else 'no_choice'
        end as consent_status,
        coalesce(latest_choice.choice = 'opt_in', channels.allowed_without_a_choice) as may_contact,
        coalesce(contact_points.contact_points, 0) > 0 as has_contact_point,
        -- lineage of the choice that stands
        latest_choice.decided_at,
        latest_choice.signal as decided_by_signal,
        latest_choice.source as decided_in_source,
        coalesce(latest_choice.choices_recorded, 0) as choices_recorded,
        channels.channel_order
    from customer_channels
    inner join channels
        on channels.channel = customer_channels.channel
    left join latest_choice
        on latest_choice.customer_id = customer_channels.customer_id
        and latest_choice.channel = customer_channels.channel
    left join contact_points
        on contact_points.customer_id = customer_channels.customer_id
        and contact_points.channel = customer_channels.channel
)

select * from final

-- Per customer and attribute (name, country, consent): do the customer's records agree? One row
-- for every attribute seen on at least two records (an e-mail subscription counts as one), with
-- the values each source holds.
-- Names are compared without case, punctuation or word order ("Smith, John" = "john smith");
-- a name written in another script (katakana, romaji) is a real difference between systems.
with attributes as (
    select * from {{ ref('stg_cx__attributes') }}
),

record_customers as (
    select * from {{ ref('customer_identity_links') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

email_events as (
    select * from {{ ref('stg_email__events') }}
),

-- one name per record: the full name, or the CRM's given and family names
record_names as (
    select
        source,
        source_record_id,
        coalesce(
            max(attribute_value) filter (where attribute = 'full_name'),
            nullif(trim(concat_ws(' ',
                max(attribute_value) filter (where attribute = 'first_name'),
                max(attribute_value) filter (where attribute = 'last_name'))), '')
        ) as display_value
    from attributes
    where attribute in ('full_name', 'first_name', 'last_name')
    group by source, source_record_id
),

names as (
    select
        source,
        source_record_id,
        'name' as attribute,
        display_value,
        array_to_string(list_sort(list_filter(
            string_split_regex(lower(regexp_replace(display_value, '[,.・]', ' ', 'g')), '\s+'),
            lambda word: word <> ''
        )), ' ') as compared_value
    from record_names
    where display_value is not null
),

countries as (
    select
        source,
        source_record_id,
        'country' as attribute,
        attribute_value as display_value,
        upper(trim(attribute_value)) as compared_value
    from attributes
    where attribute = 'country' and attribute_value is not null
),

-- consent: the CRM's do-not-contact flag per contact; marketing's per subscriber address
crm_consent as (
    select
        'crm_contacts' as source,
        source_record_id,
        'consent' as attribute,
        case when do_not_contact then 'opted_out' else 'opted_in' end as display_value,
        case when do_not_contact then 'opted_out' else 'opted_in' end as compared_value
    from crm_contacts
    where do_not_contact is not null
),

record_observations as (
    select * from names
    union all
    select * from countries
    union all
    select * from crm_consent
),

email_consent as (
    select
        record_customers.customer_id,
        'email_events' as source,
        'consent' as attribute,
        case when bool_or(email_events.event_type = 'unsubscribe') then 'opted_out' else 'opted_in' end as display_value
    from email_events
    inner join record_customers
        on record_customers.source = 'email_events'
        and record_customers.source_record_id = email_events.source_record_id
    group by record_customers.customer_id, email_events.email
),

customer_observations as (
    select
        record_customers.customer_id,
        record_observations.source,
        record_observations.attribute,
        record_observations.display_value,
        record_observations.compared_value
    from record_observations
    inner join record_customers
        on record_customers.source = record_observations.source
        and record_customers.source_record_id = record_observations.source_record_id
    union all
    select customer_id, source, attribute, display_value, display_value as compared_value
    from email_consent
),

final as (
    select
        -- ids
        customer_id,
        attribute,
        -- agreement
        count(*) as records,
        count(distinct source) as sources,
        count(distinct compared_value) as distinct_values,
        count(distinct compared_value) = 1 as is_consistent,
        -- what each source holds
        array_to_string(list_sort(list_distinct(list(source || ': ' || display_value))), ' | ') as values_by_source
    from customer_observations
    group by customer_id, attribute
    having count(*) >= 2
)

select * from final

-- The golden record, long form: for each customer and attribute the surviving value, chosen by
-- the rule in cx_pipeline/config/survivorship.yml. Empty values and placeholder identifiers
-- (junk guards in identity.yml) never win; remaining ties go to the smallest value so the same
-- data gives the same record.
{%- set rules = survivorship_rules() %}

with attributes as (
    select * from {{ ref('stg_cx__attributes') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
),

junk_identifiers as (
    select distinct source, source_record_id, identifier_type, identifier_value
    from {{ ref('int_identity__identifiers_guarded') }}
    where guard in ('junk_value', 'junk_pattern')
),

candidates as (
    select
        links.customer_id,
        attributes.attribute,
        attributes.attribute_value,
        attributes.source,
        attributes.observed_at
    from attributes
    inner join links
        on links.source = attributes.source
        and links.source_record_id = attributes.source_record_id
    left join junk_identifiers
        on junk_identifiers.source = attributes.source
        and junk_identifiers.source_record_id = attributes.source_record_id
        and junk_identifiers.identifier_type = attributes.attribute
        and junk_identifiers.identifier_value = attributes.attribute_value
    where junk_identifiers.identifier_value is null
        and attributes.attribute_value is not null
        and trim(attributes.attribute_value) <> ''
        and attributes.attribute in ({{ sql_list(rules) }})
),

-- per customer, attribute and value: how often, how recently, from how trusted a source
value_evidence as (
    select
        customer_id,
        attribute,
        attribute_value,
        count(*) as observations,
        max(observed_at) as last_observed_at,
        min(
            case
                when 1 = 0 then null
            {%- for attribute, rule in rules.items() %}
                {%- for source in rule.sources %}
                when attribute = {{ sql_literal(attribute) }} and source = {{ sql_literal(source) }} then {{ loop.index }}
                {%- endfor %}
            {%- endfor %}
            end
        ) as source_rank,
        min(source) as first_source
    from candidates
    group by customer_id, attribute, attribute_value
),

ranked as (
    select
        value_evidence.*,
        case
            when 1 = 0 then null
        {%- for attribute, rule in rules.items() %}
            when attribute = {{ sql_literal(attribute) }} then {{ sql_literal(rule.rule) }}
        {%- endfor %}
        end as survivorship_rule,
        row_number() over (
            partition by customer_id, attribute
            order by
                case
                    when 1 = 0 then null
                {%- for attribute, rule in rules.items() if rule.rule == 'source_priority' %}
                    when attribute = {{ sql_literal(attribute) }} then coalesce(source_rank, 999999)
                {%- endfor %}
                end asc,
                case
                    when 1 = 0 then null
                {%- for attribute, rule in rules.items() if rule.rule == 'most_frequent' %}
                    when attribute = {{ sql_literal(attribute) }} then observations
                {%- endfor %}
                end desc,
                last_observed_at desc,
                observations desc,
                attribute_value asc
        ) as preference
    from value_evidence
),

final as (
    select
        customer_id,
        attribute,
        attribute_value,
        survivorship_rule,
        observations,
        last_observed_at
    from ranked
    where preference = 1
)

select * from final

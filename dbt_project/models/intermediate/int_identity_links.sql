-- First customer view: source records that share a normalised email are one customer.
-- (Deterministic exact-email matching only; the identity graph replaces this rule set.)
with identifiers as (
    select * from {{ ref('stg_cx__identifiers') }}
),

record_emails as (
    -- a record carrying two emails (e.g. login + account email) keys on the smaller one,
    -- so the choice is stable across runs
    select
        source,
        source_record_id,
        min(identifier_value) as email
    from identifiers
    where identifier_type = 'email'
    group by source, source_record_id
),

final as (
    select
        source,
        source_record_id,
        'cus_' || substr(md5(email), 1, 16) as customer_id,
        'exact_email' as match_rule
    from record_emails
)

select * from final

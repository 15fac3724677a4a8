-- no edges at all: an empty result, not an error
select cast(null as varchar) as node_a, cast(null as varchar) as node_b
where 1 = 0

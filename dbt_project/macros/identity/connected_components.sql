{#-
    connected_components: a custom materialization that clusters an edge list into connected
    components, in portable SQL.

    Usage (the model selects one row per edge; self-edges `a, a` add singleton nodes):

        {{ config(materialized='connected_components', max_iterations=60) }}
        select node_a, node_b from {{ ref('int_identity__edges') }}

    Output: a table (node_id varchar, component_id varchar) with one row per distinct node of
    any edge; component_id is the smallest node_id of the node's component, so it is
    deterministic and stable for the same input. A null endpoint makes the row a self-edge of
    the other endpoint; rows with both endpoints null are ignored. Node ids are cast to the
    adapter's string type first, so integer ids compare as strings ('10' < '9').

    Config keys:
      max_iterations         (int, default 100)  rounds allowed before the build fails.
      integer_keys           (bool, default true) number the nodes 1..n (row_number over the
                             node ids, in the engine's own string order) and iterate on integers;
                             about 5x faster than iterating on strings. false iterates on the
                             node ids themselves (no window function at all).
      temporary_work_tables  (bool, default: true on duckdb, false elsewhere) build the work
                             tables as temporary tables (connection-local, in memory on DuckDB)
                             instead of regular tables next to the model. Temporary "tables" are
                             views on some adapters (Spark), which would recompute every round.

    Algorithm (FastSV-style min-label propagation with hooking and pointer jumping; every round is
    one create-table-as-select of joins, union all, group by and min; no recursive CTE):
      f(x) is a node's label, always a node of its component and never larger than x;
      gp(x) = f(f(x)) (pointer jumping), nm(x) = min over neighbours v of gp(v);
      f'(x) = min(gp(x), nm(x), min{ nm(u) : f(u) = x })   -- the last term hooks a tree's root
    A round that changes no label is a fixed point: every label is a root shared by all the
    nodes of its component, i.e. the component's smallest node. Labels only decrease and gp is
    monotone, so nm is maintained incrementally from the nodes whose gp fell in the round
    (semi-naive): late rounds join the edges with a small set instead of aggregating all edges.
    Rounds grow with the log of a component's diameter, not linearly with it: a 10,000-link chain
    takes 15 rounds, a 1,000,000-link chain 22; the 1M-person identity graph (5.5 M
    nodes, 5.6 M edges between two of them) takes 6 rounds and about 17 s on 2 cores in DuckDB.

    Work tables (input, nodes, edges, two round states) are dropped before the swap; the
    result is built under <model>__dbt_tmp and renamed into place as the table
    materialization does. Model contracts are not supported (the columns are fixed).
-#}

{% materialization connected_components, default %}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
    {%- set grant_config = config.get('grants') -%}

    {%- set max_iterations = connected_components__positive_int(config.get('max_iterations', 100), 'max_iterations') -%}
    {%- set integer_keys = config.get('integer_keys', true) -%}
    {%- set temporary = config.get('temporary_work_tables', none) -%}
    {%- if temporary is none -%}
        {%- set temporary = connected_components__temporary_work_tables_default() -%}
    {%- endif -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config is not none and contract_config.enforced -%}
        {{ exceptions.raise_compiler_error(
            "connected_components model '" ~ model.name ~ "': model contracts are not supported; "
            ~ "the output columns are fixed (node_id, component_id).") }}
    {%- endif -%}

    {%- set work = {
        'input': connected_components__work_relation(target_relation, 'input', temporary),
        'nodes': connected_components__work_relation(target_relation, 'nodes', temporary),
        'edges': connected_components__work_relation(target_relation, 'edges', temporary),
        'state_a': connected_components__work_relation(target_relation, 'state_a', temporary),
        'state_b': connected_components__work_relation(target_relation, 'state_b', temporary),
    } -%}

    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set started = modules.datetime.datetime.now() -%}

    {#- 1. the model's edges, cast and null-normalised, evaluated once -#}
    {% do connected_components__create_work_table(
        work['input'], connected_components__input_sql(compiled_code), temporary) %}

    {#- 2. nodes (with their integer keys) and edges between keys, self-edges dropped -#}
    {% do connected_components__create_work_table(
        work['nodes'], connected_components__nodes_sql(work['input'], integer_keys), temporary) %}
    {% do connected_components__create_work_table(
        work['edges'], connected_components__edges_sql(work['input'], work['nodes'], integer_keys), temporary) %}
    {% do adapter.drop_relation(work['input']) %}

    {#- 3. rounds: state_a and state_b alternate as the previous and the current round -#}
    {%- set ns = namespace(current=none, previous=none, changed=-1, rounds=0) -%}
    {%- for round_number in range(1, max_iterations + 1) -%}
        {%- set round_started = modules.datetime.datetime.now() -%}
        {%- set ns.previous = ns.current -%}
        {%- set ns.current = work['state_a'] if round_number % 2 == 1 else work['state_b'] -%}
        {%- if round_number == 1 -%}
            {%- set round_sql = connected_components__first_round_sql(work['nodes'], work['edges']) -%}
        {%- else -%}
            {%- set round_sql = connected_components__round_sql(ns.previous, work['edges']) -%}
        {%- endif -%}
        {% do connected_components__create_work_table(ns.current, round_sql, temporary) %}
        {%- if ns.previous is not none -%}
            {% do adapter.drop_relation(ns.previous) %}
        {%- endif -%}
        {%- set ns.changed = connected_components__changed_count(ns.current) -%}
        {%- set ns.rounds = round_number -%}
        {{ log("connected_components " ~ target_relation ~ ": round " ~ round_number ~ ", "
               ~ ns.changed ~ " node labels changed ("
               ~ connected_components__seconds_since(round_started) ~ "s)", info=True) }}
        {%- if ns.changed == 0 -%}
            {%- break -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if ns.changed != 0 -%}
        {%- for relation in work.values() -%}
            {% do adapter.drop_relation(relation) %}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "connected_components model '" ~ model.name ~ "' (" ~ target_relation ~ ") did not converge "
            ~ "within max_iterations=" ~ max_iterations ~ ": " ~ ns.changed
            ~ " node labels still changed in the last round. Raise max_iterations in the model's config.") }}
    {%- endif -%}

    {%- set totals = connected_components__totals(ns.current) -%}
    {{ log("connected_components " ~ target_relation ~ ": converged after " ~ ns.rounds ~ " rounds, "
           ~ totals['nodes'] ~ " nodes in " ~ totals['components'] ~ " components ("
           ~ connected_components__seconds_since(started) ~ "s)", info=True) }}

    {#- 4. the result, under a temporary name -#}
    {% call statement('main') -%}
        {{ create_table_as(False, intermediate_relation,
                           connected_components__final_sql(ns.current, work['nodes'], integer_keys)) }}
    {%- endcall %}

    {%- for relation in work.values() -%}
        {% do adapter.drop_relation(relation) %}
    {%- endfor -%}

    {#- 5. swap it into place -#}
    {% if existing_relation is not none %}
        {% do adapter.rename_relation(existing_relation, backup_relation) %}
    {% endif %}
    {% do adapter.rename_relation(intermediate_relation, target_relation) %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
    {% do persist_docs(target_relation, model) %}

    -- `COMMIT` happens here
    {{ adapter.commit() }}

    {{ drop_relation_if_exists(backup_relation) }}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#- ---- work tables ------------------------------------------------------------------------ -#}

{% macro connected_components__temporary_work_tables_default() %}
    {{ return(adapter.dispatch('connected_components__temporary_work_tables_default')()) }}
{% endmacro %}

{% macro default__connected_components__temporary_work_tables_default() %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__connected_components__temporary_work_tables_default() %}
    {#- connection-local and in memory (spilling to disk when needed): nothing of the ~20
        intermediate tables is written to the database file -#}
    {{ return(true) }}
{% endmacro %}

{% macro connected_components__work_relation(target_relation, name, temporary) %}
    {%- if temporary -%}
        {{ return(make_temp_relation(target_relation, '__cc_' ~ name)) }}
    {%- else -%}
        {{ return(make_intermediate_relation(target_relation, '__cc_' ~ name)) }}
    {%- endif -%}
{% endmacro %}

{% macro connected_components__create_work_table(relation, sql, temporary) %}
    {%- if not temporary -%}
        {#- a run that died half-way may have left it behind -#}
        {% do adapter.drop_relation(relation) %}
    {%- endif -%}
    {% call statement('connected_components_work_table') -%}
        {{ create_table_as(temporary, relation, sql) }}
    {%- endcall %}
{% endmacro %}


{#- ---- queries ------------------------------------------------------------------------------ -#}

{% macro connected_components__input_sql(model_sql) %}
with model_edges as (
    select node_a, node_b
    from (
        {{ model_sql }}
    ) as model_sql
),

final as (
    select
        cast(coalesce(node_a, node_b) as {{ type_string() }}) as node_a,
        cast(coalesce(node_b, node_a) as {{ type_string() }}) as node_b
    from model_edges
    where node_a is not null or node_b is not null
)

select * from final
{% endmacro %}

{% macro connected_components__nodes_sql(input_relation, integer_keys) %}
with input_edges as (
    select node_a, node_b from {{ input_relation }}
),

endpoints as (
    select node_a as node_id from input_edges
    union
    select node_b as node_id from input_edges
),

final as (
    select
        node_id,
        {% if integer_keys -%}
        row_number() over (order by node_id) as node_key
        {%- else -%}
        node_id as node_key
        {%- endif %}
    from endpoints
)

select * from final
{% endmacro %}

{% macro connected_components__edges_sql(input_relation, nodes_relation, integer_keys) %}
with input_edges as (
    select node_a, node_b from {{ input_relation }}
),

{% if integer_keys -%}
nodes as (
    select node_id, node_key from {{ nodes_relation }}
),

final as (
    select
        node_a_keys.node_key as key_a,
        node_b_keys.node_key as key_b
    from input_edges
    inner join nodes as node_a_keys on node_a_keys.node_id = input_edges.node_a
    inner join nodes as node_b_keys on node_b_keys.node_id = input_edges.node_b
    where input_edges.node_a <> input_edges.node_b
)
{%- else -%}
final as (
    select
        node_a as key_a,
        node_b as key_b
    from input_edges
    where node_a <> node_b
)
{%- endif %}

select * from final
{% endmacro %}

{#- Round 1 starts from f(x) = x: gp(x) = x, nm(x) = smallest neighbour, f'(x) = min(x, nm(x)).
    A state row keeps what the next round needs: label = f', previous_label = f,
    grandparent_label = gp and neighbour_min = nm as they were in this round (nm is null for a
    node without neighbours). -#}
{% macro connected_components__first_round_sql(nodes_relation, edges_relation) %}
with nodes as (
    select node_key from {{ nodes_relation }}
),

edges as (
    select key_a, key_b from {{ edges_relation }}
),

directed_edges as (
    select key_a as node_key, key_b as neighbour_key from edges
    union all
    select key_b as node_key, key_a as neighbour_key from edges
),

neighbour_minimum as (
    select node_key, min(neighbour_key) as neighbour_min
    from directed_edges
    group by node_key
),

final as (
    select
        nodes.node_key,
        case
            when neighbour_minimum.neighbour_min < nodes.node_key then neighbour_minimum.neighbour_min
            else nodes.node_key
        end as label,
        nodes.node_key as previous_label,
        nodes.node_key as grandparent_label,
        neighbour_minimum.neighbour_min
    from nodes
    left join neighbour_minimum on neighbour_minimum.node_key = nodes.node_key
)

select * from final
{% endmacro %}

{% macro connected_components__round_sql(previous_relation, edges_relation) %}
with previous_state as (
    select
        node_key,
        label,
        grandparent_label as previous_grandparent_label,
        neighbour_min as previous_neighbour_min
    from {{ previous_relation }}
),

edges as (
    select key_a, key_b from {{ edges_relation }}
),

-- pointer jumping: gp(x) = f(f(x))
grandparents as (
    select
        node.node_key,
        node.label,
        parent.label as grandparent_label,
        node.previous_grandparent_label,
        node.previous_neighbour_min
    from previous_state as node
    inner join previous_state as parent on parent.node_key = node.label
),

-- gp only ever falls; only the nodes where it fell can lower a neighbour's nm
lowered_grandparents as (
    select node_key, grandparent_label
    from grandparents
    where grandparent_label < previous_grandparent_label
),

lowered_neighbour_labels as (
    select edges.key_a as node_key, lowered_grandparents.grandparent_label
    from edges
    inner join lowered_grandparents on lowered_grandparents.node_key = edges.key_b
    union all
    select edges.key_b as node_key, lowered_grandparents.grandparent_label
    from edges
    inner join lowered_grandparents on lowered_grandparents.node_key = edges.key_a
),

lowered_neighbour_minimum as (
    select node_key, min(grandparent_label) as neighbour_min
    from lowered_neighbour_labels
    group by node_key
),

-- nm(x) = min over neighbours of gp
node_state as (
    select
        grandparents.node_key,
        grandparents.label,
        grandparents.grandparent_label,
        case
            when grandparents.previous_neighbour_min is null
                or lowered_neighbour_minimum.neighbour_min < grandparents.previous_neighbour_min
                then lowered_neighbour_minimum.neighbour_min
            else grandparents.previous_neighbour_min
        end as neighbour_min
    from grandparents
    left join lowered_neighbour_minimum
        on lowered_neighbour_minimum.node_key = grandparents.node_key
),

-- hooking: a node's parent takes the smallest label seen next to its children
hooks as (
    select label as node_key, min(neighbour_min) as hook_label
    from node_state
    where neighbour_min < label
    group by label
),

candidates as (
    select
        node_state.node_key,
        node_state.label as previous_label,
        node_state.grandparent_label,
        node_state.neighbour_min,
        case
            when node_state.neighbour_min < node_state.grandparent_label then node_state.neighbour_min
            else node_state.grandparent_label
        end as propagated_label,
        hooks.hook_label
    from node_state
    left join hooks on hooks.node_key = node_state.node_key
),

final as (
    select
        node_key,
        case
            when hook_label < propagated_label then hook_label
            else propagated_label
        end as label,
        previous_label,
        grandparent_label,
        neighbour_min
    from candidates
)

select * from final
{% endmacro %}

{% macro connected_components__final_sql(state_relation, nodes_relation, integer_keys) %}
{% if integer_keys -%}
with node_labels as (
    select node_key, label from {{ state_relation }}
),

nodes as (
    select node_id, node_key from {{ nodes_relation }}
),

final as (
    select
        members.node_id,
        roots.node_id as component_id
    from node_labels
    inner join nodes as members on members.node_key = node_labels.node_key
    inner join nodes as roots on roots.node_key = node_labels.label
)
{%- else -%}
with node_labels as (
    select node_key, label from {{ state_relation }}
),

final as (
    select
        node_key as node_id,
        label as component_id
    from node_labels
)
{%- endif %}

select * from final
{% endmacro %}


{#- ---- checks -------------------------------------------------------------------------------- -#}

{% macro connected_components__changed_count(state_relation) %}
    {%- set result = run_query(
        "select count(*) as changed_nodes from " ~ state_relation ~ " where label <> previous_label") -%}
    {{ return(result.columns[0].values()[0] | int) }}
{% endmacro %}

{% macro connected_components__totals(state_relation) %}
    {%- set result = run_query(
        "select count(*) as nodes, count(case when label = node_key then 1 end) as components from "
        ~ state_relation) -%}
    {{ return({
        'nodes': result.columns[0].values()[0] | int,
        'components': result.columns[1].values()[0] | int,
    }) }}
{% endmacro %}

{% macro connected_components__positive_int(value, name) %}
    {%- set number = value | int(-1) -%}
    {%- if number < 1 or (value | string) != (number | string) -%}
        {{ exceptions.raise_compiler_error(
            "connected_components model '" ~ model.name ~ "': " ~ name
            ~ " must be a positive integer, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(number) }}
{% endmacro %}

{% macro connected_components__seconds_since(started) %}
    {%- set elapsed = modules.datetime.datetime.now() - started -%}
    {{ return('%.2f' | format(elapsed.total_seconds())) }}
{% endmacro %}

{{ config(max_iterations=var('chain_max_iterations', 100)) }}
-- a single chain of links, written by the test
select node_a, node_b from read_parquet('{{ var("input_dir") }}/chain.parquet')

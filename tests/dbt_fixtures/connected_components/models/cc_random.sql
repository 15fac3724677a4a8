-- a random sparse graph, checked against a union-find in the test
select node_a, node_b from read_parquet('{{ var("input_dir") }}/random.parquet')

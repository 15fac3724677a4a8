"""The `connected_components` dbt materialization (dbt_project/macros/identity/connected_components.sql).

Real `dbt run`s (subprocess, the venv's dbt) of the fixture project tests/dbt_fixtures/connected_components
against a DuckDB file in a temporary folder; the fixture's macro-paths point at the real macro folder.
One module-scoped build is shared; the tests that run dbt again compare against its snapshot.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "dbt_fixtures" / "connected_components"
MACROS = REPO / "dbt_project" / "macros" / "identity"
DBT = Path(sys.executable).with_name("dbt")

MODELS = {"cc_chain", "cc_mixed", "cc_mixed_string_keys", "cc_mixed_persistent", "cc_random", "cc_empty"}
CHAIN_LINKS = 10_000

# (node_a, node_b) rows of mixed.parquet, and the component each node must land in
MIXED_EDGES = [
    # a star; the hub sorts after its leaves, one edge reversed, one duplicated
    ("star-hub", "star-05"),
    ("star-hub", "star-02"),
    ("star-03", "star-hub"),
    ("star-hub", "star-04"),
    ("star-hub", "star-01"),
    ("star-hub", "star-01"),
    # a cycle whose smallest node sits in the middle of the edge list
    ("cyc-c", "cyc-d"),
    ("cyc-d", "cyc-a"),
    ("cyc-a", "cyc-b"),
    ("cyc-b", "cyc-c"),
    # a pair, one of its nodes also given a self-edge
    ("pair-2", "pair-1"),
    ("pair-1", "pair-1"),
    # singletons: self-edges (one twice, one non-ASCII) and a null endpoint on either side
    ("solo-x", "solo-x"),
    ("solo-y", "solo-y"),
    ("solo-y", "solo-y"),
    ("ünïcode", "ünïcode"),
    (None, "half-null-b"),
    ("half-null-a", None),
    (None, None),
]
MIXED_EXPECTED = {
    **{f"star-0{i}": "star-01" for i in range(1, 6)},
    "star-hub": "star-01",
    **{f"cyc-{c}": "cyc-a" for c in "abcd"},
    "pair-1": "pair-1",
    "pair-2": "pair-1",
    "solo-x": "solo-x",
    "solo-y": "solo-y",
    "ünïcode": "ünïcode",
    "half-null-a": "half-null-a",
    "half-null-b": "half-null-b",
}


@dataclass
class FixtureProject:
    root: Path
    database: Path
    inputs: Path
    first_run: subprocess.CompletedProcess
    first_tables: dict[str, list[tuple[str, str]]]
    chain_nodes: list[str]
    random_expected: dict[str, str]

    def dbt(self, *args: str, **model_vars: object) -> subprocess.CompletedProcess:
        variables = {"input_dir": str(self.inputs), **model_vars}
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
        env.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false", CC_FIXTURE_DUCKDB=str(self.database))
        return subprocess.run(
            [
                str(DBT), *args,
                "--project-dir", str(self.root),
                "--profiles-dir", str(self.root),
                "--target-path", str(self.root / "target"),
                "--log-path", str(self.root / "logs"),
                "--vars", yaml.safe_dump(variables),
            ],
            cwd=self.root, env=env, capture_output=True, text=True, timeout=110,
        )

    def tables(self) -> dict[str, list[tuple[str, str]]]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            names = [row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()]
            return {
                name: con.execute(f"select node_id, component_id from {name} order by node_id").fetchall()
                for name in names
            }

    def column_types(self, table: str) -> list[tuple[str, str]]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return [(row[0], row[1]) for row in con.execute(f"describe {table}").fetchall()]


def _write_edges(path: Path, edges: list[tuple[str | None, str | None]]) -> None:
    table = pa.table(
        {"node_a": [a for a, _ in edges], "node_b": [b for _, b in edges]},
        schema=pa.schema([("node_a", pa.string()), ("node_b", pa.string())]),
    )
    pq.write_table(table, path)


def _union_find_components(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Reference answer: node -> smallest node of its component."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return {node: find(node) for node in parent}


def _output_text(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> FixtureProject:
    base = tmp_path_factory.mktemp("connected_components")
    root = base / "project"
    shutil.copytree(FIXTURE, root)
    config = yaml.safe_load((root / "dbt_project.yml").read_text())
    config["macro-paths"] = [str(MACROS)]
    (root / "dbt_project.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    inputs = base / "inputs"
    inputs.mkdir()
    rng = random.Random(20240611)

    # a chain whose node ids are in no particular order along it
    chain_nodes = [f"c{n:06d}" for n in rng.sample(range(1_000_000), CHAIN_LINKS + 1)]
    _write_edges(inputs / "chain.parquet", list(zip(chain_nodes, chain_nodes[1:])))

    _write_edges(inputs / "mixed.parquet", MIXED_EDGES)

    # a sparse random graph: trees, small cycles, many components; plus some isolated nodes
    random_nodes = [f"r{n}" for n in rng.sample(range(100_000), 3_000)]
    random_edges = [(rng.choice(random_nodes), rng.choice(random_nodes)) for _ in range(2_400)]
    random_edges += [(node, node) for node in rng.sample(random_nodes, 300)]
    _write_edges(inputs / "random.parquet", random_edges)

    fixture = FixtureProject(
        root=root,
        database=base / "cc.duckdb",
        inputs=inputs,
        first_run=subprocess.CompletedProcess([], 0),
        first_tables={},
        chain_nodes=chain_nodes,
        random_expected=_union_find_components(random_edges),
    )
    fixture.first_run = fixture.dbt("run")
    assert fixture.first_run.returncode == 0, _output_text(fixture.first_run)
    fixture.first_tables = fixture.tables()
    return fixture


def test_every_model_builds_one_table_and_leaves_no_work_tables(project: FixtureProject) -> None:
    assert set(project.first_tables) == MODELS
    assert project.column_types("cc_mixed") == [("node_id", "VARCHAR"), ("component_id", "VARCHAR")]


def test_long_chain_is_one_component_named_after_its_smallest_node(project: FixtureProject) -> None:
    rows = project.first_tables["cc_chain"]
    assert len(rows) == CHAIN_LINKS + 1
    assert {node for node, _ in rows} == set(project.chain_nodes)
    assert {component for _, component in rows} == {min(project.chain_nodes)}


def test_long_chain_converges_in_logarithmically_many_rounds(project: FixtureProject) -> None:
    log = _output_text(project.first_run)
    converged = re.search(r'"cc_chain": converged after (\d+) rounds, (\d+) nodes in (\d+) components', log)
    assert converged, log
    rounds = int(converged.group(1))
    # plain label propagation needs one round per link; pointer jumping needs about log2(10,000) + 2
    assert rounds <= 30
    assert (int(converged.group(2)), int(converged.group(3))) == (CHAIN_LINKS + 1, 1)
    per_round = re.findall(r'"cc_chain": round (\d+), (\d+) node labels changed', log)
    assert [int(number) for number, _ in per_round] == list(range(1, rounds + 1))
    assert int(per_round[-1][1]) == 0
    assert all(int(changed) > 0 for _, changed in per_round[:-1])


def test_stars_cycles_pairs_and_singletons(project: FixtureProject) -> None:
    assert dict(project.first_tables["cc_mixed"]) == MIXED_EXPECTED


@pytest.mark.parametrize("model", ["cc_mixed_string_keys", "cc_mixed_persistent"])
def test_string_keys_and_regular_work_tables_give_the_same_answer(project: FixtureProject, model: str) -> None:
    assert dict(project.first_tables[model]) == MIXED_EXPECTED


def test_random_graph_matches_union_find(project: FixtureProject) -> None:
    assert dict(project.first_tables["cc_random"]) == project.random_expected
    assert len(set(project.random_expected.values())) > 100  # many components, not one blob


def test_no_edges_gives_an_empty_table(project: FixtureProject) -> None:
    assert project.first_tables["cc_empty"] == []
    assert project.column_types("cc_empty") == [("node_id", "VARCHAR"), ("component_id", "VARCHAR")]


def test_second_run_replaces_the_tables_with_the_same_result(project: FixtureProject) -> None:
    rerun = project.dbt("run")
    assert rerun.returncode == 0, _output_text(rerun)
    assert project.tables() == project.first_tables


def test_too_few_iterations_fails_the_model_and_keeps_the_previous_table(project: FixtureProject) -> None:
    failed = project.dbt(
        "run", "--select", "cc_chain", "cc_mixed_persistent",
        chain_max_iterations=3, persistent_max_iterations=1,
    )
    log = _output_text(failed)
    assert failed.returncode == 1, log
    assert "ERROR=2" in log
    for model, max_iterations in (("cc_chain", 3), ("cc_mixed_persistent", 1)):
        error = re.search(
            rf"connected_components model '{model}' \(\S+\) did not converge within "
            rf"max_iterations={max_iterations}: (\d+) node labels still changed in the last round",
            log,
        )
        assert error, log
        assert int(error.group(1)) > 0
        rounds = re.findall(rf'"{model}": round \d+, \d+ node labels changed', log)
        assert len(rounds) == max_iterations
    # the builds failed before the swap: the last good tables are still there, no work table left behind
    assert project.tables() == project.first_tables


def test_max_iterations_must_be_a_positive_integer(project: FixtureProject) -> None:
    failed = project.dbt("run", "--select", "cc_chain", chain_max_iterations=0)
    log = _output_text(failed)
    assert failed.returncode == 1, log
    assert "max_iterations must be a positive integer, got '0'" in log
    assert project.tables() == project.first_tables

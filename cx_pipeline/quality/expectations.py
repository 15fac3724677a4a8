"""Great Expectations suites stored as files under expectations/, run on pandas frames.

`expectations/sources/<source>.json` describes a source's accepted rows and
`expectations/marts/<mart>.json` a published mart. A suite file is plain GX 1.x JSON
(`name`, `expectations: [{type, kwargs, meta}]`, `meta`); its `meta.row_key` names the
columns that identify a row, so a failure can show the rows behind it.

GX is imported inside `validate_frame` only (its import takes seconds), in an ephemeral context:
no GX project folder, nothing written but our own results file. DuckDB data reaches GX as a
pandas frame: GX's SQL datasource fails on DuckDB (GX #10738 / #11579) and it has no Polars one.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from cx_pipeline.ingest.registry import Registry, RegistryDefaults, SourceSpec
from cx_pipeline.paths import EXPECTATIONS_DIR
from cx_pipeline.quality.base import SAMPLE_ROWS, Finding, Measurement

SOURCE_SUITES = EXPECTATIONS_DIR / "sources"
MART_SUITES = EXPECTATIONS_DIR / "marts"
# Dates before this are defaults and epoch zeros (1970-01-01), not real events.
EARLIEST_PLAUSIBLE_TIME = "2000-01-01T00:00:00+00:00"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
PHONE_PATTERN = r"^\+[0-9]{4,15}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
# A text column with at most this many distinct values goes to GX as a pandas categorical.
CATEGORICAL_AT_MOST = 1000


class SuiteFileError(ValueError):
    """A suite file that is not a GX suite; the message names the file."""


def source_suite_path(source: str) -> Path:
    return SOURCE_SUITES / f"{source}.json"


def mart_suite_path(mart: str) -> Path:
    return MART_SUITES / f"{mart}.json"


def load_suite(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteFileError(
            f"{path}: no suite file; every source and mart needs one (see expectations/README.md)"
        ) from None
    except ValueError as error:
        raise SuiteFileError(f"{path}: not valid JSON: {error}") from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("name"), str)
        or not isinstance(doc.get("expectations"), list)
    ):
        raise SuiteFileError(f"{path}: a suite has a `name` and a list of `expectations`")
    row_key = (doc.get("meta") or {}).get("row_key")
    if not isinstance(row_key, list) or not row_key or not all(isinstance(c, str) for c in row_key):
        raise SuiteFileError(f"{path}: meta.row_key must list the columns that identify a row")
    for i, expectation in enumerate(doc["expectations"]):
        if not isinstance(expectation, dict) or not isinstance(expectation.get("type"), str):
            raise SuiteFileError(
                f"{path}: expectations[{i}]: needs a `type` (e.g. expect_column_values_to_not_be_null)"
            )
    return doc


# Expectations on single columns or column sets: a suite made only of these needs only the columns
# it names (and its row key), so a mart of millions of rows is not copied whole into pandas.
_COLUMN_ARGUMENTS = ("column", "column_list", "column_A", "column_B")
_TABLE_EXPECTATIONS_WITHOUT_COLUMNS = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}


def suite_columns(suite: dict[str, Any]) -> list[str] | None:
    """The columns `suite` reads (row key first), or None when an expectation may read them all
    (e.g. one on the table's column list)."""
    columns = list(suite["meta"]["row_key"])
    for expectation in suite["expectations"]:
        kwargs = expectation.get("kwargs") or {}
        named = [kwargs[a] for a in _COLUMN_ARGUMENTS if a in kwargs]
        if not named and expectation["type"] not in _TABLE_EXPECTATIONS_WITHOUT_COLUMNS:
            return None
        for value in named:
            columns += value if isinstance(value, list) else [value]
    return list(dict.fromkeys(columns))


def _pandas(frame: pl.DataFrame):
    # GX compares bounds as numbers and timestamps: decimals become floats, and dates UTC
    # midnights, so one bound format ("2000-01-01T00:00:00+00:00") serves dates and timestamps.
    decimals = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    dates = [name for name, dtype in frame.schema.items() if dtype == pl.Date]
    # Text with few distinct values (channels, departments, types) as pandas categoricals: one
    # string per value instead of one per row (at 1 M people: 0.3 GB less and 20 % faster on
    # fct_touchpoints, the same outcomes). The count is estimated (HyperLogLog, 20 times faster than
    # an exact one on 5.5 M ids): near the bound either representation gives the same outcomes.
    few_values = [
        name for name, dtype in frame.schema.items()
        if dtype == pl.String and frame[name].approx_n_unique() <= CATEGORICAL_AT_MOST
    ]
    return frame.with_columns(
        pl.col(decimals).cast(pl.Float64),
        pl.col(dates).cast(pl.Datetime("us", "UTC")),
        pl.col(few_values).cast(pl.Categorical),
    ).to_pandas()


def validate_frame(frame: pl.DataFrame, suite: dict[str, Any], suite_path: Path) -> Measurement:
    """Run `suite` on `frame`; one finding per expectation, the failing rows' keys as the sample."""
    gx = _great_expectations()
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
    from great_expectations.execution_engine import pandas_execution_engine

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # GX fingerprints every pandas batch below 1 GB (HASH_THRESHOLD) by hashing all its rows, and
    # fetches the batch twice per validation: 10 s of the 12 s a suite takes on 5.5 M touchpoints.
    # The fingerprint is only a batch marker, which nothing here reads.
    pandas_execution_engine.HASH_THRESHOLD = 0
    row_key = list(suite["meta"]["row_key"])
    # In memory only: no docs site folder, no analytics, no progress bars on stderr.
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars={"globally": False, "metric_calculations": False},
        ),
    )
    try:
        expectation_suite = gx.ExpectationSuite(
            name=suite["name"], expectations=suite["expectations"], meta=suite.get("meta") or {}
        )
    except Exception as error:  # GX raises its own types for unknown expectations and bad kwargs
        raise SuiteFileError(f"{suite_path}: {error}") from error
    batch = None
    try:
        batch = (
            context.data_sources.add_pandas("cx")
            .add_dataframe_asset(suite["name"])
            .add_batch_definition_whole_dataframe("all_rows")
            .get_batch(batch_parameters={"dataframe": _pandas(frame)})
        )
        result = batch.validate(
            expectation_suite,
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": row_key,
                "partial_unexpected_count": SAMPLE_ROWS,
            },
        ).to_json_dict()
    finally:
        context = batch = None  # the last references to the frame GX validated
        _release_memory()

    findings = []
    failing_keys: list[dict] = []
    for item in result["results"]:
        config, outcome = item["expectation_config"], item.get("result") or {}
        findings.append(_finding(config, outcome, item))
        if not item["success"]:
            failing_keys += [
                {c: row[c] for c in row_key if c in row} for row in outcome.get("partial_unexpected_index_list") or []
            ]
    return Measurement(
        findings=findings,
        sample=_rows_with_keys(frame, row_key, failing_keys),
        facts={"rows_validated": frame.height, "expectations": len(findings), "suite": str(suite_path)},
        details=result,
    )


@cache
def _great_expectations():
    """GX, imported once; then everything alive so far is frozen out of the cyclic collector.

    Modules, the code location and the dbt manifest live as long as the process: frozen, the
    collection after each suite (_release_memory) walks only what the suites made, 0.01 s instead
    of 0.3 s (27 suites in a run). Refcounting still frees frozen objects; only cycles among them
    would stay, and there is no garbage left to freeze right after a collection.
    """
    import great_expectations

    gc.collect()
    gc.freeze()
    return great_expectations


def _release_memory() -> None:
    """Free the validated batch now and hand the pages back to the system.

    GX keeps the last context, and with it the batch's pandas frame, in a module global until the
    next get_context, and GX's objects hold it in reference cycles that only a collection frees;
    the allocators (Arrow's pool, glibc's arenas) keep freed pages. In a Dagster run of 1 M people
    that left 1 GiB in the run's process beside dbt, and 2.8 GiB after the mart suites.
    """
    import pyarrow
    from great_expectations.data_context.data_context.context_factory import project_manager

    project_manager.set_project(None)
    gc.collect()
    pyarrow.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator returns pages its own way
        pass


def _finding(config: dict, outcome: dict, item: dict) -> Finding:
    kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
    column = kwargs.get("column") or kwargs.get("column_list") or kwargs.get("column_A")
    subject = config["type"] + (f"({column})" if column else "")
    exception = (item.get("exception_info") or {}).get("exception_message")
    if "unexpected_count" in outcome:
        examples = outcome.get("partial_unexpected_list") or []
        note = f"e.g. {', '.join(map(str, examples[:3]))}" if examples else ""
        return Finding(
            subject=subject,
            value=0.0 if item["success"] else float(outcome["unexpected_count"]),
            limit=0.0,
            count=outcome["unexpected_count"],
            total=outcome.get("element_count"),
            note=note,
        )
    observed = outcome.get("observed_value")
    note = f"observed {observed!r}" if observed is not None else (f"error: {exception}" if exception else "")
    expected = {k: v for k, v in kwargs.items() if k != "column"}
    note += f"; expected {expected}" if expected and not item["success"] else ""
    return Finding(subject=subject, value=0.0 if item["success"] else 1.0, limit=0.0, note=note.strip("; "))


def _rows_with_keys(frame: pl.DataFrame, row_key: list[str], keys: list[dict]) -> pl.DataFrame | None:
    if not keys:
        return None
    wanted = pl.DataFrame(keys).unique(maintain_order=True).head(SAMPLE_ROWS)
    wanted = wanted.select([pl.col(c).cast(frame.schema[c]) for c in row_key if c in wanted.columns])
    if not wanted.columns:
        return None
    return frame.join(wanted, on=wanted.columns, how="semi").head(SAMPLE_ROWS)


# --- scaffolding a suite for a new source -------------------------------------------------


def _expect(kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {}}


def scaffold_source_suite(spec: SourceSpec, defaults: RegistryDefaults) -> dict[str, Any]:
    """A starting suite for a source, from its registry entry: the contract ingestion enforces,
    plus plausibility rules it does not (identifier shapes, dates before 2000). Edit it freely."""
    expectations = [
        _expect("expect_table_row_count_to_be_between", min_value=1),
        _expect("expect_column_values_to_be_unique", column="source_record_id"),
        _expect("expect_column_values_to_not_be_null", column="source_record_id"),
    ]
    for field in spec.fields:
        if field.required:
            expectations.append(_expect("expect_column_values_to_not_be_null", column=field.name))
        if field.allowed:
            expectations.append(
                _expect("expect_column_values_to_be_in_set", column=field.name, value_set=list(field.allowed))
            )
        if field.min is not None or field.max is not None:
            bounds = {k: v for k, v in (("min_value", field.min), ("max_value", field.max)) if v is not None}
            expectations.append(_expect("expect_column_values_to_be_between", column=field.name, **bounds))
        pattern = {"email": EMAIL_PATTERN, "phone": PHONE_PATTERN, "country": COUNTRY_PATTERN}.get(field.type)
        if pattern:
            expectations.append(_expect("expect_column_values_to_match_regex", column=field.name, regex=pattern))
        if field.type == "currency":
            expectations.append(
                _expect("expect_column_values_to_be_in_set", column=field.name, value_set=list(defaults.currencies))
            )
        if field.type in ("date", "timestamp"):
            expectations.append(
                _expect("expect_column_values_to_be_between", column=field.name, min_value=EARLIEST_PLAUSIBLE_TIME)
            )
    return {
        "name": f"source_{spec.name}",
        "expectations": expectations,
        "meta": {"row_key": ["source_record_id"], "describes": f"ingested/{spec.name}/accepted.parquet"},
    }


def scaffold_mart_suite(model: dict[str, Any], tests: list[dict[str, Any]]) -> dict[str, Any]:
    """A starting suite for a mart, from its dbt manifest node and the data tests on it: the
    contract's not-null constraints, unique keys and accepted values. Edit it freely: add the
    plausibility rules only a person knows (bounds, shares, shapes)."""
    expectations = [_expect("expect_table_row_count_to_be_between", min_value=1)]
    row_key: list[str] = []
    for name, column in model["columns"].items():
        if any(c.get("type") == "not_null" for c in column.get("constraints", [])):
            expectations.append(_expect("expect_column_values_to_not_be_null", column=name))
    for test in tests:
        if (test.get("config") or {}).get("where"):
            continue  # a test on some rows only (e.g. current history rows): not a table-wide rule
        meta = test.get("test_metadata") or {}
        kwargs = meta.get("kwargs") or {}
        column = test.get("column_name") or kwargs.get("column_name")
        if meta.get("name") == "unique" and column:
            expectations.append(_expect("expect_column_values_to_be_unique", column=column))
            row_key = row_key or [column]
        elif meta.get("name") == "unique_combination_of_columns":
            columns = kwargs.get("columns") or (kwargs.get("arguments") or {}).get("columns")
            if columns:
                expectations.append(_expect("expect_compound_columns_to_be_unique", column_list=list(columns)))
                row_key = row_key or list(columns)
        elif meta.get("name") == "accepted_values" and column:
            values = kwargs.get("values") or (kwargs.get("arguments") or {}).get("values")
            if values:
                expectations.append(_expect("expect_column_values_to_be_in_set", column=column, value_set=list(values)))
    return {
        "name": f"mart_{model['name']}",
        "expectations": expectations,
        "meta": {
            "row_key": row_key or [next(iter(model["columns"]))],
            "describes": f"marts.{model['name']}: {model.get('description', '').strip()}",
        },
    }


def missing_suites(registry: Registry, marts: list[str]) -> list[Path]:
    """Suite files that should exist but do not: one per registry source and one per mart."""
    wanted = [source_suite_path(s) for s in registry.sources] + [mart_suite_path(m) for m in marts]
    return [path for path in wanted if not path.exists()]

"""A mart's starting GX suite comes from its dbt contract and data tests."""

from __future__ import annotations

from cx_pipeline.quality.expectations import scaffold_mart_suite


def _test(name: str, column: str | None = None, where: str | None = None, **kwargs) -> dict:
    return {"test_metadata": {"name": name, "kwargs": kwargs}, "column_name": column, "config": {"where": where}}


def test_constraints_keys_and_accepted_values_become_expectations():
    model = {
        "name": "customer_lifecycle",
        "description": "Phase per customer.",
        "columns": {
            "customer_id": {"constraints": [{"type": "not_null"}]},
            "phase": {"constraints": [{"type": "not_null"}]},
            "reason": {"constraints": []},
        },
    }
    tests = [
        _test("unique", "customer_id"),
        _test("accepted_values", "phase", arguments={"values": ["purchase", "use", "expand", "lapsed"]}),
        _test("unique", "phase", where="is_current"),  # some rows only: not a table-wide rule
    ]
    suite = scaffold_mart_suite(model, tests)
    kinds = [(e["type"], e["kwargs"].get("column")) for e in suite["expectations"]]
    assert kinds == [
        ("expect_table_row_count_to_be_between", None),
        ("expect_column_values_to_not_be_null", "customer_id"),
        ("expect_column_values_to_not_be_null", "phase"),
        ("expect_column_values_to_be_unique", "customer_id"),
        ("expect_column_values_to_be_in_set", "phase"),
    ]
    assert suite["expectations"][-1]["kwargs"]["value_set"] == ["purchase", "use", "expand", "lapsed"]
    assert suite["meta"]["row_key"] == ["customer_id"]
    assert suite["name"] == "mart_customer_lifecycle"


def test_a_compound_key_is_the_row_key():
    model = {"name": "cx_kpis", "columns": {"phase": {}, "channel": {}}}
    suite = scaffold_mart_suite(model, [_test("unique_combination_of_columns", arguments={"columns": ["phase", "channel"]})])
    assert suite["expectations"][-1] == {
        "type": "expect_compound_columns_to_be_unique",
        "kwargs": {"column_list": ["phase", "channel"]},
        "meta": {},
    }
    assert suite["meta"]["row_key"] == ["phase", "channel"]


def test_a_suite_reads_only_the_columns_it_names_unless_one_expectation_needs_them_all():
    from cx_pipeline.quality.expectations import suite_columns

    def suite(*expectations: dict) -> dict:
        return {"name": "s", "meta": {"row_key": ["customer_id"]}, "expectations": list(expectations)}

    named = suite(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "phase"}},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["phase", "sub_stage"]}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b", "kwargs": {"column_A": "to", "column_B": "from"}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
    )
    assert suite_columns(named) == ["customer_id", "phase", "sub_stage", "to", "from"]
    whole_table = suite({"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["a"]}})
    assert suite_columns(whole_table) is None


def test_few_valued_text_reaches_gx_as_categories_with_the_same_findings(monkeypatch):
    """Columns with few distinct values go to GX as pandas categoricals (memory at 1 M people):
    regex, set, uniqueness and null expectations find exactly what they find on plain strings."""
    from pathlib import Path

    import polars as pl

    from cx_pipeline.quality import expectations
    from cx_pipeline.quality.expectations import validate_frame

    frame = pl.DataFrame(
        {
            "id": [str(i) for i in range(2000)],
            "country": ["JP"] * 1997 + ["Japan", "jp", None],
            "channel": ["web"] * 1999 + ["fax"],
        }
    )
    suite = {
        "name": "few_values",
        "meta": {"row_key": ["id"]},
        "expectations": [
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "country", "regex": "^[A-Z]{2}$"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "channel", "value_set": ["web", "app"]}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "country"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "channel"}},
        ],
    }
    assert expectations._pandas(frame)["channel"].dtype == "category"
    as_categories = validate_frame(frame, suite, Path("few_values.json"))
    found = {f.subject: (f.count, f.note) for f in as_categories.findings}
    assert found["expect_column_values_to_match_regex(country)"] == (2, "e.g. Japan, jp")
    assert found["expect_column_values_to_be_in_set(channel)"] == (1, "e.g. fax")
    assert found["expect_column_values_to_not_be_null(country)"][0] == 1
    assert found["expect_column_values_to_be_unique(channel)"][0] == 1999
    # the same suite on plain strings (nothing counts as few-valued) finds the same
    monkeypatch.setattr(expectations, "CATEGORICAL_AT_MOST", 0)
    assert expectations._pandas(frame)["channel"].dtype != "category"
    as_strings = validate_frame(frame, suite, Path("few_values.json"))
    assert [(f.subject, f.count, f.note) for f in as_strings.findings] == [
        (f.subject, f.count, f.note) for f in as_categories.findings
    ]
    assert as_strings.sample.equals(as_categories.sample)


def test_the_frame_gx_validated_is_freed_when_the_validation_returns(monkeypatch):
    """GX holds the batch in a module global and in reference cycles: left alone, a run kept
    gigabytes of validated frames at 1 M people (cx_pipeline/quality/expectations.py)."""
    import weakref
    from pathlib import Path

    import polars as pl

    from cx_pipeline.quality import expectations

    given: list[weakref.ref] = []
    to_pandas = expectations._pandas

    def watched(frame):
        pandas_frame = to_pandas(frame)
        given.append(weakref.ref(pandas_frame))
        return pandas_frame

    monkeypatch.setattr(expectations, "_pandas", watched)
    suite = {
        "name": "freed",
        "meta": {"row_key": ["id"]},
        "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}],
    }
    frame = pl.DataFrame({"id": [str(i) for i in range(1000)] + [None]})
    measurement = expectations.validate_frame(frame, suite, Path("freed.json"))
    assert measurement.findings[0].count == 1  # it did validate the frame
    assert given and given[0]() is None

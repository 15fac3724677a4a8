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

"""Stable customer ids across runs: new data that merges two customers keeps one of their ids,
taking that data away splits them again, and both changes are recorded in customer_id_changes.

Runs the real job three times on a copy of the session sample, so the shared fixture is untouched.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from cx_pipeline.paths import data_paths
from tests.conftest import _isolate

pytestmark = pytest.mark.e2e


def _run_job() -> None:
    from dagster import DagsterInstance

    from cx_pipeline.definitions import defs

    result = defs.resolve_job_def("cx_full_run").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def _published(paths, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _working(paths, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _bridge_events(email_a: str, email_b: str) -> str:
    """One browser that submitted a form with each address: the cookie ties both customers together."""
    events = [
        {
            "event_id": f"wev-bridge-{i}",
            "cookie_id": "ck-bridge-cookie",
            "event_type": "form_submit",
            "event_ts": "2026-06-01T10:00:00Z",
            "page_url": "https://www.cxcloud.example/contact",
            "utm_source": None,
            "email": email,
        }
        for i, email in enumerate((email_a, email_b))
    ]
    return "".join(json.dumps(event) + "\n" for event in events)


def test_merge_keeps_an_old_id_and_split_is_recorded(pipeline_run, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(pipeline_run.paths.root, root, ignore=shutil.ignore_patterns("dagster_home"))
    paths = data_paths(root)
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, root)

        # two customers of one country (a merge across countries is a conflict the quality gate
        # rightly blocks) known by an email only they use, the larger one first. The marts carry
        # emails as pseudonyms: the raw address the bridge needs is in the working database.
        (big, email_big, big_records), (small, email_small, small_records) = _working(
            paths,
            "with candidates as ("
            "  select c.customer_id, g.attribute_value as email, c.country, count(*) as records "
            "  from marts.dim_customers c join marts.customer_identity_links l using (customer_id) "
            "  join intermediate.int_identity__golden_attributes g "
            "    on g.customer_id = c.customer_id and g.attribute = 'email' "
            "  where c.email is not null and c.country is not null and c.email not in ("
            "    select identifier_value from marts.customer_contact_points "
            "    where identifier_type = 'email' group by 1 having count(distinct customer_id) > 1) "
            "  group by all having count(*) between 2 and 20), "
            "country as (select country from candidates group by 1 having count(*) >= 2 order by count(*) desc limit 1) "
            "select customer_id, email, records from candidates where country = (select country from country) "
            "order by records desc, customer_id limit 2",
        )
        assert big_records >= small_records

        bridge = paths.landing_dir("web_events") / "2026-06-30-bridge.ndjson"  # a second file of a day
        bridge.write_text(_bridge_events(email_big, email_small), encoding="utf-8")
        _run_job()

        merged_ids = {
            cid
            for (cid,) in _published(
                paths,
                "select distinct customer_id from customer_identity_links "
                "where source_record_id like 'wev-bridge-%'",
            )
        }
        assert len(merged_ids) == 1
        kept = merged_ids.pop()
        assert kept in {big, small}
        retired = small if kept == big else big
        records_now = _published(
            paths, "select count(*) from customer_identity_links where customer_id = ?", kept
        )[0][0]
        assert records_now == big_records + small_records + 2
        assert not _published(paths, "select 1 from dim_customers where customer_id = ?", retired)
        merges = _published(
            paths, "select change_type, customer_id, from_customer_id, run_id, changed_at from customer_id_changes"
        )
        assert [(m[0], m[1], m[2]) for m in merges] == [("merged", kept, retired)]
        merge_run = merges[0][3]

        # the bridge goes away: the two customers part again, the kept id stays with one part
        bridge.unlink()
        _run_job()
        changes = _published(
            paths,
            "select change_type, customer_id, from_customer_id, record_count from customer_id_changes "
            "where run_id <> ?",
            merge_run,
        )
        assert len(changes) == 1
        change_type, split_off, split_from, moved = changes[0]
        assert (change_type, split_from) == ("split", kept)
        assert split_off not in {big, small}, "a split-off must not take an id that is still or was in use"
        assert moved in {big_records, small_records}
        assert _published(paths, "select count(*) from customer_identity_links where customer_id = ?", kept)[0][0] in {
            big_records,
            small_records,
        }

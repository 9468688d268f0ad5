"""The engine's guarantees on both kinds of data set: one row per unit (keyed), or many.

A file whose units are all different is loaded with the unit column as the
table's key, and the engine then skips SmartNoise's per-unit sampling; a file
with a repeated unit is not keyed and is sampled. Either way each unit counts
once, values are clamped to their bounds, groups below k are suppressed and the
noise is the same.
"""

from decimal import Decimal

import pytest

from querying import engine
from querying.datastore import data_connection
from tests.factories.querying import approved_template
from tests.querying.data import SMALL_REGION, people
from tests.querying.test_runs import loaded_dataset

pytestmark = pytest.mark.postgres
N = 2000


def with_repeated_unit(rows: list[dict], *, person: str, times: int, **changes) -> list[dict]:
    """The rows with one person's row repeated `times` more (with `changes` applied)."""
    first = next(r for r in rows if r["person_id"] == person)
    return rows + [dict(first, **changes) for _ in range(times)]


def answer(template, **parameters) -> dict:
    with data_connection(read_only=True) as conn:
        return engine.execute(conn, template, parameters, max_rows=100)


def test_a_file_with_a_row_per_unit_is_keyed_on_the_unit(query_role, tmp_path):
    dataset = loaded_dataset(tmp_path, rows=people(300))
    with data_connection(read_only=True) as conn:
        assert engine.one_row_per_unit(conn, dataset)


def test_a_file_with_a_repeated_unit_loads_whole_and_unkeyed(query_role, tmp_path):
    rows = with_repeated_unit(people(300), person="p0000010", times=3)
    dataset = loaded_dataset(tmp_path, rows=rows)
    assert (dataset.status, dataset.rows_loaded) == ("loaded", 303)
    with data_connection(read_only=True) as conn:
        assert not engine.one_row_per_unit(conn, dataset)


def test_a_keyed_data_set_is_rewritten_without_per_unit_sampling_but_clamped(query_role, tmp_path):
    dataset = loaded_dataset(tmp_path, rows=people(300))
    template = approved_template(dataset)
    st = engine.statement(template, {"min_age": 18}, one_row_per_unit=True)
    with data_connection(read_only=True) as conn:
        keyed = str(engine.reader(conn, template, one_row_per_unit=True)._rewrite(st.dp_sql)[0])
        sampled = str(engine.reader(conn, template)._rewrite(st.dp_sql)[0])
    assert "ROW_NUMBER" not in keyed
    assert "ROW_NUMBER" in sampled
    assert "CASE WHEN income < 0.0 THEN 0.0 WHEN income > 100000.0" in keyed
    assert "COUNT(DISTINCT" not in st.units_sql


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "repeated unit"])
def test_values_beyond_their_bounds_are_clamped(query_role, tmp_path, keyed):
    # given 2,000 people each earning 10,000,000 where the declared upper bound is 100,000
    rows = [dict(r, income=10_000_000) for r in people(N, small=0)]
    if not keyed:
        rows = with_repeated_unit(rows, person="p0000010", times=1)
    dataset = loaded_dataset(tmp_path, rows=rows)
    template = approved_template(
        dataset, aggregates=[{"function": "sum", "column": "income"}], dimensions=[]
    )
    # when the sum is asked
    result = answer(template, min_age=18)
    # then each income counts as 100,000, within the noise (95% bound ±600,000)
    (total,) = result["rows"][0]
    assert abs(Decimal(total) - N * 100_000) < 5_000_000


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "repeated unit"])
def test_a_unit_counts_once_and_k_counts_units_not_rows(query_role, tmp_path, keyed):
    # given 2,000 people in three regions, 4 in a fourth; without the key, one person
    # in changsha has 300 rows more and one of the 4 has 50 rows more
    rows = people(N)
    if not keyed:
        small = next(r["person_id"] for r in rows if r["region"] == SMALL_REGION)
        big = next(r["person_id"] for r in rows if r["region"] == "changsha")
        rows = with_repeated_unit(rows, person=big, times=300, age=40)
        rows = with_repeated_unit(rows, person=small, times=50, age=40)
    dataset = loaded_dataset(tmp_path, rows=rows)
    template = approved_template(dataset, aggregates=[{"function": "count"}])
    # when the people are counted by region
    result = answer(template, min_age=18)
    # then the small region stays below k = 10 however many rows its people have,
    # and changsha counts its people, not its rows
    counts = dict(result["rows"])
    assert sorted(counts) == ["changsha", "xiangtan", "zhuzhou"]
    assert result["suppressed_groups"] == 1
    changsha = sum(1 for r in people(N) if r["region"] == "changsha")
    assert abs(counts["changsha"] - changsha) < 60


def test_the_noise_is_the_same_with_or_without_the_key(query_role, tmp_path):
    keyed = loaded_dataset(tmp_path, rows=people(300))
    template = approved_template(keyed, aggregates=[{"function": "count"}], dimensions=[])
    st = engine.statement(template, {"min_age": 18})
    with data_connection(read_only=True) as conn:
        bounds = [
            engine.reader(conn, template, one_row_per_unit=flag).get_simple_accuracy(
                st.dp_sql, 0.05
            )
            for flag in (True, False)
        ]
        costs = [
            engine.reader(conn, template, one_row_per_unit=flag).get_privacy_cost(st.dp_sql)
            for flag in (True, False)
        ]
    assert bounds[0] == bounds[1]
    assert costs[0] == costs[1]


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "repeated unit"])
def test_with_a_delta_the_dimensions_are_censored_by_a_noisy_unit_count(
    query_role, tmp_path, keyed
):
    # given a template with a delta, so SmartNoise also counts units per group to censor them
    rows = people(N)
    if not keyed:
        rows = with_repeated_unit(rows, person="p0000010", times=300)
    dataset = loaded_dataset(tmp_path, rows=rows)
    template = approved_template(dataset, aggregates=[{"function": "count"}], delta="0.00001")
    # when it runs
    result = answer(template, min_age=18)
    # then the large regions come back with their people counted once each
    counts = dict(result["rows"])
    assert sorted(counts) == ["changsha", "xiangtan", "zhuzhou"]
    assert all(abs(n - (N - 4) / 3) < 60 for n in counts.values())

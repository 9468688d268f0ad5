"""Running templates: suppression below k, budget, stored answers, billing, audit, attacks."""

import math
import threading
import time
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from core.exceptions import BusinessRuleViolation, Conflict
from marketplace.models import UsageRecord
from marketplace.services.usage import usage_bill
from querying import engine
from querying.datastore import data_connection
from querying.models import PrivacyBudget, QueryRun
from querying.services import datasets, runs
from tests.factories.marketplace import person_of
from tests.factories.querying import agreement, approved_template, privacy_product
from tests.querying.data import COLUMNS, SMALL_REGION, people, write_csv

pytestmark = pytest.mark.postgres
N = 2000


def loaded_dataset(tmp_path, *, budget="10", rows=None):
    product = privacy_product()
    dataset = datasets.dataset_declare(
        actor=None, product=product, columns=COLUMNS, unit_column="person_id", budget_epsilon=budget
    )
    path = write_csv(tmp_path / "people.csv", rows or people(N))
    datasets.dataset_load_start(
        actor=None, dataset=dataset, path=path, source_format="csv", queue=False
    )
    return datasets.dataset_load_run(dataset_id=dataset.pk, path=str(path))


@pytest.fixture
def world(query_role, tmp_path, merchant_b, django_capture_on_commit_callbacks):
    dataset = loaded_dataset(tmp_path)
    template = approved_template(dataset)
    agreement(merchant_b, dataset.product)
    return dataset, template, person_of(merchant_b)


def run(template, actor, capture, **parameters):
    with capture(execute=True):
        requested = runs.query_run_request(actor=actor, template=template, parameters=parameters)
    requested.refresh_from_db()
    return requested


def test_a_run_returns_noisy_aggregates_and_suppresses_groups_below_k(
    world, django_capture_on_commit_callbacks
):
    # given 2,000 people in three regions and 4 in a fourth, and k = 10
    _dataset, template, buyer = world
    # when the buyer runs the template for everyone aged 18 and over
    done = run(template, buyer, django_capture_on_commit_callbacks, min_age=18)
    # then the three large regions come back, the small one is suppressed and the result says so
    assert done.status == "succeeded"
    regions = [row[0] for row in done.result["rows"]]
    assert regions == ["changsha", "xiangtan", "zhuzhou"]
    assert SMALL_REGION not in regions
    assert (done.result["suppressed_groups"], done.suppressed_groups, done.result["k"]) == (
        1,
        1,
        10,
    )
    counts = [row[1] for row in done.result["rows"]]
    assert all(isinstance(c, int) and abs(c - (N - 4) / 3) < 60 for c in counts)
    assert done.result["columns"] == ["region", "n_rows", "avg_income"]
    assert done.epsilon == template.cost_epsilon > 0


def test_the_run_is_billed_as_a_usage_of_the_metered_plan_and_the_bill_equals_the_runs(
    world, django_capture_on_commit_callbacks
):
    _dataset, template, buyer = world
    made = [
        run(template, buyer, django_capture_on_commit_callbacks, min_age=age)
        for age in (20, 30, 30)
    ]
    assert [r.status for r in made] == ["succeeded"] * 3
    records = UsageRecord.objects.filter(buyer=buyer.merchant)
    assert records.count() == 3 == sum(r.calls for r in records)
    bill = usage_bill(
        plan_id=made[0].order.plan_id, buyer_id=buyer.merchant_id, month=made[0].period_start
    )
    plan = made[0].order.plan
    assert bill.amount_fen == 3 * plan.unit_price_fen
    assert set(bill.usage_records.values_list("pk", flat=True)) == {r.usage_record_id for r in made}


def test_the_same_parameters_this_month_return_the_stored_answer_without_spending(
    world, django_capture_on_commit_callbacks
):
    dataset, template, buyer = world
    first = run(template, buyer, django_capture_on_commit_callbacks, min_age=40)
    again = run(template, buyer, django_capture_on_commit_callbacks, min_age=40)
    budget = PrivacyBudget.objects.get(buyer=buyer.merchant, product=dataset.product)
    assert again.cached_from_id == first.pk
    assert (again.result, again.epsilon) == (first.result, 0)
    assert budget.spent_epsilon == first.epsilon
    assert budget.reserved_epsilon == 0


def test_the_budget_refuses_an_overrun_before_running(
    query_role, tmp_path, merchant_b, django_capture_on_commit_callbacks
):
    # given a budget of epsilon 1.0 and a template costing 0.5 a run (one count, no dimensions)
    dataset = loaded_dataset(tmp_path, budget="1.0")
    template = approved_template(dataset, aggregates=[{"function": "count"}], dimensions=[])
    assert template.cost_epsilon == Decimal("0.5")
    agreement(merchant_b, dataset.product)
    buyer = person_of(merchant_b)
    run(template, buyer, django_capture_on_commit_callbacks, min_age=18)
    run(template, buyer, django_capture_on_commit_callbacks, min_age=19)
    # when a third run with new parameters is asked for
    with pytest.raises(Conflict) as exc:
        runs.query_run_request(actor=buyer, template=template, parameters={"min_age": 20})
    # then it is refused, nothing was queued and the budget is exactly spent
    assert exc.value.code == "budget_exceeded"
    assert QueryRun.objects.filter(buyer=merchant_b).count() == 2
    budget = PrivacyBudget.objects.get(buyer=merchant_b)
    assert (budget.spent_epsilon, budget.reserved_epsilon) == (Decimal("1.0"), 0)


def test_a_failed_run_releases_its_reservation_and_bills_nothing(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    _dataset, template, buyer = world

    def broken(*args, **kwargs):
        raise RuntimeError("canceling statement due to statement timeout")

    monkeypatch.setattr(engine, "execute", broken)
    failed = run(template, buyer, django_capture_on_commit_callbacks, min_age=18)
    budget = PrivacyBudget.objects.get(buyer=buyer.merchant)
    assert failed.status == "failed"
    assert "timeout" in failed.error
    assert (budget.reserved_epsilon, budget.spent_epsilon) == (0, 0)
    assert not UsageRecord.objects.filter(buyer=buyer.merchant).exists()


def test_a_result_above_the_size_cap_fails_before_any_noise(
    world, settings, django_capture_on_commit_callbacks
):
    _dataset, template, buyer = world
    settings.QUERY_MAX_RESULT_ROWS = 2
    failed = run(template, buyer, django_capture_on_commit_callbacks, min_age=18)
    assert failed.status == "failed"
    assert "3" in failed.error
    assert PrivacyBudget.objects.get(buyer=buyer.merchant).spent_epsilon == 0


def test_one_run_at_a_time_per_buyer_and_product(world):
    _dataset, template, buyer = world
    # given a queued run (its task not yet picked up)
    runs.query_run_request(actor=buyer, template=template, parameters={"min_age": 18})
    # when another is asked for
    with pytest.raises(Conflict) as exc:
        runs.query_run_request(actor=buyer, template=template, parameters={"min_age": 30})
    assert exc.value.code == "run_in_progress"


def test_no_order_in_force_no_run(query_role, tmp_path, merchant_a):
    dataset = loaded_dataset(tmp_path)
    template = approved_template(dataset)
    with pytest.raises(BusinessRuleViolation) as exc:
        runs.query_run_request(
            actor=person_of(merchant_a), template=template, parameters={"min_age": 18}
        )
    assert exc.value.code == "no_order"


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({}, "parameters.min_age"),
        ({"min_age": "18"}, "parameters.min_age"),
        ({"min_age": True}, "parameters.min_age"),
        ({"min_age": 18, "region": "x"}, "parameters"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(world, parameters, field):
    _dataset, template, buyer = world
    with pytest.raises(BusinessRuleViolation) as exc:
        runs.query_run_request(actor=buyer, template=template, parameters=parameters)
    assert exc.value.field == field
    assert not QueryRun.objects.exists()


def test_a_quote_in_a_text_parameter_is_refused(query_role, tmp_path, merchant_b):
    dataset = loaded_dataset(tmp_path)
    template = approved_template(
        dataset,
        filters=[{"column": "region", "op": "ne", "parameter": "not_region"}],
        dimensions=[],
    )
    agreement(merchant_b, dataset.product)
    with pytest.raises(BusinessRuleViolation) as exc:
        runs.query_run_request(
            actor=person_of(merchant_b),
            template=template,
            parameters={"not_region": "x' OR '1'='1"},
        )
    assert exc.value.field == "parameters.not_region"


def test_the_audit_event_records_who_what_cost_and_digest_never_rows(
    world, django_capture_on_commit_callbacks
):
    import json

    from oversight.services.chain import covered_models

    _dataset, template, buyer = world
    done = run(template, buyer, django_capture_on_commit_callbacks, min_age=25)
    event = done.events.get(to_status="succeeded")
    record = json.loads(event.reason)
    assert event.actor_id == buyer.pk
    assert record["template"] == template.pk
    assert record["parameters"] == {"min_age": 25}
    assert record["epsilon"] == str(done.epsilon)
    assert record["result_sha256"] == runs.digest(done.result)
    assert "rows" not in record
    assert "querying.queryrunevent" in covered_models()


def test_the_differencing_attack_is_bounded_by_the_budget(
    query_role, tmp_path, merchant_b, django_capture_on_commit_callbacks
):
    """Singling out the richest person by differencing two allowed counts.

    Q1 counts everyone with income <= 100000 (N people); Q2 counts those with
    income <= the target's income less one fen (N - 1). Both groups hold far
    more than k people, so both are allowed, and Q1 - Q2 would be exactly 1
    without noise. Each count has sensitivity 1 and costs epsilon e = 0.5
    (Laplace noise of scale 1/e = 2), so one pair costs 2e = 1.0 and, by
    sequential composition, any test of "is the target in the data" gains an
    odds ratio of at most exp(2e) = 2.72 per pair. Repeating a pair returns the
    stored answer (same noise, no new information); varying it spends budget.
    With a monthly budget B = 3.0 the attacker gets floor(B / 2e) = 3 pairs and
    a total privacy loss of at most B: an odds ratio of at most exp(3) = 20.1.
    """
    rows = people(600, small=0)
    target = max(rows, key=lambda r: r["income"])
    dataset = loaded_dataset(tmp_path, budget="3.0", rows=rows)
    template = approved_template(
        dataset,
        aggregates=[{"function": "count"}],
        dimensions=[],
        filters=[{"column": "income", "op": "le", "parameter": "max_income"}],
    )
    e = template.epsilon_per_aggregate
    assert template.cost_epsilon == e == Decimal("0.5")
    agreement(merchant_b, dataset.product)
    buyer = person_of(merchant_b)
    below = float(Decimal(str(target["income"])) - Decimal("0.01"))
    pairs, refused = [], None
    for step in range(10):  # bounded: the budget stops it long before
        try:
            q1 = run(template, buyer, django_capture_on_commit_callbacks, max_income=100000 - step)
            q2 = run(
                template, buyer, django_capture_on_commit_callbacks, max_income=below - step * 1e-3
            )
        except Conflict as exc:
            refused = exc
            break
        pairs.append(q1.result["rows"][0][0] - q2.result["rows"][0][0])
    # a repeated pair is the stored answer: no new noise to average away
    again = run(template, buyer, django_capture_on_commit_callbacks, max_income=100000)
    assert again.cached_from_id is not None
    budget = PrivacyBudget.objects.get(buyer=merchant_b)
    assert refused is not None
    assert refused.code == "budget_exceeded"
    assert len(pairs) == math.floor(Decimal("3.0") / (2 * e)) == 3
    assert budget.spent_epsilon == len(pairs) * 2 * e == Decimal("3.0")
    assert math.exp(float(budget.spent_epsilon)) == pytest.approx(20.09, abs=0.01)


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_on_real_threads_cannot_overspend(query_role_created, tmp_path, settings):
    from tests.factories.accounts import MerchantFactory
    from tests.querying.conftest import drop_data_schemas

    settings.QUERY_UPLOAD_DIR = str(tmp_path / "uploads")
    # given a budget of epsilon 2.0 and runs costing 0.5: room for exactly 4
    dataset = loaded_dataset(tmp_path, budget="2.0", rows=people(300, small=0))
    template = approved_template(dataset, aggregates=[{"function": "count"}], dimensions=[])
    buyer_merchant = MerchantFactory(status="active")
    agreement(buyer_merchant, dataset.product)
    buyer = person_of(buyer_merchant)
    outcomes: list[str] = []
    endings: dict[int, str] = {}
    lock = threading.Lock()
    start = threading.Barrier(6)

    def attack(index: int) -> None:
        # each thread asks again while another's run is going (one at a time is
        # a refusal, not a queue) and stops at the budget's refusal: how many
        # runs succeed then depends on the budget alone, never on the timing
        start.wait(timeout=30)
        try:
            for attempt in range(5000):  # bounded; a run takes well under a second
                try:
                    runs.query_run_request(
                        actor=buyer,
                        template=template,
                        parameters={"min_age": 18 + index * 1000 + attempt},
                    )
                    with lock:
                        outcomes.append("ran")
                except Conflict as exc:
                    with lock:
                        outcomes.append(exc.code)
                    if exc.code == "budget_exceeded":
                        endings[index] = exc.code
                        return
                    time.sleep(0.005)
            endings[index] = "gave up"
        except Exception as exc:  # reported below, not lost in the thread
            endings[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        # then exactly four runs succeeded and the budget is spent to the limit, never beyond
        budget = PrivacyBudget.objects.get(buyer=buyer_merchant)
        succeeded = QueryRun.objects.filter(buyer=buyer_merchant, status="succeeded").count()
        assert endings == dict.fromkeys(range(6), "budget_exceeded")
        assert succeeded == outcomes.count("ran") == 4
        assert QueryRun.objects.filter(buyer=buyer_merchant).count() == 4
        assert (budget.spent_epsilon, budget.reserved_epsilon) == (Decimal("2.0"), 0)
    finally:
        drop_data_schemas()


def test_results_stay_within_the_engines_error_bounds_over_many_runs(query_role, tmp_path):
    """The engine's 95% interval (get_simple_accuracy) holds for about 95% of runs.

    The data come from a fixed seed; OpenDP draws its noise from a secure
    generator that takes no seed, by design. Over 40 runs, 2 outside the
    interval are expected; more than 8 has probability below 0.001 if the
    bound is right, so the test fails only when the bound is wrong.
    """
    dataset = loaded_dataset(tmp_path, rows=people(500, small=0))
    template = approved_template(dataset, aggregates=[{"function": "count"}], dimensions=[])
    with data_connection(read_only=True) as conn:
        results = [engine.execute(conn, template, {"min_age": 18}, max_rows=10) for _ in range(40)]
    bound = Decimal(results[0]["accuracy_95"]["n_rows"])
    outside = sum(1 for r in results if abs(r["rows"][0][0] - 500) > bound)
    assert bound == pytest.approx(Decimal(str(math.log(20) / 0.5)), abs=Decimal("0.01"))
    assert outside <= 8


def test_results_are_rounded_as_documented(world, django_capture_on_commit_callbacks):
    # counts are whole numbers, never negative; sums and averages are decimal strings
    # to the fen (two places, half to even); an average is kept inside its column's bounds
    _dataset, template, buyer = world
    done = run(template, buyer, django_capture_on_commit_callbacks, min_age=18)
    assert done.result is not None
    for _region, count, average in done.result["rows"]:
        assert isinstance(count, int)
        assert count >= 0
        assert isinstance(average, str)
        assert Decimal(average).as_tuple().exponent == -2
        assert Decimal(0) <= Decimal(average) <= Decimal(100000)


def test_the_time_limit_cancels_a_statement_on_the_query_connection(query_role):
    with data_connection(read_only=True, timeout_seconds=0.2) as conn, conn.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == "200ms"
        with pytest.raises(psycopg.errors.QueryCanceled):
            cur.execute("SELECT pg_sleep(5)")


def test_a_run_over_its_time_limit_fails_and_releases_its_reservation(
    query_role, tmp_path, merchant_b, settings, django_capture_on_commit_callbacks
):
    # given 50,000 people and a time limit of one millisecond per run
    dataset = loaded_dataset(tmp_path, rows=people(50_000))
    template = approved_template(dataset)
    agreement(merchant_b, dataset.product)
    buyer = person_of(merchant_b)
    settings.QUERY_RUN_SECONDS = 0.001
    # when the buyer runs a template over all of them
    failed = run(template, buyer, django_capture_on_commit_callbacks, min_age=18)
    # then the database cancels it, the run fails saying so, and nothing is spent or billed
    assert failed.status == "failed"
    assert "statement timeout" in failed.error
    budget = PrivacyBudget.objects.get(buyer=merchant_b)
    assert (budget.reserved_epsilon, budget.spent_epsilon) == (0, 0)
    assert not UsageRecord.objects.filter(buyer=merchant_b).exists()


@pytest.mark.parametrize(
    "task", ["querying.tasks.query_run_execute_task", "querying.tasks.dataset_load_task"]
)
def test_runs_and_loads_go_to_the_query_queue_of_their_own(task):
    from django.conf import settings

    from config.celery_app import app

    queue = app.amqp.router.route({}, task)["queue"].name
    assert queue == f"{settings.CELERY_QUEUE_PREFIX}query"
    assert queue != settings.CELERY_TASK_DEFAULT_QUEUE

"""Operators' work in the admin, end to end, with Django's test client.

Each flow starts from the admin as an operator reads it (in Chinese), goes
through the admin's pages and actions, which call the same services as the API,
and checks what the database holds afterwards: clearing with its progress and
confirmation, payouts marked paid and the bank file, an audit sweep and its
finding, a grant's terms, a scenario from proposal to authorization, the joining
review, and an important product's review by two different operators.
"""

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import MerchantApplication, User
from accounts.services import joining
from marketplace.models import Order
from oversight.models import AuditFinding, AuditRun
from products import services as products
from products.choices import COMPLIANCE_CHECKLIST, QUALITY_CHECKLIST
from publicdata.models import Grant, Scenario
from settlements.models import ClearingBatch, JournalEntry, Payout
from tests.factories.accounts import OperatorFactory, PersonFactory, make_credit_code
from tests.factories.marketplace import listed_product, pay, place
from tests.factories.products import PlanFactory
from tests.factories.publicdata import GrantFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.products.conftest import MANUAL, industry  # noqa: F401

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client, model, action, records, **data):
    """Select the records on the model's list and run an action, as the list's form does."""
    payload = {"action": action, "_selected_action": [r.pk for r in records], **data}
    return client.post(changelist(model), payload, follow=True, **ZH)


def shown_messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def signed_in(client, operator):
    client.force_login(operator)
    assert client.get(reverse("admin:index"), **ZH).status_code == 200
    return client


# --- clearing, payouts and the bank file ----------------------------------------------------


def test_an_operator_runs_and_confirms_clearing_marks_the_payout_paid_and_gets_the_bank_file(
    signed_in, operator, merchant_a, merchant_b, django_capture_on_commit_callbacks
):
    # given a past day with two accepted sales of 1,000 yuan by merchant_a
    default_fee(300)
    day = a_past_day()
    make_accepted_orders(
        day=day, count=2, sellers=[merchant_a], buyers=[merchant_b], amounts=[100_000]
    )
    client = signed_in
    run_url = reverse("admin:settlements_clearingbatch_run")
    assert client.get(run_url, **ZH).status_code == 200

    # when the operator runs the day's clearing from its page (the worker runs it at once here)
    with django_capture_on_commit_callbacks(execute=True):
        ran = client.post(run_url, {"business_date": day.isoformat()}, **ZH)

    # then the batch is computed, and the list shows its progress in chunks done of total
    assert ran.status_code == 302
    batch = ClearingBatch.objects.get(business_date=day)
    assert batch.status == "computed"
    assert batch.order_count == 2
    listed = client.get(changelist(ClearingBatch), **ZH).content.decode()
    chunks = batch.chunks.count()
    assert chunks >= 1
    assert f"{chunks} / {chunks}" in listed

    # when it confirms the batch from the list
    confirmed = run_action(client, ClearingBatch, "confirm", [batch])

    # then payouts are drawn up: merchant_a's net of 1,940 yuan is due
    batch.refresh_from_db()
    assert batch.status == "confirmed"
    assert str(batch) in shown_messages(confirmed)
    payout = Payout.objects.get(batch=batch, merchant=merchant_a)
    assert (payout.status, payout.amount_fen) == ("pending", 194_000)

    # when it downloads the bank file from the batch list
    bank_file = client.post(
        changelist(ClearingBatch),
        {"action": "export_payouts", "_selected_action": [batch.pk]},
        **ZH,
    )
    rows = list(csv.DictReader(io.StringIO(bank_file.content.decode("utf-8"))))
    assert [(r["reference"], r["amount_yuan"]) for r in rows] == [
        (f"payout:{payout.pk}", "1940.00")
    ]

    # and marks the payout paid with the bank's reference on the payout's page
    paid_url = reverse("admin:settlements_payout_mark_paid", args=[payout.pk])
    assert client.get(paid_url, **ZH).status_code == 200
    paid = client.post(paid_url, {"bank_reference": "CSB-20261203-0001"}, **ZH)

    # then the payout is paid once, posted to the ledger, and the batch is settled
    assert paid.status_code == 302
    payout.refresh_from_db()
    assert payout.status == "paid"
    assert payout.bank_reference == "CSB-20261203-0001"
    assert payout.paid_at is not None
    assert payout.events.filter(to_status="paid", actor=operator).exists()
    assert JournalEntry.objects.filter(idempotency_key=f"payout:{payout.pk}").count() == 1
    batch.refresh_from_db()
    assert batch.status == "settled"
    assert set(batch.orders.values_list("status", flat=True)) == {"settled"}


# --- audit ------------------------------------------------------------------------------------


def test_an_operator_runs_an_audit_sweep_then_acknowledges_and_resolves_its_finding(
    signed_in, operator, merchant_a, merchant_b, django_capture_on_commit_callbacks
):
    # given an order paid a month ago and never delivered
    plan = PlanFactory(product=listed_product(provider=merchant_a), price_fen=25_00)
    PersonFactory(merchant=merchant_b, merchant_role="owner")
    order = pay(place(merchant_b, plan))
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - dt.timedelta(days=30))
    client = signed_in
    request_url = reverse("admin:oversight_auditrun_request")
    assert client.get(request_url, **ZH).status_code == 200

    # when the operator starts a sweep from the admin
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(request_url, {}, **ZH)

    # then the run is recorded as the operator's and has found the stuck order
    assert started.status_code == 302
    run = AuditRun.objects.get()
    assert run.requested_by == operator
    assert run.status == "finished"
    finding = AuditFinding.objects.get()
    assert finding.status == "open"
    assert finding.first_run == run

    # when it acknowledges the finding, then tries to resolve it without and with a reason
    run_action(client, AuditFinding, "acknowledge", [finding], reason="")
    finding.refresh_from_db()
    assert (finding.status, finding.acknowledged_by) == ("acknowledged", operator)
    run_action(client, AuditFinding, "resolve", [finding], reason="")
    finding.refresh_from_db()
    assert finding.status == "acknowledged"
    run_action(client, AuditFinding, "resolve", [finding], reason="卖方已交付，订单已处理")

    # then it is resolved, by whom and why, with its history
    finding.refresh_from_db()
    assert finding.status == "resolved"
    assert finding.resolved_by == operator
    assert finding.resolution == "卖方已交付，订单已处理"
    assert list(finding.events.values_list("to_status", flat=True).order_by("id")) == [
        "open",
        "acknowledged",
        "resolved",
    ]


# --- grants and scenarios ---------------------------------------------------------------------


def test_an_operator_sets_a_pending_grants_terms(signed_in, operator):
    # given a pending grant
    grant = GrantFactory(status="pending", fee_ceiling_fen=100_000_00, revenue_share_bps=1000)
    url = reverse("admin:publicdata_grant_terms", args=[grant.pk])
    client = signed_in
    assert client.get(url, **ZH).status_code == 200
    # when the operator sets a new ceiling in yuan and a new share, leaving the window
    done = client.post(url, {"fee_ceiling": "2500.50", "revenue_share_bps": "1200"}, **ZH)
    # then the grant holds them, in fen, and the window is kept
    assert done.status_code == 302
    saved = Grant.objects.get(pk=grant.pk)
    assert (saved.fee_ceiling_fen, saved.revenue_share_bps) == (250_050, 1200)
    assert (saved.valid_from, saved.valid_until) == (grant.valid_from, grant.valid_until)
    # and a window that ends before it starts is refused on the page, nothing changed
    refused = client.post(
        url, {"valid_from": "2031-01-01 00:00", "valid_until": "2030-01-01 00:00"}, **ZH
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert Grant.objects.get(pk=grant.pk).valid_from == grant.valid_from


def test_an_operator_proposes_assesses_and_authorizes_a_scenario(signed_in, operator):
    # given an active grant valid for the coming year
    grant = GrantFactory(status="active")
    client = signed_in
    create_url = reverse("admin:publicdata_scenario_create")
    assert client.get(create_url, **ZH).status_code == 200
    # when the operator proposes a scenario under it
    created = client.post(
        create_url,
        {"grant": grant.pk, "name": "城市内涝预警", "purpose": "public_interest",
         "description": "暴雨期间向市民推送内涝风险"},
        **ZH,
    )  # fmt: skip
    assert created.status_code == 302
    scenario = Scenario.objects.get(name="城市内涝预警")
    assert scenario.status == "proposed"
    # and records its assessment
    assessed = client.post(
        reverse("admin:publicdata_scenario_assess", args=[scenario.pk]),
        {"assessor": "省数据局", "assessed_on": timezone.localdate().isoformat(),
         "risk_findings": "低风险", "verdict": "pass"},
        **ZH,
    )  # fmt: skip
    assert assessed.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "assessed"
    # and issues the authorization inside the grant's window
    start = timezone.localtime(grant.valid_from) + dt.timedelta(days=1)
    end = start + dt.timedelta(days=90)
    authorized = client.post(
        reverse("admin:publicdata_scenario_authorize", args=[scenario.pk]),
        {"document_number": "湘数授2026-7号", "valid_from": start.strftime("%Y-%m-%d %H:%M"),
         "valid_until": end.strftime("%Y-%m-%d %H:%M")},
        **ZH,
    )  # fmt: skip
    # then the scenario is authorized, with the operator on each step of its history
    assert authorized.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "authorized"
    steps = list(scenario.events.order_by("id").values_list("to_status", "actor"))
    assert steps[-2:] == [("assessed", operator.pk), ("authorized", operator.pk)]


# --- joining review (入驻审核) ----------------------------------------------------------------


def an_application(n: int, settings, tmp_path) -> MerchantApplication:
    settings.MEDIA_ROOT = tmp_path / "media"
    return joining.merchant_apply(
        legal_name=f"湖南云图数据{n}有限公司",
        credit_code=make_credit_code(8100 + n),
        kinds=["supplier"],
        region="430100",
        address="长沙市岳麓区",
        contact_name="王五",
        contact_phone="0731-87654321",
        contact_email=f"contact{n}@yuntu.example",
        bank_name="长沙银行",
        bank_account_name=f"湖南云图数据{n}有限公司",
        bank_account_number=f"62221111{n:08d}",
        owner_username=f"yuntu{n}",
        owner_email=f"owner{n}@yuntu.example",
        licence_scan=SimpleUploadedFile(
            "licence.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, content_type="image/png"
        ),
    )


def test_an_operator_approves_one_application_and_rejects_another_with_a_reason(
    signed_in, operator, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given two submitted applications
    good, unclear = an_application(1, settings, tmp_path), an_application(2, settings, tmp_path)
    client = signed_in
    assert client.get(changelist(MerchantApplication), **ZH).status_code == 200
    # when the operator approves the first with a note
    with django_capture_on_commit_callbacks(execute=True):
        approved = run_action(client, MerchantApplication, "approve", [good], reason="材料齐全")
    # then the merchant is active and its owner's account exists, and the operator is told
    good.refresh_from_db()
    assert good.status == "approved"
    assert good.merchant.status == "active"
    assert User.objects.get(username="yuntu1").merchant == good.merchant
    assert "owner1@yuntu.example" in shown_messages(approved)
    assert good.events.filter(to_status="approved", actor=operator, reason="材料齐全").exists()
    # when it rejects the second without a reason, then with one
    run_action(client, MerchantApplication, "reject", [unclear], reason="")
    unclear.refresh_from_db()
    assert unclear.status == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        run_action(client, MerchantApplication, "reject", [unclear], reason="营业执照扫描件模糊")
    # then it is rejected with that reason, its merchant still only applied, no account made
    unclear.refresh_from_db()
    assert unclear.status == "rejected"
    assert unclear.rejection_reason == "营业执照扫描件模糊"
    assert unclear.merchant.status == "applied"
    assert not User.objects.filter(username="yuntu2").exists()


# --- product review: important grade needs two different operators ----------------------------


def every_item(**extra):
    data = {f"compliance__{k}": "on" for k in COMPLIANCE_CHECKLIST}
    data.update({f"quality__{k}": "on" for k in QUALITY_CHECKLIST})
    return {**data, **extra}


def submitted_product(owner, industry, *, grade):  # noqa: F811
    product = products.product_create(
        actor=owner,
        provider=owner.merchant,
        title="全省逐时气象观测",
        summary="气温与降水",
        industry=industry,
        delivery_mode="api",
        grade=grade,
        tags="气象",
        **MANUAL,
    )
    products.plan_create(actor=owner, product=product, kind="one_off", price_fen=100_00)
    return products.product_submit(actor=owner, product=product)


def test_an_important_product_is_listed_by_two_operators_and_another_is_sent_back(
    signed_in,
    operator,
    owner_a,
    industry,  # noqa: F811
):
    # given an important product and a general one, both submitted
    important = submitted_product(owner_a, industry, grade="important")
    general = submitted_product(owner_a, industry, grade="general")
    client = signed_in
    url = reverse("admin:products_product_review", args=[important.pk])
    assert client.get(url, **ZH).status_code == 200
    # when one operator approves the important product, twice
    client.post(url, every_item(_approve="1", comments="合规"), **ZH)
    client.post(url, every_item(_approve="1"), **ZH)
    # then it still waits for a second operator
    important.refresh_from_db()
    assert important.status == "in_review"
    # when a different operator approves it
    second = OperatorFactory()
    client.force_login(second)
    client.post(url, every_item(_approve="1", comments="复核通过"), **ZH)
    # then it is listed with a registration number, the second operator on the move
    important.refresh_from_db()
    assert important.status == "listed"
    assert important.registration_number
    assert important.events.filter(to_status="listed", actor=second).exists()
    # and the general product is sent back with the operator's reason
    back = client.post(
        reverse("admin:products_product_review", args=[general.pk]),
        {"_reject": "1", "comments": "样例数据缺少字段说明"},
        **ZH,
    )
    assert back.status_code == 302
    general.refresh_from_db()
    assert general.status == "draft"
    assert general.reviews.filter(verdict="rejected", comments="样例数据缺少字段说明").exists()

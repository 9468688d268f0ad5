import pytest
from django.urls import reverse

from accounts.models import Merchant
from tests.factories.accounts import MerchantFactory, make_credit_code

pytestmark = pytest.mark.django_db
LIST = reverse("merchant-list")


def detail(merchant, action=None):
    if action:
        return reverse(f"merchant-{action}", args=[merchant.pk])
    return reverse("merchant-detail", args=[merchant.pk])


def test_anonymous_is_refused(api_client):
    assert api_client(None).get(LIST).status_code == 401


def test_operator_sees_all_merchants(operator_api, merchant_a, merchant_b):
    body = operator_api.get(LIST).json()
    assert {r["id"] for r in body["results"]} >= {merchant_a.pk, merchant_b.pk}
    assert "count" not in body  # cursor pages: no COUNT(*) per request


def test_merchant_sees_only_itself(merchant_a_api, merchant_a, merchant_b):
    body = merchant_a_api.get(LIST).json()
    assert [r["id"] for r in body["results"]] == [merchant_a.pk]
    assert merchant_a_api.get(detail(merchant_b)).status_code == 404


@pytest.mark.parametrize("verb", ["approve", "suspend", "reinstate", "exit"])
def test_merchant_cannot_take_operator_actions(merchant_a_api, merchant_a, verb):
    response = merchant_a_api.post(detail(merchant_a, verb), {"reason": "self-service"})
    assert response.status_code == 403
    merchant_a.refresh_from_db()
    assert merchant_a.status == "active"


def test_operator_suspends_with_reason_and_the_move_is_recorded(operator_api, operator, merchant_a):
    response = operator_api.post(detail(merchant_a, "suspend"), {"reason": "late filings"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"
    event = response.json()["events"][-1]
    assert (event["from_status"], event["to_status"], event["reason"], event["actor"]) == (
        "active",
        "suspended",
        "late filings",
        operator.username,
    )


def test_action_without_reason_is_a_400_naming_the_field(operator_api, merchant_a):
    response = operator_api.post(detail(merchant_a, "suspend"), {})
    assert response.status_code == 400
    assert "reason" in response.json()


def test_illegal_move_is_a_409(operator_api):
    exited = MerchantFactory(status="exited")
    response = operator_api.post(detail(exited, "reinstate"), {"reason": "please"})
    assert response.status_code == 409
    assert response.json()["error_code"] == "invalid_transition"


def test_operator_registers_a_merchant(operator_api):
    payload = {
        "legal_name": "Zhuzhou Industrial Data Co., Ltd.",
        "credit_code": make_credit_code(99),
        "kinds": ["application", "service"],
        "region": "430200",
        "contact_name": "Wang Wu",
        "contact_phone": "0731-22223333",
    }
    response = operator_api.post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied"
    assert sorted(response.json()["kinds"]) == ["application", "service"]


def test_invalid_credit_code_is_a_400_that_names_the_rule(operator_api):
    payload = {
        "legal_name": "Bad Code Co.",
        "credit_code": "9144030071526726XH",
        "kinds": ["supplier"],
        "region": "430100",
        "contact_name": "Zhao",
        "contact_phone": "1",
    }
    response = operator_api.post(LIST, payload, format="json")
    assert response.status_code == 400
    assert "check character" in response.json()["credit_code"][0]
    assert response.json()["error_code"] == "check_character"
    assert not Merchant.objects.filter(legal_name="Bad Code Co.").exists()


def test_merchant_edits_own_profile_but_not_status(merchant_a_api, merchant_a):
    response = merchant_a_api.patch(
        detail(merchant_a), {"contact_phone": "0731-00000000", "status": "exited"}, format="json"
    )
    assert response.status_code == 200
    merchant_a.refresh_from_db()
    assert (merchant_a.contact_phone, merchant_a.status) == ("0731-00000000", "active")


def test_merchant_cannot_register_merchants(merchant_a_api):
    assert merchant_a_api.post(LIST, {}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "technical"}, {"tech"}),
        ({"region": "430200"}, {"zhuzhou"}),
        ({"status": "suspended"}, {"suspended"}),
        ({"search": "Weather"}, {"tech"}),
        ({"created_from": "2020-01-01", "created_to": "2020-01-31"}, {"old"}),
    ],
)
def test_filters(operator_api, params, expected):
    import datetime as dt

    from django.utils import timezone

    made = {
        "tech": MerchantFactory(is_technical=True, legal_name="Weather Tech"),
        "zhuzhou": MerchantFactory(region="430200"),
        "suspended": MerchantFactory(status="suspended"),
        "old": MerchantFactory(),
    }
    Merchant.objects.filter(pk=made["old"].pk).update(
        created_at=dt.datetime(2020, 1, 15, 23, 30, tzinfo=timezone.get_default_timezone())
    )
    body = operator_api.get(LIST, params).json()
    names = {k for k, m in made.items() if m.pk in {r["id"] for r in body["results"]}}
    assert names == expected


def test_ordering_and_cursor_pagination(operator_api):
    for _ in range(5):
        MerchantFactory()
    first = operator_api.get(LIST, {"ordering": "legal_name", "page_size": 2}).json()
    second = operator_api.get(first["next"]).json()
    names = [r["legal_name"] for r in first["results"] + second["results"]]
    assert names == sorted(names)
    assert len(set(names)) == 4


def test_schema_and_docs_are_served(operator_api):
    assert operator_api.get("/api/schema/").status_code == 200
    assert operator_api.get("/api/docs/").status_code == 200

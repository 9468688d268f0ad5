"""Industries and boards are named by their code everywhere in the API, in and out."""

import pytest

from tests.factories.marketplace import OrderFactory
from tests.factories.products import BoardFactory, IndustryFactory
from tests.factories.publicdata import DepartmentFactory, GrantFactory
from tests.publicdata.test_api import grant_payload

pytestmark = pytest.mark.django_db


def test_grants_take_and_answer_the_industry_s_code(operator_api, merchant_a):
    industry = IndustryFactory(code="transport")
    created = operator_api.post(
        "/api/v1/grants/", grant_payload(DepartmentFactory(), industry, merchant_a), format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["industry"] == "transport"
    listed = operator_api.get("/api/v1/grants/", {"industry": "transport"}).json()["results"]
    assert [g["id"] for g in listed] == [created.json()["id"]]
    # an id is no longer a name for it
    by_id = {**grant_payload(DepartmentFactory(), industry, merchant_a), "industry": industry.pk}
    refused = operator_api.post("/api/v1/grants/", by_id, format="json")
    assert refused.status_code == 400
    assert operator_api.get("/api/v1/grants/", {"industry": industry.pk}).status_code == 400


def test_scenarios_filter_by_the_industry_s_code(operator_api):
    grant = GrantFactory(industry=IndustryFactory(code="medical"))
    assert operator_api.get("/api/v1/scenarios/", {"industry": "medical"}).status_code == 200
    assert grant.industry.code == "medical"


def test_fee_schedules_take_and_answer_the_board_s_code(operator_api):
    BoardFactory(code="weather")
    created = operator_api.post(
        "/api/v1/fee-schedules/",
        {"board": "weather", "fee_bps": 150, "effective_from": "2030-01-01"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["board"] == "weather"
    rows = operator_api.get("/api/v1/fee-schedules/", {"board": "weather"}).json()["results"]
    assert [r["id"] for r in rows] == [created.json()["id"]]


def test_orders_answer_and_filter_by_the_board_s_code(operator_api):
    board = BoardFactory(code="finance")
    order = OrderFactory(board=board)
    answered = operator_api.get(f"/api/v1/orders/{order.pk}/").json()
    assert answered["board"] == "finance"
    rows = operator_api.get("/api/v1/orders/", {"board": "finance"}).json()["results"]
    assert [r["id"] for r in rows] == [order.pk]

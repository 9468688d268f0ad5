import pytest

from products.models import Board, Industry, ProductRevision
from tests.factories.products import ALL_TICKED, IndustryFactory
from tests.factories.publicdata import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_operators_edit_industries_and_merchants_only_read_them(operator_api, merchant_a_api):
    created = operator_api.post(
        "/api/v1/industries/", {"code": "healthcare", "name": "Healthcare"}, format="json"
    )
    assert created.status_code == 201
    assert (
        operator_api.patch(
            "/api/v1/industries/healthcare/", {"name": "Health care"}, format="json"
        ).status_code
        == 200
    )
    assert Industry.objects.get(code="healthcare").name == "Health care"
    assert merchant_a_api.get("/api/v1/industries/").status_code == 200
    refused = merchant_a_api.post("/api/v1/industries/", {"code": "x", "name": "X"}, format="json")
    assert refused.status_code == 403
    assert operator_api.delete("/api/v1/industries/healthcare/").status_code == 405


def test_operators_create_a_board_with_its_department_and_industries(operator_api):
    weather = IndustryFactory(code="weather")
    bureau = DepartmentFactory(name="Hunan Meteorological Bureau")
    response = operator_api.post(
        "/api/v1/boards/",
        {
            "code": "weather",
            "name": "Weather data board",
            "department": bureau.pk,
            "industries": ["weather"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    board = Board.objects.get(code="weather")
    assert board.department == bureau
    assert list(board.industries.all()) == [weather]


def test_a_board_with_an_unknown_industry_is_a_400(operator_api):
    response = operator_api.post(
        "/api/v1/boards/", {"code": "b", "name": "B", "industries": ["nope"]}, format="json"
    )
    assert response.status_code == 400
    assert "industries" in response.json()


def test_a_new_version_through_the_api_while_the_old_one_sells(
    merchant_a_api, operator_api, owner_a, make_listed
):
    # given a listed product
    product = make_listed(owner_a, title="Radar v1")
    # when the merchant opens a revision, changes the title and a price, and submits
    opened = merchant_a_api.post(
        "/api/v1/product-revisions/", {"product": product.pk}, format="json"
    )
    assert opened.status_code == 201, opened.content
    revision_id = opened.json()["id"]
    assert opened.json()["number"] == 2
    plan_id = opened.json()["plans"][0]["id"]
    assert (
        merchant_a_api.patch(
            f"/api/v1/product-revisions/{revision_id}/", {"title": "Radar v2"}, format="json"
        ).status_code
        == 200
    )
    priced = merchant_a_api.patch(
        f"/api/v1/revision-plans/{plan_id}/", {"price": "150.00"}, format="json"
    )
    assert priced.status_code == 200, priced.content
    assert (
        merchant_a_api.post(f"/api/v1/product-revisions/{revision_id}/submit/").status_code == 200
    )
    # then the product still sells v1
    listed = operator_api.get(f"/api/v1/products/{product.pk}/").json()
    assert (listed["title"], listed["version"], listed["status"]) == ("Radar v1", 1, "listed")
    # when an operator reviews and approves it
    assert (
        operator_api.post(f"/api/v1/product-revisions/{revision_id}/start-review/").status_code
        == 200
    )
    approved = operator_api.post(
        f"/api/v1/product-revisions/{revision_id}/approve/", ALL_TICKED, format="json"
    )
    assert approved.status_code == 200, approved.content
    # then v2 is on sale at the new price
    listed = operator_api.get(f"/api/v1/products/{product.pk}/").json()
    assert (listed["title"], listed["version"]) == ("Radar v2", 2)
    assert listed["starting_price"] == "150.00"
    assert ProductRevision.objects.get(pk=revision_id).status == "approved"


def test_a_merchant_cannot_open_a_revision_of_another_merchants_product(
    merchant_b_api, owner_a, make_listed
):
    product = make_listed(owner_a)
    response = merchant_b_api.post(
        "/api/v1/product-revisions/", {"product": product.pk}, format="json"
    )
    assert response.status_code == 400
    assert not ProductRevision.objects.exists()


def test_the_schema_builds(operator_api):
    response = operator_api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/products/{id}/start-review/" in response.content


def test_an_industrys_code_never_changes(operator_api):
    IndustryFactory(code="energy", name="Energy")
    response = operator_api.patch(
        "/api/v1/industries/energy/", {"code": "power", "name": "Power"}, format="json"
    )
    assert response.status_code == 200
    assert Industry.objects.filter(code="energy", name="Power").exists()
    assert not Industry.objects.filter(code="power").exists()


def test_a_board_keeps_its_industries_when_only_renamed(operator_api):
    weather = IndustryFactory(code="weather")
    operator_api.post(
        "/api/v1/boards/", {"code": "w", "name": "W", "industries": ["weather"]}, format="json"
    )
    response = operator_api.patch("/api/v1/boards/w/", {"name": "Weather"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["industries"] == ["weather"]
    assert list(Board.objects.get(code="w").industries.all()) == [weather]

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from core.exceptions import BusinessRuleViolation
from core.filters import local_day_start
from oversight.services.disclosure import (
    csv_columns,
    disclosure_csv,
    disclosure_year_check,
    public_data_disclosure,
)
from tests.factories.marketplace import OrderFactory
from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.publicdata import CatalogEntryFactory, GrantFactory

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1


def local(year, month, day, hour=12):
    return local_day_start(dt.date(year, month, day)) + dt.timedelta(hours=hour)


@pytest.fixture
def grants(db):
    """One grant in force over last year with a product and two plans, and three that are not."""
    in_force = GrantFactory(
        valid_from=local(YEAR - 1, 6, 1),
        valid_until=local(YEAR + 1, 6, 1),
        fee_ceiling_fen=500_00,
        status="active",
    )
    entry = CatalogEntryFactory(department=in_force.department, name="Hourly station readings")
    in_force.entries.add(entry)
    product = ProductFactory(
        provider=in_force.grantee, source_kind="public", grant=in_force, title="Rain alerts API"
    )
    one_off = PlanFactory(product=product, name="Report", price_fen=300_00)
    PlanFactory(product=product, name="Metered", kind="metered", price_fen=0, unit_price_fen=5)
    OrderFactory(plan=one_off, amount_fen=300_00, refunded_fen=100_00, paid_at=local(YEAR, 5, 1))
    OrderFactory(plan=one_off, amount_fen=300_00, paid_at=local(YEAR + 1, 1, 1, 1))  # next year
    OrderFactory(plan=one_off, amount_fen=300_00, paid_at=local(YEAR, 12, 31, 23))
    never = GrantFactory(
        status="pending", valid_from=local(YEAR, 1, 1), valid_until=local(YEAR + 2, 1, 1)
    )
    ended = GrantFactory(
        status="expired", valid_from=local(YEAR - 3, 1, 1), valid_until=local(YEAR - 1, 12, 31)
    )
    revoked = GrantFactory(
        status="revoked", valid_from=local(YEAR, 2, 1), valid_until=local(YEAR + 3, 1, 1)
    )
    return in_force, never, ended, revoked  # fmt: skip


def test_the_disclosure_lists_grants_in_force_during_the_year(grants):
    # given grants in force, never activated, ended before the year, revoked during it
    in_force, _never, _ended, revoked = grants
    # when last year's disclosure is made
    doc = public_data_disclosure(year=YEAR)
    # then the grants in force for any part of the year are listed, others not
    listed = {g["grant_id"] for g in doc["grants"]}
    assert listed == {in_force.pk, revoked.pk}
    assert doc["due_on"] == f"{YEAR + 1}-03-31"
    assert doc["is_final"] is True


def test_each_grant_shows_department_grantee_resources_prices_turnover_and_ceiling(grants):
    # given the grant in force
    in_force = grants[0]
    # when disclosed
    doc = public_data_disclosure(year=YEAR)
    grant = next(g for g in doc["grants"] if g["grant_id"] == in_force.pk)
    # then every item the rules require is there
    assert grant["department"]["name"] == in_force.department.name
    assert grant["grantee"]["credit_code"] == in_force.grantee.credit_code
    assert grant["catalog_entries"][0]["name"] == "Hourly station readings"
    assert grant["fee_ceiling_fen"] == 500_00
    [product] = grant["products"]
    assert product["title"] == "Rain alerts API"
    assert [(p["name"], p["price_fen"], p["unit_price_fen"]) for p in product["plans"]] == [
        ("Report", 300_00, 0),
        ("Metered", 0, 5),
    ]
    # the year's turnover: paid in the year (local time), net of refunds
    assert product["turnover_fen"] == 200_00 + 300_00


def test_the_csv_has_a_line_per_plan_and_a_line_for_a_grant_without_products(grants):
    # given the disclosure
    doc = public_data_disclosure(year=YEAR)
    # when written as CSV for an English reader
    with translation.override("en"):
        rows = list(csv.DictReader(io.StringIO(disclosure_csv(doc))))
        columns = csv_columns()
    # then it has a line per plan of the product and one for the bare grant
    assert list(rows[0]) == columns
    assert len(rows) == 3
    report = next(r for r in rows if r["plan"] == "Report")
    assert report["price"] == "¥300.00"
    assert report["fee ceiling"] == "¥500.00"
    assert report["product turnover"] == "¥500.00"
    assert report["plan kind"] == "One-off"
    assert any(r["product"] == "" for r in rows)


@pytest.mark.parametrize("year", ["", "twenty", "2014", str(YEAR + 2), None, "1e3"])
def test_a_bad_year_is_refused_naming_the_field(year):
    with pytest.raises(BusinessRuleViolation) as caught:
        disclosure_year_check(year)
    assert caught.value.field == "year"


def test_the_command_writes_csv_or_json(grants, tmp_path):
    # given the grants
    # when the command writes both files
    call_command("public_data_disclosure", year=str(YEAR), output=str(tmp_path / "d.csv"))
    call_command("public_data_disclosure", year=str(YEAR), output=str(tmp_path / "d.json"))
    # then the CSV has the header and the JSON shows money in yuan
    assert (tmp_path / "d.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with translation.override("zh-hans"):
        assert (tmp_path / "d.csv").read_text("utf-8-sig").startswith(",".join(csv_columns()))
    doc = json.loads((tmp_path / "d.json").read_text())
    assert doc["year"] == YEAR
    assert {g["fee_ceiling"] for g in doc["grants"]} >= {"500.00"}


def test_the_command_refuses_a_bad_year():
    with pytest.raises(CommandError, match="year"):
        call_command("public_data_disclosure", year="soon")

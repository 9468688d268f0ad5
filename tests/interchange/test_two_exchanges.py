"""Two exchanges: a second instance of the project, with its own database and a live
server on another loopback port, lists products; this one harvests it.

The second instance runs the project's own code (gunicorn over config.wsgi)
against a database made for the test: PostgreSQL when this run uses it, else
an SQLite file. Its products go through its real services.
"""

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from interchange import services
from interchange.models import PartnerRecord, PartnerRecordEvent, RegistrationRecognition
from products import services as product_services
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.interchange import PartnerFactory
from tests.factories.products import ALL_TICKED, MANUAL, IndustryFactory
from tests.interchange.partner_actions import PARTNER_PROVIDER_CREDIT_CODE

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _postgres_url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s.get('USER') or 'postgres'}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{name}"  # noqa: E501


def _admin_sql(sql: str) -> None:
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(
        host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432,
        user=s.get("USER") or "postgres", password=s.get("PASSWORD") or None,
        dbname="postgres", autocommit=True,
    ) as admin:  # fmt: skip
        admin.execute(sql)


class SecondExchange:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.db_name = None
        if connection.vendor == "postgresql":
            self.db_name = f"{connection.settings_dict['NAME']}_partner_{uuid.uuid4().hex[:6]}"
            _admin_sql(f'CREATE DATABASE "{self.db_name}"')
            database_url = _postgres_url(self.db_name)
        else:
            database_url = f"sqlite:///{tmp_path / 'partner.sqlite3'}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": "",
            "EXCHANGE_VAR_DIR": str(tmp_path / "partner-var"),
            "CATALOG_PUBLISHER_CREDIT_CODE": "91430100MA4T0002X9",
            "CATALOG_PUBLISHER_NAME_EN": "Partner Data Exchange",
            "PYTHONPATH": str(ROOT),
        }
        self.server: subprocess.Popen | None = None
        self.base = ""

    def run(self, *argv, timeout=300) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, *argv], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def act(self, *args) -> dict:
        return json.loads(
            self.run("-m", "tests.interchange.partner_actions", *args).splitlines()[-1]
        )

    def start(self) -> None:
        self.run("manage.py", "migrate", "--noinput", timeout=600)
        log_path = self.tmp_path / "partner-server.log"
        self.log = log_path.open("w")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
             "127.0.0.1:0", "--workers", "1", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text())
            if found:
                self.base = found.group(1)
                return
            assert self.server.poll() is None, log_path.read_text()
            time.sleep(0.2)
        raise AssertionError(f"the second exchange did not start:\n{log_path.read_text()}")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
            self.log.close()
        if self.db_name:
            _admin_sql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


@pytest.fixture
def second_exchange(tmp_path):
    exchange = SecondExchange(tmp_path)
    try:
        exchange.start()
        yield exchange
    finally:
        exchange.stop()


def _records_state():
    return (
        list(PartnerRecord.objects.order_by("id").values_list("id", "updated_at", "content_hash",
                                                               "status")),
        PartnerRecordEvent.objects.count(),
    )  # fmt: skip


def test_harvest_of_a_second_exchange(second_exchange, operator, api_client):
    # given products listed at the second exchange
    numbers = second_exchange.act("seed")
    IndustryFactory(code="weather", name="气象", data_theme="ENVI")
    partner = PartnerFactory(
        name="伙伴数据交易所",
        catalog_url=f"{second_exchange.base}/api/v1/catalog/",
        changes_url=f"{second_exchange.base}/api/v1/catalog/changes",
        trust_level="trusted",
    )

    # when this exchange harvests it
    first = services.partner_harvest(actor=operator, partner=partner)

    # then every listing is here with its provenance and publisher, the important one in review
    assert (first.status, first.full, first.new_count, first.refused_count) == (
        "succeeded", True, 3, 0)  # fmt: skip
    records = {r.registration_number: r for r in PartnerRecord.objects.all()}
    archive = records[numbers["archive"]]
    assert archive.iri == f"{second_exchange.base}/api/v1/catalog/datasets/{numbers['archive']}"
    assert (archive.title, archive.title_en) == ("湖南降水档案", "Rain archive")
    assert archive.publisher_name == "长沙伙伴数据有限公司"
    assert archive.publisher_credit_code == PARTNER_PROVIDER_CREDIT_CODE
    assert archive.industry.code == "weather"
    assert records[numbers["api"]].delivery_mode == "api"
    assert records[numbers["important"]].status == "pending_review"
    # and the market shows them as partner listings, searchable with our filters
    buyer = api_client(PersonFactory(merchant=MerchantFactory(status="active")))
    listed = buyer.get("/api/v1/market/partner-listings/", {"industry": "weather",
                                                            "search": "降水"}).json()  # fmt: skip
    assert [row["registration_number"] for row in listed["results"]] == [numbers["archive"]]
    row = listed["results"][0]
    assert row["origin"] == "partner"
    assert row["source"] == archive.iri
    assert row["partner_name"] == "伙伴数据交易所"

    # when the listing changes there, the next run brings only that change
    second_exchange.act("revise", numbers["archive"], "湖南逐日降水档案")
    second = services.partner_harvest(actor=operator, partner=partner)
    assert (second.status, second.full) == ("succeeded", False)
    assert (second.new_count, second.updated_count, second.delisted_count) == (0, 1, 0)
    archive.refresh_from_db()
    assert archive.title == "湖南逐日降水档案"

    # when a product is delisted there, it is delisted here, not deleted
    second_exchange.act("delist", numbers["api"])
    third = services.partner_harvest(actor=operator, partner=partner)
    assert (third.status, third.delisted_count, third.new_count) == ("succeeded", 1, 0)
    assert PartnerRecord.objects.get(registration_number=numbers["api"]).status == "delisted"
    assert PartnerRecord.objects.count() == 3

    # and a run with no change writes nothing
    before = _records_state()
    quiet = services.partner_harvest(actor=operator, partner=partner)
    assert (quiet.status, quiet.new_count, quiet.updated_count, quiet.delisted_count,
            quiet.refused_count) == ("succeeded", 0, 0, 0, 0)  # fmt: skip
    assert _records_state() == before

    # 登记互认: the same provider listing here a product registered there gets the
    # shortened review, and the listing shows the partner's registration
    provider = MerchantFactory(status="active", credit_code=PARTNER_PROVIDER_CREDIT_CODE)
    owner = PersonFactory(merchant=provider, merchant_role="owner")
    product = product_services.product_create(
        actor=owner, provider=provider, title="湖南降水档案", industry=archive.industry,
        delivery_mode="file", **MANUAL,
    )  # fmt: skip
    product_services.plan_create(actor=owner, product=product, kind="one_off", price_fen=500_00)
    claimed = api_client(owner).post(
        "/api/v1/registration-recognitions/",
        {"product": product.pk, "partner": partner.pk, "registration_number": numbers["archive"]},
        format="json",
    )
    assert claimed.status_code == 201, claimed.content
    product_services.product_submit(actor=owner, product=product)
    product_services.product_start_review(actor=operator, product=product)
    listed_here = product_services.product_approve(
        actor=operator, product=product,
        compliance_checklist=ALL_TICKED["compliance_checklist"], quality_checklist={},
    )  # fmt: skip
    assert listed_here.status == "listed"
    assert RegistrationRecognition.objects.get(product=product).partner_record == archive
    # our own catalog names the partner's registration beside ours
    exported = buyer.get(f"/api/v1/catalog/datasets/{listed_here.registration_number}").json()
    notations = {i["skos:notation"] for i in exported["@graph"][0]["adms:identifier"]}
    assert notations == {listed_here.registration_number, numbers["archive"]}
    shown = buyer.get(f"/api/v1/market/products/{product.pk}/").json()
    assert shown["recognised_registrations"] == [
        {"partner": "伙伴数据交易所", "registration_number": numbers["archive"],
         "source": archive.iri}
    ]  # fmt: skip

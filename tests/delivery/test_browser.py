"""The buyer downloads a delivered file from the order's admin page, in Chromium.

The exchange runs in a live server on 127.0.0.1:9631; Chromium is the
machine's own (/usr/bin/chromium, or CHROMIUM), as in tests/browser, driven by Playwright.
"""

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from django.test.testcases import LiveServerThread, _StaticFilesHandler
from django.urls import reverse

from tests.factories.delivery import file_product, upload
from tests.factories.marketplace import pay, person_of, place
from tests.factories.products import PlanFactory

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PORT = 9631
PASSWORD = "pass-for-tests-1"  # PersonFactory's
CONTENT = b"57687,2024-05-01T08:00,12.5\n" * 10_000

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def live_exchange(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    thread = LiveServerThread("127.0.0.1", _StaticFilesHandler, port=PORT)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{PORT}"
    thread.terminate()


def test_the_buyer_downloads_the_delivered_file_from_the_order_page(live_exchange, tmp_path):
    # given a paid order of a file product, and the buyer's person signed in
    product = file_product()
    deliverable = upload(product, CONTENT)
    order = pay(place(plan=PlanFactory(product=product)))
    buyer = person_of(order.buyer)
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(f"{live_exchange}{reverse('admin:login')}")
        page.fill("input[name=username]", buyer.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.goto(f"{live_exchange}{reverse('admin:marketplace_order_change', args=[order.pk])}")

        # when the person clicks the order page's download link
        link = reverse("admin:delivery_download_start", args=[order.pk])
        with page.expect_download() as waiting:
            page.click(f"a[href='{link}']")
        download = waiting.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        browser.close()

    # then the browser saved the file the seller uploaded, and the order is delivered
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == deliverable.sha256
    assert saved.name == "data.csv"
    order.refresh_from_db()
    assert order.status == "delivered"

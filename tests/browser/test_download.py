"""The buyer downloads a delivered file from the order's admin page, in Chromium.

The shared browser and live server of tests/browser/conftest.py (the
machine's own Chromium, driven by Playwright).
"""

import hashlib
import time

import pytest
from django.urls import reverse

from tests.factories.delivery import file_product, upload
from tests.factories.marketplace import pay, person_of, place
from tests.factories.products import PlanFactory

PASSWORD = "pass-for-tests-1"  # PersonFactory's
CONTENT = b"57687,2024-05-01T08:00,12.5\n" * 10_000

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_buyer_downloads_the_delivered_file_from_the_order_page(browser, live_server, tmp_path):
    # given a paid order of a file product, and the buyer's person signed in
    product = file_product()
    deliverable = upload(product, CONTENT)
    order = pay(place(plan=PlanFactory(product=product)))
    buyer = person_of(order.buyer)
    live_exchange = live_server.url
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
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
    finally:
        context.close()

    # then the browser saved the file the seller uploaded, and the order is delivered
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == deliverable.sha256
    assert saved.name == "data.csv"
    # The server records the download's end after the last byte has left it, so
    # the browser may hold the file a moment before the order moves: wait, bounded.
    deadline = time.monotonic() + 10
    order.refresh_from_db()
    while order.status != "delivered" and time.monotonic() < deadline:
        time.sleep(0.1)
        order.refresh_from_db()
    assert order.status == "delivered"

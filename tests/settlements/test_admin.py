import pytest
from django.urls import reverse
from django.utils import timezone

from settlements.choices import AccountKind, ClearingStatus
from settlements.models import ClearingBatch, ProductCostLine
from settlements.services.clearing import clearing_run_for_day
from settlements.services.ledger import account_get
from tests.factories.products import ProductFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def cleared_sale(merchant_a, merchant_b):
    default_fee(300)
    day = a_past_day()
    make_accepted_orders(day=day, count=2, sellers=[merchant_a], buyers=[merchant_b],
                         amounts=[10_000])  # fmt: skip
    clearing_run_for_day(business_date=day)
    return day


def statement_url(account):
    return reverse("admin:settlements_ledgeraccount_statement", args=[account.pk])


def test_a_merchant_opens_and_downloads_its_statement_in_the_admin(
    client, owner_a, merchant_a, cleared_sale
):
    # given the merchant's payable account credited by clearing
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    client.force_login(owner_a)
    period = {"date_from": cleared_sale.isoformat(), "date_to": timezone.localdate().isoformat()}
    # when it opens the statement page and downloads it
    page = client.get(statement_url(account), period)
    download = client.get(statement_url(account), {**period, "download": "csv"})
    # then it sees opening, postings and closing; the CSV holds the same
    assert page.status_code == 200
    assert page.context["opening"] == "¥0.00"
    assert page.context["closing"] == "¥194.00"
    assert len(page.context["lines"]) == 2
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.startswith(b"\xef\xbb\xbf")
    assert "期末余额,¥194.00" in download.content.decode("utf-8-sig")


def test_another_merchants_statement_page_does_not_open(client, owner_b, merchant_a, cleared_sale):
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    client.force_login(owner_b)
    assert client.get(statement_url(account)).status_code == 404


def test_a_merchant_books_a_cost_line_in_yuan_in_the_admin(client, owner_a, merchant_a):
    product = ProductFactory(provider=merchant_a, listed_at=timezone.now())
    client.force_login(owner_a)
    response = client.post(
        reverse("admin:settlements_productcostline_add"),
        {"product": product.pk, "incurred_on": "2026-03-01", "category": "compute",
         "amount": "88.80", "description": "GPU hours"},
    )  # fmt: skip
    assert response.status_code == 302, response.content
    line = ProductCostLine.objects.get()
    assert (line.product, line.amount_fen) == (product, 8880)


def test_a_merchant_cannot_book_costs_on_another_merchants_product(client, owner_b, merchant_a):
    product = ProductFactory(provider=merchant_a, listed_at=timezone.now())
    client.force_login(owner_b)
    response = client.post(
        reverse("admin:settlements_productcostline_add"),
        {"product": product.pk, "incurred_on": "2026-03-01", "category": "compute",
         "amount": "1.00"},
    )  # fmt: skip
    assert response.status_code == 200  # the form comes back with an error
    assert not ProductCostLine.objects.exists()


def test_an_operator_confirms_a_batch_from_the_admin(admin_client, cleared_sale):
    batch = ClearingBatch.objects.get(business_date=cleared_sale)
    response = admin_client.post(
        reverse("admin:settlements_clearingbatch_changelist"),
        {"action": "confirm", "_selected_action": [batch.pk]},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status in (ClearingStatus.CONFIRMED, ClearingStatus.SETTLED)


def test_operator_sees_clearing_progress_in_chunks(client, operator, cleared_sale):
    # given a cleared day, then one chunk put back to pending as if its worker died
    batch = ClearingBatch.objects.get(business_date=cleared_sale)
    total = batch.chunks.count()
    batch.chunks.filter(pk=batch.chunks.order_by("pk").first().pk).update(status="pending")
    client.force_login(operator)
    # when
    listed = client.get(reverse("admin:settlements_clearingbatch_changelist"))
    opened = client.get(reverse("admin:settlements_clearingbatch_change", args=[batch.pk]))
    # then both say how many chunks are done of the total, in Chinese
    expected = f"{total - 1} / {total}"
    assert expected in listed.content.decode()
    assert expected in opened.content.decode()

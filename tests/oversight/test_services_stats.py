import datetime as dt

import pytest
from django.utils import timezone

from marketplace.models import Order
from oversight.models import StatsSnapshot
from oversight.services.stats import present, stats_latest, stats_refresh
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import OrderFactory, listed_product
from tests.factories.products import BoardFactory, IndustryFactory, PlanFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_turnover_is_paid_gross_minus_refunds_by_month_board_and_region(exchange):
    # given the exchange, plus a partly refunded order paid last year and an unpaid one
    seller = MerchantFactory(region="431000")
    plan = PlanFactory(product=listed_product(provider=seller), price_fen=1_000_00)
    OrderFactory(
        plan=plan,
        amount_fen=1_000_00,
        refunded_fen=250_00,
        status="accepted",
        paid_at=dt.datetime(2025, 3, 31, 17, 0, tzinfo=dt.UTC),  # 1 April in Shanghai
    )
    OrderFactory(plan=plan, amount_fen=9_999_00)  # never paid
    paid = Order.objects.filter(paid_at__isnull=False)
    expected = sum(o.amount_fen - o.refunded_fen for o in paid)
    # when the statistics are refreshed
    doc = stats_refresh().document["turnover"]
    # then turnover counts paid orders net of refunds, in local months
    assert doc["cumulative_fen"] == expected
    assert {"month": "2025-04", "turnover_fen": 750_00, "orders": 1} in doc["by_month"]
    assert sum(m["turnover_fen"] for m in doc["by_month"]) == expected
    assert sum(b["turnover_fen"] for b in doc["by_board"]) == expected
    chenzhou = next(r for r in doc["by_region"] if r["region"] == "431000")
    assert chenzhou["turnover_fen"] == 750_00
    weather = next(b for b in doc["by_board"] if b["board"] == exchange.board.code)
    assert weather["turnover_fen"] == 4 * 10_000 + 2 * 2_500 + 5_000  # pending one unpaid


def test_merchant_and_product_figures(db):
    # given merchants of several kinds and regions, and products in several states
    MerchantFactory(status="active", region="430100", is_supplier=True, is_technical=True)
    MerchantFactory(status="suspended", region="430600", is_supplier=False, is_service=True)
    board = BoardFactory(code="weather", name="Weather")
    industry = IndustryFactory(code="meteorology", name="Meteorology")
    ProductFactory(board=board, industry=industry, volume_bytes=2**40, delivery_mode="file")
    ProductFactory(board=board, industry=industry, volume_bytes=2**30, delivery_mode="api")
    ProductFactory(board=board, industry=industry, status="delisted", volume_bytes=10**15)
    # when refreshed
    doc = stats_refresh().document
    # then merchants are counted by status, kind and region (products' providers included)
    merchants = doc["merchants"]
    assert merchants["by_status"]["suspended"] == 1
    assert merchants["by_kind"]["service"] == 1
    assert merchants["by_kind"]["technical"] == 1
    yueyang = next(r for r in merchants["by_region"] if r["region"] == "430600")
    assert yueyang == {"region": "430600", "name": "岳阳市", "count": 1}
    assert len(merchants["by_region"]) == 14
    # and only listed products count, with their volume per board
    assert doc["products"]["by_board"] == [{"board": "weather", "name": "Weather", "count": 2}]
    assert doc["products"]["by_industry"][0]["count"] == 2
    assert doc["products"]["by_delivery_mode"]["file"] == 1
    assert doc["data_volume"]["by_board"][0]["bytes"] == 2**40 + 2**30


def test_the_latest_snapshot_is_read_and_old_ones_are_pruned(db, settings):
    # given a limit of three snapshots
    settings.EXCHANGE_STATS_KEEP = 3
    # when refreshed five times
    snapshots = [stats_refresh() for _ in range(5)]
    # then the newest is read and three are kept
    assert stats_latest() == snapshots[-1]
    assert StatsSnapshot.objects.count() == 3


def test_the_api_shape_turns_fen_into_yuan_strings():
    # given a document in fen
    doc = {"turnover": {"cumulative_fen": 123456, "by_month": [{"turnover_fen": 5}]}, "n": 3}
    # when presented
    shown = present(doc)
    # then money is in yuan strings and other figures are untouched
    assert shown == {"turnover": {"cumulative": "1234.56", "by_month": [{"turnover": "0.05"}]},
                     "n": 3}  # fmt: skip


def test_refreshing_takes_a_bounded_number_of_queries(exchange, django_assert_max_num_queries):
    # given more orders and products than queries allowed
    for _ in range(5):
        OrderFactory(paid_at=timezone.now(), status="paid")
    # when refreshed, then the query count does not grow with the rows
    with django_assert_max_num_queries(20):
        stats_refresh()


@pytest.mark.django_db
def test_products_on_no_board_are_labelled_as_such():
    # given a listed product outside every trading board
    from oversight.services.stats import OFF_BOARD

    ProductFactory(board=None)
    # when
    doc = stats_refresh().document
    # then its row names the absence of a board rather than an empty name
    row = next(b for b in doc["products"]["by_board"] if b["board"] == "")
    assert row["name"] == str(OFF_BOARD)
    assert row["name"]

"""Every CSV the exchange writes for people opens in Excel and reads in the reader's language.

Each download is opened with the csv module, as a spreadsheet would: UTF-8 with a
byte-order mark, headers in Chinese under the Chinese language (English under
English), statuses and kinds as their labels, money as yuan with two decimals and
times on Shanghai's clock. The bank payout file is the one exception: it keeps the
bank's fixed machine format (docs/settlements.md, "The bank payout file").
"""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from core.filters import local_day_start
from settlements.choices import AccountKind
from settlements.models import Payout, Posting, ProductCostLine
from settlements.services.clearing import clearing_run_for_day
from settlements.services.ledger import account_get
from settlements.services.payouts import clearing_batch_confirm
from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.publicdata import DepartmentFactory, GrantFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOM = b"\xef\xbb\xbf"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def opened(response) -> list[list[str]]:
    """The rows of a CSV download, read as Excel would; the file must start with one BOM."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(BOM)
    assert not response.content[3:].startswith(BOM)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def shanghai(instant: dt.datetime) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def sold_day(merchant_a, merchant_b):
    """merchant_a sold two orders of 1,000 yuan to merchant_b on a past day, one shared with a
    department; the day is cleared."""
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(
        day=day, count=1, sellers=[merchant_a], buyers=[merchant_b], amounts=[100_000]
    )
    orders += make_accepted_orders(
        day=day, count=1, sellers=[merchant_a], buyers=[merchant_b], amounts=[100_000],
        department=DepartmentFactory(name="长沙市数据资源局"), share_bps=1000,
    )  # fmt: skip
    clearing_run_for_day(business_date=day)
    return day, orders


# --- statements ---------------------------------------------------------------------------


def test_a_statement_csv_reads_in_chinese_with_yuan_and_shanghai_times(
    merchant_a_api, merchant_a, sold_day
):
    # given the merchant's payable account credited by clearing
    day, _orders = sold_day
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    query = {"account": account.pk, "from": day.isoformat(), "to": timezone.localdate()}
    # when it downloads the statement in Chinese
    rows = opened(merchant_a_api.get(reverse("statement"), {**query, "format": "csv"}, **ZH))
    # then the labels, the header, the purposes and the money read in Chinese and yuan
    assert rows[0][0] == "账户"
    assert rows[0][2] == "数商：应付"
    assert rows[2] == ["期初余额", "¥0.00"]
    assert rows[3] == ["记账时间", "分录", "业务编号", "用途", "订单", "金额", "余额", "用量计量方"]
    lines = rows[4:-1]
    assert {line[3] for line in lines} == {"清算"}
    assert rows[-1] == ["期末余额", "¥1,840.00"]
    # and each posting's time is its instant on Shanghai's clock
    postings = Posting.objects.filter(account=account).order_by("created_at", "id")
    assert [line[0] for line in lines] == [shanghai(p.created_at) for p in postings]


def test_a_statement_csv_reads_in_english_under_english(merchant_a_api, merchant_a, sold_day):
    day, _orders = sold_day
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    query = {"account": account.pk, "from": day.isoformat(), "to": timezone.localdate()}
    rows = opened(merchant_a_api.get(reverse("statement"), {**query, "format": "csv"}, **EN))
    assert rows[3][:4] == ["posted at", "journal entry", "reference", "purpose"]
    assert rows[4][3] == "Clearing"
    assert rows[-1] == ["closing balance", "¥1,840.00"]


def test_the_admin_statement_download_is_the_same_chinese_file(
    client, owner_a, merchant_a, sold_day
):
    day, _orders = sold_day
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    client.force_login(owner_a)
    url = reverse("admin:settlements_ledgeraccount_statement", args=[account.pk])
    period = {"date_from": day.isoformat(), "date_to": timezone.localdate().isoformat()}
    rows = opened(client.get(url, {**period, "download": "csv"}, **ZH))
    assert rows[3][0] == "记账时间"
    assert rows[-1] == ["期末余额", "¥1,840.00"]


# --- department revenue shares -------------------------------------------------------------


def test_the_department_share_csv_reads_in_chinese_with_yuan(operator_api, sold_day):
    day, _orders = sold_day
    query = {"from": day.isoformat(), "to": timezone.localdate().isoformat(), "format": "csv"}
    rows = opened(operator_api.get(reverse("department-statement"), query, **ZH))
    assert rows[0] == [
        "部门编码", "部门", "账户", "起始日", "截止日", "期初余额", "收益分成", "订单数", "期末余额"
    ]  # fmt: skip
    [row] = rows[1:]
    assert row[1] == "长沙市数据资源局"
    assert (row[3], row[6], row[7], row[8]) == (day.isoformat(), "¥100.00", "1", "¥100.00")


# --- data-asset records --------------------------------------------------------------------


def test_data_asset_records_read_in_chinese_with_labels_and_yuan(
    merchant_a_api, client, owner_a, sold_day
):
    # given a cost line booked against the sold product
    day, orders = sold_day
    product = orders[0].product
    ProductCostLine.objects.create(
        product=product, incurred_on=day, category="storage", amount_fen=1_200_50,
        description="对象存储",
    )  # fmt: skip
    query = {"from": day.replace(day=1).isoformat(), "to": timezone.localdate().isoformat()}
    # when the merchant downloads its records through the API and the admin action
    api_rows = opened(
        merchant_a_api.get(reverse("data-asset-record"), {**query, "format": "csv"}, **ZH)
    )
    client.force_login(owner_a)
    line = ProductCostLine.objects.get(product=product)
    admin_rows = opened(
        client.post(
            reverse("admin:settlements_productcostline_changelist"),
            {"action": "export_records", "_selected_action": [line.pk]},
            **ZH,
        )
    )
    # then both read in Chinese: header, record kind, category label and yuan
    for rows in (api_rows, admin_rows):
        assert rows[0] == [
            "记录", "产品 ID", "产品", "期间", "类别", "金额", "订单数", "买方数", "说明"
        ]  # fmt: skip
        revenue = next(r for r in rows[1:] if r[0] == "收入" and r[1] == str(product.pk))
        assert revenue[5] == "¥1,000.00"
        cost = next(r for r in rows[1:] if r[0] == "成本")
        assert (cost[4], cost[5], cost[8]) == ("存储", "¥1,200.50", "对象存储")


# --- the public-data disclosure ------------------------------------------------------------


def test_the_disclosure_csv_reads_in_chinese_with_labels_yuan_and_shanghai_times(
    merchant_a_api,
):
    # given a grant in force last year, from noon on 1 June Shanghai time
    year = timezone.localdate().year - 1
    valid_from = local_day_start(dt.date(year - 1, 6, 1)) + dt.timedelta(hours=12)
    grant = GrantFactory(
        status="active",
        valid_from=valid_from,
        valid_until=valid_from + dt.timedelta(days=800),
        fee_ceiling_fen=1_234_567_89,
    )
    product = ProductFactory(provider=grant.grantee, source_kind="public", grant=grant)
    PlanFactory(product=product, name="按次", kind="metered", price_fen=0, unit_price_fen=5)
    # when it is downloaded in Chinese
    url = "/api/v1/disclosures/public-data/download/"
    rows = opened(merchant_a_api.get(url, {"year": year}, **ZH))
    # then the header, the status, the plan kind, the money and the times read for people
    header, *lines = rows
    assert header[:7] == ["年份", "部门编码", "部门", "行业", "被授权方",
                          "被授权方统一社会信用代码", "授权状态"]  # fmt: skip
    row = dict(zip(header, next(r for r in lines if r[2] == grant.department.name), strict=True))
    assert row["授权状态"] == "正常"
    assert row["生效时间"] == f"{year - 1}-06-01 12:00:00"
    assert row["收费上限"] == "¥1,234,567.89"
    assert row["方案类型"] == "按次计费"
    assert row["单价"] == "¥0.05"


# --- the bank payout file: the bank's fixed format --------------------------------------------


def test_the_bank_payout_file_keeps_the_banks_machine_format(client, operator, sold_day):
    # given a confirmed batch with a payout due
    day, _orders = sold_day
    batch = clearing_run_for_day(business_date=day)
    clearing_batch_confirm(actor=operator, batch=batch)
    payout = Payout.objects.get(batch=batch, status="pending")
    # when an operator downloads it from the admin, in Chinese
    client.force_login(operator)
    response = client.post(
        reverse("admin:settlements_clearingbatch_changelist"),
        {"action": "export_payouts", "_selected_action": [batch.pk]},
        **ZH,
    )
    # then it is the bank's format: no BOM, fixed column names, plain yuan, ISO dates
    assert response.status_code == 200
    assert response.content.startswith(b"reference,business_date,")
    [row] = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert row["reference"] == f"payout:{payout.pk}"
    assert row["amount_yuan"] == "1840.00"
    assert row["business_date"] == day.isoformat()
    assert row["memo"] == f"数据交易结算 {day.isoformat()}"

"""The seeders' fast paths write exactly what the plain ones would: contract text, COPY lines."""

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from core.demo import _copy_text, copy_line
from marketplace.demo import ContractTexts, _contract

ZONE = ZoneInfo("Asia/Shanghai")
NAMES = {
    1: "湖南数据产业集团有限公司",
    2: '长沙"星城"医疗数据有限公司',
    3: "岳阳金融港数据科技有限公司",
}
CODES = {1: "91430100MA4L000001", 2: "91430100MA4L000002", 3: "91430600MA4L000003"}


def _item(*, public: bool) -> dict:
    grant = scenario = None
    if public:
        department = SimpleNamespace(code="430100-WJW", name="长沙市卫生健康委员会")
        grant = SimpleNamespace(
            pk=4,
            department_id=7,
            department=department,
            industry=SimpleNamespace(name="医疗健康"),
            revenue_share_bps=2000,
        )
        scenario = SimpleNamespace(pk=9, name="长沙智慧医疗：门诊资源预测", purpose="industry")
    return {
        "product": 11 if public else 12,
        "seller": 1,
        "title": "长沙市门诊资源预测服务\t（2025版）",
        "registration_number": "HNDX-2025-000011",
        "mode": "api",
        "grade": "general",
        "source_kind": "public" if public else "own",
        "usage_terms": "仅用于授权场景，不得转售。",
        "grant": grant,
        "scenario": scenario,
    }


PLANS: dict[int, dict[str, Any]] = {
    21: {
        "name": "按月订阅",
        "kind": "subscription",
        "period": "month",
        "price_fen": 120000,
        "unit_price_fen": 0,
        "included_calls": 0,
        "monthly_cap_fen": None,
    },
    22: {
        "name": "按次计费",
        "kind": "metered",
        "period": "",
        "price_fen": 0,
        "unit_price_fen": 5,
        "included_calls": 1000,
        "monthly_cap_fen": 240000,
    },
}


def test_contract_text_is_the_contract_snapshot_serialised():
    # given orders of public and other products, plans with and without periods, two buyers
    contracts = ContractTexts(NAMES, CODES, ZONE)
    signed = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)
    cases = [
        (public, plan_id, buyer, quantity, start)
        for public in (True, False)
        for plan_id in PLANS
        for buyer in (2, 3)
        for quantity, start in ((1, None), (6, dt.date(2026, 3, 1)))
    ]
    for public, plan_id, buyer, quantity, start in cases:
        item, plan = _item(public=public), PLANS[plan_id]
        end = start + dt.timedelta(days=180) if start else None
        amount = plan["price_fen"] * quantity
        # when the contract is written from its cached parts
        text = contracts.text(item, plan_id, plan, buyer, quantity, amount, start, end, signed)
        # then it is, character for character, the snapshot's JSON
        whole = _contract(
            item, plan_id, plan, buyer, quantity, amount, start, end, signed, NAMES, CODES
        )
        assert text == json.dumps(whole, ensure_ascii=False, separators=(",", ":"))
        assert json.loads(text)["signed_at"] == "2026-03-01T10:30:00+08:00"


class Status(str):
    """A str subclass, as TextChoices members are."""


def test_copy_line_formats_every_value_as_the_general_path_does():
    # given a row with every kind of value the seeders write, specials included
    at = dt.datetime(2026, 3, 1, 10, 30, tzinfo=ZONE)
    row = (
        7,
        "tab\there, line\nbreak, back\\slash, cr\r",
        "纯文本",
        None,
        True,
        False,
        at,
        at.date(),
        {"a": "b\tc", "中": [1, None]},
        [1, "x"],
        Status("listed"),
        -12,
    )
    # when it is formatted for COPY
    line = copy_line(row)
    # then each value is what the general formatter gives, tab-separated, newline-ended
    assert line == "\t".join(_copy_text(v) for v in row) + "\n"
    assert line.count("\n") == 1
    assert line.split("\t")[1] == "tab\\there, line\\nbreak, back\\\\slash, cr\\r"

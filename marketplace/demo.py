"""Demo trading: 18 months of orders whose turnover is the report's 1.2 billion CNY.

Orders are placed between demo merchants for listed products, at the plans'
prices (order sizes follow the delivery mode), and go through payment,
delivery and acceptance (by the buyer, or automatically after the waiting
days); a few are cancelled, refunded in full or in part, or disputed. Every
order accepted on a past business day has been cleared and settled; the
last days hold orders still on their way. Rows are what the trading services
write (orders with their frozen contract, events, payment notifications,
refunds, disputes); the money moves are handed to the settlements seeder,
which writes the ledger. With `trading="day"` (the benchmark data set) the
seeder writes one business day of accepted orders, paid and ready to clear.

No two merchants both buy from and sell to each other, so the audit's
circular-trade sweep has nothing to report, as on a healthy exchange.
"""

import bisect
import datetime as dt
import json
from operator import itemgetter

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.demo import (
    DAY_ORDERS_PER_SCALE,
    HISTORY_MONTHS,
    REPORT,
    DemoContext,
    Table,
    _copy_escape,
    bulk_insert,
    copy_line,
    copy_lines,
    event_columns,
)
from core.money import fen_to_yuan
from marketplace.models import Dispute, Order, OrderEvent, PaymentNotification, Refund

# The tables this seeder writes in bulk: their indexes and foreign keys are built
# after the load (core.demo.BulkLoad). The order events are written in the
# settlements stage, once clearing's are known (order_events_write).
BULK_MODELS = (Order, PaymentNotification)

DELIVERY_NOTES = {
    "api": "已开通接口调用权限并发放密钥",
    "file": "数据文件已通过安全传输通道交付",
    "report": "报告已交付至买方工作台",
    "model": "模型已部署至买方环境并完成验证",
    "privacy_computing": "隐私计算任务已配置完成，结果按约定输出",
}
ACCEPT_REASON = "数据与说明书一致，验收通过"
CANCEL_REASONS = ["选错了套餐", "采购流程调整，暂不购买", "重复下单"]
REFUND_REASONS = ["卖方无法按期交付，协商退款", "重复购买"]
PARTIAL_REASONS = ["部分时段数据缺失，协商部分退款", "覆盖区域少于约定"]
DISPUTE_REASONS = ["交付字段与说明书不一致", "数据更新频率低于约定"]


def _contract(item, plan_id, plan, buyer, quantity, amount, start, end, signed_at, names, codes):
    """The contract snapshot as marketplace.services.orders.contract_snapshot freezes it."""
    grant, scenario = item["grant"], item["scenario"]
    return {
        "signed_at": timezone.localtime(signed_at).isoformat(),
        "product": {
            "id": item["product"],
            "title": item["title"],
            "version": 1,
            "registration_number": item["registration_number"],
            "delivery_mode": item["mode"],
            "grade": item["grade"],
            "source_kind": item["source_kind"],
        },
        "plan": {
            "id": plan_id,
            "name": plan["name"],
            "kind": plan["kind"],
            "period": plan["period"],
            "price": fen_to_yuan(plan["price_fen"]),
            "unit_price": fen_to_yuan(plan["unit_price_fen"]),
            "included_calls": plan["included_calls"],
            "monthly_cap": None
            if plan["monthly_cap_fen"] is None
            else fen_to_yuan(plan["monthly_cap_fen"]),
        },
        "quantity": quantity,
        "amount": fen_to_yuan(amount),
        "period_start": start.isoformat() if start else None,
        "period_end": end.isoformat() if end else None,
        "usage_terms": item["usage_terms"],
        "public_data": None
        if grant is None
        else {
            "grant_id": grant.pk,
            "department": {
                "id": grant.department_id,
                "code": grant.department.code,
                "name": grant.department.name,
            },
            "industry": grant.industry.name,
            "revenue_share_bps": grant.revenue_share_bps,
            "scenario": {"id": scenario.pk, "name": scenario.name, "purpose": scenario.purpose},
        },
        "usage": None,
        "seller": _party(item["seller"], names, codes),
        "buyer": _party(buyer, names, codes),
    }


def _party(merchant: int, names: dict, codes: dict) -> dict:
    return {"id": merchant, "legal_name": names[merchant], "credit_code": codes[merchant]}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ContractTexts:
    """Contract snapshots as JSON text: exactly `_json(_contract(...))`, built from parts.

    Of a contract only the signing time, quantity, amount, period and buyer
    change from order to order; the product, plan, terms and seller are the
    same for every order of a plan. Their JSON is made once per plan (and the
    buyer's once per buyer), so each of the benchmark day's million orders
    costs a few string joins instead of a dict and its serialisation.
    """

    def __init__(self, names: dict, codes: dict, zone):
        self.names, self.codes, self.zone = names, codes, zone
        self._plans: dict[tuple[int, int], tuple[str, str]] = {}
        self._buyers: dict[int, str] = {}

    def text(self, item, plan_id, plan, buyer, quantity, amount, start, end, signed_at) -> str:
        fixed = self.fixed(item, plan_id, plan, buyer, quantity, amount, start, end, signed_at)
        party = self.party(buyer)
        signed = signed_at.astimezone(self.zone).isoformat()
        period_start = f'"{start.isoformat()}"' if start else "null"
        period_end = f'"{end.isoformat()}"' if end else "null"
        return (
            f'{{"signed_at":"{signed}"{fixed[0]},"quantity":{quantity}'
            f',"amount":"{fen_to_yuan(amount)}","period_start":{period_start}'
            f',"period_end":{period_end}{fixed[1]},"buyer":{party}}}'
        )

    def party(self, buyer: int) -> str:
        party = self._buyers.get(buyer)
        if party is None:
            party = self._buyers[buyer] = _json(_party(buyer, self.names, self.codes))
        return party

    def fixed(self, item, plan_id, plan, buyer, quantity, amount, start, end, signed_at):
        """The plan's two fixed stretches of the contract's JSON (made on first use)."""
        fixed = self._plans.get((item["product"], plan_id))
        if fixed is None:
            whole = _contract(
                item, plan_id, plan, buyer, quantity, amount, start, end, signed_at,
                self.names, self.codes,
            )  # fmt: skip
            fixed = (
                f',"product":{_json(whole["product"])},"plan":{_json(whole["plan"])}',
                f',"usage_terms":{_json(whole["usage_terms"])}'
                f',"public_data":{_json(whole["public_data"])}'
                f',"usage":{_json(whole["usage"])},"seller":{_json(whole["seller"])}',
            )
            self._plans[(item["product"], plan_id)] = fixed
        return fixed


def _quantity(rng, plan) -> int:
    if plan["kind"] == "free":
        return 1
    if plan["kind"] == "subscription":
        if plan["period"] == "month":
            return rng.choice([1, 3, 6, 6, 12, 12])
        return 1 if rng.random() < 0.85 else 2
    return 1 if rng.random() < 0.9 else rng.randrange(2, 4)


def _period_end(start: dt.date, plan, periods: int) -> dt.date:
    from marketplace.services.orders import PERIOD_MONTHS, add_months

    months = PERIOD_MONTHS.get(plan["period"], 1) * periods
    return add_months(start, months) - dt.timedelta(days=1)


class Trades:
    """Rows of the trading tables, and the money moves the ledger must record."""

    def __init__(self, context: DemoContext, names: dict, codes: dict):
        self.context = context
        self.orders = Table(Order)
        self.events: list[tuple] = []  # (order id, actor, from, to, reason, at)
        self.notices = Table(PaymentNotification)
        self.refunds = Table(Refund)
        self.disputes = Table(Dispute)
        self.payments: list[tuple] = []  # (order id, buyer, amount, at, number, reference)
        self.refund_moves: list[tuple] = []  # (refund id, order id, buyer, amount, at, number)
        # (order id, accepted day, buyer, seller, gross, board, mode, department, share bps)
        self.accepted: list[tuple] = []
        self.turnover = 0
        # Local time without asking Django for the current zone per call (a million orders).
        self.zone = timezone.get_current_timezone()
        self.contracts = ContractTexts(names, codes, self.zone)
        # The benchmark day's rows as COPY lines (PostgreSQL), instead of the tables' rows.
        self.order_lines: list[str] | None = None
        self.notice_lines: list[str] | None = None

    def event(self, order_id, actor, from_status, to_status, reason, at):
        # ids are given in time order when written (order_events_write)
        self.events.append((order_id, actor, from_status, to_status, reason, at))


def seed(context: DemoContext) -> None:
    if context.trading == "none":
        return
    rng = context.rng_for("marketplace")
    sellable = sorted(context.made["sellable"], key=lambda s: s["listed_at"])
    merchants = [m for m in context.made["merchants"] if m[4] == "active"]
    person = context.made["merchant_person"]
    names, codes = context.made["merchant_names"], context.made["merchant_codes"]
    # Buyers: application and service merchants buy most, every merchant may.
    buyers = sorted(merchants, key=lambda m: m[5])
    buyer_weights = [3 if ("application" in m[3] or "service" in m[3]) else 1 for m in buyers]
    buyer_since = [m[5] for m in buyers]
    operator = context.made["operator"].pk
    trades = Trades(context, names, codes)
    context.made["trades"] = trades
    if context.trading == "day":
        _benchmark_day(context, rng, trades, sellable, buyers, person, names, codes)
    else:
        _history(
            context,
            rng,
            trades,
            sellable,
            buyers,
            buyer_weights,
            buyer_since,
            person,
            names,
            codes,
            operator,
        )
    _write(context, trades)


def _pick_buyer(rng, buyers, weights, since, seller, at, pairs):
    limit = bisect.bisect_left(since, at)
    if limit == 0:
        return None
    for _ in range(20):
        buyer = rng.choices(buyers[:limit], weights=weights[:limit])[0][0]
        # Nobody buys from itself, and no pair trades both ways (no circular trades).
        if buyer != seller and (buyer, seller) not in pairs:
            pairs.add((seller, buyer))
            return buyer
    return None


def _history(
    context, rng, trades, sellable, buyers, weights, since, person, names, codes, operator
):
    today = context.today
    start = today - dt.timedelta(days=30 * HISTORY_MONTHS)
    days = [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]
    # The exchange grew: later days trade more, weekends little.
    day_weights = [
        (0.25 + i / len(days)) ** 1.6 * (0.3 if day.weekday() >= 5 else 1.0)
        for i, day in enumerate(days)
    ]
    # 累计交易额突破12亿元: past the report's figure, by less than half a percent.
    target = round(REPORT["turnover_fen"] * context.scale * 1.003)
    low, high = target * 0.999, target * 1.004
    listed_at = [s["listed_at"] for s in sellable]
    now = timezone.now()
    pairs: set[tuple[int, int]] = set()
    forced = [
        (0.045, None),
        (0.035, None),
        (0.052, "refund"),
        (0.052, "split"),
        (0.052, "release"),
        (0.01, None),
    ]
    drafts = []  # (created at, ...) orders before ids are given
    progress = context.stage("turnover planned (yuan)", target // 100)
    shown = 0
    misses = 0
    while trades.turnover < low and misses < 50_000:
        day = rng.choices(days, weights=day_weights)[0]
        created = context.local(day, rng.randrange(8 * 3600, 21 * 3600))
        if created >= now - dt.timedelta(minutes=30):
            misses += 1
            continue
        available = bisect.bisect_left(listed_at, created)
        if available == 0:
            misses += 1
            continue
        item = sellable[rng.randrange(available)]
        plans = [(pid, p) for pid, p in item["plans"] if p["kind"] != "metered"]
        if not plans:
            misses += 1
            continue
        plan_id, plan = rng.choice(plans)
        quantity = _quantity(rng, plan)
        amount = plan["price_fen"] * quantity
        if trades.turnover + amount > high:
            misses += 1
            continue
        buyer = _pick_buyer(rng, buyers, weights, since, item["seller"], created, pairs)
        if buyer is None:
            misses += 1
            continue
        # Whatever the scale, the history shows each kind of trouble at least once.
        force = None
        if forced and amount >= 1000 and created < now - dt.timedelta(days=20):
            force = forced.pop()
        fate = _story(context, rng, created, item, amount, now, force=force)
        if fate is None and force:
            forced.append(force)
        if fate is None:
            misses += 1
            continue
        counted = fate["counted"](amount)
        trades.turnover += counted
        drafts.append((created, item, plan_id, plan, quantity, amount, buyer, fate))
        done = trades.turnover // 100
        if done - shown > target // 10_000:
            progress.advance(done - shown)
            shown = done
    progress.finish()
    drafts.sort(key=lambda d: d[0])
    order_ids = context.ids(Order, len(drafts))
    progress = context.stage("orders", len(drafts))
    for order_id, draft in zip(order_ids, drafts, strict=True):
        _tell(
            context,
            rng,
            trades,
            order_id,
            *draft,
            person=person,
            names=names,
            codes=codes,
            operator=operator,
        )
        progress.advance()
    progress.finish()


def _story(context, rng, created, item, amount, now, force=None):
    """What happens to an order placed at `created`: its fate and the moments of each step."""
    auto_days = settings.EXCHANGE_AUTO_ACCEPT_DAYS
    paid_at = created + dt.timedelta(minutes=rng.randrange(3, 360))
    instant = item["mode"] in ("api", "report")
    delivered_at = paid_at + (
        dt.timedelta(minutes=rng.randrange(10, 240))
        if instant
        else dt.timedelta(hours=rng.randrange(2, 72))
    )
    auto = rng.random() < 0.12
    accepted_at = delivered_at + (
        dt.timedelta(days=auto_days, minutes=rng.randrange(5, 50))
        if auto
        else dt.timedelta(hours=rng.randrange(1, 96))
    )
    roll = rng.random()
    outcome = rng.choice(["release", "split", "refund"])
    if force:
        roll, outcome = force[0], force[1] or outcome
    free = amount == 0
    fate = {
        "paid_at": paid_at if not free else created,
        "delivered_at": delivered_at,
        "accepted_at": accepted_at,
        "auto": auto,
        "refund": 0,
        "kind": "accepted",
        "counted": lambda a: a,
    }
    if free:
        fate["paid_at"] = created
    age = now - created
    if not free and roll < 0.03:
        if age < dt.timedelta(days=2) and rng.random() < 0.5:
            fate.update(kind="pending", counted=lambda a: 0)
        else:
            fate.update(
                kind="cancelled",
                counted=lambda a: 0,
                cancelled_at=created + dt.timedelta(hours=rng.randrange(1, 30)),
            )
        return fate
    if not free and roll < 0.042:
        fate.update(
            kind="refunded",
            counted=lambda a: 0,
            refunded_at=paid_at + dt.timedelta(hours=rng.randrange(2, 48)),
        )
        return fate
    if not free and roll < 0.05 and amount >= 1000:
        share = rng.choice([10, 20, 30])
        fate.update(
            refund=amount * share // 100,
            counted=lambda a, s=share: a - a * s // 100,
            partial_at=delivered_at + dt.timedelta(hours=rng.randrange(1, 20)),
        )
        fate["accepted_at"] = max(fate["accepted_at"], fate["partial_at"] + dt.timedelta(hours=1))
    elif not free and roll < 0.055 and amount >= 1000:
        opened = delivered_at + dt.timedelta(hours=rng.randrange(2, 30))
        resolved = opened + dt.timedelta(days=rng.randrange(2, 9))
        fate.update(dispute=(outcome, opened, resolved))
        if outcome == "refund":
            fate.update(kind="refunded", counted=lambda a: 0, refunded_at=resolved)
        elif outcome == "split":
            fate.update(refund=amount // 4, counted=lambda a: a - a // 4)
        fate["accepted_at"] = resolved
        fate["auto"] = False
    # Orders on their way: where the last days have got them to.
    if fate["kind"] == "refunded" and fate["refunded_at"] >= now:
        return None
    if fate.get("dispute") and fate["dispute"][2] >= now:
        return None
    if fate.get("partial_at") and fate["partial_at"] >= now:
        return None
    if fate["paid_at"] >= now:
        fate.update(kind="pending", counted=lambda a: 0)
    elif delivered_at >= now:
        fate["kind"] = "paid"
    elif fate["accepted_at"] >= now and fate["kind"] == "accepted":
        fate["kind"] = "delivered"
    if fate["kind"] == "pending" and age > dt.timedelta(days=1):
        return None  # unpaid orders older than that were cancelled or paid by now
    return fate


def _tell(
    context,
    rng,
    trades,
    order_id,
    created,
    item,
    plan_id,
    plan,
    quantity,
    amount,
    buyer,
    fate,
    *,
    person,
    names,
    codes,
    operator,
):
    """Write one order's rows as the services would have, step by step."""
    zone = trades.zone
    number = f"{created.astimezone(zone):%Y%m%d}{rng.getrandbits(48):012X}"
    buyer_person, seller_person = person[buyer], person[item["seller"]]
    start = end = None
    if plan["kind"] == "subscription":
        start = created.astimezone(zone).date()
        end = _period_end(start, plan, quantity)
    grant = item["grant"]
    event = trades.event
    kind = fate["kind"]
    event(order_id, buyer_person, "", "pending_payment", "placed", created)
    status = "pending_payment"
    paid_at = delivered_at = accepted_at = None
    refunded = 0
    note = ""
    disputed = False
    updated = created
    if kind == "cancelled":
        event(
            order_id,
            buyer_person,
            status,
            "cancelled",
            rng.choice(CANCEL_REASONS),
            fate["cancelled_at"],
        )
        status, updated = "cancelled", fate["cancelled_at"]
    elif kind != "pending":
        paid_at = fate["paid_at"]
        if amount == 0:
            event(order_id, buyer_person, status, "paid", "free of charge: nothing to pay", paid_at)
        else:
            reference = f"CP{paid_at.astimezone(zone):%Y%m%d}{rng.getrandbits(40):012d}"
            event(
                order_id,
                None,
                status,
                "paid",
                f"paid through the channel, reference {reference}",
                paid_at,
            )
            trades.notices.add(
                id=None,
                nonce=f"{rng.getrandbits(128):032x}",
                order_id=order_id,
                channel_reference=reference,
                amount_fen=amount,
                sent_at=paid_at,
                received_at=paid_at,
                outcome="paid",
            )
            trades.payments.append((order_id, buyer, amount, paid_at, number, reference))
        status, updated = "paid", paid_at
    if kind == "refunded" and not fate.get("dispute"):
        refund_id = context.ids(Refund, 1)[0]
        at = fate["refunded_at"]
        reason = rng.choice(REFUND_REASONS)
        trades.refunds.add(
            id=refund_id,
            order_id=order_id,
            amount_fen=amount,
            reason=reason,
            status="completed",
            requested_by_id=operator,
            decided_by_id=operator,
            decided_at=at,
            created_at=at,
        )
        event(
            order_id, operator, status, "refunded", f"refund of {fen_to_yuan(amount)}: {reason}", at
        )
        trades.refund_moves.append((refund_id, order_id, buyer, amount, at, number))
        status, refunded, updated = "refunded", amount, at
    elif status == "paid" and kind != "paid":
        delivered_at = fate["delivered_at"]
        note = DELIVERY_NOTES[item["mode"]]
        event(order_id, seller_person, status, "delivered", note, delivered_at)
        status, updated = "delivered", delivered_at
        if fate.get("partial_at"):
            refund_id = context.ids(Refund, 1)[0]
            at, share = fate["partial_at"], fate["refund"]
            reason = rng.choice(PARTIAL_REASONS)
            trades.refunds.add(
                id=refund_id,
                order_id=order_id,
                amount_fen=share,
                reason=reason,
                status="completed",
                requested_by_id=seller_person,
                decided_by_id=seller_person,
                decided_at=at,
                created_at=at,
            )
            event(
                order_id,
                seller_person,
                status,
                status,
                f"partial refund of {fen_to_yuan(share)}: {reason}",
                at,
            )
            trades.refund_moves.append((refund_id, order_id, buyer, share, at, number))
            refunded, updated = share, at
        if fate.get("dispute"):
            outcome, opened, resolved = fate["dispute"]
            reason = rng.choice(DISPUTE_REASONS)
            event(order_id, buyer_person, status, status, f"dispute opened: {reason}", opened)
            note_text = {
                "release": "核查后交付符合约定",
                "split": "部分记录延迟，退还四分之一",
                "refund": "交付内容与说明书不符，全额退款",
            }[outcome]
            text = f"dispute resolved ({outcome}): {note_text}"
            back = amount if outcome == "refund" else (fate["refund"] if outcome == "split" else 0)
            if back:
                refund_id = context.ids(Refund, 1)[0]
                trades.refunds.add(
                    id=refund_id,
                    order_id=order_id,
                    amount_fen=back,
                    reason=text,
                    status="completed",
                    requested_by_id=operator,
                    decided_by_id=operator,
                    decided_at=resolved,
                    created_at=resolved,
                )
                if outcome == "refund":
                    event(
                        order_id,
                        operator,
                        status,
                        "refunded",
                        f"refund of {fen_to_yuan(back)}: {text}",
                        resolved,
                    )
                    status = "refunded"
                else:
                    event(
                        order_id,
                        operator,
                        status,
                        status,
                        f"partial refund of {fen_to_yuan(back)}: {text}",
                        resolved,
                    )
                trades.refund_moves.append((refund_id, order_id, buyer, back, resolved, number))
                refunded = back
            event(order_id, operator, status, status, text, resolved)
            trades.disputes.add(
                id=None,
                order_id=order_id,
                reason=reason,
                opened_by_id=buyer_person,
                opened_at=opened,
                outcome=outcome,
                refund_fen=back,
                resolution_note=note_text,
                resolved_by_id=operator,
                resolved_at=resolved,
            )
            updated = resolved
            if status == "delivered":
                accepted_at = resolved
                event(
                    order_id,
                    operator,
                    status,
                    "accepted",
                    f"released to the seller by the dispute's resolution: {note_text}",
                    resolved,
                )
                status = "accepted"
        elif kind == "accepted":
            accepted_at = fate["accepted_at"]
            if fate["auto"]:
                days = settings.EXCHANGE_AUTO_ACCEPT_DAYS
                event(
                    order_id,
                    None,
                    status,
                    "accepted",
                    f"accepted automatically {days} days after delivery",
                    accepted_at,
                )
            else:
                event(order_id, buyer_person, status, "accepted", ACCEPT_REASON, accepted_at)
            status, updated = "accepted", accepted_at
    if status == "accepted":
        trades.accepted.append(
            (
                order_id,
                timezone.localtime(accepted_at, zone).date(),
                buyer,
                item["seller"],
                amount - refunded,
                item["board"],
                item["mode"],
                grant.department_id if grant else None,
                grant.revenue_share_bps if grant else 0,
            )
        )
    trades.orders.add(
        id=order_id,
        number=number,
        buyer_id=buyer,
        seller_id=item["seller"],
        product_id=item["product"],
        plan_id=plan_id,
        quantity=quantity,
        period_start=start,
        period_end=end,
        amount_fen=amount,
        refunded_fen=refunded,
        status=status,
        is_disputed=disputed,
        contract=trades.contracts.text(
            item, plan_id, plan, buyer, quantity, amount, start, end, created
        ),
        board_id=item["board"],
        delivery_mode=item["mode"],
        grant_id=grant.pk if grant else None,
        scenario_id=item["scenario"].pk if item["scenario"] else None,
        department_id=grant.department_id if grant else None,
        department_share_bps=grant.revenue_share_bps if grant else 0,
        paid_at=paid_at,
        delivered_at=delivered_at,
        accepted_at=accepted_at,
        cleared_at=None,
        settled_at=None,
        clearing_batch_id=None,
        delivery_note=note,
        renewal_of_id=None,
        billed_month=None,
        created_at=created,
        updated_at=updated,
    )


def _benchmark_day(context, rng, trades, sellable, buyers, person, names, codes):
    """One business day (yesterday) of accepted, paid orders, ready for tonight's clearing."""
    if connection.vendor == "postgresql":
        _benchmark_day_lines(context, rng, trades, sellable, buyers, person)
        return
    day = context.today - dt.timedelta(days=1)
    count = round(DAY_ORDERS_PER_SCALE * context.scale)
    pairs: set[tuple[int, int]] = set()
    products = [s for s in sellable if any(p["kind"] != "metered" for _i, p in s["plans"])]
    buyer_ids = [b[0] for b in buyers]
    order_ids = context.ids(Order, count)
    progress = context.stage("orders: the business day", count)
    for n, order_id in enumerate(order_ids):
        item = products[rng.randrange(len(products))]
        plan_id, plan = next((i, p) for i, p in item["plans"] if p["kind"] != "metered")
        for _ in range(10):
            buyer = buyer_ids[rng.randrange(len(buyer_ids))]
            if buyer != item["seller"] and (buyer, item["seller"]) not in pairs:
                break
        else:
            continue
        pairs.add((item["seller"], buyer))
        accepted_at = context.local(day, 8 * 3600 + n * (13 * 3600) // count)
        created = accepted_at - dt.timedelta(hours=rng.randrange(3, 48))
        quantity = _quantity(rng, plan)
        fate = {
            "kind": "accepted",
            "paid_at": created + dt.timedelta(minutes=20),
            "delivered_at": created + dt.timedelta(hours=2),
            "accepted_at": accepted_at,
            "auto": False,
            "refund": 0,
        }
        _tell(
            context,
            rng,
            trades,
            order_id,
            created,
            item,
            plan_id,
            plan,
            quantity,
            plan["price_fen"] * quantity,
            buyer,
            fate,
            person=person,
            names=names,
            codes=codes,
            operator=context.made["operator"].pk,
        )
        progress.advance()
    progress.finish()


class _Slot:
    """Where a row template takes one order's own value (`str.format` field `index`)."""

    def __init__(self, index: int):
        self.index = index


def _template(table: Table, slots: tuple[str, ...], values: dict) -> str:
    """A COPY line of `table` as a `str.format` template: `values` formatted once, the
    columns named in `slots` left as fields {0}, {1}, ... in that order."""
    row = table.row(**values, **{name: _Slot(i) for i, name in enumerate(slots)})
    parts = [
        f"{{{v.index}}}" if isinstance(v, _Slot) else _braces(copy_line([v])[:-1]) for v in row
    ]
    return "\t".join(parts) + "\n"


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_ORDER_SLOTS = (
    "id", "number", "buyer_id", "quantity", "period_start", "period_end", "amount_fen",
    "contract", "paid_at", "delivered_at", "accepted_at", "created_at", "updated_at",
)  # fmt: skip
_NOTICE_SLOTS = ("nonce", "order_id", "channel_reference", "amount_fen", "sent_at", "received_at")


def _benchmark_day_lines(context, rng, trades, sellable, buyers, person):
    """The benchmark day as `_benchmark_day` and `_tell` make it, straight to COPY lines.

    The same draws in the same order give the same rows; only the making differs.
    Each product's plan has one line template with the fixed columns already in
    COPY's text format, the few per-order values are formatted into it; times
    are whole seconds from the day's local midnight, each second formatted once.
    """
    zone = trades.zone
    day = context.today - dt.timedelta(days=1)
    count = round(DAY_ORDERS_PER_SCALE * context.scale)
    pairs: set[tuple[int, int]] = set()
    products = [s for s in sellable if any(p["kind"] != "metered" for _i, p in s["plans"])]
    buyer_ids = [b[0] for b in buyers]
    order_ids = context.ids(Order, count)
    progress = context.stage("orders: the business day", count)
    contracts = trades.contracts
    event = trades.events.append
    accepted = trades.accepted.append
    payments = trades.payments.append
    order_lines: list[str] = []
    notice_lines: list[str] = []
    add_order, add_notice = order_lines.append, notice_lines.append
    # second from local midnight -> (datetime, isoformat, local %Y%m%d, local date)
    stamps: dict[int, tuple] = {}

    midnight = context.local(day)  # context.local(day, s) is midnight + s seconds
    days: dict[dt.date, str] = {}

    def stamp(second: int) -> tuple:
        at = midnight + dt.timedelta(seconds=second)
        local = at.astimezone(zone)  # itself when the zones are one
        iso = at.isoformat()
        date = local.date()
        compact = days.get(date)
        if compact is None:
            compact = days[date] = f"{date:%Y%m%d}"
        made = (at, iso, iso if local is at else local.isoformat(), compact, date)
        stamps[second] = made
        return made

    # per product: plan id, plan, order template, contract's fixed parts, notice template, ...
    kinds: dict[int, tuple] = {}
    ends: dict[tuple, str] = {}
    yuan: dict[int, str] = {}
    parties: dict[int, str] = {}
    notice_template = _template(trades.notices, _NOTICE_SLOTS, {"id": None, "outcome": "paid"})
    notice_template = notice_template.split("\t", 1)[1]  # ids are given when written
    span = 13 * 3600
    for n, order_id in enumerate(order_ids):
        item = products[rng.randrange(len(products))]
        seller = item["seller"]
        for _ in range(10):
            buyer = buyer_ids[rng.randrange(len(buyer_ids))]
            if buyer != seller and (buyer, seller) not in pairs:
                break
        else:
            continue
        pairs.add((seller, buyer))
        second = 8 * 3600 + n * span // count
        created_second = second - 3600 * rng.randrange(3, 48)
        kind = kinds.get(id(item))
        if kind is None:
            plan_id, plan = next((i, p) for i, p in item["plans"] if p["kind"] != "metered")
            grant = item["grant"]
            template = _template(
                trades.orders,
                _ORDER_SLOTS,
                {
                    "seller_id": seller,
                    "product_id": item["product"],
                    "plan_id": plan_id,
                    "refunded_fen": 0,
                    "status": "accepted",
                    "is_disputed": False,
                    "board_id": item["board"],
                    "delivery_mode": item["mode"],
                    "grant_id": grant.pk if grant else None,
                    "scenario_id": item["scenario"].pk if item["scenario"] else None,
                    "department_id": grant.department_id if grant else None,
                    "department_share_bps": grant.revenue_share_bps if grant else 0,
                    "cleared_at": None,
                    "settled_at": None,
                    "clearing_batch_id": None,
                    "delivery_note": DELIVERY_NOTES[item["mode"]],
                    "renewal_of_id": None,
                    "billed_month": None,
                },
            )
            kind = kinds[id(item)] = (
                plan_id,
                plan,
                template,
                None,
                (
                    item["board"],
                    item["mode"],
                    grant.department_id if grant else None,
                    grant.revenue_share_bps if grant else 0,
                ),
                person[seller],
                DELIVERY_NOTES[item["mode"]],
            )
        plan_id, plan, template, fixed, share, seller_person, note = kind
        quantity = _quantity(rng, plan)
        amount = plan["price_fen"] * quantity
        created = stamps.get(created_second) or stamp(created_second)
        number = f"{created[3]}{rng.getrandbits(48):012X}"
        if plan["kind"] == "subscription":
            start = created[4]
            key = (start, plan["period"], quantity)
            end = ends.get(key)
            if end is None:
                end = ends[key] = _period_end(start, plan, quantity).isoformat()
            start = start.isoformat()
            period_start, period_end = f'"{start}"', f'"{end}"'
        else:
            start = end = "\\N"
            period_start = period_end = "null"
        if fixed is None:
            fixed = tuple(
                _copy_escape(part)
                for part in contracts.fixed(
                    item, plan_id, plan, buyer, quantity, amount, None, None, created[0]
                )
            )
            kinds[id(item)] = (plan_id, plan, template, fixed, share, seller_person, note)
        buyer_person = person[buyer]
        paid = stamps.get(created_second + 1200) or stamp(created_second + 1200)
        delivered = stamps.get(created_second + 7200) or stamp(created_second + 7200)
        at = stamps.get(second) or stamp(second)
        event((order_id, buyer_person, "", "pending_payment", "placed", created[0]))
        if amount == 0:
            event(
                (order_id, buyer_person, "pending_payment", "paid",
                 "free of charge: nothing to pay", paid[0])
            )  # fmt: skip
        else:
            reference = f"CP{paid[3]}{rng.getrandbits(40):012d}"
            event(
                (order_id, None, "pending_payment", "paid",
                 f"paid through the channel, reference {reference}", paid[0])
            )  # fmt: skip
            add_notice(
                notice_template.format(
                    f"{rng.getrandbits(128):032x}", order_id, reference, amount, paid[1], paid[1]
                )
            )
            payments((order_id, buyer, amount, paid[0], number, reference))
        event((order_id, seller_person, "paid", "delivered", note, delivered[0]))
        event((order_id, buyer_person, "delivered", "accepted", ACCEPT_REASON, at[0]))
        accepted((order_id, at[4], buyer, seller, amount, *share))
        money = yuan.get(amount)
        if money is None:
            money = yuan[amount] = fen_to_yuan(amount)
        party = parties.get(buyer)
        if party is None:
            party = parties[buyer] = _copy_escape(contracts.party(buyer))
        contract = (
            f'{{"signed_at":"{created[2]}"{fixed[0]},"quantity":{quantity}'
            f',"amount":"{money}","period_start":{period_start}'
            f',"period_end":{period_end}{fixed[1]},"buyer":{party}}}'
        )
        add_order(
            template.format(
                order_id, number, buyer, quantity, start, end, amount, contract,
                paid[1], delivered[1], at[1], created[1], at[1],
            )
        )  # fmt: skip
        progress.advance()
    progress.finish()
    trades.order_lines = order_lines
    trades.notice_lines = notice_lines


def _write(context: DemoContext, trades: Trades) -> None:
    """Orders, then the rows that point at them, events in time order."""
    if trades.order_lines is not None and trades.notice_lines is not None:
        # The benchmark day's lines, made by _benchmark_day_lines.
        _write_lines(context, trades.orders, trades.order_lines, "orders: rows")
        notices = trades.notice_lines
        ids = context.ids(PaymentNotification, len(notices))
        lines = [f"{ids[i]}\t{line}" for i, line in enumerate(notices)]
        _write_lines(context, trades.notices, lines, "payment notifications")
        trades.order_lines = trades.notice_lines = None
    else:
        trades.orders.write(context, "orders: rows")
        trades.notices.rows = _with_ids(context, PaymentNotification, trades.notices.rows)
        trades.notices.write(context, "payment notifications")
    trades.refunds.write(context)
    trades.disputes.rows = _with_ids(context, Dispute, trades.disputes.rows)
    trades.disputes.write(context)


def _write_lines(context: DemoContext, table: Table, lines: list[str], label: str) -> None:
    progress = context.stage(label, len(lines))
    copy_lines(table.model, table.columns, lines, progress=progress)
    progress.finish()


def order_events_write(context: DemoContext) -> None:
    """Every order event of the seeding (clearing's included), ids in time order."""
    trades = context.made.get("trades")
    if trades is None:
        return
    rows = sorted(trades.events, key=itemgetter(5, 0))
    ids = context.ids(OrderEvent, len(rows))
    progress = context.stage("orders: events", len(rows))
    if connection.vendor == "postgresql":
        copy_lines(OrderEvent, event_columns(), _event_lines(ids, rows), progress=progress)
    else:
        bulk_insert(
            OrderEvent,
            event_columns(),
            ((ids[i], *row) for i, row in enumerate(rows)),
            progress=progress,
        )
    progress.finish()
    trades.events = []


def _event_lines(ids, rows):
    """The events' COPY lines: each time, actor and (from, to, reason) formatted once.

    The caches are keyed by the objects themselves (id()): the rows hold them
    all the while, and most events share their times and texts with others."""
    stamps: dict[int, str] = {}
    actors: dict[int, str] = {}
    texts: dict[tuple, str] = {}
    for i, (order_id, actor, from_status, to_status, reason, at) in enumerate(rows):
        when = stamps.get(id(at))
        if when is None:
            when = stamps[id(at)] = copy_line([at])[:-1]
        who = actors.get(actor)
        if who is None:
            who = actors[actor] = copy_line([actor])[:-1]
        key = (from_status, to_status, reason)
        text = texts.get(key)
        if text is None:
            text = copy_line(key)[:-1]
            if len(texts) < 100_000:
                texts[key] = text
        yield f"{ids[i]}\t{order_id}\t{who}\t{text}\t{when}\n"


def _with_ids(context, model, rows):
    ids = context.ids(model, len(rows))
    return [(ids[i], *row[1:]) for i, row in enumerate(rows)]

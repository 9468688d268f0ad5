"""The annual public-data disclosure (公共数据授权运营 年度公开), due by 31 March for the
year before: for each grant in force during the year, the department, the grantee,
the catalog entries covered, the products with their actual prices and the year's
turnover, and the fee ceiling.

"In force during the year" means: the grant was activated (any status but
pending) and its validity window overlaps the calendar year in Asia/Shanghai.
A grant revoked during the year is still listed: it was in force for part of it.
Turnover follows the statistics' definition (paid gross minus refunds), counted
by the local date of payment within the year.
"""

import datetime as dt

from django.db.models import F, Prefetch, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.exceptions import BusinessRuleViolation
from core.filters import local_day_start
from core.formatting import choice_label, csv_text, format_yuan
from marketplace.models import Order
from products.choices import PlanKind, SubscriptionPeriod
from products.models import PricingPlan, Product
from publicdata.choices import GrantStatus
from publicdata.models import Grant

FIRST_YEAR = 2015


def disclosure_year_check(year) -> int:
    """The year asked for, as an int, or a 400 naming the field."""
    try:
        year = int(str(year).strip())
    except (TypeError, ValueError):
        raise BusinessRuleViolation(
            _("give the year as four digits, e.g. 2025"), field="year"
        ) from None
    current = timezone.localdate().year
    if not FIRST_YEAR <= year <= current:
        raise BusinessRuleViolation(
            _("the year must be between %(first_year)s and %(current)s")
            % {"first_year": FIRST_YEAR, "current": current},
            field="year",
        )
    return year


def public_data_disclosure(*, year: int) -> dict:
    """The disclosure for `year` as a document (money in fen)."""
    year = disclosure_year_check(year)
    start = local_day_start(dt.date(year, 1, 1))
    end = local_day_start(dt.date(year + 1, 1, 1))
    grants = (
        Grant.objects.exclude(status=GrantStatus.PENDING)
        .filter(valid_from__lt=end, valid_until__gt=start)
        .select_related("department", "industry", "grantee")
        .prefetch_related(
            "entries",
            Prefetch(
                "products",
                queryset=Product.objects.order_by("id").prefetch_related(
                    Prefetch("plans", queryset=PricingPlan.objects.order_by("id"))
                ),
            ),
        )
        .order_by("department__code", "industry__code", "valid_from", "id")
    )
    grant_rows = list(grants)
    product_ids = [p.pk for g in grant_rows for p in g.products.all()]
    turnover = dict(
        Order.objects.filter(product_id__in=product_ids, paid_at__gte=start, paid_at__lt=end)
        .values("product_id")
        .annotate(s=Sum(F("amount_fen") - F("refunded_fen")))
        .values_list("product_id", "s")
    )
    today = timezone.localdate()
    due = dt.date(year + 1, 3, 31)
    return {
        "year": year,
        "due_on": due.isoformat(),
        "is_final": today > dt.date(year, 12, 31),
        "generated_at": timezone.now().isoformat(),
        "grants": [
            {
                "grant_id": g.pk,
                "department": {"code": g.department.code, "name": g.department.name},
                "industry": {"code": g.industry.code, "name": g.industry.name},
                "grantee": {
                    "id": g.grantee_id,
                    "name": g.grantee.legal_name,
                    "credit_code": g.grantee.credit_code,
                },
                "status": g.status,
                "valid_from": g.valid_from.isoformat(),
                "valid_until": g.valid_until.isoformat(),
                "fee_ceiling_fen": g.fee_ceiling_fen,
                "revenue_share_bps": g.revenue_share_bps,
                "catalog_entries": [
                    {"code": e.code, "name": e.name}
                    for e in sorted(g.entries.all(), key=lambda e: e.code)
                ],
                "products": [
                    {
                        "id": p.pk,
                        "registration_number": p.registration_number or "",
                        "title": p.title,
                        "status": p.status,
                        "turnover_fen": turnover.get(p.pk) or 0,
                        "plans": [
                            {
                                "name": plan.name,
                                "kind": plan.kind,
                                "period": plan.period,
                                "price_fen": plan.price_fen,
                                "unit_price_fen": plan.unit_price_fen,
                                "included_calls": plan.included_calls,
                                "monthly_cap_fen": plan.monthly_cap_fen,
                                "on_sale": plan.is_active,
                            }
                            for plan in p.plans.all()
                        ],
                    }
                    for p in g.products.all()
                ],
            }
            for g in grant_rows
        ],
    }


def csv_columns() -> list[str]:
    """The disclosure CSV's header, in the active language (read when the file is written)."""
    return [
        pgettext("CSV column", "year"),
        pgettext("CSV column", "department code"),
        pgettext("CSV column", "department"),
        pgettext("CSV column", "industry"),
        pgettext("CSV column", "grantee"),
        pgettext("CSV column", "grantee's credit code"),
        pgettext("CSV column", "grant status"),
        pgettext("CSV column", "valid from"),
        pgettext("CSV column", "valid until"),
        pgettext("CSV column", "fee ceiling"),
        pgettext("CSV column", "catalog entries"),
        pgettext("CSV column", "product registration number"),
        pgettext("CSV column", "product"),
        pgettext("CSV column", "product turnover"),
        pgettext("CSV column", "plan"),
        pgettext("CSV column", "plan kind"),
        pgettext("CSV column", "subscription period"),
        pgettext("CSV column", "price"),
        pgettext("CSV column", "unit price"),
        pgettext("CSV column", "monthly cap"),
    ]


def disclosure_csv(document: dict) -> str:
    """One line per (grant, product, plan); a grant without products still has a line.

    For people: headers in their language, statuses and kinds as labels, money
    as "¥1,234.50", validity on Shanghai's clock.
    """
    rows: list[list] = [csv_columns()]
    for g in document["grants"]:
        head = [
            document["year"],
            g["department"]["code"],
            g["department"]["name"],
            g["industry"]["name"],
            g["grantee"]["name"],
            g["grantee"]["credit_code"],
            choice_label(GrantStatus, g["status"]),
            # The document carries ISO instants; people read them on Shanghai's clock.
            dt.datetime.fromisoformat(g["valid_from"]),
            dt.datetime.fromisoformat(g["valid_until"]),
            format_yuan(g["fee_ceiling_fen"]),
            "; ".join(f"{e['code']} {e['name']}" for e in g["catalog_entries"]),
        ]
        if not g["products"]:
            rows.append(head + [""] * 9)
        for p in g["products"]:
            product = [p["registration_number"], p["title"], format_yuan(p["turnover_fen"])]
            for plan in p["plans"] or [None]:
                if plan is None:
                    rows.append(head + product + [""] * 6)
                    continue
                cap = plan["monthly_cap_fen"]
                rows.append(
                    head
                    + product
                    + [
                        plan["name"],
                        choice_label(PlanKind, plan["kind"]),
                        choice_label(SubscriptionPeriod, plan["period"]),
                        format_yuan(plan["price_fen"]),
                        format_yuan(plan["unit_price_fen"]),
                        "" if cap is None else format_yuan(cap),
                    ]
                )
    return csv_text(rows)

"""The market in the admin: a merchant browses every provider's listed products and orders.

Reads go through products.selectors (listed products only, never anyone's
orders); ordering goes through marketplace.services.orders.order_place, which
checks everything an order needs (listed, on sale, not one's own, public data
only for an authorized scenario). These views add no rules of their own.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.exceptions import BusinessRuleViolation
from core.formatting import format_data_size, format_yuan
from core.money import MoneyError, yuan_to_fen
from core.scoping import is_operator, merchant_id_of
from marketplace.services import orders
from products.choices import DataSourceKind, DeliveryMode, PlanKind
from products.models import MANUAL_SECTIONS, Board, Industry, PricingPlan, Product
from products.selectors import market_product_get, market_product_list
from publicdata import rules as publicdata_rules
from publicdata.models import Scenario

PAGE_SIZE = 25


class YuanBoundField(forms.CharField):
    """A yuan amount typed by a person ("12.34"), cleaned to fen."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return yuan_to_fen(value.strip())
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc


class MarketFilterForm(forms.Form):
    q = forms.CharField(label=_("search"), required=False, max_length=100)
    board = forms.ModelChoiceField(
        label=_("trading board"),
        queryset=Board.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("all boards"),
    )
    industry = forms.ModelChoiceField(
        label=_("industry"),
        queryset=Industry.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("all industries"),
    )
    delivery_mode = forms.ChoiceField(
        label=_("delivery mode"),
        choices=[("", _("all delivery modes")), *DeliveryMode.choices],
        required=False,
    )
    price_min = YuanBoundField(label=_("starting price from (yuan)"), required=False, max_length=20)
    price_max = YuanBoundField(
        label=_("starting price up to (yuan)"), required=False, max_length=20
    )


class OrderPlanForm(forms.Form):
    """What a buyer chooses when ordering one plan; the service checks the rest."""

    quantity = forms.IntegerField(label=_("quantity or periods"), min_value=1, initial=1)
    start_on = forms.DateField(
        label=_("subscription starts on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    scenario: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("authorized scenario this purchase serves"),
        queryset=Scenario.objects.none(),
        required=False,
    )

    def __init__(self, *args, plan: PricingPlan, product: Product, **kwargs):
        kwargs.setdefault("prefix", f"plan{plan.pk}")
        super().__init__(*args, **kwargs)
        self.plan = plan
        if plan.kind == PlanKind.FREE:
            self.fields["quantity"].widget = forms.HiddenInput()
        if plan.kind != PlanKind.SUBSCRIPTION:
            del self.fields["start_on"]
        if product.source_kind == DataSourceKind.PUBLIC:
            in_force = [
                s.pk for s in product.scenarios.all() if publicdata_rules.scenario_in_force(s)
            ]
            scenario_field = self.fields["scenario"]
            assert isinstance(scenario_field, forms.ModelChoiceField)  # noqa: S101 (for mypy)
            scenario_field.queryset = product.scenarios.filter(pk__in=in_force)
            scenario_field.required = True
        else:
            del self.fields["scenario"]


def _plan_row(plan: PricingPlan) -> dict:
    """A plan's terms as a buyer reads them, prices in yuan as the provider saved them."""
    return {
        "plan": plan,
        "kind": plan.get_kind_display(),
        "period": plan.get_period_display() if plan.period else "",
        "price": format_yuan(plan.price_fen),
        "unit_price": format_yuan(plan.unit_price_fen),
        "included_calls": plan.included_calls,
        "monthly_cap": None if plan.monthly_cap_fen is None else format_yuan(plan.monthly_cap_fen),
        "orderable": plan.kind != PlanKind.METERED,
    }


def _labelled(product: Product) -> list[tuple[str, str]]:
    """The product's description as (label, value) pairs, in the model's own words."""
    meta = Product._meta

    def label(name):
        return str(getattr(meta.get_field(name), "verbose_name", name))

    rows = [
        (label("provider"), product.provider.legal_name),
        (label("registration_number"), product.registration_number or ""),
        (label("industry"), str(product.industry)),
        (label("board"), str(product.board) if product.board else "-"),
        (label("delivery_mode"), product.get_delivery_mode_display()),
        (label("source_kind"), product.get_source_kind_display()),
        (label("grade"), product.get_grade_display()),
        (label("coverage_start"), str(product.coverage_start or "-")),
        (label("coverage_end"), str(product.coverage_end or "-")),
        (label("volume_bytes"), format_data_size(product.volume_bytes)),
        (label("tags"), product.tags),
    ]
    rows += [(label(name), getattr(product, name)) for name in MANUAL_SECTIONS]
    rows.append((label("sample"), product.sample))
    return rows


def _require_signed_in_role(request) -> int | None:
    """The merchant ordering (None for an operator, who only browses)."""
    merchant_id = merchant_id_of(request.user)
    if merchant_id is None and not is_operator(request.user):
        raise PermissionDenied
    return None if is_operator(request.user) else merchant_id


def market_view(site, request):
    """Every provider's listed products, filtered by board, industry, delivery mode and price."""
    _require_signed_in_role(request)
    form = MarketFilterForm(request.GET or None)
    chosen = form.cleaned_data if form.is_valid() else {}
    products = market_product_list(
        board=chosen.get("board"),
        industry=chosen.get("industry"),
        delivery_mode=chosen.get("delivery_mode") or "",
        price_min_fen=chosen.get("price_min"),
        price_max_fen=chosen.get("price_max"),
        search=(chosen.get("q") or "").strip(),
    )
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **site.each_context(request),
        "title": _("Market"),
        "form": form,
        "page": page,
        "rows": [
            {
                "product": product,
                "url": reverse("admin:market_product", args=[product.pk]),
                "starting_price": format_yuan(product.min_price_fen),
            }
            for product in page.object_list
        ],
        "query": query.urlencode(),
    }
    return TemplateResponse(request, "admin/marketplace/market.html", context)


def market_product_view(site, request, pk: int):
    """A listed product and its plans; a merchant orders a plan here."""
    merchant_id = _require_signed_in_role(request)
    try:
        product = market_product_get(pk=pk)
    except Product.DoesNotExist as exc:
        raise Http404 from exc
    own = merchant_id is not None and product.provider_id == merchant_id
    can_order = merchant_id is not None and not own
    plans = product.plans_on_sale  # type: ignore[attr-defined]
    posted_plan = request.POST.get("plan") if request.method == "POST" else None
    rows = []
    for plan in plans:
        row = _plan_row(plan)
        if can_order and row["orderable"]:
            data = request.POST if posted_plan == str(plan.pk) else None
            row["form"] = OrderPlanForm(data, plan=plan, product=product)
        rows.append(row)
    if request.method == "POST":
        if not can_order:
            raise PermissionDenied
        chosen = [r for r in rows if str(r["plan"].pk) == posted_plan and "form" in r]
        if not chosen:
            messages.error(request, _("Choose a plan on sale to order."))
        else:
            order = _place(request, chosen[0]["form"], product)
            if order is not None:
                messages.success(
                    request,
                    _("Order %(number)s placed. Pay it to start the delivery.")
                    % {"number": order.number},
                )
                return HttpResponseRedirect(
                    reverse("admin:marketplace_order_change", args=[order.pk])
                )
    context = {
        **site.each_context(request),
        "title": product.title,
        "product": product,
        "facts": _labelled(product),
        "plans": rows,
        "own": own,
        "can_order": can_order,
        "market_url": reverse("admin:market"),
        "is_public_data": product.source_kind == DataSourceKind.PUBLIC,
    }
    return TemplateResponse(request, "admin/marketplace/market_product.html", context)


def _place(request, form: OrderPlanForm, product: Product):
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return orders.order_place(
            actor=request.user,
            buyer=request.user.merchant,
            plan=form.plan,
            quantity=data["quantity"],
            scenario=data.get("scenario"),
            start_on=data.get("start_on"),
        )
    except BusinessRuleViolation as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


def urls(site):
    def view(function):
        return site.admin_view(
            lambda request, *args, **kwargs: function(site, request, *args, **kwargs)
        )

    return [
        path("market/", view(market_view), name="market"),
        path("market/<int:pk>/", view(market_product_view), name="market_product"),
    ]

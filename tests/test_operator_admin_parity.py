"""Every operator action of the API has its place in the admin, through the same service.

The write routes are read from the routers (as in test_merchant_roles), so a new
route fails here until it is put in one of the two tables below: OPERATOR maps
it to the admin action, page or form that does the same, with the service both
call; MERCHANT lists what a merchant's people do (not an operator's action).
Each OPERATOR entry is then checked in the admin as an operator sees it: the
action is offered, the page opens, the add or change form is allowed, and the
admin's module calls the named service.
"""

import importlib
import inspect
from typing import NamedTuple

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Merchant, User
from config.urls import API_APPS
from interchange.models import PartnerExchange, PartnerRecord
from marketplace.models import Order
from oversight.models import AuditFinding, AuditRun
from products.models import Board, Industry, Product, ProductRevision
from publicdata.models import CatalogEntry, Department, Grant, Scenario
from querying.models import QueryTemplate
from settlements.models import ClearingBatch, FeeSchedule, Payout
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.world import BUILDERS, load_all_builders

load_all_builders()


class Admin(NamedTuple):
    """How the admin does it: `kind` is action, page (an operator page's slug),
    url (a named admin URL taking the record), add or change."""

    model: type
    kind: str
    name: str
    service: str


def action(model, name, service):
    return Admin(model, "action", name, service)


def page(model, slug, service):
    return Admin(model, "page", slug, service)


def add(model, service):
    return Admin(model, "add", "", service)


def change(model, service):
    return Admin(model, "change", "", service)


OPERATOR: dict[str, Admin] = {
    # 入驻 and merchants' lifecycle
    "post merchants list": add(Merchant, "merchant_register"),
    "patch merchants detail": change(Merchant, "merchant_update_profile"),
    "post merchants approve": action(Merchant, "approve", "merchant_approve"),
    "post merchants suspend": action(Merchant, "suspend", "merchant_suspend"),
    "post merchants reinstate": action(Merchant, "reinstate", "merchant_reinstate"),
    "post merchants exit": action(Merchant, "exit_exchange", "merchant_exit"),
    "post people list": add(User, "person_add"),
    "patch people detail": change(User, "person_update"),
    "post people deactivate": action(User, "deactivate", "person_set_active"),
    "post people reactivate": action(User, "reactivate", "person_set_active"),
    # reference data
    "post industries list": add(Industry, "industry_save"),
    "put industries detail": change(Industry, "industry_save"),
    "patch industries detail": change(Industry, "industry_save"),
    "post boards list": add(Board, "board_save"),
    "put boards detail": change(Board, "board_save"),
    "patch boards detail": change(Board, "board_save"),
    "post departments list": add(Department, "department_create"),
    "patch departments detail": change(Department, "department_update"),
    "post catalog-entries list": add(CatalogEntry, "catalog_entry_create"),
    "patch catalog-entries detail": change(CatalogEntry, "catalog_entry_update"),
    "post fee-schedules list": add(FeeSchedule, "fee_schedule_create"),
    "patch fee-schedules detail": change(FeeSchedule, "fee_schedule_update"),
    # listing review (two different operators for important grade, in the service)
    "post products start-review": action(Product, "start_review", "product_start_review"),
    "post products approve": Admin(Product, "url", "products_product_review", "product_approve"),
    "post products reject": Admin(Product, "url", "products_product_review", "product_reject"),
    "post products suspend": action(Product, "suspend", "product_suspend"),
    "post products reinstate": action(Product, "reinstate", "product_reinstate_by_operator"),
    "post products delist": action(Product, "delist", "product_delist"),
    "post product-revisions start-review": page(ProductRevision, "review", "revision_start_review"),
    "post product-revisions approve": page(ProductRevision, "review", "revision_approve"),
    "post product-revisions reject": page(ProductRevision, "review", "revision_reject"),
    # a query template's review form is its change page while it waits for review
    "post query-templates start-review": action(
        QueryTemplate, "start_review", "template_review_start"
    ),
    "post query-templates approve": Admin(
        QueryTemplate, "url", "querying_querytemplate_change", "template_approve"
    ),
    "post query-templates reject": Admin(
        QueryTemplate, "url", "querying_querytemplate_change", "template_reject"
    ),
    # public data: grants and scenarios
    "post grants list": page(Grant, "create", "grant_create"),
    "patch grants detail": page(Grant, "terms", "grant_update"),
    "post grants activate": action(Grant, "activate", "grant_activate"),
    "post grants suspend": action(Grant, "suspend", "grant_suspend"),
    "post grants reinstate": action(Grant, "reinstate", "grant_reinstate"),
    "post grants revoke": action(Grant, "revoke", "grant_revoke"),
    "post scenarios list": page(Scenario, "create", "scenario_create"),
    "post scenarios assess": page(Scenario, "assess", "scenario_assess"),
    "post scenarios authorize": page(Scenario, "authorize", "scenario_authorize"),
    # orders: cancellations, refunds and disputes
    "post orders cancel": action(Order, "cancel", "order_cancel"),
    "post orders refund": action(Order, "refund", "order_refund"),
    "post orders approve-refund": action(
        Order, "approve_refund_requests", "refund_request_approve"
    ),
    "post orders resolve-dispute": action(Order, "resolve_refund", "dispute_resolve"),
    # clearing, payouts and the bank file
    "post clearing-batches list": page(ClearingBatch, "run", "clearing_run_for_day"),
    "post clearing-batches confirm": action(ClearingBatch, "confirm", "clearing_batch_confirm"),
    "post payouts mark-paid": page(Payout, "mark_paid", "payout_mark_paid"),
    "get payouts export": action(ClearingBatch, "export_payouts", "payout_csv"),
    # audit
    "post audit-runs list": page(AuditRun, "request", "audit_run_request"),
    "post audit-findings acknowledge": action(AuditFinding, "acknowledge", "finding_acknowledge"),
    "post audit-findings resolve": action(AuditFinding, "resolve", "finding_resolve"),
    # partner exchanges
    "post partner-exchanges list": add(PartnerExchange, "partner_create"),
    "patch partner-exchanges detail": change(PartnerExchange, "partner_update"),
    "post partner-exchanges harvest": action(PartnerExchange, "harvest_now", "partner_harvest"),
    "post partner-records approve": action(PartnerRecord, "approve", "partner_record_approve"),
    "post partner-records refuse": action(PartnerRecord, "refuse", "partner_record_refuse"),
}

# Done by a merchant's people (the provider, the buyer or the seller), not by operators.
MERCHANT = {
    "post products list",
    "patch products detail",
    "post products submit",
    "post products withdraw",
    "post products request-delisting",
    "post plans list",
    "patch plans detail",
    "delete plans detail",
    "post product-revisions list",
    "patch product-revisions detail",
    "post product-revisions submit",
    "post product-revisions withdraw",
    "post revision-plans list",
    "patch revision-plans detail",
    "delete revision-plans detail",
    "post orders list",
    "post orders deliver",
    "post orders accept",
    "post orders dispute",
    "post orders request-refund",
    "post orders decline-refund",
    "post usage-records list",
    "post product-cost-lines list",
    "put product-cost-lines detail",
    "patch product-cost-lines detail",
    "delete product-cost-lines detail",
    "post registration-recognitions list",
    "post query-datasets list",
    "post query-datasets load",
    "post query-templates list",
    "post query-templates submit",
    "post query-runs list",
    "patch query-templates detail",
    # delivery: the seller's upstreams, uploads and deliverables, the buyer's keys and downloads
    "post upstreams list",
    "post upload-sessions list",
    "put upload-sessions chunk",
    "post upload-sessions complete",
    "post upload-sessions abandon",
    "post deliverables list",
    "post download-grants list",
    "post api-keys list",
    "post api-keys revoke",
}

# Operator reads that are part of an operator's work, checked like the writes.
OPERATOR_READS = {"get payouts export"}

WRITE_ACTIONS = {"create": "post", "update": "put", "partial_update": "patch", "destroy": "delete"}


def api_write_routes() -> set[str]:
    """'<method> <prefix> <url name>' for every writing route of every router."""
    routes = set()
    for app in API_APPS:
        router = getattr(importlib.import_module(f"{app}.api.urls"), "router", None)
        if router is None:
            continue
        for prefix, viewset, _basename in router.registry:
            for name, method in WRITE_ACTIONS.items():
                if hasattr(viewset, name) and method in viewset.http_method_names:
                    where = "list" if name == "create" else "detail"
                    routes.add(f"{method} {prefix} {where}")
            for extra in viewset.get_extra_actions():
                for method in extra.mapping:
                    if method != "get":
                        routes.add(f"{method} {prefix} {extra.url_name}")
    return routes


def test_every_write_route_is_an_operators_or_a_merchants():
    routes = api_write_routes()
    operator_writes = set(OPERATOR) - OPERATOR_READS
    unplaced = routes - operator_writes - MERCHANT
    assert not unplaced, f"put these routes in OPERATOR (with their admin) or MERCHANT: {unplaced}"
    assert not operator_writes & MERCHANT
    # and the tables name no route that is gone
    assert not (operator_writes | MERCHANT) - routes


def _operator_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(OPERATOR))
def test_the_admin_does_what_the_operator_api_does(route, client):
    # given an operator and a record of the route's model
    spec = OPERATOR[route]
    operator = OperatorFactory()
    model_admin = admin.site._registry[spec.model]
    record = BUILDERS[spec.model](MerchantFactory(), MerchantFactory())
    opts = spec.model._meta
    client.force_login(operator)
    request = _operator_request(operator)

    # when / then: the admin offers it to the operator
    if spec.kind == "action":
        assert spec.name in model_admin.get_actions(request), route
    elif spec.kind == "add":
        assert model_admin.has_add_permission(request), route
        answer = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert answer.status_code == 200, route
    elif spec.kind == "change":
        assert model_admin.has_change_permission(request, record), route
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
        assert client.get(url).status_code == 200, route
    else:
        name = (
            spec.name if spec.kind == "url" else f"{opts.app_label}_{opts.model_name}_{spec.name}"
        )
        pages = {p.slug: p for p in getattr(model_admin, "operator_pages", ())}
        detail = spec.kind == "url" or pages[spec.name].detail
        url = reverse(f"admin:{name}", args=[record.pk] if detail else [])
        assert client.get(url).status_code == 200, route

    # and through the API's service
    source = inspect.getsource(inspect.getmodule(type(model_admin)))
    assert spec.service in source, f"{route}: the admin does not call {spec.service}"


@pytest.mark.django_db
def test_merchants_never_open_an_operator_page(client):
    # given a merchant's owner and a record of each model with operator pages
    from tests.factories.accounts import PersonFactory

    merchant = MerchantFactory()
    client.force_login(PersonFactory(merchant=merchant, merchant_role="owner"))
    for model, model_admin in admin.site._registry.items():
        for op_page in getattr(model_admin, "operator_pages", ()):
            record = BUILDERS[model](merchant, MerchantFactory())
            opts = model._meta
            args = [record.pk] if op_page.detail else []
            url = reverse(f"admin:{op_page.url_name(opts)}", args=args)
            # when / then: refused, even on the merchant's own record, and nothing is done
            assert client.get(url).status_code in (302, 403), url
            assert client.post(url, {}).status_code in (302, 403), url


@pytest.mark.parametrize(
    ("model", "model_admin"),
    [pytest.param(m, a, id=m._meta.label) for m, a in admin.site._registry.items()],
)
def test_lists_fit_a_1280_pixel_screen(model, model_admin):
    # the columns a person needs to choose a row; the rest is on the record's page
    request = _operator_request(OperatorFactory.build(is_superuser=True))
    assert len(model_admin.get_list_display(request)) <= 8, model._meta.label

"""Public pages of the exchange: joining (入驻). No sign-in; throttled per address."""

from typing import cast

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.forms import MerchantApplicationForm
from accounts.services import joining
from core.exceptions import BusinessRuleViolation, InvalidTransition

MERCHANT_FIELDS = (
    "legal_name",
    "region",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "bank_name",
    "bank_account_name",
    "bank_account_number",
)


class JoiningThrottle(SimpleRateThrottle):
    """Sendings of the joining form per client address (settings.JOIN_THROTTLE_RATE)."""

    scope = "joining"

    def get_rate(self):
        from django.conf import settings

        return getattr(settings, "JOIN_THROTTLE_RATE", "10/hour")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _throttled(request: HttpRequest) -> HttpResponse | None:
    throttle = JoiningThrottle()
    # The throttle reads only the client's address, which a plain request carries too.
    if throttle.allow_request(cast(Request, request), cast(APIView, None)):
        return None
    wait = int(throttle.wait() or 0)
    return _page(
        request,
        "accounts/join_throttled.html",
        {"title": _("Too many applications"), "minutes": max(1, (wait + 59) // 60)},
        status=429,
    )


def _service_errors(form: MerchantApplicationForm, exc: Exception) -> None:
    if isinstance(exc, BusinessRuleViolation) and exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    else:
        form.add_error(None, str(exc))


@require_http_methods(["GET", "POST"])
def join_apply(request: HttpRequest) -> HttpResponse:
    form = MerchantApplicationForm()
    if request.method == "POST":
        refused = _throttled(request)
        if refused is not None:
            return refused
        form = MerchantApplicationForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                joining.merchant_apply(
                    owner_username=data["owner_username"],
                    owner_email=data["owner_email"],
                    licence_scan=data["licence_scan"],
                    kinds=data["kinds"],
                    credit_code=data["credit_code"],
                    **{f: data[f] for f in MERCHANT_FIELDS},
                )
            except BusinessRuleViolation as exc:
                _service_errors(form, exc)
            else:
                return redirect("join-sent")
    return _page(
        request,
        "accounts/join_form.html",
        {"title": _("Apply to join the exchange"), "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET"])
def join_sent(request: HttpRequest) -> HttpResponse:
    return _page(request, "accounts/join_sent.html", {"title": _("Application received")})


@require_http_methods(["GET", "POST"])
def join_resubmit(request: HttpRequest, token: str) -> HttpResponse:
    application = joining.application_from_token(token)
    if application is None:
        return _page(
            request,
            "accounts/join_link_dead.html",
            {"title": _("This link no longer works")},
            status=404,
        )
    merchant = application.merchant
    initial = {f: getattr(merchant, f) for f in MERCHANT_FIELDS}
    initial.update(
        credit_code=merchant.credit_code, kinds=merchant.kinds, owner_email=application.owner_email
    )
    form = MerchantApplicationForm(initial=initial, resubmitting=True)
    if request.method == "POST":
        refused = _throttled(request)
        if refused is not None:
            return refused
        form = MerchantApplicationForm(request.POST, request.FILES, resubmitting=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                joining.merchant_application_resubmit(
                    application=application,
                    credit_code=data["credit_code"],
                    kinds=data["kinds"],
                    owner_email=data["owner_email"],
                    licence_scan=data.get("licence_scan") or None,
                    **{f: data[f] for f in MERCHANT_FIELDS},
                )
            except (BusinessRuleViolation, InvalidTransition) as exc:
                _service_errors(form, exc)
            else:
                return redirect("join-sent")
    return _page(
        request,
        "accounts/join_form.html",
        {
            "title": _("Correct your application"),
            "form": form,
            "rejection_reason": application.rejection_reason,
        },
        status=400 if form.errors else 200,
    )

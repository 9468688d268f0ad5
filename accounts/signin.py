"""Signing in: failed passwords counted per account and per address, then a lockout.

django-axes counts the failures of every sign-in that goes through Django's
`authenticate` with a request: the admin's login page and the API's token
endpoint. After `AXES_FAILURE_LIMIT` failures for one username, or from one
client address, further attempts for it are refused (429) for
`AXES_COOLOFF_TIME`, even with the right password. A success resets the
account's count. An operator lifts a lockout early with `signin_unlock`
(the people admin's action, or `manage.py axes_reset_username NAME`).
"""

import datetime as dt
import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.utils import reset
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import User
from core.scoping import is_operator


class SignInLockoutBackend(AxesStandaloneBackend):
    """Axes' check, for sign-ins from a web request only.

    `authenticate` without a request (a management command, the test client's
    `login`) is no client sign-in: nothing to count and no address to count it by.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_seconds() -> int:
    cool_off = settings.AXES_COOLOFF_TIME
    if isinstance(cool_off, dt.timedelta):
        return math.ceil(cool_off.total_seconds())
    return 0


def lockout_message() -> str:
    minutes = max(1, math.ceil(lockout_seconds() / 60))
    return _(
        "Too many failed sign-ins for this account or from this address. "
        "Try again in %(minutes)d minutes, or ask an exchange operator to unlock it."
    ) % {"minutes": minutes}


def lockout_page(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The admin login's answer while locked out (AXES_LOCKOUT_CALLABLE): 429 in our words."""
    from django.contrib import admin

    cool_off = get_cool_off(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in locked"),
        "message": lockout_message(),
    }
    response = render(request, "accounts/signin_locked.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(lockout_seconds())
    return response


def signin_unlock(*, actor: User, username: str = "", ip_address: str = "") -> int:
    """Lift the lockout of an account, of a client address, or both; returns attempts cleared.

    Operators only: a locked-out owner cannot unlock itself through its staff.
    """
    if not is_operator(actor):
        raise PermissionDenied(_("only exchange operators unlock sign-ins"))
    cleared = 0
    if username:
        cleared += reset(username=username)
    if ip_address:
        cleared += reset(ip=ip_address)
    return cleared

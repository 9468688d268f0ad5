"""The token endpoint: DRF's, with the exchange's parsers and the sign-in lockout.

Attempts per client address are throttled (settings.SIGN_IN_THROTTLE_RATE), and
django-axes counts failed passwords per account and per address
(accounts/signin.py): once locked, the endpoint answers 429 `locked_out`
with Retry-After, whatever the password, until the cool-off ends or an operator
unlocks.
"""

from axes.utils import reset
from rest_framework import exceptions, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import SimpleRateThrottle

from accounts.signin import lockout_message, lockout_seconds
from core.input import STRICT_PARSERS


class SignInThrottle(SimpleRateThrottle):
    """Token requests per client address, signed in or not."""

    scope = "sign_in"

    def get_rate(self):
        from django.conf import settings

        return getattr(settings, "SIGN_IN_THROTTLE_RATE", "30/minute")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LockedOut(exceptions.Throttled):
    default_code = "locked_out"


class TokenObtainView(ObtainAuthToken):
    """Exchange a username and password for the API token of that person."""

    # DRF's view names its own parsers, so the project default would not apply.
    parser_classes = STRICT_PARSERS
    throttle_classes = [SignInThrottle]

    def post(self, request, *args, **kwargs):
        try:
            response = super().post(request, *args, **kwargs)
        except serializers.ValidationError:
            # axes flags the request it refused, or whose failure reached the limit
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(wait=lockout_seconds(), detail=lockout_message()) from None
            raise
        # A token is no session login, so axes hears of no success: reset the
        # account's count here, as the admin's login does.
        reset(username=request.data.get("username"))
        return response

"""How the API knows who calls: DRF's token, read with the person's merchant."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <key>`, the token, person and merchant in one query.

    Nearly every merchant's request reads the merchant it acts for (scoping,
    placing an order as the buyer); joining it here saves that request a
    second round trip. Operators have no merchant: the join finds none.
    """

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user__merchant").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)

"""The token endpoint: DRF's, with the exchange's parsers (depth and NUL checks)."""

from rest_framework.authtoken.views import ObtainAuthToken

from core.input import STRICT_PARSERS


class TokenObtainView(ObtainAuthToken):
    """Exchange a username and password for the API token of that person."""

    # DRF's view names its own parsers, so the project default would not apply.
    parser_classes = STRICT_PARSERS

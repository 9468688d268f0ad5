"""The view serving the OpenAPI document (kept apart from core.schema, which DRF's
settings import while drf_spectacular.views is itself still loading)."""

from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class _DefaultWhenUnmatched(DefaultContentNegotiation):
    """The client's choice when we have it, else the first renderer (RFC 9110 allows it)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            if format_suffix or request.query_params.get("format"):
                raise
            return renderers[0], renderers[0].media_type


class SchemaDocumentView(SpectacularAPIView):
    """The OpenAPI document at /api/schema/.

    The catalog names it as each data service's dcat:endpointDescription, so a
    linked-data client following that IRI with `Accept: application/ld+json`
    gets the document (YAML) rather than a 406.
    """

    content_negotiation_class = _DefaultWhenUnmatched

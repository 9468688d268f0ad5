from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from products.catalog import catalog_page


class JsonLdRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


class CatalogPageInputSerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False, default=0)
    page_size = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)


class DcatCatalogView(APIView):
    """The listed products as a W3C DCAT 3 catalog in JSON-LD, for other exchanges.

    Open to anyone (the catalog is public by purpose), throttled for anonymous
    callers. Pages follow `hydra:view` / `hydra:next` or the Link header.
    """

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    renderer_classes = [JsonLdRenderer, JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="Last product id seen."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1-500, default 100."),
        ],
        responses={(200, "application/ld+json"): OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = CatalogPageInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        base_url = request.build_absolute_uri("/").rstrip("/")
        document, next_after = catalog_page(
            base_url=base_url,
            after=params.validated_data["after"],
            size=params.validated_data["page_size"],
        )
        headers = {}
        if next_after is not None:
            headers["Link"] = f'<{document["hydra:view"]["hydra:next"]}>; rel="next"'
        return Response(document, headers=headers)

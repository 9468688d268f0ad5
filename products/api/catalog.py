"""The public catalog endpoints: the DCAT-AP catalog, its change feed, and every IRI it mints.

Anyone may read them (the catalog is public by purpose), throttled for
anonymous callers. Each answers JSON-LD by default, Turtle to a client asking
for text/turtle, and an HTML page to a browser; the choice follows the Accept
header's quality values (a browser's "text/html, ..., */*;q=0.8" gets HTML, a
client sending "*/*" or nothing gets JSON-LD), or `?format=jsonld|ttl|html`.
"""

import datetime as dt
import json

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from products.catalog import (
    DCAT_CONTEXT,
    catalog_page,
    change_page,
    resource_document,
)


class JsonLdRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


def _is_error(renderer_context) -> bool:
    response = (renderer_context or {}).get("response")
    return response is not None and response.status_code >= 400


def jsonld_to_turtle(document: dict) -> str:
    """Turtle for a JSON-LD document of ours, through rdflib (inline context, no fetching)."""
    from rdflib import Graph

    graph = Graph()
    graph.parse(data=json.dumps(document), format="json-ld")
    for prefix, namespace in DCAT_CONTEXT.items():
        if isinstance(namespace, str):
            graph.bind(prefix, namespace, override=True)
    return graph.serialize(format="turtle")


class TurtleRenderer(BaseRenderer):
    media_type = "text/turtle"
    format = "ttl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if _is_error(renderer_context):
            # An error is no graph: say it in a Turtle comment, still parseable.
            lines = json.dumps(data, ensure_ascii=False, indent=1).splitlines()
            return ("\n".join(f"# {line}" for line in lines) + "\n").encode()
        return jsonld_to_turtle(data).encode()


def _html_value(value):
    """A JSON-LD value as (text, link) pairs for the page."""
    if isinstance(value, list):
        return [pair for item in value for pair in _html_value(item)]
    if isinstance(value, dict):
        if "@value" in value:
            language = value.get("@language")
            return [(f"{value['@value']}" + (f" @{language}" if language else ""), None)]
        if "@id" in value:
            label = value.get("skos:prefLabel") or value.get("dct:title") or value.get("foaf:name")
            text = _html_value(label)[0][0] if label else value["@id"]
            return [(text, value["@id"])]
        return [(", ".join(f"{k}: {v}" for k, v in value.items() if k != "@type"), None)]
    text = "" if value is None else str(value)
    return [(text, text if text.startswith(("http://", "https://", "mailto:")) else None)]


def _html_nodes(document: dict) -> list[dict]:
    nodes = document.get("@graph") or [document]
    shown = []
    for node in nodes:
        rows = [
            {"term": key, "values": _html_value(value)}
            for key, value in node.items()
            if key not in {"@context", "@id", "@type"}
        ]
        title = _html_value(node.get("dct:title") or node.get("foaf:name") or node.get("@id"))
        shown.append(
            {"id": node.get("@id", ""), "type": node.get("@type"), "title": title, "rows": rows}
        )
    return shown


class CatalogHtmlRenderer(BaseRenderer):
    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        request = (renderer_context or {}).get("request")
        context: dict[str, object] = {
            "error": None,
            "nodes": [],
            "path": request.path if request else "",
        }
        if _is_error(renderer_context):
            context["error"] = data
        else:
            context["nodes"] = _html_nodes(data)
        return render_to_string("products/catalog_resource.html", context, request=None).encode()


def _accept_entries(header: str) -> list[tuple[str, float]]:
    entries = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _eq, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        entries.append((media.lower(), quality))
    return entries


def _quality_for(media_type: str, entries: list[tuple[str, float]]) -> float:
    """The quality the client gives a media type: the most specific matching entry wins."""
    main = media_type.split("/")[0]
    best_specificity, quality = -1, 0.0
    for media, q in entries:
        if media == media_type:
            specificity = 2
        elif media == f"{main}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, quality = specificity, q
    return quality


class QualityContentNegotiation(DefaultContentNegotiation):
    """Pick the renderer by the Accept header's q-values; ties go to the first renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted_format = format_suffix or request.query_params.get("format")
        if wanted_format:
            for renderer in renderers:
                if renderer.format == wanted_format:
                    return renderer, renderer.media_type
            raise exceptions.NotFound(_("no representation in that format"))
        entries = _accept_entries(request.META.get("HTTP_ACCEPT", "") or "*/*")
        best, best_quality = None, 0.0
        for renderer in renderers:
            quality = _quality_for(renderer.media_type, entries)
            if quality > best_quality:
                best, best_quality = renderer, quality
        if best is None:
            raise exceptions.NotAcceptable(available_renderers=renderers)
        return best, best.media_type


# The media types every catalog endpoint answers, for the schema.
def _answers(description: str) -> dict:
    return {
        (200, "application/ld+json"): OpenApiResponse(OpenApiTypes.OBJECT, description=description),
        (200, "text/turtle"): OpenApiResponse(OpenApiTypes.STR, description="The same as Turtle."),
        (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A page for people."),
    }


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["jsonld", "ttl", "html"],
    description="Choose the representation instead of the Accept header.",
)


class PublicCatalogView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AnonRateThrottle]
    renderer_classes = [JsonLdRenderer, TurtleRenderer, CatalogHtmlRenderer, JSONRenderer]
    content_negotiation_class = QualityContentNegotiation

    def base_url(self, request) -> str:
        return request.build_absolute_uri("/").rstrip("/")


class AwareDateTimeField(serializers.DateTimeField):
    """A moment with its offset, or a date (midnight Asia/Shanghai)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) == 10:
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD or an ISO 8601 date-time")
            return timezone.make_aware(dt.datetime.combine(day, dt.time()))
        return super().to_internal_value(value)


class CatalogPageInputSerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False, default=0)
    page_size = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)
    modified_since = AwareDateTimeField(required=False, default=None, allow_null=True)


class DcatCatalogView(PublicCatalogView):
    """The listed products as a DCAT-AP 3.0 catalog, for other exchanges.

    Pages follow `hydra:view` / `hydra:next` or the Link header. With
    `modified_since`, only products described anew or moved on or off the
    shelf since then; the change feed says which were delisted.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="Last product id seen."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1-500, default 100."),
            OpenApiParameter(
                "modified_since",
                OpenApiTypes.DATETIME,
                description="Only products changed at or after this moment (ISO 8601).",
            ),
            FORMAT_PARAMETER,
        ],
        responses=_answers("A page of the catalog (dcat:Catalog with hydra:view)."),
        auth=[],
    )
    def get(self, request):
        params = CatalogPageInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        document, next_after = catalog_page(
            base_url=self.base_url(request),
            after=params.validated_data["after"],
            size=params.validated_data["page_size"],
            modified_since=params.validated_data["modified_since"],
        )
        headers = {}
        if next_after is not None:
            headers["Link"] = f'<{document["hydra:view"]["hydra:next"]}>; rel="next"'
        return Response(document, headers=headers)


class ChangesInputSerializer(serializers.Serializer):
    since = AwareDateTimeField(required=False, default=None, allow_null=True)
    after = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False, default=0)
    page_size = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)


class CatalogChangesView(PublicCatalogView):
    """What changed in the catalog: products listed (as:Create), given a new version or
    relisted (as:Update), and suspended or delisted (as:Remove), oldest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Changes at or after this moment."
            ),
            OpenApiParameter(
                "after", OpenApiTypes.INT, description="Last change seen (from hydra:next)."
            ),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1-500, default 100."),
            FORMAT_PARAMETER,
        ],
        responses=_answers("A page of changes (as:OrderedCollectionPage)."),
        auth=[],
    )
    def get(self, request):
        params = ChangesInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        document = change_page(
            base_url=self.base_url(request),
            since=params.validated_data["since"],
            after=params.validated_data["after"],
            size=params.validated_data["page_size"],
        )
        return Response(document)


class CatalogResourceView(PublicCatalogView):
    """One resource the catalog names: a dataset, distribution, data service or catalog
    record (by registration number), a theme (by industry code), the theme scheme, a
    dataset series (by board code) or a publisher (by credit code)."""

    kind = ""

    @extend_schema(
        parameters=[FORMAT_PARAMETER],
        responses=_answers("The resource's description (JSON-LD @graph)."),
        auth=[],
    )
    def get(self, request, key: str = ""):
        document = resource_document(self.kind, key, self.base_url(request))
        if document is None:
            raise exceptions.NotFound(_("nothing listed stands behind this IRI"))
        return Response(document)


def resource_view(kind: str):
    """The view for one kind of minted IRI, with an operation id of its own in the schema."""
    view: type[CatalogResourceView] = type(
        f"Catalog{kind.title()}View", (CatalogResourceView,), {"kind": kind}
    )
    view = extend_schema_view(get=extend_schema(operation_id=f"catalog_{kind}_retrieve"))(view)
    return view.as_view()

"""Download grants over the API, the download log, and the link that streams the file."""

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.api import IdRelatedField, ScopedViewSetMixin
from delivery.models import Download, DownloadGrant
from delivery.services import downloads
from marketplace.models import Order


class DownloadGrantSerializer(serializers.ModelSerializer):
    file_name = serializers.CharField(source="deliverable.file_name", read_only=True)
    version = serializers.IntegerField(source="deliverable.version", read_only=True)
    size_bytes = serializers.IntegerField(source="deliverable.size_bytes", read_only=True)
    sha256 = serializers.CharField(source="deliverable.sha256", read_only=True)

    class Meta:
        model = DownloadGrant
        fields = [
            "id",
            "order",
            "file_name",
            "version",
            "size_bytes",
            "sha256",
            "issued_to",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields


class DownloadGrantIssuedSerializer(DownloadGrantSerializer):
    url = serializers.SerializerMethodField(help_text="The signed link; valid until expires_at.")

    class Meta(DownloadGrantSerializer.Meta):
        fields = [*DownloadGrantSerializer.Meta.fields, "url"]
        read_only_fields = fields

    def get_url(self, grant) -> str:
        return reverse(
            "deliverable-download",
            args=[self.context["token"]],
            request=self.context.get("request"),
        )


class DownloadGrantCreateInputSerializer(serializers.Serializer):
    order = IdRelatedField(
        queryset=Order.objects.all(),
        own=True,
        help_text="A paid order of a product delivered as a file.",
    )


class DownloadSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="deliverable.sha256", read_only=True)

    class Meta:
        model = Download
        fields = [
            "id",
            "order",
            "grant",
            "sha256",
            "downloaded_by",
            "started_at",
            "finished_at",
            "range_start",
            "range_end",
            "bytes_requested",
            "bytes_sent",
            "is_complete",
        ]
        read_only_fields = fields


class DownloadGrantViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Signed, expiring links to an order's file, issued to the buyer's people.

    POST with the order: the answer carries `url`, valid for
    EXCHANGE_DELIVERY_GRANT_MINUTES (15 by default) and only for the buyer's
    people, sent with their own credentials. The link is shown once.
    """

    queryset = DownloadGrant.objects.select_related("deliverable")
    serializer_class = DownloadGrantSerializer
    filterset_fields = ["order"]
    ordering_fields = ["created_at"]

    @extend_schema(
        request=DownloadGrantCreateInputSerializer,
        responses={201: DownloadGrantIssuedSerializer},
    )
    def create(self, request):
        """Issue a download link for a paid order (the buyer's people)."""
        data = DownloadGrantCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant, token = downloads.download_grant_issue(
            actor=self.request_actor(), order=data.validated_data["order"]
        )
        body = DownloadGrantIssuedSerializer(
            grant, context={"token": token, "request": request}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class DownloadViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The download log: every request through a grant, with the bytes sent. Both sides read."""

    queryset = Download.objects.select_related("deliverable")
    serializer_class = DownloadSerializer
    filterset_fields = ["order", "is_complete"]
    ordering_fields = ["started_at"]
    ordering = ["-started_at"]


def refusal(code: int) -> Response:
    """The same body for every refused download: nothing about the file or the order."""
    return Response(
        {
            "detail": _("This download link cannot be used."),
            "error_code": "download_refused",
            "errors": [],
        },
        status=code,
    )


class DeliverableDownloadView(APIView):
    """Stream an order's file through a grant, decrypted, with single-range support."""

    # The grant, not the role table, decides; anonymous callers get the same 403.
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter(
                "Range",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="One range, bytes=start-end, bytes=start- or bytes=-suffix.",
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (206, "application/octet-stream"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="Not yours, or not a valid link."),
            410: OpenApiResponse(description="Expired, or the order was refunded."),
            416: OpenApiResponse(description="The range is malformed or outside the file."),
        },
    )
    def get(self, request, token: str):
        actor = request.user if request.user.is_authenticated else None
        try:
            grant = downloads.download_grant_check(actor=actor, token=token)
        except downloads.DownloadRefused as refused:
            return refusal(refused.status)
        size = grant.deliverable.size_bytes
        try:
            span = downloads.byte_range(request.headers.get("Range", ""), size)
        except downloads.RangeNotSatisfiable:
            answer = Response(
                {
                    "detail": _("The range is not one range inside the file."),
                    "error_code": "range_not_satisfiable",
                    "errors": [],
                },
                status=status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
            )
            answer["Content-Range"] = f"bytes */{size}"
            return answer
        stream = downloads.download_start(actor=request.user, grant=grant, span=span)
        response = StreamingHttpResponse(
            stream.chunks,
            status=status.HTTP_206_PARTIAL_CONTENT if span is not None else status.HTTP_200_OK,
            content_type=grant.deliverable.content_type,
        )
        response["Content-Length"] = str(max(0, stream.end - stream.start + 1))
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = f'"{grant.deliverable.sha256}"'
        response["Content-Disposition"] = _attachment(grant.deliverable.file_name)
        response["Cache-Control"] = "private, no-store"
        if span is not None:
            response["Content-Range"] = f"bytes {stream.start}-{stream.end}/{size}"
        return response


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(name)}"

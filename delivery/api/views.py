"""Delivered files over the API: uploads (whole or resumable), versions."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from core.api import OptionalReasonInputSerializer, ScopedViewSetMixin
from core.exceptions import BusinessRuleViolation
from core.input import StrictMultiPartParser
from delivery.api.serializers import (
    DeliverableSerializer,
    DeliverableUploadInputSerializer,
    UploadChunkSerializer,
    UploadSessionCreateInputSerializer,
    UploadSessionSerializer,
)
from delivery.models import Deliverable, UploadSession
from delivery.services import uploads


class OctetStreamParser(BaseParser):
    """Declares the raw chunk body in the schema; the view reads the stream itself."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream


class DeliverableViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of products' delivered files. Sellers see their own; operators all.

    A file is never replaced: an upload makes the next version and supersedes
    the current one. Files up to EXCHANGE_DELIVERY_SIMPLE_UPLOAD_BYTES (256 MiB by
    default) may be sent whole here; larger ones go through upload-sessions.
    """

    queryset = Deliverable.objects.select_related("product")
    serializer_class = DeliverableSerializer
    filterset_fields = ["product", "version"]
    search_fields = ["file_name", "sha256"]
    ordering_fields = ["created_at", "version"]

    @extend_schema(
        request={"multipart/form-data": DeliverableUploadInputSerializer},
        responses={201: DeliverableSerializer},
    )
    def create(self, request):
        """Upload a whole file as the product's next version (the seller's people)."""
        data = DeliverableUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        deliverable = uploads.deliverable_upload(
            actor=self.request_actor(),
            product=data.validated_data["product"],
            stream=upload,
            file_name=upload.name,
            size=upload.size,
            content_type=getattr(upload, "content_type", "") or "",
            note=data.validated_data["note"],
        )
        return Response(DeliverableSerializer(deliverable).data, status=status.HTTP_201_CREATED)

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or self.request is None:
            return [StrictMultiPartParser()]
        return super().get_parsers()


CHUNK_INDEX = OpenApiParameter(
    "index", OpenApiTypes.INT, OpenApiParameter.PATH, description="Chunk number, from 0."
)


class UploadSessionViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Resumable uploads of large files (up to EXCHANGE_DELIVERY_MAX_FILE_BYTES, 8 GiB by default).

    Open a session with the file's name and size; send chunks of `chunk_bytes`
    (8 MiB by default; the last one shorter) with PUT .../chunks/{index}/ as
    application/octet-stream, in any order, again if one failed; GET the session
    to see which arrived; then complete. The exchange hashes the stored file
    itself on completion.
    """

    queryset = UploadSession.objects.select_related("product").prefetch_related("chunks")
    serializer_class = UploadSessionSerializer
    filterset_fields = ["product", "status"]
    ordering_fields = ["created_at"]

    @extend_schema(
        request=UploadSessionCreateInputSerializer, responses={201: UploadSessionSerializer}
    )
    def create(self, request):
        """Open a resumable upload (the seller's people)."""
        data = UploadSessionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = uploads.upload_session_open(actor=self.request_actor(), **data.validated_data)
        return Response(UploadSessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses=UploadChunkSerializer,
        parameters=[CHUNK_INDEX],
    )
    @action(
        detail=True,
        methods=["put"],
        url_path=r"chunks/(?P<index>[0-9]{1,9})",
        parser_classes=[OctetStreamParser],
    )
    def chunk(self, request, pk=None, index=None):
        """Send one chunk; sending a chunk again replaces it until the upload completes."""
        session = self.get_object()
        limit = session.chunk_bytes
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = -1
        if declared < 0 or declared > limit:
            raise BusinessRuleViolation(
                _("A chunk is at most %(limit)s bytes.") % {"limit": limit},
                field="body",
                code="chunk_size",
            )
        # Read the raw stream, not request.body: the chunk limit replaces Django's
        # in-memory cap on request bodies here.
        data = request._request.read(limit + 1) if declared else b""
        chunk = uploads.upload_chunk_receive(
            actor=self.request_actor(), session=session, index=int(index), data=data
        )
        return Response(UploadChunkSerializer(chunk).data)

    @extend_schema(request=None, responses={201: DeliverableSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """All chunks sent: the exchange hashes the file and makes it the next version."""
        deliverable = uploads.upload_session_complete(
            actor=self.request_actor(), session=self.get_object()
        )
        return Response(DeliverableSerializer(deliverable).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OptionalReasonInputSerializer, responses=UploadSessionSerializer)
    @action(detail=True, methods=["post"])
    def abandon(self, request, pk=None):
        """Give up the upload; the chunks sent so far are deleted."""
        data = OptionalReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = self.get_object()
        uploads.upload_session_abandon(
            actor=self.request_actor(), session=session, reason=data.validated_data["reason"]
        )
        return Response(UploadSessionSerializer(self.get_queryset().get(pk=session.pk)).data)

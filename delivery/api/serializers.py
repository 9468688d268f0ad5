from rest_framework import serializers

from core.api import BoundedTextField, IdRelatedField
from delivery.models import Deliverable, UploadChunk, UploadSession
from products.models import Product


class DeliverableSerializer(serializers.ModelSerializer):
    is_current = serializers.BooleanField(read_only=True)

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "product",
            "version",
            "file_name",
            "content_type",
            "size_bytes",
            "sha256",
            "note",
            "created_at",
            "superseded_at",
            "is_current",
        ]
        read_only_fields = fields


class DeliverableUploadInputSerializer(serializers.Serializer):
    product = IdRelatedField(queryset=Product.objects.all(), own=True)
    file = serializers.FileField(help_text="The whole file, sent as multipart/form-data.")
    note = BoundedTextField(required=False, allow_blank=True, default="")


class UploadChunkSerializer(serializers.ModelSerializer):
    class Meta:
        model = UploadChunk
        fields = ["index", "size_bytes", "sha256", "received_at"]
        read_only_fields = fields


class UploadSessionSerializer(serializers.ModelSerializer):
    chunk_count = serializers.IntegerField(read_only=True)
    chunks = UploadChunkSerializer(many=True, read_only=True)

    class Meta:
        model = UploadSession
        fields = [
            "id",
            "product",
            "file_name",
            "content_type",
            "size_bytes",
            "expected_sha256",
            "chunk_bytes",
            "chunk_count",
            "status",
            "created_at",
            "expires_at",
            "deliverable",
            "chunks",
        ]
        read_only_fields = fields


class UploadSessionCreateInputSerializer(serializers.Serializer):
    product = IdRelatedField(queryset=Product.objects.all(), own=True)
    file_name = serializers.CharField(max_length=255)
    size_bytes = serializers.IntegerField(min_value=0, max_value=2**62)
    content_type = serializers.CharField(max_length=100, required=False, allow_blank=True)
    sha256 = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="Optional: the file's SHA-256; completion refuses a file that differs.",
    )  # fmt: skip
    note = BoundedTextField(required=False, allow_blank=True, default="")

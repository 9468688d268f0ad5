"""The query service's API shapes. No serializer here ever carries a data set's rows."""

from rest_framework import serializers

from core.api import BoundedTextField
from querying.models import Dataset, PrivacyBudget, QueryRun, QueryTemplate


class DatasetSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "id", "product", "version", "schema_name", "columns", "unit_column", "status",
            "source_format", "bytes_total", "bytes_read", "rows_loaded", "progress_percent",
            "load_error", "loaded_at", "budget_epsilon", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class DatasetCreateInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1, required=False)
    columns = serializers.JSONField()
    unit_column = serializers.CharField(max_length=63)
    budget_epsilon = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)


class DatasetLoadInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=["csv", "parquet"], required=False)


class QueryTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = QueryTemplate
        fields = [
            "id", "dataset", "product", "name", "description", "aggregates", "dimensions",
            "filters", "min_group_size", "epsilon_per_aggregate", "delta", "cost_epsilon",
            "cost_delta", "status", "compliance_checklist", "privacy_checklist",
            "review_comments", "approved_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class QueryTemplateCreateInputSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    description = BoundedTextField(required=False, allow_blank=True)
    aggregates = serializers.JSONField()
    dimensions = serializers.JSONField(required=False)
    filters = serializers.JSONField(required=False)
    min_group_size = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    epsilon_per_aggregate = serializers.DecimalField(
        max_digits=12, decimal_places=6, required=False
    )
    delta = serializers.DecimalField(max_digits=22, decimal_places=20, required=False)


class QueryTemplateUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = BoundedTextField(required=False, allow_blank=True)
    aggregates = serializers.JSONField(required=False)
    dimensions = serializers.JSONField(required=False)
    filters = serializers.JSONField(required=False)
    min_group_size = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    epsilon_per_aggregate = serializers.DecimalField(
        max_digits=12, decimal_places=6, required=False
    )
    delta = serializers.DecimalField(max_digits=22, decimal_places=20, required=False)


class TemplateApproveInputSerializer(serializers.Serializer):
    compliance_checklist = serializers.JSONField()
    privacy_checklist = serializers.JSONField()
    comments = BoundedTextField(required=False, allow_blank=True)


class TemplateRejectInputSerializer(serializers.Serializer):
    comments = BoundedTextField()
    compliance_checklist = serializers.JSONField(required=False)
    privacy_checklist = serializers.JSONField(required=False)


class QueryRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = QueryRun
        fields = [
            "id", "template", "product", "order", "parameters", "period_start", "status",
            "epsilon", "delta", "result", "result_digest", "suppressed_groups", "cached_from",
            "usage_record", "error", "started_at", "finished_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class QueryRunCreateInputSerializer(serializers.Serializer):
    template = serializers.IntegerField(min_value=1)
    parameters = serializers.JSONField(required=False)


class PrivacyBudgetSerializer(serializers.ModelSerializer):
    remaining_epsilon = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True)

    class Meta:
        model = PrivacyBudget
        fields = [
            "id", "buyer", "product", "period_start", "limit_epsilon", "reserved_epsilon",
            "spent_epsilon", "remaining_epsilon",
        ]  # fmt: skip
        read_only_fields = fields

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.choices import MerchantKind, Region
from accounts.models import Merchant, MerchantEvent, User
from core.api import IdRelatedField
from core.scoping import scope_to_merchant


class MerchantEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = MerchantEvent
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class MerchantSerializer(serializers.ModelSerializer):
    kinds = serializers.ListField(child=serializers.ChoiceField(MerchantKind.choices))

    class Meta:
        model = Merchant
        fields = [
            "id",
            "legal_name",
            "credit_code",
            "kinds",
            "region",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "bank_name",
            "bank_account_name",
            "bank_account_number",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class MerchantDetailSerializer(MerchantSerializer):
    events = MerchantEventSerializer(many=True, read_only=True)

    class Meta(MerchantSerializer.Meta):
        fields = [*MerchantSerializer.Meta.fields, "events"]


class MerchantCreateInputSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=40)
    kinds = serializers.ListField(child=serializers.ChoiceField(MerchantKind.choices), min_length=1)
    region = serializers.ChoiceField(Region.choices)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=100)
    contact_phone = serializers.CharField(max_length=32)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    bank_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    bank_account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bank_account_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


class MerchantUpdateInputSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200, required=False)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(MerchantKind.choices), min_length=1, required=False
    )
    region = serializers.ChoiceField(Region.choices, required=False)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=100, required=False)
    contact_phone = serializers.CharField(max_length=32, required=False)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    bank_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    bank_account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bank_account_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


PERSON_ROLE_CHOICES = [("operator", "exchange operator"), ("owner", "owner"), ("staff", "staff")]


class PersonSerializer(serializers.ModelSerializer):
    """A person as their owner or an operator reads them: role, merchant, whether active."""

    role = serializers.SerializerMethodField(help_text="operator, owner or staff.")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "merchant",
            "is_active",
            "is_superuser",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    def get_role(self, person) -> str:
        return "operator" if person.is_operator else person.merchant_role


class PersonCreateInputSerializer(serializers.Serializer):
    """A new person. An owner adds staff of its own merchant (leave out role and merchant)."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128, write_only=True, help_text="The first password; checked for strength."
    )
    role = serializers.ChoiceField(PERSON_ROLE_CHOICES, required=False, default="staff")
    merchant = IdRelatedField(queryset=Merchant.objects.all(), required=False, allow_null=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        # Another merchant's id is refused like one that does not exist.
        self.fields["merchant"].queryset = scope_to_merchant(  # type: ignore[attr-defined]
            Merchant.objects.all(), getattr(request, "user", None)
        )

    def validate_password(self, value):
        try:
            password_validation.validate_password(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class PersonUpdateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

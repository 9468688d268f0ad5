from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import (
    KIND_FIELDS,
    ApplicationStatus,
    MerchantRole,
    MerchantStatus,
    Region,
)
from accounts.credit_code import CreditCodeError, validate_credit_code
from core.models import StatusEvent, TimeStampedModel
from core.scoping import OWNER_ROLE


def credit_code_validator(value: str) -> None:
    try:
        validate_credit_code(value)
    except CreditCodeError as exc:
        raise ValidationError(exc.message, code=exc.rule) from exc


class UserManager(DjangoUserManager):
    """Every user has a role: `createsuperuser` makes an operator; other users name theirs."""

    def create_user(self, username, email=None, password=None, **extra_fields):
        has_merchant = (extra_fields.get("merchant"), extra_fields.get("merchant_id")) != (
            None,
            None,
        )
        if not extra_fields.get("is_operator") and not has_merchant:
            raise ValueError("a user is an exchange operator or one merchant's person")
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_operator", True)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in.

    Invariant: every user is either an exchange operator (belonging to no
    merchant) or a person of exactly one merchant, as its owner or staff; a
    superuser is an operator. The database refuses anything else.
    """

    is_operator = models.BooleanField(
        _("exchange operator"),
        default=False,
        help_text=_("Operators review, clear and audit; they belong to no merchant."),
    )
    merchant = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people",
    )
    merchant_role = models.CharField(
        _("role at the merchant"), max_length=16, choices=MerchantRole.choices, blank=True
    )

    objects: UserManager = UserManager()  # type: ignore[misc]

    merchant_scope = ("merchant",)
    # Only the owner adds, changes and deactivates the merchant's people.
    merchant_write_role = OWNER_ROLE

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.CheckConstraint(
                condition=~(Q(is_operator=True) & Q(merchant__isnull=False)),
                name="operator_has_no_merchant",
            ),
            models.CheckConstraint(
                condition=(Q(merchant__isnull=True) & Q(merchant_role=""))
                | (Q(merchant__isnull=False) & ~Q(merchant_role="")),
                name="merchant_person_has_role",
            ),
            models.CheckConstraint(
                condition=Q(is_operator=True) | Q(merchant__isnull=False),
                name="person_has_a_role",
            ),
            models.CheckConstraint(
                condition=Q(is_superuser=False) | Q(is_operator=True),
                name="superuser_is_operator",
            ),
        ]


class Merchant(TimeStampedModel):
    """数商 data merchant: a company on the exchange, identified by its credit code.

    Invariant: the credit code is valid under GB 32100-2015 and unique; status
    changes only through accounts.services, each one recorded as a MerchantEvent.
    """

    legal_name = models.CharField(_("legal name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[credit_code_validator],
        help_text=_("统一社会信用代码: 18 characters, GB 32100-2015."),
    )
    is_supplier = models.BooleanField(_("data supplier"), default=False, db_index=True)
    is_technical = models.BooleanField(_("technical"), default=False, db_index=True)
    is_application = models.BooleanField(_("application"), default=False, db_index=True)
    is_service = models.BooleanField(_("service"), default=False, db_index=True)
    region = models.CharField(_("region"), max_length=6, choices=Region.choices, db_index=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    bank_name = models.CharField(_("settlement bank"), max_length=120, blank=True)
    bank_account_name = models.CharField(_("bank account name"), max_length=200, blank=True)
    bank_account_number = models.CharField(
        _("bank account number"), max_length=40, blank=True, db_index=True
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MerchantStatus.choices,
        default=MerchantStatus.APPLIED,
        db_index=True,
    )

    merchant_scope = ("pk",)
    # The register of active merchants is public: a seller names its buyer, the
    # market names each provider. Only the id and name; the profile stays scoped.
    merchant_published = Q(status=MerchantStatus.ACTIVE)
    # The profile and the bank account are the owner's to change.
    merchant_write_role = OWNER_ROLE

    class Meta:
        verbose_name = _("data merchant")
        verbose_name_plural = _("data merchants")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, field in KIND_FIELDS.items() if getattr(self, field)]

    @property
    def is_active(self) -> bool:
        return self.status == MerchantStatus.ACTIVE


class MerchantEvent(StatusEvent):
    """A merchant's status change, with who made it and why. Insert-only."""

    subject = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("merchant status change")
        verbose_name_plural = _("merchant status changes")


class MerchantApplication(TimeStampedModel):
    """A company's application to join the exchange (入驻申请), made on the public page.

    The merchant it creates stays 'applied' until an operator approves the
    application; approval also creates the owner's account. A rejected
    application may be corrected and sent again (revision counts the sendings).
    """

    merchant = models.OneToOneField(
        Merchant,
        verbose_name=_("merchant"),
        on_delete=models.PROTECT,
        related_name="application",
    )
    owner_username = models.CharField(
        _("owner's username"),
        max_length=150,
        help_text=_("The name the owner will sign in with once the application is approved."),
    )
    owner_email = models.EmailField(
        _("owner's e-mail"),
        help_text=_("Where the decision and the link to set a password are sent."),
    )
    licence_scan = models.FileField(
        _("business licence scan"), upload_to="merchant-licences/%Y/%m/", max_length=300
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
        db_index=True,
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    revision = models.PositiveIntegerField(_("times sent"), default=1)
    owner_notice = models.TextField(
        _("notice sent to the owner"),
        blank=True,
        help_text=_("The approval e-mail as sent, with its one-time link left out."),
    )

    merchant_scope = ("merchant",)

    class Meta:
        verbose_name = _("joining application")
        verbose_name_plural = _("joining applications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(self.merchant)


class MerchantApplicationEvent(StatusEvent):
    """A joining application's status change. Insert-only."""

    subject = models.ForeignKey(
        MerchantApplication,
        verbose_name=_("joining application"),
        on_delete=models.PROTECT,
        related_name="events",
    )

    merchant_scope = ("subject__merchant",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("application status change")
        verbose_name_plural = _("application status changes")

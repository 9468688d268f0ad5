"""Joining the exchange (入驻): a company applies on the public page, an operator decides.

The application creates the merchant in status 'applied'. Approval activates the
merchant, creates its owner's account without a usable password and e-mails the
owner a one-time link to set one; rejection e-mails the reason and a signed link
back to the application, which the company corrects and sends again.
"""

import uuid
from collections.abc import Callable

import filetype
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.choices import APPLICATION_TRANSITIONS, ApplicationStatus, MerchantRole
from accounts.credit_code import CreditCodeError, validate_credit_code
from accounts.models import Merchant, MerchantApplication, User
from accounts.services import (
    merchant_approve,
    merchant_profile_write,
    merchant_register,
    person_create,
)
from core.exceptions import BusinessRuleViolation, InvalidTransition
from core.scoping import is_operator
from core.transitions import lock_one, transition

# Sniffed type of a business licence scan -> the extension it is stored under.
LICENCE_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
RESUBMIT_SALT = "accounts.application.resubmit"
# A rejection's link back to the application stays valid this long.
RESUBMIT_LINK_MAX_AGE = 30 * 24 * 3600

# Turns a path of ours into an absolute URL for an e-mail (request.build_absolute_uri).
LinkBuilder = Callable[[str], str]


def licence_max_bytes() -> int:
    return int(getattr(settings, "MERCHANT_LICENCE_MAX_BYTES", 5 * 1024 * 1024))


def licence_scan_check(upload: UploadedFile) -> str:
    """The extension to store an uploaded licence under, judged by its content, not its name."""
    limit = licence_max_bytes()
    if upload.size is None or upload.size == 0:
        raise BusinessRuleViolation(_("The licence file is empty."), field="licence_scan")
    if upload.size > limit:
        raise BusinessRuleViolation(
            _("The licence file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{upload.size / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
            field="licence_scan",
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(512)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in LICENCE_TYPES:
        raise BusinessRuleViolation(
            _("The licence must be a PDF, JPEG or PNG file; this file's content is not."),
            field="licence_scan",
            code="file_type",
        )
    return LICENCE_TYPES[kind.mime]


def _store_licence(application: MerchantApplication, upload: UploadedFile) -> None:
    extension = licence_scan_check(upload)
    # Our own name: the applicant's file name is neither trusted nor kept.
    application.licence_scan.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)


def _owner_username_check(username: str, *, except_application: int | None = None) -> None:
    taken = User.objects.filter(username__iexact=username).exists()
    others = MerchantApplication.objects.filter(owner_username__iexact=username).exclude(
        status=ApplicationStatus.APPROVED
    )
    if except_application is not None:
        others = others.exclude(pk=except_application)
    pending = others.exists()
    if taken or pending:
        raise BusinessRuleViolation(
            _("This username is taken; choose another."), field="owner_username", code="unique"
        )


@transaction.atomic
def merchant_apply(
    *,
    owner_username: str,
    owner_email: str,
    licence_scan: UploadedFile,
    kinds: list[str],
    **merchant_fields: str,
) -> MerchantApplication:
    """A company applies to join: its merchant starts 'applied', its application 'submitted'."""
    _owner_username_check(owner_username)
    licence_scan_check(licence_scan)
    merchant = merchant_register(actor=None, kinds=kinds, **merchant_fields)
    application = MerchantApplication(
        merchant=merchant, owner_username=owner_username, owner_email=owner_email
    )
    _store_licence(application, licence_scan)
    application.save()
    application.events.create(
        actor=None, from_status="", to_status=ApplicationStatus.SUBMITTED, reason="applied"
    )
    return application


def _resubmit_token(application: MerchantApplication) -> str:
    """A signed link token for this sending only: it dies once the application is sent again."""
    return signing.dumps({"a": application.pk, "r": application.revision}, salt=RESUBMIT_SALT)


def application_from_token(token: str) -> MerchantApplication | None:
    """The rejected application a resubmission link points at, or None if the link is dead."""
    try:
        data = signing.loads(token, salt=RESUBMIT_SALT, max_age=RESUBMIT_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    application = (
        MerchantApplication.objects.select_related("merchant").filter(pk=data["a"]).first()
    )
    if (
        application is None
        or application.revision != data.get("r")
        or application.status != ApplicationStatus.REJECTED
    ):
        return None
    return application


def _require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise PermissionDenied(_("Only exchange operators review joining applications."))


def _send(*, subject: str, template: str, to: str, context: dict) -> str:
    body = render_to_string(template, context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=False))
    return body


@transaction.atomic
def merchant_application_approve(
    *, actor: User, application: MerchantApplication, build_link: LinkBuilder, reason: str = ""
) -> MerchantApplication:
    """submitted -> approved: the merchant becomes active and its owner gets an account.

    The owner is e-mailed a one-time link to set a password (never a password);
    the mail as sent, without the link, is kept in `owner_notice` for the operator.
    """
    _require_operator(actor)
    application = lock_one(MerchantApplication, application.pk)
    if application.status == ApplicationStatus.APPROVED:
        return application
    merchant = application.merchant
    _owner_username_check(application.owner_username, except_application=application.pk)
    owner = person_create(
        username=application.owner_username,
        email=application.owner_email,
        merchant=merchant,
        role=MerchantRole.OWNER,
    )
    merchant_approve(actor=actor, merchant=merchant, reason=reason or "joining approved")
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
            "token": default_token_generator.make_token(owner),
        },
    )
    context = {"merchant": merchant, "owner": owner, "sign_in": build_link(reverse("admin:login"))}
    subject = _("%(merchant)s has joined the exchange") % {"merchant": merchant.legal_name}
    _send(
        subject=subject,
        template="accounts/email/application_approved.txt",
        to=owner.email,
        context={**context, "link": build_link(path)},
    )
    notice = render_to_string(
        "accounts/email/application_approved.txt",
        {**context, "link": _("(the one-time link to set a password)")},
    )
    transition(
        application,
        to=ApplicationStatus.APPROVED,
        actor=actor,
        reason=reason,
        transitions=APPLICATION_TRANSITIONS,
        changes={"owner_notice": f"{subject}\n\n{notice}"},
    )
    return application


@transaction.atomic
def merchant_application_reject(
    *, actor: User, application: MerchantApplication, reason: str, build_link: LinkBuilder
) -> MerchantApplication:
    """submitted -> rejected, with the reason e-mailed and a link to correct the application."""
    _require_operator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleViolation(_("Say why the application is rejected."), field="reason")
    application = lock_one(MerchantApplication, application.pk)
    changed = transition(
        application,
        to=ApplicationStatus.REJECTED,
        actor=actor,
        reason=reason,
        transitions=APPLICATION_TRANSITIONS,
        changes={"rejection_reason": reason},
    )
    if changed:
        link = build_link(reverse("join-resubmit", kwargs={"token": _resubmit_token(application)}))
        _send(
            subject=_("Your application to join the exchange needs correcting"),
            template="accounts/email/application_rejected.txt",
            to=application.owner_email,
            context={"merchant": application.merchant, "reason": reason, "link": link},
        )
    return application


@transaction.atomic
def merchant_application_resubmit(
    *,
    application: MerchantApplication,
    credit_code: str,
    kinds: list[str],
    owner_email: str,
    licence_scan: UploadedFile | None = None,
    **profile: str,
) -> MerchantApplication:
    """rejected -> submitted: the company's corrections, sent for review again."""
    application = lock_one(MerchantApplication, application.pk)
    if application.status != ApplicationStatus.REJECTED:
        raise InvalidTransition(
            model_label=str(MerchantApplication._meta.verbose_name),
            current=application.status,
            target=ApplicationStatus.SUBMITTED,
        )
    merchant = lock_one(Merchant, application.merchant_id)
    try:
        code = validate_credit_code(credit_code)
    except CreditCodeError as exc:
        raise BusinessRuleViolation(exc.message, field="credit_code", code=exc.rule) from exc
    if code != merchant.credit_code:
        if Merchant.objects.filter(credit_code=code).exclude(pk=merchant.pk).exists():
            raise BusinessRuleViolation(
                _("This credit code is already registered."), field="credit_code", code="unique"
            )
        merchant.credit_code = code
        merchant.save(update_fields=["credit_code", "updated_at"])
    merchant_profile_write(merchant=merchant, kinds=kinds, **profile)
    changes: dict = {
        "owner_email": owner_email,
        "revision": application.revision + 1,
        "rejection_reason": "",
    }
    if licence_scan is not None:
        _store_licence(application, licence_scan)
        changes["licence_scan"] = application.licence_scan.name
    transition(
        application,
        to=ApplicationStatus.SUBMITTED,
        actor=None,
        reason="corrected and sent again",
        transitions=APPLICATION_TRANSITIONS,
        changes=changes,
    )
    return application

"""The public joining form (入驻申请). What it takes is checked again by the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import MerchantKind, Region
from accounts.services.joining import licence_max_bytes


class MerchantApplicationForm(forms.Form):
    legal_name = forms.CharField(label=_("legal name"), max_length=200)
    credit_code = forms.CharField(
        label=_("unified social credit code"),
        max_length=18,
        help_text=_("18 characters, as printed on the business licence (GB 32100-2015)."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("kinds"), choices=MerchantKind.choices, widget=forms.CheckboxSelectMultiple
    )
    region = forms.ChoiceField(label=_("region"), choices=Region.choices)
    address = forms.CharField(label=_("address"), max_length=300, required=False)
    contact_name = forms.CharField(label=_("contact name"), max_length=100)
    contact_phone = forms.CharField(label=_("contact phone"), max_length=32)
    contact_email = forms.EmailField(label=_("contact e-mail"))
    bank_name = forms.CharField(label=_("settlement bank"), max_length=120)
    bank_account_name = forms.CharField(label=_("bank account name"), max_length=200)
    bank_account_number = forms.CharField(label=_("bank account number"), max_length=40)
    owner_username = forms.RegexField(
        label=_("owner's username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("Letters, digits and @ . + - _ only; the owner signs in with it."),
    )
    owner_email = forms.EmailField(
        label=_("owner's e-mail"),
        help_text=_("The decision and the link to set a password are sent here."),
    )
    licence_scan = forms.FileField(
        label=_("business licence scan"),
    )

    def __init__(self, *args, resubmitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        limit = {"limit": f"{licence_max_bytes() / 1048576:.0f}"}
        self.fields["licence_scan"].help_text = _("PDF, JPEG or PNG, at most %(limit)s MB.") % limit
        if resubmitting:
            # The owner's username was reserved by the first sending.
            del self.fields["owner_username"]
            self.fields["licence_scan"].required = False
            self.fields["licence_scan"].help_text = (
                _(
                    "Leave empty to keep the scan already sent. "
                    "PDF, JPEG or PNG, at most %(limit)s MB."
                )
                % limit
            )

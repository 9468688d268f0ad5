"""The admin half of the scoping mechanism (see core.scoping).

`ScopedAdmin` narrows every changelist, change page and foreign-key choice with
`scope_to_merchant`, so a merchant's people cannot even open another merchant's
page by typing its URL: the row is simply not in their queryset. Operators see
everything. Fields in `operator_only_fields` are read-only for merchants.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.exceptions import BrokerUnavailable, BusinessRuleViolation, Conflict, InvalidTransition
from core.formatting import format_yuan
from core.input import max_text_length
from core.scoping import is_operator, merchant_id_of, role_may_write, scope_to_merchant

T = TypeVar("T")


def saved_through_service(service_call: Callable[[], T], form: forms.BaseForm) -> T:
    """Run the service an admin form saves through; its refusal becomes the form's error.

    A `BusinessRuleViolation` keeps the field it names when the form shows it or
    the form's model has it (a read-only code), so the page says which; it is
    the whole form's error otherwise (a rule across fields, an input of the
    service's own). Raised from `save_model`, the error is caught by
    `ScopedAdmin.changeform_view`, which shows it and changes nothing.
    """
    try:
        return service_call()
    except BusinessRuleViolation as exc:
        model = getattr(getattr(form, "_meta", None), "model", None)
        model_fields = {f.name for f in model._meta.get_fields()} if model is not None else set()
        field = exc.field if exc.field in form.fields or exc.field in model_fields else None
        raise forms.ValidationError({field: exc.message} if field else exc.message) from exc


def refusal_messages(exc: forms.ValidationError, model: type[models.Model]) -> list[str]:
    """A refusal's messages, each naming its field as people read it, for the message bar."""
    if not hasattr(exc, "error_dict"):
        return [str(message) for message in exc.messages]
    found = []
    for field, errors in exc.message_dict.items():
        try:
            label = str(getattr(model._meta.get_field(field), "verbose_name", field))
        except FieldDoesNotExist:
            label = field
        for message in errors:
            named = field in ("__all__", "non_field_errors")
            found.append(message if named else f"{label}: {message}")
    return found


class ScopedAdmin(admin.ModelAdmin):
    operator_only_fields: tuple[str, ...] = ()
    # What merchants' people may do on this model, within their own rows.
    merchant_can_add = False
    merchant_can_change = False
    merchant_can_delete = False
    # Operators change records through services (API actions, admin actions),
    # so by default they edit in the admin only what a model admin allows.
    operator_can_add = True
    operator_can_change = True
    operator_can_delete = False

    def get_exclude(self, request, obj=None):
        """Fen columns never appear as such: pages show amounts through `yuan_column`s."""
        fen = tuple(f.name for f in self.model._meta.concrete_fields if f.name.endswith("_fen"))
        return tuple(super().get_exclude(request, obj) or ()) + fen

    def get_queryset(self, request):
        return scope_to_merchant(super().get_queryset(request), request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A service that refuses inside save_model or save_formset raises a
        # ValidationError after the form has passed; Django would answer 500.
        # Its transaction is rolled back, so nothing changed: say why, and send
        # the person back to the page they were on.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except forms.ValidationError as exc:
            for message in refusal_messages(exc, self.model):
                messages.error(request, message)
            return HttpResponseRedirect(request.get_full_path())

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Free text has the same limit in the admin as in the API.
        if isinstance(db_field, models.TextField) and db_field.max_length is None:
            kwargs.setdefault("max_length", max_text_length())
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _is_merchant_person(self, request) -> bool:
        return merchant_id_of(request.user) is not None and not is_operator(request.user)

    def _merchant_may_write(self, request) -> bool:
        """A merchant's person whose role writes this model (staff never write the owner's)."""
        return self._is_merchant_person(request) and role_may_write(request.user, self.model)

    def has_module_permission(self, request) -> bool:
        if is_operator(request.user):
            return True
        return self._is_merchant_person(request) and self.model_visible_to_merchants()

    def model_visible_to_merchants(self) -> bool:
        return getattr(self.model, "merchant_scope", ()) != ()

    def _in_scope(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request) and self._in_scope(request, obj)

    def has_add_permission(self, request) -> bool:
        if is_operator(request.user):
            return self.operator_can_add
        return self._merchant_may_write(request) and self.merchant_can_add

    def has_change_permission(self, request, obj=None) -> bool:
        if is_operator(request.user):
            return self.operator_can_change
        return (
            self._merchant_may_write(request)
            and self.merchant_can_change
            and self._in_scope(request, obj)
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        if is_operator(request.user):
            return self.operator_can_delete
        return (
            self._merchant_may_write(request)
            and self.merchant_can_delete
            and self._in_scope(request, obj)
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not is_operator(request.user):
            fields += [f for f in self.operator_only_fields if f not in fields]
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if (
            field is not None
            and field.queryset is not None
            and hasattr(db_field.related_model, "merchant_scope")
        ):
            field.queryset = scope_to_merchant(field.queryset, request.user)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if (
            field is not None
            and field.queryset is not None
            and hasattr(db_field.related_model, "merchant_scope")
        ):
            field.queryset = scope_to_merchant(field.queryset, request.user)
        return field


class ReadOnlyAdmin(ScopedAdmin):
    """Records that services create and move (API, admin actions), never an edit form.

    People read them; operators act on them through the list's actions.
    """

    operator_can_add = False
    operator_can_change = False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent and never edited there: history, paperwork, postings.

    Merchants' people hold no Django model permissions (scoping decides), so
    whoever may view the parent row may view these rows, and nobody adds,
    changes or deletes them here. Every listed field is shown read-only. Set
    `template = STACKED` for long texts.
    """

    STACKED = "admin/edit_inline/stacked.html"

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return tuple(self.fields or ()) + tuple(super().get_readonly_fields(request, obj))

    def has_view_permission(self, request, obj=None) -> bool:
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def yuan_column(field: str, description, *, ordering: bool = True):
    """An admin column or read-only field showing the integer-fen `field` as "¥1,234.56".

    `gross_yuan = yuan_column("gross_fen", _("gross"))` in an admin class body;
    list it wherever people read the amount, never the fen field itself.
    """

    @admin.display(description=description, ordering=field if ordering else None)
    def column(self, obj):
        return format_yuan(getattr(obj, field))

    return column


class EventInline(ReadOnlyInline):
    """The history of a record's status changes, shown under it."""

    fields = ("created_at", "actor", "from_label", "to_label", "reason_label")
    ordering = ("created_at", "id")

    # Statuses by their labels and the services' own reasons translated, never raw keys.
    @admin.display(description=_("from status"))
    def from_label(self, event):
        return event.status_label(event.from_status)

    @admin.display(description=_("to status"))
    def to_label(self, event):
        return event.status_label(event.to_status)

    @admin.display(description=_("reason"))
    def reason_label(self, event):
        return event.reason_text or "-"


# What a service refuses with. An admin action reports a refusal against its
# row and goes on with the others, so one bad row never hides the rest.
SERVICE_REFUSALS = (InvalidTransition, Conflict, BusinessRuleViolation, PermissionDenied)


class ReasonActionForm(ActionForm):
    reason = forms.CharField(label=_("reason"), required=False, max_length=2000)


def action_reason(modeladmin, request, *, required: bool) -> str | None:
    """The reason typed beside an admin action; None (after saying so) when one is owed."""
    reason = (request.POST.get("reason") or "").strip()
    if required and not reason:
        modeladmin.message_user(request, _("Give a reason for this action."), messages.ERROR)
        return None
    return reason


def apply_to_selected(modeladmin, request, queryset, call, *, done_message) -> int:
    """Call `call(row)` for each selected row in primary-key order; report refusals per row.

    `done_message` takes %(count)d. Returns how many rows the service accepted.
    """
    done = 0
    for obj in queryset.order_by("pk"):
        try:
            call(obj)
            done += 1
        except SERVICE_REFUSALS as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.WARNING)
    if done:
        modeladmin.message_user(request, done_message % {"count": done})
    return done


@dataclass(frozen=True)
class OperatorPage:
    """An operator's form page on a model admin that calls one service.

    `detail` pages act on one record (URL `<pk>/<slug>/`), the others on the
    model (`<slug>/`, e.g. run a day's clearing). `run(request, obj, data)`
    calls the service with the form's cleaned data and returns the record to
    show afterwards (or None for the changelist). A refusal of the service
    is shown on the form, against its field when the form has one, and
    nothing is changed.
    """

    slug: str
    title: Promise | str
    form: type[forms.Form]
    run: Callable[[HttpRequest, Any, forms.Form], Any]
    detail: bool = True
    # Offered on a record's page only while this holds.
    available: Callable[[Any], bool] = lambda obj: True
    help_text: Promise | str = ""

    def url_name(self, opts) -> str:
        return f"{opts.app_label}_{opts.model_name}_{self.slug}"


class OperatorPagesMixin:
    """Serves a model admin's `operator_pages` and links them from its pages' object tools."""

    operator_pages: tuple[OperatorPage, ...] = ()

    def get_urls(self):
        opts = self.model._meta  # type: ignore[attr-defined]
        site = self.admin_site  # type: ignore[attr-defined]
        urls = []
        for page in self.operator_pages:
            view = site.admin_view(partial(self.operator_page_view, page=page))
            route = f"<int:pk>/{page.slug}/" if page.detail else f"{page.slug}/"
            urls.append(path(route, view, name=page.url_name(opts)))
        return [*urls, *super().get_urls()]  # type: ignore[misc]

    def operator_links(self, request, obj=None) -> list[dict]:
        if not is_operator(request.user):
            return []
        opts = self.model._meta  # type: ignore[attr-defined]
        links = []
        for page in self.operator_pages:
            if page.detail != (obj is not None) or (obj is not None and not page.available(obj)):
                continue
            args = [obj.pk] if obj is not None else []
            links.append(
                {"url": reverse(f"admin:{page.url_name(opts)}", args=args), "title": page.title}
            )
        return links

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "operator_links": self.operator_links(request)}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        links = self.operator_links(request, obj) if obj is not None else []
        extra_context = {**(extra_context or {}), "operator_links": links}
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def operator_page_view(self, request, pk=None, *, page: OperatorPage):
        if not is_operator(request.user):
            raise PermissionDenied
        opts = self.model._meta  # type: ignore[attr-defined]
        obj = None
        if page.detail:
            obj = self.get_queryset(request).filter(pk=pk).first()  # type: ignore[attr-defined]
            if obj is None:
                raise Http404
        # Bound on every POST: a form of optional fields only (the audit sweep's one box,
        # unticked) posts nothing, and `request.POST or None` would leave it unbound.
        form = page.form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    result = page.run(request, obj, form)
            except (*SERVICE_REFUSALS, BrokerUnavailable) as exc:
                field = getattr(exc, "field", None)
                message = getattr(exc, "message", None) or str(exc)
                form.add_error(field if field in form.fields else None, message)
            else:
                self.message_user(request, _("Done: %(page)s.") % {"page": page.title})  # type: ignore[attr-defined]
                target = result if isinstance(result, models.Model) else obj
                if isinstance(target, models.Model) and target._meta == opts:
                    url = reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_change", args=[target.pk]
                    )
                else:
                    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
                return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": opts,
            "title": page.title if obj is None else f"{page.title}: {obj}",
            "page": page,
            "original": obj,
            "form": form,
            "media": self.media + form.media,  # type: ignore[attr-defined]
        }
        return TemplateResponse(request, "admin/operator_page.html", context)


APPROVE, REJECT = "approve", "reject"


def checklist_decision_form(checklists: dict[str, dict]) -> type[forms.Form]:
    """A review decision: approve or send back, each checklist item a labelled box, comments.

    `checklists` maps a prefix ("compliance") to its items (key -> label);
    `form.checklist(prefix)` gives the ticked items back as the services take them.
    """

    class DecisionForm(forms.Form):
        decision = forms.ChoiceField(
            label=_("decision"),
            choices=[(APPROVE, _("Approve")), (REJECT, _("Send back to the merchant"))],
            widget=forms.RadioSelect,
        )
        comments = forms.CharField(
            label=_("comments for the merchant"),
            help_text=_("Needed when sending back: say what to fix."),
            required=False,
            max_length=5000,
            widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        )

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for prefix, items in checklists.items():
                for key, label in items.items():
                    self.fields[f"{prefix}__{key}"] = forms.BooleanField(
                        label=label, required=False
                    )

        def checklist(self, prefix: str) -> dict:
            return {
                key: bool(self.cleaned_data.get(f"{prefix}__{key}")) for key in checklists[prefix]
            }

        def clean(self):
            data = super().clean() or {}
            if data.get("decision") == REJECT and not (data.get("comments") or "").strip():
                self.add_error("comments", _("Say what the merchant must fix."))
            return data

    return DecisionForm

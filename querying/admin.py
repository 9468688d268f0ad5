"""The query service in the admin: providers load data and define templates, operators
review them with the checklist, buyers run them and read the aggregates.

Every save and action calls the same service as the API. A form calls its
service once every field is valid, and shows a refusal against the field it
names, so nothing is half done. No page shows a data set's rows: they live in
a schema the web's database role cannot read; a run shows aggregates only.
ScopedAdmin keeps each merchant to its own data sets, templates, runs and budgets.
"""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.admin import (
    SERVICE_REFUSALS,
    EventInline,
    ReadOnlyAdmin,
    ReasonActionForm,
    ScopedAdmin,
    apply_to_selected,
)
from core.exceptions import BusinessRuleViolation
from core.scoping import is_operator, merchant_id_of
from products.choices import DeliveryMode
from querying.choices import (
    TEMPLATE_COMPLIANCE_CHECKLIST,
    TEMPLATE_PRIVACY_CHECKLIST,
    ColumnType,
    DatasetStatus,
    SourceFormat,
    TemplateStatus,
)
from querying.models import (
    Dataset,
    DatasetEvent,
    PrivacyBudget,
    QueryRun,
    QueryRunEvent,
    QueryTemplate,
    QueryTemplateEvent,
)
from querying.selectors import template_runnable_list
from querying.services import datasets, runs, templates


class ServiceForm(forms.ModelForm):
    """A model form whose save is one service call, made once every field is valid.

    `actor` is set per request by the admin's get_form. `call()` returns the
    saved record, which replaces the form's instance; the admin's save_model
    then has nothing left to do.
    """

    actor: Any = None

    def call(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def full_clean(self):
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            with transaction.atomic():  # a refusal midway undoes the steps before it
                saved = self.call()
        except BusinessRuleViolation as exc:
            # "columns[2].lower" is said on the columns field, naming the item
            field = exc.field.split("[")[0].split(".")[0]
            message = exc.message if field == exc.field else f"{exc.field}: {exc.message}"
            self.add_error(field if field in self.fields else None, message)
        except SERVICE_REFUSALS as exc:
            self.add_error(None, str(exc))
        else:
            if saved is not None:
                self.instance = saved


class ServiceFormAdmin(ScopedAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_inline_instances(self, request, obj=None):
        # The inlines are history, shown and never posted: a save is the form's one
        # service call, and no formset in the POST can undo or repeat it.
        if request.method == "POST":
            return []
        return super().get_inline_instances(request, obj)

    def save_model(self, request, obj, form, change):
        pass  # the form's service call saved it

    def save_related(self, request, form, formsets, change):
        pass  # inlines here are history, never edited


def _yes_no(value) -> str:
    return str(_("ticked") if value else _("not ticked"))


# ---------------------------------------------------------------------- data sets


class DatasetEventInline(EventInline):
    model = DatasetEvent


class DatasetForm(ServiceForm):
    """Declaring a data set (add) and loading a file into it (add or change)."""

    version = forms.IntegerField(
        label=pgettext_lazy("product version number", "version"),
        required=False,
        min_value=1,
        help_text=_("Empty: the product's current version."),
    )
    budget_epsilon = forms.DecimalField(
        label=_("privacy budget per buyer per month (epsilon)"),
        required=False,
        min_value=Decimal("0.000001"),
        max_digits=12,
        decimal_places=6,
        help_text=_("Empty: the exchange's default budget."),
    )
    data_file = forms.FileField(label=_("data file (CSV or Parquet)"), required=False)
    file_format = forms.ChoiceField(
        label=_("file format"),
        required=False,
        choices=[("", _("from the file name")), *SourceFormat.choices],
    )

    class Meta:
        model = Dataset
        fields = ("product", "version", "columns", "unit_column", "budget_epsilon")
        help_texts = {
            "columns": _(
                'A list of columns: [{"name": "income", "type": "float", "lower": 0, '
                '"upper": 100000}, {"name": "person_id", "type": "string"}]. Numeric '
                "columns need bounds."
            ),
        }

    def call(self):
        data = self.cleaned_data
        dataset = self.instance
        if dataset.pk is None:
            dataset = datasets.dataset_declare(
                actor=self.actor,
                product=data["product"],
                columns=data["columns"],
                unit_column=data["unit_column"],
                version=data.get("version"),
                budget_epsilon=data.get("budget_epsilon"),
            )
        upload = data.get("data_file")
        if upload is not None:
            source_format = data.get("file_format") or (
                "parquet" if upload.name.lower().endswith(".parquet") else "csv"
            )
            try:
                dataset = datasets.dataset_load_file(
                    actor=self.actor, dataset=dataset, source=upload, source_format=source_format
                )
            except BusinessRuleViolation as exc:
                field = {"file": "data_file", "format": "file_format"}.get(exc.field, exc.field)
                raise BusinessRuleViolation(exc.message, field=field, code=exc.code) from exc
        return dataset


DATASET_FACTS = (
    "product",
    "version",
    "schema_name",
    "status",
    "columns_shown",
    "unit_column",
    "budget_epsilon",
    "source_format",
    "progress",
    "rows_loaded",
    "load_error",
    "loaded_at",
)


@admin.register(Dataset)
class DatasetAdmin(ServiceFormAdmin):
    """A provider declares its privacy-computing product's data set and loads a file.

    The change page shows what was declared and how far the load is; a file may
    be loaded while the data set is declared or its last load failed.
    """

    form = DatasetForm
    list_display = ("product", "version", "status", "progress", "rows_loaded", "loaded_at")
    list_filter = ("status",)
    list_select_related = ("product",)
    search_fields = ("product__title",)
    merchant_can_add = True
    merchant_can_change = True
    operator_can_add = False
    operator_can_change = False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("product", "version", "columns", "unit_column", "budget_epsilon",
                    "data_file", "file_format")  # fmt: skip
        if self.has_change_permission(request, obj):
            return (*DATASET_FACTS, "data_file", "file_format")
        return DATASET_FACTS

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else DATASET_FACTS

    def get_inlines(self, request, obj):
        return [] if obj is None else [DatasetEventInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status not in (DatasetStatus.DECLARED, DatasetStatus.FAILED):
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "product" and field is not None:
            field.queryset = field.queryset.filter(delivery_mode=DeliveryMode.PRIVACY_COMPUTING)
        return field

    @admin.display(description=_("declared columns"))
    def columns_shown(self, obj):
        return format_html_join(
            "",
            "<div><code>{}</code> {} {}</div>",
            (
                (
                    c["name"],
                    ColumnType(c["type"]).label if c["type"] in ColumnType.values else c["type"],
                    f"[{c['lower']}, {c['upper']}]" if "lower" in c else "",
                )
                for c in obj.columns
            ),
        )

    @admin.display(description=_("loaded"))
    def progress(self, obj):
        return f"{obj.progress_percent}%"


# ---------------------------------------------------------------------- templates


class QueryTemplateEventInline(EventInline):
    model = QueryTemplateEvent


class QueryTemplateForm(ServiceForm):
    """A provider's draft template over one of its data sets."""

    class Meta:
        model = QueryTemplate
        fields = (
            "dataset",
            "name",
            "description",
            "aggregates",
            "dimensions",
            "filters",
            "min_group_size",
            "epsilon_per_aggregate",
            "delta",
        )
        help_texts = {
            "aggregates": _(
                'For example [{"function": "count"}, {"function": "avg", "column": "income"}]'
            ),
            "dimensions": _('Columns to group by, for example ["region"]'),
            "filters": _(
                'For example [{"column": "age", "op": "ge", "parameter": "min_age"}]; '
                "ops: eq, ne, lt, le, gt, ge. Buyers give a value for each parameter."
            ),
        }

    def call(self):
        data = dict(self.cleaned_data)
        for name in ("dimensions", "filters"):
            if name in data:
                data[name] = data[name] or []
        if self.instance.pk:
            terms = {f: v for f, v in data.items() if f in templates.TERMS}
            return templates.template_update(actor=self.actor, template=self.instance, **terms)
        dataset = data.pop("dataset")
        return templates.template_create(actor=self.actor, dataset=dataset, **data)


def _review_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {
        "decision": forms.ChoiceField(
            label=_("decision"),
            widget=forms.RadioSelect,
            choices=[
                ("approve", _("Approve for buyers (every item ticked)")),
                ("reject", _("Send back to the provider with comments")),
            ],
        ),
        "comments": forms.CharField(
            label=_("reviewer's comments"), required=False, max_length=4000, widget=forms.Textarea
        ),
    }
    for prefix, items in (
        ("compliance", TEMPLATE_COMPLIANCE_CHECKLIST),
        ("privacy", TEMPLATE_PRIVACY_CHECKLIST),
    ):
        for key, label in items.items():
            label_text = cast("str", label)
            fields[f"{prefix}__{key}"] = forms.BooleanField(label=label_text, required=False)
    return fields


REVIEW_FIELDS = tuple(_review_fields())


def _call_review(form) -> QueryTemplate:
    data = form.cleaned_data
    template = form.instance
    checklists = {
        prefix: {key: bool(data.get(f"{prefix}__{key}")) for key in items}
        for prefix, items in (
            ("compliance", TEMPLATE_COMPLIANCE_CHECKLIST),
            ("privacy", TEMPLATE_PRIVACY_CHECKLIST),
        )
    }
    if data["decision"] == "reject":
        return templates.template_reject(
            actor=form.actor,
            template=template,
            comments=data.get("comments") or "",
            compliance_checklist=checklists["compliance"],
            privacy_checklist=checklists["privacy"],
        )
    if template.status == TemplateStatus.SUBMITTED:
        template = templates.template_review_start(actor=form.actor, template=template)
    return templates.template_approve(
        actor=form.actor,
        template=template,
        compliance_checklist=checklists["compliance"],
        privacy_checklist=checklists["privacy"],
        comments=data.get("comments") or "",
    )


# The operator's review form: the checklist items, a decision and comments.
TemplateReviewForm = type(
    "TemplateReviewForm",
    (ServiceForm,),
    {
        **_review_fields(),
        "Meta": type("Meta", (), {"model": QueryTemplate, "fields": ()}),
        "call": _call_review,
    },
)

TEMPLATE_FACTS = (
    "dataset",
    "product",
    "name",
    "description",
    "status",
    "aggregates",
    "dimensions",
    "filters",
    "parameters_shown",
    "min_group_size",
    "epsilon_per_aggregate",
    "delta",
    "cost_epsilon",
    "cost_delta",
    "compliance_shown",
    "privacy_shown",
    "reviewer",
    "review_comments",
    "approved_at",
)

# What a provider reads beside the terms it edits on a draft.
DRAFT_FACTS = tuple(f for f in TEMPLATE_FACTS if f not in templates.TERMS)


@admin.register(QueryTemplate)
class QueryTemplateAdmin(ServiceFormAdmin):
    """Providers define and submit templates; operators review them with the checklist.

    A submitted or in-review template opens for an operator as the review
    form: tick the compliance and privacy items, then approve, or send it back
    with comments. Everyone else reads the template and its history.
    """

    action_form = ReasonActionForm
    list_display = ("name", "product", "status", "cost_epsilon", "min_group_size", "approved_at")
    list_filter = ("status",)
    list_select_related = ("product",)
    search_fields = ("name", "product__title")
    actions = ["submit", "start_review", "retire"]
    merchant_can_add = True
    operator_can_add = False

    def _reviewing(self, request, obj) -> bool:
        return (
            obj is not None
            and is_operator(request.user)
            and obj.status
            in (
                TemplateStatus.SUBMITTED,
                TemplateStatus.IN_REVIEW,
            )
        )

    def _editing(self, request, obj) -> bool:
        """The provider's people change a draft (one sent back by review, say)."""
        return (
            obj is not None
            and obj.status == TemplateStatus.DRAFT
            and self._is_merchant_person(request)
            and self._in_scope(request, obj)
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TemplateReviewForm if self._reviewing(request, obj) else QueryTemplateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": QueryTemplateForm.Meta.fields})]
        if self._editing(request, obj):
            return [
                (None, {"fields": templates.TERMS}),
                (_("review and cost"), {"fields": DRAFT_FACTS}),
            ]
        sets: list[tuple[Any, dict[str, Any]]] = [(None, {"fields": TEMPLATE_FACTS})]
        if self._reviewing(request, obj):
            sets += [
                (
                    _("compliance checklist"),
                    {"fields": [f for f in REVIEW_FIELDS if f.startswith("compliance__")]},
                ),
                (
                    _("privacy checklist"),
                    {"fields": [f for f in REVIEW_FIELDS if f.startswith("privacy__")]},
                ),
                (_("decision"), {"fields": ("decision", "comments")}),
            ]
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return DRAFT_FACTS if self._editing(request, obj) else TEMPLATE_FACTS

    def get_inlines(self, request, obj):
        return [] if obj is None else [QueryTemplateEventInline]

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return is_operator(request.user) and self.operator_can_change
        return self._reviewing(request, obj) or self._editing(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        drop = {"submit"} if is_operator(request.user) else {"start_review"}
        if not is_operator(request.user) and merchant_id_of(request.user) is None:
            return {}
        return {name: a for name, a in actions.items() if name not in drop}

    @admin.display(description=_("parameters buyers give"))
    def parameters_shown(self, obj):
        return ", ".join(obj.parameters) or "-"

    @staticmethod
    def _checklist(items, ticked):
        return format_html_join(
            "", "<div>{} {}</div>", ((_yes_no(ticked.get(k)), label) for k, label in items.items())
        )

    @admin.display(description=_("compliance checklist"))
    def compliance_shown(self, obj):
        return self._checklist(TEMPLATE_COMPLIANCE_CHECKLIST, obj.compliance_checklist or {})

    @admin.display(description=_("privacy checklist"))
    def privacy_shown(self, obj):
        return self._checklist(TEMPLATE_PRIVACY_CHECKLIST, obj.privacy_checklist or {})

    def _each(self, request, queryset, call):
        apply_to_selected(
            self, request, queryset, call, done_message=_("%(count)d template(s) done.")
        )

    @admin.action(description=_("Submit for review (computes the privacy cost)"))
    def submit(self, request, queryset):
        self._each(
            request, queryset, lambda t: templates.template_submit(actor=request.user, template=t)
        )

    @admin.action(description=_("Start the review"))
    def start_review(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: templates.template_review_start(actor=request.user, template=t),
        )

    @admin.action(description=_("Retire (buyers can no longer run it)"))
    def retire(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        self._each(
            request,
            queryset,
            lambda t: templates.template_retire(actor=request.user, template=t, reason=reason),
        )


# ---------------------------------------------------------------------- runs


class QueryRunEventInline(EventInline):
    model = QueryRunEvent


class QueryRunForm(ServiceForm):
    """A buyer runs an approved template of a product it holds an order for."""

    class Meta:
        model = QueryRun
        fields = ("template", "parameters")
        help_texts = {
            "parameters": _('A value for each of the template\'s parameters: {"min_age": 18}'),
        }

    def call(self):
        data = self.cleaned_data
        return runs.query_run_request(
            actor=self.actor, template=data["template"], parameters=data.get("parameters") or {}
        )


RUN_FACTS = (
    "template",
    "product",
    "status",
    "parameters",
    "epsilon",
    "delta",
    "result_table",
    "suppressed_groups",
    "accuracy",
    "result_digest",
    "cached_from",
    "error",
    "created_at",
    "started_at",
    "finished_at",
)


@admin.register(QueryRun)
class QueryRunAdmin(ServiceFormAdmin):
    """A buyer's runs: start one from an approved template, read its aggregates.

    The result is what the engine returned: noisy aggregates per group, groups
    below k left out and counted; never a row of the data set.
    """

    form = QueryRunForm
    list_display = ("__str__", "template", "buyer", "status", "epsilon", "created_at")
    list_filter = ("status",)
    list_select_related = ("template", "buyer")
    merchant_can_add = True
    operator_can_add = False
    operator_can_change = False

    def get_fields(self, request, obj=None):
        return QueryRunForm.Meta.fields if obj is None else RUN_FACTS

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else RUN_FACTS

    def get_inlines(self, request, obj):
        return [] if obj is None else [QueryRunEventInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "template":
            # a buyer runs templates of other merchants' products it holds an order for
            merchant_id = merchant_id_of(request.user)
            kwargs["queryset"] = (
                QueryTemplate.objects.none()
                if merchant_id is None
                else template_runnable_list(buyer_id=merchant_id).select_related("product")
            )
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def response_add(self, request, obj, post_url_continue=None):
        # straight to the run, where its result appears once the worker is done
        return HttpResponseRedirect(reverse("admin:querying_queryrun_change", args=[obj.pk]))

    @admin.display(description=_("result (aggregates)"))
    def result_table(self, obj):
        if not obj.result:
            return "-"
        head = format_html_join("", "<th>{}</th>", ((c,) for c in obj.result["columns"]))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((value,) for value in row)),)
                for row in obj.result["rows"]
            ),
        )
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)

    @admin.display(description=_("error bound per aggregate (95 percent confidence)"))
    def accuracy(self, obj):
        bounds = (obj.result or {}).get("accuracy_95") or {}
        return ", ".join(f"{name} ±{bound}" for name, bound in bounds.items()) or "-"


@admin.register(PrivacyBudget)
class PrivacyBudgetAdmin(ReadOnlyAdmin):
    """A buyer's epsilon per product and month: limit, reserved by running runs, spent."""

    list_display = (
        "product",
        "buyer",
        "period_start",
        "limit_epsilon",
        "reserved_epsilon",
        "spent_epsilon",
        "remaining",
    )
    list_select_related = ("product", "buyer")
    readonly_fields = (*list_display[:-1], "remaining")
    fields = readonly_fields

    @admin.display(description=_("remaining (epsilon)"))
    def remaining(self, obj):
        return obj.remaining_epsilon

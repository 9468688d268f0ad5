"""The query service in the admin: load, define, review with the checklist, run, read.

Each page calls the same service as the API; refusals come back as form errors
on the field they name, with nothing changed. A merchant sees only its own
data sets, templates, runs and budgets, and no page shows a row of the data.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from querying.choices import TEMPLATE_COMPLIANCE_CHECKLIST, TEMPLATE_PRIVACY_CHECKLIST
from querying.models import Dataset, PrivacyBudget, QueryRun, QueryTemplate
from querying.services import datasets
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.marketplace import person_of
from tests.factories.querying import agreement, approved_template, privacy_product
from tests.querying.data import COLUMNS, people, write_csv

pytestmark = pytest.mark.postgres


def url(model, view, *args):
    return reverse(f"admin:querying_{model._meta.model_name}_{view}", args=args)


def csv_upload(tmp_path, rows) -> SimpleUploadedFile:
    path = write_csv(tmp_path / "people.csv", rows)
    return SimpleUploadedFile("people.csv", path.read_bytes(), content_type="text/csv")


def loaded(tmp_path, product=None, rows=None) -> Dataset:
    dataset = datasets.dataset_declare(
        actor=None, product=product or privacy_product(), columns=COLUMNS, unit_column="person_id"
    )
    path = write_csv(tmp_path / "rows.csv", rows or people(600))
    datasets.dataset_load_start(
        actor=None, dataset=dataset, path=path, source_format="csv", queue=False
    )
    return datasets.dataset_load_run(dataset_id=dataset.pk, path=str(path))


def review_form(*, decision, comments="", unticked=()):
    data = {"decision": decision, "comments": comments}
    for prefix, items in (
        ("compliance", TEMPLATE_COMPLIANCE_CHECKLIST),
        ("privacy", TEMPLATE_PRIVACY_CHECKLIST),
    ):
        for key in items:
            if key not in unticked:
                data[f"{prefix}__{key}"] = "on"
    return data


def test_a_provider_declares_and_loads_a_data_set_in_the_admin(
    query_role, client, tmp_path, django_capture_on_commit_callbacks
):
    # given the provider of a privacy-computing product, signed in
    product = privacy_product()
    client.force_login(person_of(product.provider))
    rows = people(300)
    # when it declares the data set and uploads its CSV on the add page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(Dataset, "add"),
            {
                "product": product.pk,
                "columns": json.dumps(COLUMNS),
                "unit_column": "person_id",
                "budget_epsilon": "5",
                "data_file": csv_upload(tmp_path, rows),
            },
        )
    # then the data set is loaded, and its page shows the load and never a row
    assert response.status_code == 302, response.context["adminform"].form.errors
    dataset = Dataset.objects.get(product=product)
    assert (dataset.status, dataset.rows_loaded, dataset.budget_epsilon) == ("loaded", 300, 5)
    page = client.get(url(Dataset, "change", dataset.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "100%" in text
    assert "person_id" in text  # the declared column, by name
    assert rows[0]["person_id"] not in text
    assert str(rows[0]["income"]) not in text
    # a loaded data set is final: no file field any more
    assert 'name="data_file"' not in text


def test_a_bad_declaration_is_a_form_error_on_its_field_and_nothing_is_made(
    query_role, client, tmp_path
):
    product = privacy_product()
    client.force_login(person_of(product.provider))
    bad = [{"name": "income", "type": "float"}, {"name": "person_id", "type": "string"}]
    response = client.post(
        url(Dataset, "add"),
        {"product": product.pk, "columns": json.dumps(bad), "unit_column": "person_id"},
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "columns" in form.errors
    assert not Dataset.objects.exists()
    response = client.post(
        url(Dataset, "add"),
        {"product": product.pk, "columns": "[not json", "unit_column": "person_id"},
    )
    assert "columns" in response.context["adminform"].form.errors
    assert not Dataset.objects.exists()


def test_a_failed_load_shows_its_error_and_takes_a_corrected_file(
    query_role, client, tmp_path, django_capture_on_commit_callbacks
):
    # given a declared data set and a file missing a declared column
    product = privacy_product()
    dataset = datasets.dataset_declare(
        actor=None, product=product, columns=COLUMNS, unit_column="person_id"
    )
    client.force_login(person_of(product.provider))
    broken = write_csv(tmp_path / "broken.csv", people(50), columns=["person_id", "region"])
    upload = SimpleUploadedFile("broken.csv", broken.read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(Dataset, "change", dataset.pk), {"data_file": upload})
    dataset.refresh_from_db()
    assert dataset.status == "failed"
    assert dataset.load_error
    # when the provider uploads a corrected file on the same page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(Dataset, "change", dataset.pk), {"data_file": csv_upload(tmp_path, people(80))}
        )
    # then it is loaded
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert (dataset.status, dataset.rows_loaded) == ("loaded", 80)


def test_a_provider_defines_a_template_and_an_operator_reviews_it_with_the_checklist(
    query_role, client, tmp_path
):
    # given a loaded data set
    dataset = loaded(tmp_path)
    provider = person_of(dataset.product.provider)
    client.force_login(provider)
    # when the provider adds a template and submits it from the list
    response = client.post(
        url(QueryTemplate, "add"),
        {
            "dataset": dataset.pk,
            "name": "people by region",
            "aggregates": json.dumps([{"function": "count"}]),
            "dimensions": json.dumps(["region"]),
            "filters": json.dumps([{"column": "age", "op": "ge", "parameter": "min_age"}]),
            "min_group_size": "10",
            "epsilon_per_aggregate": "0.5",
            "delta": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    template = QueryTemplate.objects.get(dataset=dataset)
    client.post(
        url(QueryTemplate, "changelist"),
        {"action": "submit", "_selected_action": [template.pk], "reason": ""},
    )
    template.refresh_from_db()
    assert (template.status, template.cost_epsilon) == ("submitted", 0.5)
    # the provider reads it and cannot review it
    page = client.get(url(QueryTemplate, "change", template.pk))
    assert page.status_code == 200
    assert "decision" not in page.context["adminform"].form.fields
    client.post(url(QueryTemplate, "change", template.pk), review_form(decision="approve"))
    template.refresh_from_db()
    assert template.status == "submitted"
    # when an operator opens it, the page is the checklist; one item left unticked is refused
    client.force_login(OperatorFactory())
    page = client.get(url(QueryTemplate, "change", template.pk))
    assert set(page.context["adminform"].form.fields) >= {"decision", "privacy__unit_column"}
    refused = client.post(
        url(QueryTemplate, "change", template.pk),
        review_form(decision="approve", unticked=("bounds_public",)),
    )
    assert refused.status_code == 200
    assert "bounds_public" in str(refused.context["adminform"].form.non_field_errors())
    template.refresh_from_db()
    assert template.status == "submitted"
    # then with every item ticked it is approved, with the checklist kept
    done = client.post(
        url(QueryTemplate, "change", template.pk),
        review_form(decision="approve", comments="fine"),
    )
    assert done.status_code == 302
    template.refresh_from_db()
    assert template.status == "approved"
    assert template.privacy_checklist == dict.fromkeys(TEMPLATE_PRIVACY_CHECKLIST, True)
    assert template.review_comments == "fine"
    assert template.reviewer is not None
    # an approved template is no longer a review form
    page = client.get(url(QueryTemplate, "change", template.pk))
    assert "decision" not in page.context["adminform"].form.fields


def test_an_operator_sends_a_template_back_with_comments(query_role, client, tmp_path):
    dataset = loaded(tmp_path)
    from querying.services import templates

    template = templates.template_create(
        actor=None, dataset=dataset, name="all", aggregates=[{"function": "count"}]
    )
    templates.template_submit(actor=None, template=template)
    client.force_login(OperatorFactory())
    empty = client.post(url(QueryTemplate, "change", template.pk), review_form(decision="reject"))
    assert "comments" in empty.context["adminform"].form.errors
    sent = client.post(
        url(QueryTemplate, "change", template.pk),
        review_form(decision="reject", comments="k too small", unticked=("min_group_size",)),
    )
    assert sent.status_code == 302
    template.refresh_from_db()
    assert (template.status, template.review_comments) == ("draft", "k too small")
    assert template.privacy_checklist["min_group_size"] is False


def test_a_buyer_runs_a_template_in_the_admin_and_reads_the_aggregates(
    query_role, client, tmp_path, merchant_b, django_capture_on_commit_callbacks
):
    # given an approved template and a buyer holding the metered plan
    rows = people(900)
    dataset = loaded(tmp_path, rows=rows)
    template = approved_template(dataset)
    agreement(merchant_b, dataset.product)
    client.force_login(person_of(merchant_b))
    form = client.get(url(QueryRun, "add")).context["adminform"].form
    assert list(form.fields["template"].queryset) == [template]
    # when the buyer runs it with a parameter
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(QueryRun, "add"),
            {"template": template.pk, "parameters": json.dumps({"min_age": 18})},
        )
    # then the run's page shows the aggregates per group, the suppression and the cost
    run = QueryRun.objects.get(buyer=merchant_b)
    assert response.status_code == 302
    assert response["Location"] == url(QueryRun, "change", run.pk)
    assert run.status == "succeeded"
    page = client.get(url(QueryRun, "change", run.pk)).content.decode()
    assert "<th>region</th>" in page
    assert "<td>changsha</td>" in page
    assert run.result is not None
    assert f"<td>{run.result['rows'][0][1]}</td>" in page
    assert "zhangjiajie" not in page  # the group below k
    assert run.suppressed_groups == 1
    assert not any(row["person_id"] in page for row in rows)
    # the budget page shows what the run spent
    budget = PrivacyBudget.objects.get(buyer=merchant_b)
    assert budget.spent_epsilon == template.cost_epsilon
    assert client.get(url(PrivacyBudget, "change", budget.pk)).status_code == 200


def test_bad_parameters_are_a_form_error_and_nothing_runs(query_role, client, tmp_path, merchant_b):
    dataset = loaded(tmp_path)
    template = approved_template(dataset)
    agreement(merchant_b, dataset.product)
    client.force_login(person_of(merchant_b))
    response = client.post(
        url(QueryRun, "add"), {"template": template.pk, "parameters": json.dumps({"min_age": "x"})}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not QueryRun.objects.exists()


def test_each_merchant_sees_only_its_own_query_records_in_the_admin(
    query_role, client, tmp_path, merchant_b, django_capture_on_commit_callbacks
):
    # given a provider's data set and template, and a buyer's run and budget
    dataset = loaded(tmp_path)
    template = approved_template(dataset)
    agreement(merchant_b, dataset.product)
    client.force_login(person_of(merchant_b))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url(QueryRun, "add"),
            {"template": template.pk, "parameters": json.dumps({"min_age": 30})},
        )
    run = QueryRun.objects.get(buyer=merchant_b)
    budget = PrivacyBudget.objects.get(buyer=merchant_b)
    # when an outsider (no order, not the provider) looks and tries
    outsider = MerchantFactory(status="active")
    client.force_login(person_of(outsider))
    # then none of it opens, lists or can be chosen, and nothing runs
    for model, record in (
        (Dataset, dataset),
        (QueryTemplate, template),
        (QueryRun, run),
        (PrivacyBudget, budget),
    ):
        assert client.get(url(model, "change", record.pk)).status_code == 302
        listed = client.get(url(model, "changelist"))
        assert record not in listed.context["cl"].queryset
    form = client.get(url(QueryRun, "add")).context["adminform"].form
    assert not form.fields["template"].queryset.exists()
    tried = client.post(
        url(QueryRun, "add"), {"template": template.pk, "parameters": json.dumps({"min_age": 40})}
    )
    assert "template" in tried.context["adminform"].form.errors
    loads = client.post(url(Dataset, "change", dataset.pk), {"data_file": csv_upload(tmp_path, [])})
    assert loads.status_code == 302
    assert QueryRun.objects.count() == 1
    # the provider sees its data set and template, not the buyer's run or budget
    client.force_login(person_of(dataset.product.provider))
    assert client.get(url(Dataset, "change", dataset.pk)).status_code == 200
    assert client.get(url(QueryTemplate, "change", template.pk)).status_code == 200
    assert client.get(url(QueryRun, "change", run.pk)).status_code == 302
    assert client.get(url(PrivacyBudget, "change", budget.pk)).status_code == 302
    # and the buyer sees its run, but not the provider's data set
    client.force_login(person_of(merchant_b))
    assert client.get(url(QueryRun, "change", run.pk)).status_code == 200
    assert client.get(url(Dataset, "change", dataset.pk)).status_code == 302


def test_a_provider_fixes_a_template_sent_back_and_submits_it_again(query_role, client, tmp_path):
    # given a template the operators sent back with comments
    from querying.services import templates

    dataset = loaded(tmp_path)
    template = templates.template_create(
        actor=None, dataset=dataset, name="by region", aggregates=[{"function": "count"}],
        dimensions=["region"], min_group_size=3,
    )  # fmt: skip
    templates.template_submit(actor=None, template=template)
    templates.template_reject(actor=OperatorFactory(), template=template, comments="k of 3")
    client.force_login(person_of(dataset.product.provider))
    # when the provider opens it, reads the comments and raises k on the same page
    page = client.get(url(QueryTemplate, "change", template.pk))
    assert "k of 3" in page.content.decode()
    terms = {
        "name": "by region", "description": "", "aggregates": json.dumps([{"function": "count"}]),
        "dimensions": json.dumps(["region"]), "filters": "[]", "min_group_size": "10",
        "epsilon_per_aggregate": "0.5", "delta": "0",
    }  # fmt: skip
    bad = client.post(url(QueryTemplate, "change", template.pk), {**terms, "dimensions": '["x"]'})
    assert "dimensions" in bad.context["adminform"].form.errors
    saved = client.post(url(QueryTemplate, "change", template.pk), terms)
    # then the draft has the new k, and goes back to review from the list
    assert saved.status_code == 302
    template.refresh_from_db()
    assert (template.min_group_size, template.status) == (10, "draft")
    client.post(
        url(QueryTemplate, "changelist"),
        {"action": "submit", "_selected_action": [template.pk], "reason": ""},
    )
    template.refresh_from_db()
    assert template.status == "submitted"
    # a submitted template is no longer edited, and another merchant never could
    assert client.post(url(QueryTemplate, "change", template.pk), terms).status_code == 403
    client.force_login(person_of(MerchantFactory(status="active")))
    assert client.post(url(QueryTemplate, "change", template.pk), terms).status_code in (302, 403)
    template.refresh_from_db()
    assert template.min_group_size == 10

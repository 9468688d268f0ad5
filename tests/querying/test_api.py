"""The query service's API: declare, load, review, run (202), read the result; no rows ever."""

import pytest

from querying.choices import TEMPLATE_COMPLIANCE_CHECKLIST, TEMPLATE_PRIVACY_CHECKLIST
from tests.factories.marketplace import person_of
from tests.factories.querying import agreement, privacy_product
from tests.querying.data import COLUMNS, people, write_csv

pytestmark = pytest.mark.postgres


def test_a_buyer_runs_an_approved_template_through_the_api(
    query_role, api_client, operator_api, merchant_b, tmp_path, django_capture_on_commit_callbacks
):
    # given a provider's product, data set declared and loaded through the API
    product = privacy_product()
    provider = api_client(person_of(product.provider))
    declared = provider.post(
        "/api/v1/query-datasets/",
        {"product": product.pk, "columns": COLUMNS, "unit_column": "person_id"},
        format="json",
    )
    assert declared.status_code == 201, declared.json()
    dataset_id = declared.json()["id"]
    path = write_csv(tmp_path / "people.csv", people(1500))
    with django_capture_on_commit_callbacks(execute=True), path.open("rb") as handle:
        loaded = provider.post(
            f"/api/v1/query-datasets/{dataset_id}/load/", {"file": handle}, format="multipart"
        )
    assert loaded.status_code == 202
    assert provider.get(f"/api/v1/query-datasets/{dataset_id}/").json()["rows_loaded"] == 1500
    created = provider.post(
        "/api/v1/query-templates/",
        {
            "dataset": dataset_id,
            "name": "count by region",
            "aggregates": [{"function": "count"}],
            "dimensions": ["region"],
            "filters": [{"column": "age", "op": "ge", "parameter": "min_age"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    tid = created.json()["id"]
    assert (
        provider.post(f"/api/v1/query-templates/{tid}/submit/").json()["cost_epsilon"] == "0.500000"
    )
    operator_api.post(f"/api/v1/query-templates/{tid}/start-review/")
    half: dict[str, dict] = {"compliance_checklist": {}, "privacy_checklist": {}}
    refused = operator_api.post(f"/api/v1/query-templates/{tid}/approve/", half, format="json")
    assert refused.status_code == 400
    approved = operator_api.post(
        f"/api/v1/query-templates/{tid}/approve/",
        {
            "compliance_checklist": dict.fromkeys(TEMPLATE_COMPLIANCE_CHECKLIST, True),
            "privacy_checklist": dict.fromkeys(TEMPLATE_PRIVACY_CHECKLIST, True),
        },
        format="json",
    )
    assert approved.json()["status"] == "approved"
    buyer = api_client(person_of(merchant_b))
    # a buyer without an order does not even see the template
    assert buyer.post("/api/v1/query-runs/", {"template": tid}, format="json").status_code == 404
    agreement(merchant_b, product)
    # when the buyer runs it
    with django_capture_on_commit_callbacks(execute=True):
        answered = buyer.post(
            "/api/v1/query-runs/", {"template": tid, "parameters": {"min_age": 18}}, format="json"
        )
    # then 202 with the run id, and the result on the run
    assert answered.status_code == 202
    run = buyer.get(f"/api/v1/query-runs/{answered.json()['id']}/").json()
    assert run["status"] == "succeeded"
    assert [row[0] for row in run["result"]["rows"]] == ["changsha", "xiangtan", "zhuzhou"]
    assert run["result"]["suppressed_groups"] == 1
    bad = buyer.post(
        "/api/v1/query-runs/", {"template": tid, "parameters": {"min_age": "x"}}, format="json"
    )
    assert bad.status_code == 400
    assert "parameters.min_age" in str(bad.json())
    budgets = buyer.get("/api/v1/privacy-budgets/").json()["results"]
    assert budgets[0]["spent_epsilon"] == "0.500000"


def test_a_provider_changes_its_draft_template_through_the_api(
    query_role, api_client, merchant_b, tmp_path
):
    from querying.services import datasets, templates

    # given a draft template over a loaded data set
    product = privacy_product()
    dataset = datasets.dataset_declare(
        actor=None, product=product, columns=COLUMNS, unit_column="person_id"
    )
    path = write_csv(tmp_path / "people.csv", people(200))
    datasets.dataset_load_start(
        actor=None, dataset=dataset, path=path, source_format="csv", queue=False
    )
    datasets.dataset_load_run(dataset_id=dataset.pk, path=str(path))
    template = templates.template_create(
        actor=None, dataset=dataset, name="all", aggregates=[{"function": "count"}]
    )
    provider = api_client(person_of(product.provider))
    url = f"/api/v1/query-templates/{template.pk}/"
    # when the provider changes k and the grouping, then a bad column, then after submitting
    changed = provider.patch(url, {"min_group_size": 20, "dimensions": ["region"]}, format="json")
    bad = provider.patch(url, {"dimensions": ["nope"]}, format="json")
    other = api_client(person_of(merchant_b)).patch(url, {"name": "x"}, format="json")
    provider.post(f"{url}submit/")
    late = provider.patch(url, {"name": "late"}, format="json")
    # then the draft changed, and the rest is refused naming the field, nothing changed
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["min_group_size"], changed.json()["dimensions"]) == (20, ["region"])
    assert bad.status_code == 400
    assert "dimensions" in str(bad.json())
    assert other.status_code == 404
    assert late.status_code == 400
    template.refresh_from_db()
    assert (template.name, template.min_group_size, template.status) == ("all", 20, "submitted")

"""Loading a data set: declared schema, COPY with progress, a schema only the query role reads."""

import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from core.exceptions import BusinessRuleViolation
from querying.datastore import data_connection, query_role_name, web_role_can_read
from querying.services import datasets
from tests.factories.marketplace import person_of
from tests.factories.querying import privacy_product
from tests.querying.data import COLUMNS, people, write_csv, write_parquet

pytestmark = pytest.mark.postgres


def declare(product, **kwargs):
    kwargs.setdefault("columns", COLUMNS)
    kwargs.setdefault("unit_column", "person_id")
    return datasets.dataset_declare(actor=person_of(product.provider), product=product, **kwargs)


def load(dataset, path, source_format="csv"):
    datasets.dataset_load_start(
        actor=person_of(dataset.product.provider),
        dataset=dataset,
        path=path,
        source_format=source_format,
        queue=False,
    )
    return datasets.dataset_load_run(dataset_id=dataset.pk, path=str(path))


def count_rows(dataset) -> int:
    with data_connection(read_only=True) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(dataset.schema_name, "data"))
        )
        return cur.fetchone()[0]


def test_a_csv_loads_by_copy_with_progress(query_role, tmp_path):
    # given a declared data set and a CSV of 5,000 people
    dataset = declare(privacy_product())
    path = write_csv(tmp_path / "people.csv", people(5000))
    reports = []
    # when it is loaded
    datasets.dataset_load_start(
        actor=None, dataset=dataset, path=path, source_format="csv", queue=False
    )
    loaded = datasets.dataset_load_run(
        dataset_id=dataset.pk, path=str(path), report=lambda b, r: reports.append((b, r))
    )
    # then every row is in the data set's own schema, and the row says so
    assert loaded.status == "loaded"
    assert loaded.rows_loaded == 5000 == count_rows(dataset)
    assert loaded.progress_percent == 100
    assert list(loaded.events.values_list("to_status", flat=True)) == [
        "declared",
        "loading",
        "loaded",
    ]


def test_progress_is_written_while_a_large_file_loads(query_role, tmp_path, monkeypatch):
    # given a small reporting step, so that a 5,000-row file reports several times
    monkeypatch.setattr(datasets, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(datasets, "PROGRESS_EVERY_BYTES", 16384)
    dataset = declare(privacy_product())
    path = write_csv(tmp_path / "people.csv", people(5000))
    reports = []
    # when it loads
    load_start = datasets.dataset_load_start
    load_start(actor=None, dataset=dataset, path=path, source_format="csv", queue=False)
    datasets.dataset_load_run(
        dataset_id=dataset.pk, path=str(path), report=lambda b, r: reports.append((b, r))
    )
    # then progress rose step by step below the file's size
    assert len(reports) >= 5
    assert [b for b, _ in reports] == sorted(b for b, _ in reports)
    assert reports[-1][0] < path.stat().st_size
    assert 0 < reports[-1][1] < 5000


def test_a_parquet_file_loads(query_role, tmp_path):
    dataset = declare(privacy_product())
    path = write_parquet(tmp_path / "people.parquet", people(3000))
    loaded = load(dataset, path, "parquet")
    assert (loaded.status, loaded.rows_loaded, count_rows(dataset)) == ("loaded", 3000, 3000)


def test_columns_other_than_declared_fail_the_load_and_leave_no_rows(query_role, tmp_path):
    dataset = declare(privacy_product())
    names = ["person_id", "region", "income", "age", "seen_on", "phone"]
    rows = [dict(r, phone="13800000000") for r in people(10)]
    path = write_csv(tmp_path / "people.csv", rows, columns=names)
    failed = load(dataset, path)
    assert failed.status == "failed"
    assert "is_member" in failed.load_error
    assert "phone" in failed.load_error


def test_a_bad_value_fails_the_load_with_the_databases_reason_and_can_be_retried(
    query_role, tmp_path
):
    # given a file whose 3rd row has text in the age column
    dataset = declare(privacy_product())
    rows = people(10)
    rows[2]["age"] = "old"
    failed = load(dataset, write_csv(tmp_path / "bad.csv", rows))
    assert failed.status == "failed"
    assert "bigint" in failed.load_error
    # when the corrected file is loaded
    fixed = load(failed, write_csv(tmp_path / "good.csv", people(10)))
    # then the data set holds exactly the corrected rows
    assert (fixed.status, count_rows(dataset)) == ("loaded", 10)


def test_an_uploaded_file_is_deleted_once_loaded(
    query_role, tmp_path, django_capture_on_commit_callbacks
):
    dataset = declare(privacy_product())
    body = write_csv(tmp_path / "people.csv", people(100)).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        datasets.dataset_load_file(
            actor=person_of(dataset.product.provider),
            dataset=dataset,
            source=io.BytesIO(body),
            source_format="csv",
        )
    dataset.refresh_from_db()
    assert (dataset.status, dataset.rows_loaded) == ("loaded", 100)
    assert not any(datasets.upload_dir().iterdir())


def test_the_load_command_reports_progress(query_role, tmp_path):
    dataset = declare(privacy_product())
    path = write_csv(tmp_path / "people.csv", people(2000))
    out = io.StringIO()
    call_command("query_load", dataset.pk, str(path), stdout=out)
    assert "loaded 2,000 rows" in out.getvalue()
    assert path.exists()  # the operator's own file stays


def test_the_web_role_cannot_read_a_loaded_data_set(query_role, web_like_role, tmp_path):
    # given a loaded data set, and a web role as a deployment makes it: not a
    # superuser, and able to read every table of the exchange
    dataset = declare(privacy_product())
    load(dataset, write_csv(tmp_path / "people.csv", people(50)))
    s = connection.settings_dict
    params = {"host": s["HOST"] or "127.0.0.1", "port": s["PORT"] or 5432, "dbname": s["NAME"]}
    # when that role selects from the data set
    with (
        psycopg.connect(**params, user=web_like_role) as web,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        web.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(dataset.schema_name, "data")))
    # then it is refused; and the query role in turn reads none of the exchange's tables
    with (
        data_connection(read_only=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT * FROM accounts_merchant")
    assert query_role_name() == query_role


def test_the_schema_is_owned_by_the_query_role_and_closed_to_public(query_role, tmp_path):
    dataset = declare(privacy_product())
    load(dataset, write_csv(tmp_path / "people.csv", people(20)))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_get_userbyid(nspowner), has_schema_privilege('public', nspname, 'USAGE') "
            "FROM pg_namespace WHERE nspname = %s",
            [dataset.schema_name],
        )
        owner, public_usage = cur.fetchone()
    assert (owner, public_usage) == (query_role, False)
    # the test database's own role is a superuser, so this says only that the check works
    assert web_role_can_read(dataset.schema_name) is True


@pytest.mark.parametrize(
    ("columns", "unit", "field"),
    [
        ([{"name": "Person", "type": "string"}], "Person", "columns[0].name"),
        ([{"name": "count", "type": "string"}], "count", "columns[0].name"),
        (
            [{"name": "p", "type": "string"}, {"name": "x", "type": "float"}],
            "p",
            "columns[1].lower",
        ),
        (
            [
                {"name": "p", "type": "string"},
                {"name": "x", "type": "float", "lower": 5, "upper": 1},
            ],
            "p",
            "columns[1].upper",
        ),
        (
            [{"name": "p", "type": "string"}, {"name": "p", "type": "string"}],
            "p",
            "columns[1].name",
        ),
        ([{"name": "p", "type": "blob"}], "p", "columns[0].type"),
        ([{"name": "p", "type": "string"}], "q", "unit_column"),
        ([{"name": "p", "type": "date"}], "p", "unit_column"),
        (
            [
                {"name": "p", "type": "string"},
                {"name": "n", "type": "integer", "lower": 0.5, "upper": 3},
            ],
            "p",
            "columns[1].lower",
        ),
        ([], "p", "columns"),
    ],
)
def test_a_bad_schema_is_refused_naming_the_field(query_role, columns, unit, field):
    with pytest.raises(BusinessRuleViolation) as exc:
        declare(privacy_product(), columns=columns, unit_column=unit)
    assert exc.value.field == field


def test_only_privacy_computing_products_have_a_data_set(query_role):
    product = privacy_product()
    product.delivery_mode = "api"
    product.save()
    with pytest.raises(BusinessRuleViolation) as exc:
        declare(product)
    assert exc.value.field == "product"


def test_another_merchant_cannot_declare_a_data_set(query_role, merchant_b):
    product = privacy_product()
    with pytest.raises(BusinessRuleViolation) as exc:
        datasets.dataset_declare(
            actor=person_of(merchant_b), product=product, columns=COLUMNS, unit_column="person_id"
        )
    assert exc.value.code == "not_provider"

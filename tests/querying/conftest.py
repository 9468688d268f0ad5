"""Fixtures of the query service: the query role, and the data schemas a test leaves."""

import pytest
from psycopg import sql

from querying.datastore import data_connection, postgres_available, query_roles_ensure


def drop_data_schemas() -> None:
    """Drop every schema the query role owns in the test database (loads commit on their own)."""
    with data_connection(read_only=False) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE nspowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        for (schema,) in cur.fetchall():
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.commit()


@pytest.fixture(scope="session")
def query_role_created(django_db_setup, django_db_blocker):
    """Created once, committed, outside any test's transaction: other connections log in with it."""
    with django_db_blocker.unblock():
        if not postgres_available():
            return None
        return query_roles_ensure()


@pytest.fixture
def query_role(query_role_created, db, settings, tmp_path):
    """The query role exists and uploads go to a folder of this test's own."""
    settings.QUERY_UPLOAD_DIR = str(tmp_path / "uploads")
    if query_role_created is None:
        pytest.fail("query_role needs PostgreSQL; mark the test postgres")
    yield query_role_created
    drop_data_schemas()


@pytest.fixture(scope="session")
def web_like_role(django_db_setup, django_db_blocker):
    """A role made as a deployment makes the web's: no superuser, reads the exchange's tables."""
    from django.db import connection

    with django_db_blocker.unblock():
        role = f"{connection.settings_dict['NAME']}_webcheck"[-63:]
        with connection.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER")
                    .format(sql.Identifier(role))
                    .as_string(cur.connection)
                )
            cur.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}")
                .format(sql.Identifier(role))
                .as_string(cur.connection)
            )
        return role

"""Where loaded data lives: PostgreSQL schemas owned by the query role.

The exchange's web process connects with DATABASE_URL's role. Loaded data is
written and read only through a second connection made with the query role
(`query_role_name()`), which owns one schema per product version and can read
nothing else; the web role has no privilege on those schemas, so neither it
nor anything it serves (API, admin) can read a row. docs/querying.md says how
a deployment creates the roles; `manage.py query_roles` does it for `make run`
and the tests.
"""

import contextlib
import re
from collections.abc import Iterator
from urllib.parse import unquote, urlparse

import psycopg
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from psycopg import sql

from core.exceptions import BusinessRuleViolation

ROLE_SUFFIX = "_querydata"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def postgres_available() -> bool:
    return connection.vendor == "postgresql"


def require_postgres() -> None:
    """Refuse, with a reason, on a database that cannot keep loaded data apart."""
    if not postgres_available():
        raise BusinessRuleViolation(
            _(
                "the query service needs PostgreSQL (a schema per data set, readable only "
                "by the query role); this exchange runs on %(vendor)s"
            )
            % {"vendor": connection.vendor},
            code="needs_postgresql",
        )


def query_role_name() -> str:
    """The query role: QUERY_DATABASE_ROLE, or the database's name with `_querydata`.

    Named after the database so that several exchanges (and the test database)
    on one PostgreSQL cluster each have their own.
    """
    explicit = getattr(settings, "QUERY_DATABASE_ROLE", "")
    if explicit:
        return explicit
    name = str(connection.settings_dict["NAME"])
    return (re.sub(r"[^a-z0-9_]", "_", name.lower()) + ROLE_SUFFIX)[-63:]


def _connect_kwargs() -> dict:
    url = getattr(settings, "QUERY_DATABASE_URL", "")
    if url:
        parts = urlparse(url)
        return {
            "host": parts.hostname,
            "port": parts.port or 5432,
            "dbname": unquote(parts.path.lstrip("/")),
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or "") or None,
        }
    s = connection.settings_dict
    return {
        "host": s.get("HOST") or "127.0.0.1",
        "port": s.get("PORT") or 5432,
        "dbname": s["NAME"],
        "user": query_role_name(),
        "password": getattr(settings, "QUERY_DATABASE_PASSWORD", "") or None,
    }


@contextlib.contextmanager
def data_connection(*, read_only: bool, timeout_seconds: float | None = None) -> Iterator:
    """A connection as the query role, closed on exit; read-only for runs.

    The statement timeout is the run's time limit: the database cancels a
    query that takes longer, whatever the engine does.
    """
    require_postgres()
    conn = psycopg.connect(**_connect_kwargs(), autocommit=False)
    try:
        with conn.cursor() as cur:
            if timeout_seconds:
                cur.execute(
                    sql.SQL("SET statement_timeout = {}").format(
                        sql.Literal(int(timeout_seconds * 1000))
                    )
                )
            if read_only:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        conn.commit()
        yield conn
    finally:
        conn.close()


def query_roles_ensure(*, password: str | None = None) -> str:
    """Create the query role if it is missing and let it make schemas in this database.

    Run with DATABASE_URL's role, which needs CREATEROLE (or is a superuser)
    for this one step. The query role cannot log in as anybody else, owns
    nothing outside its schemas and is given nothing on the exchange's tables.
    Idempotent; returns the role's name.
    """
    require_postgres()
    role = query_role_name()
    password = (
        password
        if password is not None
        else (getattr(settings, "QUERY_DATABASE_PASSWORD", "") or None)
    )
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
                .format(sql.Identifier(role))
                .as_string(cur.connection)
            )
        if password:
            cur.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}")
                .format(sql.Identifier(role), sql.Literal(password))
                .as_string(cur.connection)
            )
        cur.execute(
            sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}")
            .format(sql.Identifier(connection.settings_dict["NAME"]), sql.Identifier(role))
            .as_string(cur.connection)
        )
    return role


def web_role_can_read(schema_name: str) -> bool:
    """Whether the web process's own role has any way into a data set's schema."""
    with connection.cursor() as cur:
        cur.execute("SELECT has_schema_privilege(current_user, %s, 'USAGE')", [schema_name])
        row = cur.fetchone()
    return bool(row and row[0])

"""Create the query role that owns and reads loaded data (idempotent)."""

from django.core.management.base import BaseCommand

from querying.datastore import postgres_available, query_roles_ensure


class Command(BaseCommand):
    help = "Create the query service's database role (needs CREATEROLE); see docs/querying.md."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=None, help="set this password on the role")

    def handle(self, *args, password=None, **options):
        if not postgres_available():
            self.stdout.write("query service: needs PostgreSQL; no role created on this database")
            return
        role = query_roles_ensure(password=password)
        self.stdout.write(f"query service: role {role} ready")

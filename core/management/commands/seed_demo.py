import importlib
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Merchant
from core.demo import BulkLoad, DemoContext

# Seeding order follows the apps' dependencies.
DEMO_APPS = ["accounts", "publicdata", "products", "marketplace", "settlements", "oversight"]
# The first app that reads what the others wrote (audit, statistics) rather than loading it.
READING_APP = "oversight"
# The app whose rows take longest to make in Python before it writes them (the orders).
BUILDING_APP = "marketplace"


class Command(BaseCommand):
    help = (
        "Fill an empty database with the exchange the provincial report describes: "
        "--scale 1 is the report's figures, --scale 100 the benchmark data set."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="1 = the report's figures (433 merchants, 3,859 listed products, 1.2 billion "
            "CNY turnover); fractions for tests, 100 for benchmarks.",
        )
        parser.add_argument("--seed", type=int, default=2024, help="Random seed (repeatable).")
        parser.add_argument(
            "--trading",
            choices=["history", "day", "none"],
            default=None,
            help="history: 18 months of trades, every past day cleared (default up to scale 1); "
            "day: one business day of accepted orders ready to clear (default above 1); "
            "none: no orders.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if merchants already exist."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")

    def handle(self, *args, scale, seed, trading, if_empty, quiet, **options):
        if scale <= 0 or scale > 1000:
            raise CommandError("--scale is a positive number up to 1000")
        if Merchant.objects.exists():
            if if_empty:
                self.stdout.write("Demo data already present; leaving the database as it is.")
                return
            raise CommandError(
                "the database already holds merchants: seed an empty database "
                "(or pass --if-empty to skip quietly)"
            )
        trading = trading or ("history" if scale <= 1 else "day")
        context = DemoContext(
            rng=random.Random(seed),  # noqa: S311 - demo data, nothing secret
            scale=scale,
            seed=seed,
            trading=trading,
            write=self.stdout.write,
            quiet=quiet,
        )
        self.stdout.write(
            f"Seeding the exchange at scale {scale:g} (seed {seed}, trading: {trading}) "
            f"on {connection.vendor} ..."
        )
        started = time.monotonic()
        modules = {app: importlib.import_module(f"{app}.demo") for app in DEMO_APPS}
        postgres = connection.vendor == "postgresql"
        bulk = {app: getattr(module, "BULK_MODELS", ()) for app, module in modules.items()}
        load = BulkLoad(m for models in bulk.values() for m in models)
        # One transaction: rows of one app point at rows of the next before those exist
        # (foreign keys are checked at commit), and a failed seeding leaves nothing.
        with transaction.atomic(), load.running(context):
            if postgres:
                with connection.cursor() as cursor:
                    # One commit at the end, durable once the WAL writer has flushed it
                    # (a fraction of a second); nothing is lost that a crash would not undo.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                load.set_aside()
            pending: list = []  # the finished stages' bulk models, indexes not yet rebuilt
            for app, module in modules.items():
                if postgres and pending and app == READING_APP:
                    # The audit and the statistics read through the indexes: all built first.
                    begun = time.monotonic()
                    self.stdout.write("indexes and keys:")
                    load.restore(context, pending)
                    context.timings["indexes"] = time.monotonic() - begun
                elif postgres and pending:
                    # The tables of the stages so far are complete: their indexes and keys
                    # are rebuilt in the background, and the next stage's first statement
                    # waits for them. The orders are made in Python before anything is
                    # written (their ids are read first), so that rebuild runs meanwhile.
                    if app == BUILDING_APP:
                        for model in bulk[app]:
                            context.ids(model, 0)
                    load.restore(context, pending, background=True)
                if postgres:
                    pending = []
                begun = time.monotonic()
                self.stdout.write(f"{app}:")
                module.seed(context)
                context.timings[app] = time.monotonic() - begun
                pending += bulk[app]
            begun = time.monotonic()
        if postgres:
            context.timings["commit"] = time.monotonic() - begun
            begun = time.monotonic()
            load.analyze_the_rest()
            context.timings["analyze"] = time.monotonic() - begun
        took = time.monotonic() - started
        parts = ", ".join(f"{app} {seconds:.1f} s" for app, seconds in context.timings.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {took:.1f} s ({parts})."))

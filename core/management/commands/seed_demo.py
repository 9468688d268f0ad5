import importlib
import random

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Merchant
from core.demo import DemoContext

# Seeding order follows the apps' dependencies.
DEMO_APPS = ["accounts", "publicdata", "products", "marketplace", "settlements", "oversight"]


class Command(BaseCommand):
    help = "Fill the database with demo data: an operator, merchants and what each app adds."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if merchants already exist."
        )
        parser.add_argument("--merchants", type=int, default=40, help="How many merchants.")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed (repeatable).")

    def handle(self, *args, if_empty: bool, merchants: int, seed: int, **options):
        if if_empty and Merchant.objects.exists():
            self.stdout.write("Demo data already present; leaving the database as it is.")
            return
        # A seeded generator makes the demo repeatable; nothing here is secret.
        rng = random.Random(seed)  # noqa: S311
        context = DemoContext(rng=rng, merchants=merchants, write=self.stdout.write)
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            self.stdout.write(f"Seeding {app} ...")
            with transaction.atomic():
                module.seed(context)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

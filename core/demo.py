"""Shared pieces for the demo data each app seeds (see `manage.py seed_demo`)."""

import random
from dataclasses import dataclass, field

DEMO_OPERATOR = ("operator", "operator-demo-2024")
DEMO_MERCHANT_OWNER = ("merchant", "merchant-demo-2024")


@dataclass
class DemoContext:
    """What the apps' seeders share: a seeded random source, the scale and a writer."""

    rng: random.Random
    merchants: int
    write: callable
    made: dict = field(default_factory=dict)

    def progress(self, label: str, done: int, total: int) -> None:
        if total and (done == total or done % max(1, total // 10) == 0):
            self.write(f"  {label}: {done}/{total}")

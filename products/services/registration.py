"""登记号 registration numbers: HNDP-<year>-<serial>, issued at first listing.

Format: the letters HNDP (Hunan data product), the local calendar year of
first listing, and a serial that starts at 000001 each year and is zero-padded
to six digits (it simply grows a digit past 999999). Example: HNDP-2026-000417.
A number belongs to one product for good: delisted products keep theirs, and
the per-year counter only ever counts up.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from products.models import RegistrationCounter

PREFIX = "HNDP"


def format_registration_number(year: int, serial: int) -> str:
    return f"{PREFIX}-{year}-{serial:06d}"


@transaction.atomic
def registration_number_issue(*, at: dt.datetime | None = None) -> str:
    """Take the next serial of the year of `at` (local time) and return the number.

    Invariant: no two calls ever return the same number. The year's counter row
    is created if missing (a conflict-ignoring insert, so two first listings of
    a new year do not both create it) and then locked FOR UPDATE, so concurrent
    listings queue on it; the increment commits or rolls back together with the
    product that received the number, so a number is never reused.
    """
    year = timezone.localtime(at or timezone.now()).year
    RegistrationCounter.objects.bulk_create([RegistrationCounter(year=year)], ignore_conflicts=True)
    counter = RegistrationCounter.objects.select_for_update().get(year=year)
    RegistrationCounter.objects.filter(pk=year).update(last_serial=F("last_serial") + 1)
    return format_registration_number(year, counter.last_serial + 1)

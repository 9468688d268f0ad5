import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from settlements.choices import ClearingStatus
from settlements.models import ClearingBatch
from settlements.services.payouts import payout_csv


class Command(BaseCommand):
    help = "Write the bank payout file (CSV) of a confirmed clearing batch."

    def add_arguments(self, parser):
        parser.add_argument("business_date", help="The batch's business day, YYYY-MM-DD.")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args, business_date: str, output: str | None, **options):
        try:
            day = dt.date.fromisoformat(business_date)
        except ValueError as exc:
            raise CommandError(f"'{business_date}' is not a date (YYYY-MM-DD)") from exc
        batch = ClearingBatch.objects.filter(business_date=day).first()
        if batch is None:
            raise CommandError(f"no clearing batch for {day}")
        if batch.status not in (ClearingStatus.CONFIRMED, ClearingStatus.SETTLED):
            raise CommandError(f"the batch of {day} is {batch.status}; confirm it first")
        text = payout_csv(batch=batch)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"{text.count(chr(10)) - 1} payout(s) written to {output}")
        else:
            self.stdout.write(text, ending="")

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.exceptions import BusinessRuleViolation
from oversight.services.disclosure import disclosure_csv, public_data_disclosure
from oversight.services.stats import present


class Command(BaseCommand):
    help = "Write the annual public-data disclosure (CSV, or JSON if the file ends in .json)."

    def add_arguments(self, parser):
        parser.add_argument("--year", default=None, help="The year disclosed (default: last year).")
        parser.add_argument(
            "--output", default=None, help="File to write (default: print CSV to stdout)."
        )

    def handle(self, *args, year, output, **options):
        try:
            document = public_data_disclosure(year=year or timezone.localdate().year - 1)
        except BusinessRuleViolation as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        as_json = bool(output and output.endswith(".json"))
        text = (
            json.dumps(present(document), ensure_ascii=False, indent=2)
            if as_json
            else disclosure_csv(document)
        )
        if output is None:
            self.stdout.write(text)
            return
        # A CSV file is opened in Excel, which needs the BOM to read UTF-8 Chinese.
        Path(output).write_text(text, encoding="utf-8" if as_json else "utf-8-sig")
        self.stdout.write(
            f"Disclosure {document['year']}: {len(document['grants'])} grant(s) -> {output}"
        )

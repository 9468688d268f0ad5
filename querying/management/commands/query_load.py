"""Load a local CSV or Parquet file into a declared data set, showing progress.

For files too large to upload through the API: the operator names a file on
the machine's disk and the load runs in this process, with the same service
the queued load uses. The file is left where it is (it is the operator's).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from querying.choices import DatasetStatus
from querying.models import Dataset
from querying.services.datasets import dataset_load_run, dataset_load_start


class Command(BaseCommand):
    help = "Load a CSV or Parquet file into a declared query data set."

    def add_arguments(self, parser):
        parser.add_argument("dataset", type=int, help="the data set's id")
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "parquet"], default=None)

    def handle(self, *args, dataset, file, format=None, **options):
        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        record = Dataset.objects.select_related("product").filter(pk=dataset).first()
        if record is None:
            raise CommandError(f"no data set {dataset}")
        source_format = format or ("parquet" if file.suffix.lower() == ".parquet" else "csv")
        size = max(1, file.stat().st_size)
        dataset_load_start(
            actor=None, dataset=record, path=file, source_format=source_format, queue=False
        )

        def report(bytes_read: int, rows: int) -> None:
            self.stdout.write(f"  {bytes_read * 100 // size:3d}%  {rows:,} rows")

        result = dataset_load_run(dataset_id=dataset, path=str(file), report=report)
        if result.status != DatasetStatus.LOADED:
            raise CommandError(f"load failed: {result.load_error}")
        self.stdout.write(f"loaded {result.rows_loaded:,} rows into {result.schema_name}")

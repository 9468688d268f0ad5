import json
import time

from django.core.management.base import BaseCommand, CommandError

from products.catalog import catalog_head, catalog_queryset, iter_catalog_nodes


class Command(BaseCommand):
    help = (
        "Write the whole catalog of listed products to a file as W3C DCAT 3 JSON-LD "
        "(for other exchanges), streaming in batches so memory stays flat."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write the JSON-LD document.")
        parser.add_argument(
            "--base-url",
            default="https://exchange.example",
            help="The exchange's public address, used in the nodes' @id.",
        )
        parser.add_argument("--batch", type=int, default=2000, help="Products per query.")

    def handle(self, *args, path: str, base_url: str, batch: int, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        base_url = base_url.rstrip("/")
        total = catalog_queryset().count()
        self.stdout.write(f"Exporting {total} listed products to {path}")
        started = time.monotonic()
        head = json.dumps(catalog_head(base_url), ensure_ascii=False, indent=1)
        try:
            out = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        with out:
            # The head's closing brace is replaced by the two streamed arrays.
            out.write(head[: head.rstrip().rfind("}")].rstrip() + ',\n "dcat:dataset": [\n')
            done = 0
            for dataset, _service in iter_catalog_nodes(base_url=base_url, batch=batch):
                if done:
                    out.write(",\n")
                out.write(json.dumps(dataset, ensure_ascii=False))
                done += 1
                if done % (batch * 5) == 0 or done == total:
                    self.stdout.write(f"  datasets: {done}/{total}")
            out.write('\n ],\n "dcat:service": [\n')
            services = 0
            for _dataset, service in iter_catalog_nodes(
                base_url=base_url, batch=batch, services_only=True
            ):
                if services:
                    out.write(",\n")
                out.write(json.dumps(service, ensure_ascii=False))
                services += 1
            out.write("\n ]\n}\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {done} datasets and {services} data services to {path} "
                f"in {time.monotonic() - started:.1f}s"
            )
        )

from django.core.management.base import BaseCommand, CommandError

from interchange import services
from interchange.models import PartnerExchange


class Command(BaseCommand):
    help = (
        "Harvest partner exchanges' catalogs now (all active partners, or those named), "
        "printing each run's counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("partner_ids", nargs="*", type=int, help="Partner ids (default: all).")
        parser.add_argument("--full", action="store_true", help="Read everything, not changes.")

    def handle(self, *args, partner_ids, full, **options):
        partners = PartnerExchange.objects.filter(is_active=True).order_by("id")
        if partner_ids:
            partners = PartnerExchange.objects.filter(pk__in=partner_ids).order_by("id")
            missing = set(partner_ids) - set(partners.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no partner with id {', '.join(map(str, sorted(missing)))}")
        total = partners.count()
        for index, partner in enumerate(partners, start=1):
            self.stdout.write(f"[{index}/{total}] {partner.name}: harvesting {partner.catalog_url}")
            run = services.partner_harvest(actor=None, partner=partner, full=full)
            self.stdout.write(
                f"  {run.status}: {run.pages} pages, new {run.new_count}, updated "
                f"{run.updated_count}, unchanged {run.unchanged_count}, delisted "
                f"{run.delisted_count}, refused {run.refused_count}"
            )
            for error in run.errors[:10]:
                self.stdout.write(f"  ! {error['where']}: {error['reason']}")

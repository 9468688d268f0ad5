import os

from django.core.management.base import BaseCommand

from core.demo import DEMO_MERCHANT_OWNER, DEMO_OPERATOR


class Command(BaseCommand):
    help = "Print where to sign in and the demo accounts."

    def handle(self, *args, **options):
        base = f"http://{os.environ.get('EXCHANGE_ADDR', '127.0.0.1:8000')}"
        lines = [
            "",
            "The exchange is starting. Sign in at:",
            f"  admin         {base}/admin/",
            f"  API           {base}/api/v1/   (token: POST {base}/api/v1/auth/token/)",
            f"  API docs      {base}/api/docs/",
            f"  operator      {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}",
            f"  merchant      {DEMO_MERCHANT_OWNER[0]} / {DEMO_MERCHANT_OWNER[1]}",
            "Press Ctrl-C to stop the web process, the worker and beat together.",
            "",
        ]
        self.stdout.write("\n".join(lines))

"""What people do on the exchange's pages, step by step, shared by the browser scenarios."""

import re
from pathlib import Path

from django.core import mail

from accounts.models import MerchantApplication

PASSWORD = "Shuju-Zhanghu-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def sign_in(steps, page, username: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login/?next=/admin/")
    steps.shot(page, f"sign-in-{username}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    steps.shot(page, f"signed-in-{username}")


def run_action(steps, page, changelist: str, pk: int, action: str, reason: str = "") -> None:
    """Tick one row of an admin list, choose an action (with its reason) and run it."""
    page.goto(changelist)
    page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    if reason:
        page.fill("input[name=reason]", reason)
    steps.shot(page, f"action-{action}")
    page.click("button[name=index]")
    page.wait_for_load_state()
    steps.shot(page, f"action-{action}-done")


def apply_to_join(steps, page, tmp_path: Path, company: dict) -> MerchantApplication:
    """A company fills in the public joining page and sends its licence scan."""
    page.goto("/join/")
    steps.shot(page, "join-form")
    for field in (
        "legal_name",
        "credit_code",
        "address",
        "contact_name",
        "contact_phone",
        "contact_email",
        "bank_name",
        "bank_account_name",
        "bank_account_number",
        "owner_username",
        "owner_email",
    ):
        page.fill(f"#id_{field}", company[field])
    page.select_option("#id_region", company["region"])
    for kind in company["kinds"]:
        page.check(f"input[name=kinds][value={kind}]")
    scan = tmp_path / "licence.png"
    scan.write_bytes(PNG)
    page.set_input_files("#id_licence_scan", str(scan))
    steps.shot(page, "join-form-filled")
    page.click("input[type=submit]")
    page.wait_for_url("**/join/sent/**")
    steps.shot(page, "join-sent")
    return MerchantApplication.objects.get(merchant__credit_code=company["credit_code"])


def link_from_mail(to: str, path: str) -> str:
    """The link of the last e-mail sent to `to` whose path contains `path`."""
    bodies = [m.body for m in mail.outbox if to in m.to]
    assert bodies, f"no e-mail to {to}"
    link = re.search(rf"https?://\S+{re.escape(path)}\S+", bodies[-1])
    assert link, bodies[-1]
    return link.group(0)


def resubmit_from_mail(steps, page, to: str, corrections: dict) -> None:
    """The company opens the link of the rejection e-mail, corrects its application, sends it."""
    page.goto(link_from_mail(to, "/join/resubmit/"))
    steps.shot(page, "join-correct")
    for field, value in corrections.items():
        page.fill(f"#id_{field}", value)
    steps.shot(page, "join-corrected")
    page.click("input[type=submit]")
    page.wait_for_url("**/join/sent/**")
    steps.shot(page, "join-sent-again")


def set_password_from_mail(steps, page, to: str, password: str = PASSWORD) -> None:
    """The owner opens the link of the approval e-mail and chooses a password."""
    page.goto(link_from_mail(to, "/password/set/"))
    steps.shot(page, "set-password")
    page.fill("#id_new_password1", password)
    page.fill("#id_new_password2", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/password/set/done/**")
    steps.shot(page, "password-set")


def order_move(steps, page, order, name: str, reason: str = "") -> None:
    """Press one of the order page's buttons (pay, deliver, accept...)."""
    page.goto(f"/admin/marketplace/order/{order.pk}/change/")
    if reason:
        page.fill(f"#move-{name}-reason", reason)
    steps.shot(page, f"order-{name}")
    page.click(f"#move-{name} input[type=submit]")
    page.wait_for_load_state()
    # the payment channel's reference is its data, not our words
    steps.allow(*order.payment_notifications.values_list("channel_reference", flat=True))
    steps.shot(page, f"order-{name}-done")

import pytest
from django.urls import reverse

from oversight.models import AuditFinding
from oversight.services.stats import stats_refresh
from tests.factories.accounts import PersonFactory
from tests.factories.oversight import AuditFindingFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:oversight_statssnapshot_changelist"


def test_the_dashboard_shows_the_figures_and_three_inline_svg_charts(client, operator, exchange):
    # given a snapshot of the exchange
    stats_refresh()
    client.force_login(operator)
    # when an operator opens the dashboard
    response = client.get(reverse(DASHBOARD))
    # then it shows the figures and draws the charts on the server, nothing from a CDN
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('role="img"') == 3
    assert '<script src="http' not in html  # nothing fetched from the internet
    assert "Weather board" in html
    assert "¥500.00" in html  # cumulative turnover in yuan


def test_the_dashboard_computes_a_first_snapshot_if_none_exists(client, operator):
    client.force_login(operator)
    assert client.get(reverse(DASHBOARD)).status_code == 200


def test_the_admin_index_links_operators_to_the_dashboard(client, operator):
    client.force_login(operator)
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse(DASHBOARD) in html


def test_merchants_neither_see_nor_open_the_dashboard_or_findings(client, merchant_a):
    # given a merchant's person
    client.force_login(PersonFactory(merchant=merchant_a))
    finding = AuditFindingFactory()
    # when they try the dashboard, the index and a finding
    dashboard = client.get(reverse(DASHBOARD))
    index = client.get(reverse("admin:index")).content.decode()
    opened = client.get(reverse("admin:oversight_auditfinding_change", args=[finding.pk]))
    # then they are refused and not even shown the links
    assert dashboard.status_code == 403
    assert reverse(DASHBOARD) not in index
    assert opened.status_code in (302, 403)


def test_operators_acknowledge_and_resolve_findings_from_the_admin(client, operator):
    # given two open findings
    first, second = AuditFindingFactory(), AuditFindingFactory()
    client.force_login(operator)
    url = reverse("admin:oversight_auditfinding_changelist")
    # when one is acknowledged, and resolving is tried without then with a reason
    client.post(url, {"action": "acknowledge", "_selected_action": [first.pk], "reason": ""})
    client.post(url, {"action": "resolve", "_selected_action": [second.pk], "reason": ""})
    unresolved = AuditFinding.objects.get(pk=second.pk).status
    client.post(url, {"action": "resolve", "_selected_action": [second.pk], "reason": "fixed"})
    # then each did what it says, with who and why
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "acknowledged"
    assert unresolved == "open"
    assert second.status == "resolved"
    assert second.resolved_by == operator
    assert second.resolution == "fixed"
    assert (
        client.get(reverse("admin:oversight_auditfinding_change", args=[second.pk])).status_code
        == 200
    )

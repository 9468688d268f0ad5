import random

import pytest

from accounts import demo as accounts_demo
from core.demo import DemoContext
from publicdata import demo
from publicdata.models import Grant, Scenario
from publicdata.rules import scenario_in_force

pytestmark = pytest.mark.django_db


def test_demo_seeds_departments_grants_and_authorized_scenarios():
    # given the accounts demo has run
    context = DemoContext(rng=random.Random(7), merchants=6, write=lambda *_: None)
    accounts_demo.seed(context)
    # when the public-data demo runs
    demo.seed(context)
    # then the weather department is shared, grants are active with scenarios in force
    assert context.made["weather_department"].code == "HN-QX"
    assert Grant.objects.filter(status="active").count() == len(demo.GRANTS)
    assert Grant.objects.filter(status="pending").count() == 1
    assert all(scenario_in_force(s) for s in context.made["scenarios"])
    assert Scenario.objects.filter(status="failed").count() == 1
    assert Scenario.objects.filter(purpose="public_interest").exists()

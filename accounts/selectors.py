from django.db.models import QuerySet

from accounts.models import Merchant
from core.scoping import scope_to_merchant


def merchant_list(*, user) -> QuerySet[Merchant]:
    return scope_to_merchant(Merchant.objects.all(), user)


def merchant_get(*, user, pk: int) -> Merchant:
    return merchant_list(user=user).get(pk=pk)

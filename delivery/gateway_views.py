"""`/gateway/<registration number>/<path>`: the buyer's calls, forwarded to the upstream.

A plain Django view, not DRF: the gateway answers with the upstream's bytes
and its own refusals as the API's error shape, and the exchange's sign-in
plays no part (the API key decides).
"""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from delivery.services.gateway import CALL_ID_HEADER, GatewayRefusal, gateway_call

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _refusal(refusal: GatewayRefusal) -> HttpResponse:
    body = {"detail": refusal.message, "error_code": refusal.code, "errors": []}
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=refusal.status,
        content_type="application/json",
    )
    if refusal.retry_after is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@csrf_exempt
def gateway_view(request: HttpRequest, registration_number: str, path: str = "") -> HttpResponse:
    try:
        if request.method not in METHODS:
            raise GatewayRefusal(
                405,
                "method_not_allowed",
                _("The gateway forwards GET, POST, PUT, PATCH and DELETE."),
            )
        limit = settings.EXCHANGE_GATEWAY_MAX_REQUEST_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = -1
        if declared < 0 or declared > limit:
            raise GatewayRefusal(
                413, "too_large", _("A call's body is at most %(limit)s bytes.") % {"limit": limit}
            )
        body = request.read(limit + 1) if declared else b""
        answer = gateway_call(
            registration_number=registration_number,
            path=path,
            method=request.method or "GET",
            query=request.META.get("QUERY_STRING", ""),
            headers=request.headers,
            body=body,
        )
    except GatewayRefusal as refusal:
        return _refusal(refusal)
    response = HttpResponse(answer.body, status=answer.status)
    if "content-type" not in answer.headers:
        del response["Content-Type"]
    for name, value in answer.headers.items():
        response[name] = value
    response[CALL_ID_HEADER] = answer.headers.get(CALL_ID_HEADER, "")
    return response

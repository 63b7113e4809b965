import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors

logger = logging.getLogger(__name__)


@login_required
def home(request):
    return render(request, "portal/home.html", selectors.home_for_user(user=request.user))


def _check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database unreachable")
        return False


def _check_redis() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        return bool(client.ping())
    except Exception:
        logger.exception("health check: redis unreachable")
        return False


@never_cache
@require_GET
def healthz(request):
    """JSON status of the database and (when configured) Redis; 503 when one is down."""
    checks = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis()
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "error",
        **{k: "ok" if v else "down" for k, v in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def favicon(request):
    """Pages that name no icon (the admin's) make browsers ask for /favicon.ico."""
    return redirect(static("icons/icon-192.png"), permanent=True)

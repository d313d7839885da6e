import asyncio
import logging

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from realtime.redis_hosts import answers

logger = logging.getLogger(__name__)
# Seconds each dependency has to answer the readiness check.
READINESS_TIMEOUT = 2


def index(request):
    """Home page, linking to the sample apps this project was baked with."""
    samples = {app: apps.is_installed(app) for app in ("chat", "notifications", "thumbnails")}
    return render(request, "index.html", samples)


def healthz(request):
    """The liveness check (the Dockerfile's HEALTHCHECK): "ok" means this process serves
    HTTP. It reads neither the database nor Redis, whose outages restarting this process
    would not mend; readyz reads both.
    """
    return HttpResponse("ok", content_type="text/plain")


async def readyz(request):
    """The readiness check (a load balancer's, Kubernetes' readinessProbe): 200 while this
    process reaches the database and every Redis server of its channel layers, 503 while
    one does not answer. {"database": "ok", "redis": "unavailable"} says which; the
    reason goes to the log, not to whoever asked.
    """
    checks = {"database": sync_to_async(database_answers)()}
    if hosts := redis_hosts_in_use():
        checks["redis"] = asyncio.to_thread(all_answer, hosts)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(check, READINESS_TIMEOUT) for check in checks.values()),
        return_exceptions=True,
    )
    report = {}
    for name, outcome in zip(checks, outcomes, strict=True):
        report[name] = "ok" if outcome is True else "unavailable"
        if outcome is not True:
            reason = f"{type(outcome).__name__}: {outcome}"
            logger.warning("Not ready: %s does not answer (%s)", name, reason)
    ready = all(state == "ok" for state in report.values())
    return JsonResponse(report, status=200 if ready else 503)


def database_answers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True


def redis_hosts_in_use():
    """The Redis host entries of every channel layer, each once."""
    hosts = []
    for layer in settings.CHANNEL_LAYERS.values():
        for host in layer.get("CONFIG", {}).get("hosts", []):
            if host not in hosts:
                hosts.append(host)
    return hosts


def all_answer(hosts):
    return all(answers(host, READINESS_TIMEOUT) for host in hosts)

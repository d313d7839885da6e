import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings

from realtime import serve

# Asks daphne's command line for its help (one daphne: in this process), then names
# the class of the loop daphne made when it was imported.
LOOP_OF_DAPHNE = """
import sys
sys.argv = ["serve", "--help"]
from realtime import serve
try:
    serve.main()
except SystemExit:
    pass
from daphne import server
print(type(server.twisted_loop).__module__)
"""


def test_the_procfiles_daphne_runs_on_uvloop():
    result = subprocess.run(
        [sys.executable, "-c", LOOP_OF_DAPHNE],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DAPHNE_PROCESSES": "1"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert "--websocket_connect_timeout" in result.stdout  # daphne's own options
    assert result.stdout.splitlines()[-1].startswith("uvloop")


def test_a_container_cpu_quota_lowers_the_number_of_daphnes(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    quota = tmp_path / "cpu.max"

    quota.write_text("max 100000\n")  # no quota
    assert serve.usable_cpus(quota) == 4
    quota.write_text("50000 100000\n")  # half a core
    assert serve.usable_cpus(quota) == 1
    quota.write_text("150000 100000\n")
    assert serve.usable_cpus(quota) == 2
    assert serve.usable_cpus(tmp_path / "no-cgroup-v2") == 4


@pytest.mark.parametrize("count", ["0", "two", "-1"])
def test_a_number_of_daphnes_that_is_not_a_count_is_refused(count, monkeypatch):
    monkeypatch.setenv("DAPHNE_PROCESSES", count)

    with pytest.raises(SystemExit, match="DAPHNE_PROCESSES must be a whole number"):
        serve.processes_wanted()


@pytest.fixture
def redis_layer(settings):
    """Settings whose groups reach every process, as production's do."""
    pubsub = "channels_redis.pubsub.RedisPubSubChannelLayer"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": pubsub}}


def test_a_unix_socket_or_ipv6_means_one_daphne_and_refuses_more(redis_layer, monkeypatch):
    started = []
    monkeypatch.setattr(serve, "run_daphne", lambda: started.append("one daphne"))
    monkeypatch.setattr(serve, "usable_cpus", lambda: 2)
    monkeypatch.setattr(sys, "platform", "linux")
    for arguments in (["-u", "/run/daphne.sock"], ["-b", "::", "-p", "8000"]):
        monkeypatch.setattr(sys, "argv", ["serve", *arguments, "project.asgi:application"])
        monkeypatch.delenv("DAPHNE_PROCESSES", raising=False)
        serve.main()

        monkeypatch.setenv("DAPHNE_PROCESSES", "2")
        with pytest.raises(SystemExit, match="set DAPHNE_PROCESSES=1"):
            serve.main()

    assert started == ["one daphne", "one daphne"]


def test_one_daphne_serves_the_development_settings_by_default(redis_layer, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DAPHNE_PROCESSES", raising=False)
    monkeypatch.setattr(serve, "usable_cpus", lambda: 2)
    assert serve.processes_wanted() == 2

    # asgi.py's default: the development settings.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")
    assert serve.processes_wanted() == 1


@pytest.mark.parametrize(
    ("backend", "platform", "refusal"),
    [
        ("channels.layers.InMemoryChannelLayer", "linux", "in-memory channel layer"),
        ("channels_redis.pubsub.RedisPubSubChannelLayer", "darwin", "needs Linux"),
    ],
)
def test_one_daphne_by_default_and_no_more_where_several_would_fail(
    backend, platform, refusal, settings, monkeypatch
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": backend}}
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(serve, "usable_cpus", lambda: 2)

    monkeypatch.delenv("DAPHNE_PROCESSES", raising=False)
    assert serve.processes_wanted() == 1
    monkeypatch.setenv("DAPHNE_PROCESSES", "2")
    with pytest.raises(SystemExit, match=refusal):
        serve.processes_wanted()


def test_an_address_in_use_is_refused_before_any_daphne_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(SystemExit, match=f"cannot listen on 127.0.0.1:{port}"):
            serve.supervise(2, ("127.0.0.1", port), ["project.asgi:application"])

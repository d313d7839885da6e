"""The README's demo command works as written, from an empty folder."""

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from types import SimpleNamespace

import pytest

from bakery import TEMPLATE_DIR
from clients import ChatClient
from servers import clean_environment, die_with_parent, wait_for_port, wait_for_text

README = (TEMPLATE_DIR / "README.md").read_text()
# The demo binds these fixed ports, as a developer's machine would.
DEMO_PORTS = {"daphne": 8000, "redis": 6379}


def shell_blocks(markdown):
    return re.findall(r"```sh\n(.*?)```", markdown, re.DOTALL)


def demo_command():
    [command] = [block for block in shell_blocks(README) if "cookiecutter --no-input" in block]
    return command.strip().replace("gh:org/repo", str(TEMPLATE_DIR))


def port_in_use(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def demo(tmp_path):
    busy = [name for name, port in DEMO_PORTS.items() if port_in_use(port)]
    assert not busy, f"the demo needs ports {DEMO_PORTS}; in use: {busy}"
    env = clean_environment()
    log_path = tmp_path / "demo.log"
    with open(log_path, "wb") as log:
        # A session of its own, so that honcho and everything it started stop together.
        shell = subprocess.Popen(
            ["bash", "-c", demo_command()],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            wait_for_port(DEMO_PORTS["daphne"], shell, timeout=540)
            yield SimpleNamespace(log=log_path, shell=shell, project=tmp_path / "my_realtime_site")
        finally:
            with contextlib.suppress(ProcessLookupError):  # the test may have stopped it
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=30)


def processes_in_session(session_id):
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            if os.getsid(pid) == session_id:
                alive.append(pid)
    return alive


def get_when_served(url, timeout=30):
    """The body at url, once it answers 200 (the server may be restarting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.timeout(600)
def test_demo_command_serves_pages_and_chat_with_redis_and_worker(demo):
    with urllib.request.urlopen("http://127.0.0.1:8000/", timeout=10) as page:
        assert b"<h1>My Realtime Site</h1>" in page.read()

    async def chat():
        alice = await ChatClient.join("http://127.0.0.1:8000", "demo")
        bob = await ChatClient.join("http://127.0.0.1:8000", "demo")
        await alice.send("hi")
        return await bob.next("message")

    assert asyncio.run(chat())["text"] == "hi"
    # The worker may still be starting when daphne already answers.
    log = wait_for_text(demo.log, "Running worker for channels")
    # One stream, each line prefixed with the process it came from.
    prefixes = set(re.findall(r"^\S+ (\w+)\.1 +\| ", log, re.MULTILINE))
    assert {"redis", "web", "worker"} <= prefixes, prefixes
    assert re.search(r"redis\.1 +\| .*Ready to accept connections", log)
    assert re.search(r"worker\.1 +\| .*Running worker for channels", log)

    # A code change restarts daphne and the worker, as runserver would: urls.py is
    # daphne's alone, routings.py (loaded by asgi.py) the worker's too. Django's
    # reloader takes its first look at the files a moment after starting: a change
    # before that look goes unseen.
    time.sleep(3)
    with open(demo.project / "my_realtime_site" / "urls.py", "a") as urls:
        urls.write(
            "\nfrom django.http import HttpResponse  # noqa: E402\n"
            'urlpatterns.append(path("reloaded/", lambda request: HttpResponse("new code")))\n'
        )
    with open(demo.project / "my_realtime_site" / "routings.py", "a") as routings:
        routings.write("# changed\n")
    assert get_when_served("http://127.0.0.1:8000/reloaded/") == b"new code"
    deadline = time.monotonic() + 30
    # The worker logs its start once per process that runs it (not the reloader's).
    while demo.log.read_text(errors="replace").count("Running worker for channels") < 2:
        assert time.monotonic() < deadline, "the worker did not restart"
        time.sleep(0.2)

    # Ctrl-C in the terminal: SIGINT to the foreground process group.
    os.killpg(demo.shell.pid, signal.SIGINT)
    demo.shell.wait(timeout=30)
    deadline = time.monotonic() + 10
    while processes_in_session(demo.shell.pid):
        assert time.monotonic() < deadline, "processes outlived Ctrl-C"
        time.sleep(0.2)
    assert not any(port_in_use(port) for port in DEMO_PORTS.values())


def test_readme_test_command_is_what_ci_runs():
    ci_script = (TEMPLATE_DIR / ".ci" / "run").read_text()
    [test_command] = [block.strip() for block in shell_blocks(README) if "pytest" in block]
    assert test_command in ci_script.splitlines()

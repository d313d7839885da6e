"""The README's demo command works as written, from an empty folder."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import urllib.request

import pytest

from bakery import TEMPLATE_DIR
from clients import ChatClient
from conftest import PROJECT_VARIABLES
from servers import die_with_parent, wait_for_port, wait_for_text

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
    env = {key: value for key, value in os.environ.items() if not key.startswith(PROJECT_VARIABLES)}
    env.pop("VIRTUAL_ENV", None)
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
            yield log_path
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=30)


@pytest.mark.timeout(600)
def test_demo_command_serves_pages_and_chat_with_redis_and_worker(demo):
    with urllib.request.urlopen("http://127.0.0.1:8000/", timeout=10) as page:
        assert b"It works" in page.read()

    async def chat():
        alice = await ChatClient.join("http://127.0.0.1:8000", "demo")
        bob = await ChatClient.join("http://127.0.0.1:8000", "demo")
        await alice.send("hi")
        return await bob.next("message")

    assert asyncio.run(chat())["text"] == "hi"
    assert "Ready to accept connections" in demo.read_text(errors="replace")  # redis-server
    # The worker may still be starting when daphne already answers.
    assert "Running worker for channels" in wait_for_text(demo, "Running worker for channels")


def test_readme_test_command_is_what_ci_runs():
    ci_script = (TEMPLATE_DIR / ".ci" / "run").read_text()
    [test_command] = [block.strip() for block in shell_blocks(README) if "pytest" in block]
    assert test_command in ci_script.splitlines()

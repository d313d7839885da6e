"""daphne on uvloop, one process per core: `python -m realtime.serve` with daphne's own
arguments.

daphne creates its event loop when it is imported, before it reads asgi.py, so the
project cannot choose the loop from there. This sets uvloop's policy first (when
uvloop is installed; it has no Windows build), then runs daphne's command line.
`daphne ...` still serves the project, on asyncio's loop, in one process.

daphne runs on one core. With DAPHNE_PROCESSES above 1 (by default, on Linux with
DJANGO_SETTINGS_MODULE set, as in production, the cores this process may use,
container quota included), this process runs that many daphnes on the `-b`/`-p`
address, each on a socket of its own (SO_REUSEPORT: the kernel spreads connections
evenly), where Channels' deployment docs have several daphnes share one `--fd`
socket. It passes SIGTERM and SIGINT on to them and replaces one that dies, unless
it failed as it started (an error exit within STARTUP_SECONDS): then the deploy is
broken, so it stops them all and exits with an error for the platform to report.
The daphnes keep their metrics in one directory (PROMETHEUS_MULTIPROC_DIR, a new
temporary one unless set), so that whichever answers /metrics/ counts them all.
"""

import argparse
import asyncio
import ctypes
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import multiprocess

STARTUP_SECONDS = 10
CPU_QUOTA = Path("/sys/fs/cgroup/cpu.max")
PR_SET_PDEATHSIG = 1


def main():
    count = processes_wanted()
    address, daphne_arguments = address_of(sys.argv[1:])
    if count > 1 and address is None:
        if "DAPHNE_PROCESSES" in os.environ:
            sys.exit(
                "realtime.serve runs several daphnes on an IPv4 -b/-p address only; for a "
                "unix socket, a file descriptor, an endpoint or IPv6, set DAPHNE_PROCESSES=1."
            )
        count = 1
    if count == 1:
        run_daphne()
    elif "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        sys.exit(supervise(count, address, daphne_arguments))
    else:
        metrics_dir = tempfile.mkdtemp(prefix="daphne-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            sys.exit(supervise(count, address, daphne_arguments))
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def run_daphne():
    try:
        import uvloop
    except ImportError:
        pass
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # Imported only now: importing daphne's server creates the loop it runs on.
    from daphne.cli import CommandLineInterface

    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


def processes_wanted():
    configured = os.environ.get("DAPHNE_PROCESSES", "").strip()
    if not configured:
        # Without DJANGO_SETTINGS_MODULE, asgi.py runs the development settings: one daphne.
        chosen = "DJANGO_SETTINGS_MODULE" in os.environ
        several = sys.platform == "linux" and chosen and not in_memory_layer()
        return usable_cpus() if several else 1
    if not configured.isdigit() or int(configured) < 1:
        sys.exit(f"DAPHNE_PROCESSES must be a whole number of at least 1, not {configured!r}.")
    if configured != "1" and sys.platform != "linux":
        sys.exit("DAPHNE_PROCESSES above 1 needs Linux, whose SO_REUSEPORT spreads connections.")
    if configured != "1" and in_memory_layer():
        sys.exit(
            f"DAPHNE_PROCESSES={configured}, but the in-memory channel layer lives inside one "
            "process: a chat message would reach only the sockets of the daphne it arrived "
            "on. Set CHANNEL_LAYER=redis_pubsub or redis (and REDIS_URL), or DAPHNE_PROCESSES=1."
        )
    return int(configured)


def in_memory_layer():
    """Whether the settings' channel layer is the in-memory one, whose groups stay inside
    one process (not known, so False, without DJANGO_SETTINGS_MODULE)."""
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        return False
    from django.conf import settings

    return settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")


def usable_cpus(quota_file=CPU_QUOTA):
    """The cores this process may run on, lowered by a cgroup v2 CPU quota (a container's
    `--cpus`, a Kubernetes limit), which the scheduler's affinity does not show."""
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:
        cpus = os.cpu_count() or 1  # None where the count cannot be known
    try:
        quota, period = quota_file.read_text().split()
        return max(1, min(cpus, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 here, or no quota ("max")
        return cpus


def supervise(count, address, daphne_arguments):
    """Run count daphnes on address until a signal stops them; the exit code."""
    try:  # a server already there, ours or not, would share the address unnoticed
        listening_socket(address, shared=False).close()
    except OSError as error:
        sys.exit(f"realtime.serve: cannot listen on {address[0]}:{address[1]}: {error.strerror}")
    children = {}
    stopping = False

    def start():
        # A socket of its own, and the child the only holder: if it dies, the connections
        # waiting in its queue are refused rather than left for nobody to accept.
        with listening_socket(address, shared=True) as listener:
            child = subprocess.Popen(
                [sys.executable, "-m", "realtime.serve", "--fd", str(listener.fileno())]
                + daphne_arguments,
                env={**os.environ, "DAPHNE_PROCESSES": "1"},
                pass_fds=[listener.fileno()],
                # Signals from a terminal reach this process only, which passes them on once.
                process_group=0,
                preexec_fn=die_with_parent,
            )
        children[child.pid] = (child, time.monotonic())
        if stopping:  # the signal came while it started
            child.send_signal(signal.SIGTERM)

    def stop(*_):
        nonlocal stopping
        if stopping:  # a second signal: daphne is already closing its connections
            return
        stopping = True
        for child, _started in children.values():
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(count):
        start()
    status = 0
    while children:
        pid, wait_status = os.wait()
        if pid not in children:
            continue
        child, started = children.pop(pid)
        child.returncode = os.waitstatus_to_exitcode(wait_status)
        # Its open connections no longer count.
        multiprocess.mark_process_dead(pid)
        if stopping:
            continue
        if child.returncode > 0 and time.monotonic() - started < STARTUP_SECONDS:
            print(
                f"realtime.serve: daphne failed (exit status {child.returncode}) within "
                f"{STARTUP_SECONDS} s of starting; stopping the others.",
                file=sys.stderr,
                flush=True,
            )
            status = 1
            stop()
        else:
            print(
                f"realtime.serve: daphne {pid} exited with {child.returncode}; starting another.",
                file=sys.stderr,
                flush=True,
            )
            start()
    return status


def address_of(arguments):
    """The IPv4 address daphne's -b and -p name (None if daphne is to listen elsewhere),
    and daphne's other arguments."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    for elsewhere in ("-u", "--unix-socket", "--fd", "-e", "--endpoint"):
        parser.add_argument(elsewhere, dest="elsewhere", action="append")
    known, rest = parser.parse_known_args(arguments)
    # Twisted adopts a passed socket as IPv4 only.
    if known.elsewhere or ":" in known.bind:
        return None, arguments
    return (known.bind, known.port), rest


def listening_socket(address, shared):
    """A socket listening on address; shared, one of several there, among which the
    kernel spreads new connections evenly (one socket that all accept from would let
    Twisted, accepting a hundred at a time, give a burst to one daphne)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    listener.listen(socket.SOMAXCONN)
    return listener


def die_with_parent():
    """In each daphne before it starts: SIGTERM from the kernel if this process is killed."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


if __name__ == "__main__":
    main()

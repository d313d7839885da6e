"""Benchmark suite: the default bake against a Channels-tutorial chat, same run, same machine.

Bakes the default project (`cookiecutter --no-input`), and for it and for the
baseline in bench/baseline/ (the tutorial's async consumer on RedisChannelLayer)
starts a fresh Redis, daphne and a runworker, then measures:

- chat fan-out: R rooms x C clients, one message at a time per room;
- connection storm: websocket connections opened per second;
- idle connections: how many the web command holds, and its memory per connection;
- long-poll wake-up: publish() to the answer's arrival (the project only: the
  tutorial has no long-poll);
- worker throughput: thumbnail-sized and empty jobs through runworker, and
  thumbnail jobs with a second runworker beside the first.

The project's web command runs one daphne per core (realtime.serve). The same bake is
then served by one daphne (DAPHNE_PROCESSES=1), and by the other ASGI servers in
SERVERS with as many processes (installed for the run, not a dependency of the
project). A bare `websockets` broadcast server in one process (bench/floor/) gives
the chat figures' floor: what Python does with nothing between the socket and the
room.

Prints a table with the ratio of each figure to the baseline's and to the floor's,
and writes it with a chart to bench/results/. Every process it starts stops with it.

    .venv/bin/python -m bench.suite [--quick] [--profile] [--jobs-only]
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from bench import chat_load, profile_summary
from tests.bakery import TEMPLATE_DIR, bake, generated_python, procfile_command
from tests.servers import (
    UNLIMITED_CLIENTS,
    Processes,
    RedisServer,
    clean_environment,
    free_port,
    process_tree,
)

BENCH_DIR = Path(__file__).resolve().parent
# The target that is the chat figures' floor: the most a Python server could do.
FLOOR = "bare websockets"

# The table, figures and chart the README shows; raw profiles stay in artifacts/.
RESULTS = BENCH_DIR / "results"
ARTIFACTS = TEMPLATE_DIR / "artifacts" / "bench"
FAN_OUTS = [(4, 25), (20, 50)]
# Publishes as sync code (a view, a shell) does.
PUBLISHER = """
import sys, time
from notifications.streams import public, publish_from_sync
for stream in sys.stdin:
    publish_from_sync(public(stream.strip()), {"sent": time.monotonic()})
    print("published", flush=True)
"""


class Stack:
    """Redis, daphne and a worker for one target (cwd: the project or the baseline), in
    a directory of their own."""

    def __init__(self, directory, python, cwd, **variables):
        self.redis = RedisServer(directory)
        self.redis.start()
        self.env = clean_environment(
            PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}",
            REDIS_URL=self.redis.url,
            **variables,
        )
        self.processes = Processes(cwd, self.env, directory)
        self.directory = directory

    def serve(self, web, worker, **web_env):
        """Start the web server (web: its command, given the port, which it also finds
        in PORT) and a worker; second_worker() starts another beside it."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = self.processes.start(
            "web", web(self.port), port=self.port, PORT=str(self.port), **web_env
        )
        self.worker = self.processes.start("worker", worker)
        self.second_worker = lambda: self.processes.start("worker-2", worker)

    def stop(self):
        self.processes.stop()
        self.redis.stop()


def start_project(project, directory, python, server="daphne"):
    """The bake with production settings, served by server (one of SERVERS)."""
    stack = Stack(
        directory,
        python,
        project,
        DJANGO_SETTINGS_MODULE=f"{project.name}.settings.production",
        DJANGO_SECRET_KEY="benchmark-only-" + "k" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="False",
        DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
        DJANGO_MEDIA_ROOT=str(directory / "media"),
        DAPHNE_BIND_ADDRESS="127.0.0.1",
        # One benchmark process stands for thousands of people, posting far faster than
        # they do: the per-client limits would measure themselves, not the chat.
        CHAT_RATE_LIMIT="1000000,1000000",
        **UNLIMITED_CLIENTS,
    )
    stack.processes.run(procfile_command(project, "release"))
    if server in ("daphne", ONE_DAPHNE):
        web = procfile_command(project, "web")
        one = {"DAPHNE_PROCESSES": "1"} if server == ONE_DAPHNE else {}
        stack.serve(lambda port: web, procfile_command(project, "worker"), **one)
    else:
        application = f"{project.name}.asgi:application"
        stack.serve(
            lambda port: SERVERS[server](application, port),
            procfile_command(project, "worker"),
            PYTHONPATH=str(other_servers(python)),
        )
    shell = [
        "python",
        "manage.py",
        "shell",
        "-c",
        (BENCH_DIR / "jobs" / "project_jobs.py").read_text(),
    ]
    stack.job_script = lambda kind, count: job_script(shell, project, stack.env, kind, count)
    stack.jobs = lambda kind, count: stack.job_script(kind, count)["jobs_per_second"]
    stack.target = chat_load.project_target(stack.url)
    stack.project = project
    return stack


# The web command with DAPHNE_PROCESSES=1: what one daphne process does.
ONE_DAPHNE = "one daphne"
# As many as realtime.serve runs daphnes here (this machine has no CPU quota).
WEB_PROCESSES = str(len(os.sched_getaffinity(0)))
# ASGI servers other than daphne that Django users deploy, serving the same bake.
SERVERS = {
    "uvicorn": lambda application, port: [
        *("python", "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", WEB_PROCESSES, "--lifespan", "off", "--no-access-log", application),
    ],
    "granian": lambda application, port: [
        *("python", "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"),
        *("--port", str(port), "--workers", WEB_PROCESSES, "--no-access-log", application),
    ],
}
OTHER_SERVER_PACKAGES = ["uvicorn[standard]==0.54.0", "granian==2.8.7"]


def other_servers(python):
    """A directory with the other servers installed, for python's PYTHONPATH: the
    generated project does not depend on them."""
    directory = TEMPLATE_DIR / ".cache" / "bench-servers"
    if not (directory / "granian").exists():
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--target", directory, *OTHER_SERVER_PACKAGES],
            check=True,
        )
    return directory


def start_baseline(directory, python):
    baseline = BENCH_DIR / "baseline"
    stack = Stack(
        directory,
        python,
        baseline,
        DJANGO_SETTINGS_MODULE="tutorial.settings",
        BASELINE_DB=str(directory / "db.sqlite3"),
        PYTHONPATH=str(baseline),
    )
    stack.processes.run(["python", "-m", "django", "migrate", "-v", "0"])
    stack.serve(
        lambda port: ["daphne", "-b", "127.0.0.1", "-p", str(port), "tutorial.asgi:application"],
        ["python", "-m", "django", "runworker", "jobs"],
    )
    stack.jobs = lambda kind, count: job_script(
        ["python", BENCH_DIR / "jobs" / "baseline_jobs.py"],
        baseline,
        {**stack.env, "BENCH_DIR": str(directory)},
        kind,
        count,
    )["jobs_per_second"]
    stack.target = chat_load.baseline_target(stack.url)
    return stack


class Floor:
    """bench/floor/broadcast.py on a free port: the chat figures' Python floor."""

    def __init__(self, directory, python):
        self.port = free_port()
        self.processes = Processes(
            BENCH_DIR / "floor",
            clean_environment(PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}"),
            directory,
        )
        self.web = self.processes.start(
            "web", ["python", "broadcast.py", str(self.port)], port=self.port
        )
        self.target = chat_load.baseline_target(f"http://127.0.0.1:{self.port}")
        self.target.name = FLOOR

    def stop(self):
        self.processes.stop()


def job_script(command, cwd, env, kind, count):
    """Run a bench/jobs/ script; return the JSON object it prints last."""
    output = subprocess.run(
        command,
        cwd=cwd,
        env={**env, "BENCH_JOB_KIND": kind, "BENCH_JOB_COUNT": str(count)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def long_poll(stack, rounds):
    publisher = subprocess.Popen(
        ["python", "manage.py", "shell", "-c", PUBLISHER],
        cwd=stack.project,
        env=stack.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def publish(stream):
        publisher.stdin.write(f"{stream}\n")
        publisher.stdin.flush()
        publisher.stdout.readline()

    try:
        chat_load.long_poll_wakeups(stack.url, publish, 10, "warm-up")
        latencies = chat_load.long_poll_wakeups(stack.url, publish, rounds, "bench")
    finally:
        publisher.stdin.close()
        publisher.wait(timeout=30)
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": statistics.quantiles(latencies, n=100)[98],
    }


def cpu_seconds(pid):
    """CPU time of pid and its descendants."""
    total = 0
    for process in process_tree(pid):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid, timeout=180):
    """Until the server has finished the work the last measurement left (closing
    thousands of sockets takes daphne a while), so that the next one starts quiet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1)
        if cpu_seconds(pid) - before < 0.05:
            return
    raise TimeoutError(f"the server is still busy after {timeout} s")


def measure(stack, quick, jobs_only, web_only):
    """Every figure for one target, idle memory first, while its server is fresh."""
    results = {}
    if not jobs_only:
        results.update(measure_web(stack, quick))
    if web_only:
        return results
    results["worker, empty jobs/s"] = stack.jobs("empty", 500 if quick else 2000)
    # Enough jobs for several seconds of work: with fewer the start and the last poll
    # weigh on the figure.
    thumbnails = 40 if quick else 500
    results["worker, thumbnail jobs/s"] = stack.jobs("thumbnail", thumbnails)
    second = stack.second_worker()
    time.sleep(3)  # until it has started
    results["2 workers, thumbnail jobs/s"] = stack.jobs("thumbnail", 2 * thumbnails)
    second.stop()
    if hasattr(stack, "project"):
        results.update(job_costs(stack, 50 if quick else 500))
    return results


def job_costs(stack, count):
    """What acknowledged delivery costs: latency to an idle worker, Redis memory per job."""
    latency = stack.job_script("latency", count)
    stack.worker.stop()
    memory = stack.job_script("memory", 20 * count)
    return {
        "worker, job latency p50 ms": latency["p50_ms"],
        "worker, job latency p99 ms": latency["p99_ms"],
        "worker, Redis bytes per queued job": memory["bytes_per_job"],
    }


def measure_web(stack, quick):
    idle_count = 1000 if quick else 10_000
    duration = 4 if quick else 10
    results = {}
    idle = asyncio.run(chat_load.idle(stack.target, idle_count, stack.web.process.pid))
    results["idle connections held"] = idle["open"]
    results["idle memory, KiB per connection"] = idle["kib_per_connection"]
    # A storm lasts two or three seconds, and one alone swung by 2x between runs.
    storms = []
    for _ in range(3):
        wait_until_idle(stack.web.process.pid)
        storms.append(asyncio.run(chat_load.storm(stack.target, 1000))["connections_per_second"])
    results["connection storm, connections/s"] = statistics.median(storms)
    for rooms, per_room in FAN_OUTS:
        wait_until_idle(stack.web.process.pid)
        fan = asyncio.run(chat_load.fan_out(stack.target, rooms, per_room, duration))
        label = f"fan-out {rooms}x{per_room}"
        results[f"{label}, delivered msg/s"] = fan["delivered_per_second"]
        results[f"{label}, p50 ms"] = fan["p50_ms"]
        results[f"{label}, p99 ms"] = fan["p99_ms"]
    wait_until_idle(stack.web.process.pid)
    if hasattr(stack, "project"):
        wake = long_poll(stack, 50 if quick else 200)
        results["long-poll wake-up, p50 ms"] = wake["p50_ms"]
        results["long-poll wake-up, p99 ms"] = wake["p99_ms"]
    return results


def profile(stack, duration):
    """py-spy's samples of daphne during a 4x25 fan-out, summed by part of the stack."""
    wait_until_idle(stack.web.process.pid)
    output = stack.directory / "daphne-profile.txt"
    spy = subprocess.Popen(
        [
            *(Path(sys.executable).parent / "py-spy", "record", "--format", "raw", "--rate", "200"),
            *("--duration", str(duration + 2), "--output", output),
            *("--pid", str(stack.web.process.pid)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    asyncio.run(chat_load.fan_out(stack.target, 4, 25, duration))
    spy.wait(timeout=60)
    shutil.copy(output, ARTIFACTS / f"{stack.target.name}-daphne-profile.txt")
    return profile_summary.summarize(output.read_text())


# Figures where less is better: their ratio is baseline / project, so that above 1
# always means the project does better.
LOWER_IS_BETTER = (" ms", "KiB per connection", "bytes per queued job")


def advantage(metric, project, baseline):
    """project's figure over baseline's (the reverse where less is better)."""
    if baseline is None:
        return None
    if metric.endswith(LOWER_IS_BETTER):
        return baseline / project
    return project / baseline


def ratio_cell(metric, value, reference):
    ratio = advantage(metric, value, reference)
    return "-" if ratio is None else f"{ratio:.2f}x"


def figure_cell(value):
    return "-" if value is None else f"{value:,.1f}"


def table(results):
    """The project against the baseline, and against the Python floor where it has the
    figure; then the same bake under the other servers, if measured."""
    baseline, project = results["baseline"], results["project"]
    floor = results.get(FLOOR, {})
    lines = [
        "| figure | baseline | project | project advantage | bare websockets "
        "| project / bare websockets |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for metric, value in project.items():
        lines.append(
            f"| {metric} | {figure_cell(baseline.get(metric))} | {figure_cell(value)} "
            f"| {ratio_cell(metric, value, baseline.get(metric))} "
            f"| {figure_cell(floor.get(metric))} | {ratio_cell(metric, value, floor.get(metric))} |"
        )
    servers = [name for name in results if name.startswith("project on ")]
    if servers:
        lines += [
            "",
            "| figure | baseline | "
            + " | ".join(f"{name} | advantage" for name in ["project", *servers])
            + " |",
            "| --- | ---: |" + " ---: | ---: |" * (1 + len(servers)),
        ]
        for metric in results[servers[0]]:
            cells = [figure_cell(baseline.get(metric))]
            for name in ["project", *servers]:
                value = results[name][metric]
                cells += [figure_cell(value), ratio_cell(metric, value, baseline.get(metric))]
            lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        (metric, advantage(metric, value, results["baseline"].get(metric)))
        for metric, value in results["project"].items()
        if metric in results["baseline"]
    ]
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.2))
    axes.barh([metric for metric, _ in rows], [ratio for _, ratio in rows], color="#3b7dd8")
    axes.axvline(1, color="black", linewidth=0.8)
    axes.axvline(2, color="#d83b3b", linewidth=0.8, linestyle="--")
    axes.invert_yaxis()
    axes.set_xlabel("project advantage over the tutorial baseline (x, higher is better)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def machine():
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        "unknown CPU",
    )
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    parser.add_argument(
        "--profile", action="store_true", help="also profile daphne during a fan-out, with py-spy"
    )
    parser.add_argument(
        "--jobs-only", action="store_true", help="only the worker figures (no table is saved)"
    )
    options = parser.parse_args()
    # 10,000 idle sockets are 20,000 descriptors on this machine: the server's and ours.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        # The virtualenv of the test suite, which has every option's dependencies.
        python = generated_python(bake(work / "full", database="postgresql"))
        project = bake(work / "bake")
        results, profiles = {}, {}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        targets = [
            ("baseline", lambda directory: start_baseline(directory, python)),
            ("project", lambda directory: start_project(project, directory, python)),
        ]
        if not options.jobs_only:
            targets += [
                *(
                    (
                        f"project on {server}",
                        partial(start_project, project, python=python, server=server),
                    )
                    for server in [ONE_DAPHNE, *SERVERS]
                ),
                (FLOOR, lambda directory: Floor(directory, python)),
            ]
        for name, start in targets:
            directory = work / name.replace(" ", "-")
            directory.mkdir()
            stack = start(directory)
            try:
                print(f"measuring the {name}...", flush=True)
                web_only = name not in ("baseline", "project")
                results[name] = measure(stack, options.quick, options.jobs_only, web_only)
                if options.profile and not web_only:
                    profiles[name] = profile(stack, 10)
            finally:
                stack.stop()
        report = table(results)
        print(f"\n{machine()}, load generator on the same machine\n\n{report}")
        for name in ("baseline", "project"):
            figures = results[name]
            scaling = figures["2 workers, thumbnail jobs/s"] / figures["worker, thumbnail jobs/s"]
            print(f"{name}: 2 workers make {scaling:.2f}x the thumbnails of one")
        if options.jobs_only:
            return
        for name, shares in profiles.items():
            print(f"\nWhere the {name}'s daphne spends its time in a 4x25 fan-out:")
            for part, share in shares:
                print(f"  {share:6.1%}  {part}")
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "results.json").write_text(
            json.dumps(
                {"machine": machine(), "time": time.ctime(), **results, "profiles": profiles},
                indent=2,
            )
        )
        (RESULTS / "results.md").write_text(f"{machine()}\n\n{report}\n")
        chart(results, RESULTS / "advantage.png")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

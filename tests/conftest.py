"""Bakes, the generated project's virtualenv, real Redis and PostgreSQL servers, and a
real browser."""

import os
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pgserver
import pytest
from playwright.sync_api import sync_playwright
from xdist.scheduler import LoadScopeScheduling

from bakery import bake, django_python, generated_python, procfile_command
from servers import Processes, RedisServer, clean_environment, free_port

# The tests that time real servers (timeouts, kills, drains, load) and the browser's:
# under pytest-xdist (pyproject.toml) they run one at a time, on one worker, beside the
# other worker's bakes and tool runs but never beside each other.
SERVER_TESTS = {
    "test_bad_input.py",
    "test_browser.py",
    "test_django_versions.py",
    "test_draining.py",
    "test_end_to_end.py",
    "test_faults.py",
    "test_hardening.py",
    "test_metrics.py",
    "test_redis_topologies.py",
    "test_scale_out.py",
    "test_tickets.py",
    "test_web_processes.py",
    "test_worker_delivery.py",
}


class ServerTestsTogether(LoadScopeScheduling):
    """The SERVER_TESTS as one unit of work, which one worker runs in order; every other
    test a unit of its own, for whichever worker is free. (xdist's own loadgroup marks
    groups by rewriting node ids, which pytest 9.2 no longer reads.)"""

    def _split_scope(self, nodeid):
        module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        return "servers" if module in SERVER_TESTS else nodeid


def pytest_xdist_make_scheduler(config, log):
    return ServerTestsTogether(config, log)


@pytest.fixture(scope="session")
def baked(tmp_path_factory):
    """bake(**options), each distinct set of options baked once per session."""
    projects = {}

    def get(**options):
        key = tuple(sorted(options.items()))
        if key not in projects:
            projects[key] = bake(tmp_path_factory.mktemp("bake"), **options)
        return projects[key]

    return get


@pytest.fixture(scope="session", name="generated_python")
def generated_python_fixture(baked):
    """Python of the virtualenv that runs every Django 5.2 bake (bakery.generated_python)."""
    return generated_python(baked(database="postgresql"))


def environment_factory(python):
    """make(**variables): an environment for a generated project's commands, with python's
    virtualenv first on PATH."""

    def make(**variables):
        path = f"{python.parent}{os.pathsep}{os.environ['PATH']}"
        return clean_environment(PATH=path, **variables)

    return make


@pytest.fixture(scope="session")
def project_env(generated_python):
    """Environment for running a Django 5.2 bake's commands (environment_factory)."""
    return environment_factory(generated_python)


@pytest.fixture(scope="session")
def django6_project_env(baked):
    """Environment for running a Django 6.1 bake's commands, in a virtualenv of Python 3.13
    (bakery.DJANGO_PYTHONS); an error saying how to install it where there is none."""
    full_bake = baked(database="postgresql", django_version="6.1")
    return environment_factory(generated_python(full_bake, django_python("6.1")))


@pytest.fixture(scope="session")
def env_of_bake(request):
    """env_of_bake(options): project_env, or django6_project_env for a Django 6.1 bake."""

    def get(options):
        six = options.get("django_version") == "6.1"
        return request.getfixturevalue("django6_project_env" if six else "project_env")

    return get


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (pip-installed by pgserver) on a unix socket."""
    # Not under pytest's tmp_path: as root, pgserver runs postgres as its own user,
    # which cannot enter pytest's private directories.
    data_dir = Path(tempfile.mkdtemp(prefix="pgdata-"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def served_bake(baked, env_of_bake, tmp_path_factory):
    """served_bake(bake_options): (a copy of the bake with its static files collected as
    production collects them, a SQLite database the Procfile's release command migrated).

    Made once per session: stacks copy the database rather than each migrating its
    own, and share the copy, which nothing else writes to, as their working directory.
    """
    prepared = {}

    def get(bake_options):
        key = tuple(sorted(bake_options.items()))
        if key not in prepared:
            work = tmp_path_factory.mktemp("served")
            project = work / baked(**bake_options).name
            shutil.copytree(baked(**bake_options), project)
            database = work / "db.sqlite3"
            env = env_of_bake(bake_options)(
                DJANGO_SETTINGS_MODULE=f"{project.name}.settings.production",
                DJANGO_SECRET_KEY="production-test-key-" + "x" * 40,
                DATABASE_URL=f"sqlite:///{database}",
            )
            processes = Processes(project, env, work)
            processes.run(procfile_command(project, "release"))
            processes.run(["python", "manage.py", "collectstatic", "--no-input"])
            prepared[key] = project, database
        return prepared[key]

    return get


@pytest.fixture
def serve(baked, served_bake, project_env, redis_url, tmp_path):
    """serve(daphne_options=(), environment=None, **bake_options): a bake, migrated, under
    daphne with its worker, sharing a real Redis; environment adds variables (None: unset)."""
    stacks = []

    def start(daphne_options=(), environment=None, **options):
        project = baked(**options)
        media = tmp_path / "media"
        media.mkdir()
        env = project_env(
            REDIS_URL=redis_url,
            DJANGO_MEDIA_ROOT=str(media),
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        )
        for name, value in (environment or {}).items():
            if value is None:
                env.pop(name)
            else:
                env[name] = value
        processes = Processes(project, env, tmp_path)
        stacks.append(processes)
        if "DATABASE_URL" in (environment or {}):
            processes.run(["python", "manage.py", "migrate"])
        else:
            shutil.copyfile(served_bake(options)[1], tmp_path / "db.sqlite3")
        daphne, port = processes.daphne(f"{project.name}.asgi:application", *daphne_options)
        worker = processes.start("worker", procfile_command(project, "worker"))
        return SimpleNamespace(
            project=project,
            env=env,
            media=media,
            port=port,
            url=f"http://127.0.0.1:{port}",
            daphne=daphne,
            worker=worker,
        )

    yield start
    for processes in stacks:
        processes.stop()


@pytest.fixture
def stack(serve):
    """The default bake, served."""
    return serve()


@pytest.fixture
def production(served_bake, env_of_bake, redis_url, tmp_path):
    """production(bake_options=None, **environment): the default bake, or the bake of
    bake_options, as production runs it: production settings, the Procfile's web (daphne)
    and worker commands, a real Redis; its release command and collectstatic ran once per
    session (served_bake)."""
    stacks = []

    def start(bake_options=None, **environment):
        bake_options = bake_options or {}
        project, database = served_bake(bake_options)
        shutil.copyfile(database, tmp_path / "db.sqlite3")
        (tmp_path / "media").mkdir()
        port = free_port()
        env = env_of_bake(bake_options)(
            DJANGO_SETTINGS_MODULE=f"{project.name}.settings.production",
            DJANGO_SECRET_KEY="production-test-key-" + "x" * 40,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
            REDIS_URL=redis_url,
            DAPHNE_BIND_ADDRESS="127.0.0.1",
            PORT=str(port),
            # As on the 2-core machines CI runs on, whatever this machine has.
            DAPHNE_PROCESSES="2",
        )
        env.update(environment)
        processes = Processes(project, env, tmp_path)
        stacks.append(processes)

        def start_web(name, web_port):
            web = procfile_command(project, "web")
            server = processes.start(name, web, port=web_port, PORT=str(web_port))
            wait_until_serving(server, int(env["DAPHNE_PROCESSES"]))
            return server

        daphne = start_web("web", port)
        worker = processes.start("worker", procfile_command(project, "worker"))

        def another_daphne():
            """Start one more web process from the Procfile; its port."""
            other_port = free_port()
            start_web(f"web.{len(processes.servers)}", other_port)
            return other_port

        return SimpleNamespace(
            project=project,
            env=env,
            port=port,
            url=f"http://127.0.0.1:{port}",
            # What the proxy in front of daphne would say of an HTTPS request.
            https_headers={"X-Forwarded-Proto": "https"},
            daphne=daphne,
            worker=worker,
            processes=processes,
            another_daphne=another_daphne,
        )

    yield start
    for processes in stacks:
        processes.stop()


def wait_until_serving(web, daphnes, timeout=60):
    """Until each of the web process's daphnes has loaded the project and listens.

    realtime.serve's sockets listen as its daphnes start, and a connection the kernel
    hands to one still loading waits for it: on a loaded machine, past a client's
    handshake timeout.
    """
    deadline = time.monotonic() + timeout
    while web.log_path.read_text(errors="replace").count("Listening on TCP address") < daphnes:
        assert web.process.poll() is None, f"the web process exited: {web.log_path.read_text()}"
        assert time.monotonic() < deadline, f"{daphnes} daphnes not serving after {timeout} s"
        time.sleep(0.1)


# Without these, chromium reaches for Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright (browsers cannot be downloaded here)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the browser tests need Debian's chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()

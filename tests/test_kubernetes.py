"""Each bake's Kubernetes manifests (deploy/kubernetes), checked without a cluster.

kubernetes-validate holds every resource to the API schemas of two Kubernetes
versions, strictly: an unknown or misspelled field fails. The rest is what a schema
cannot say: names the API server would refuse, the worker and the migrations as
compose.yaml runs them, variables the settings read, probes that ask as the Ingress
would, volumes that are claimed, and a kustomization that lists every manifest. One
test runs the web container's command with its environment and asks its probes.
Applying the manifests (scheduling, pulling the image, volumes, an Ingress
controller, the TLS certificate) needs a cluster, which these tests do without.
"""

import json
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from test_containers import (
    LIBPQ_VARIABLES,
    TOOLS,
    image_env,
    only,
    services,
    settings_variables,
)

from bakery import TEMPLATE_DIR
from servers import Processes, free_port, process_tree

BAKES = {
    "default": {},
    "in_memory": {"channel_layer": "in_memory", "use_thumbnails": False},
    "postgresql": {"database": "postgresql"},
    "without_thumbnails": {"use_thumbnails": False},
}
MANIFESTS = Path("deploy", "kubernetes")
DOMAIN = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["domain_name"]
# The newest version the package bundles, and an older one that clusters still run:
# a field that came or went in between fails one of them.
KUBERNETES_VERSIONS = ("1.35.0", "1.37.0")
# RFC 1123 labels: what Kubernetes accepts as the name of a Service, a container, a
# volume or a port, and the strictest of the names used here.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Lists whose items' "name" is no Kubernetes object's: variables and HTTP headers.
NOT_OBJECT_NAMES = {"env", "httpHeaders"}
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


@pytest.fixture(params=BAKES, scope="module")
def bake_case(request, baked):
    options = BAKES[request.param]
    return options, baked(**options)


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


def validate(*paths, strict=True):
    versions = [argument for version in KUBERNETES_VERSIONS for argument in ("-k", version)]
    options = ["--strict"] if strict else []
    return run([TOOLS / "kubernetes-validate", *options, *versions, *map(str, paths)])


def manifest_files(project):
    """The resources' files; kustomization.yaml is kustomize's, not the API's."""
    return sorted(
        path for path in (project / MANIFESTS).glob("*.yaml") if path.name != "kustomization.yaml"
    )


def resources(project):
    """Each file's one resource, by file name."""
    return {path.name: yaml.safe_load(path.read_text()) for path in manifest_files(project)}


def kustomization(project):
    return project / MANIFESTS / "kustomization.yaml"


def of_kind(project, kind):
    return [resource for resource in resources(project).values() if resource["kind"] == kind]


def workload(project, component):
    """The Deployment or Job of a component (web, worker, migrate), or None."""
    found = [
        resource
        for resource in resources(project).values()
        if resource["kind"] in ("Deployment", "Job")
        and resource["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    assert len(found) <= 1
    return found[0] if found else None


def pod_specs(project):
    return [
        resource["spec"]["template"]["spec"]
        for resource in resources(project).values()
        if resource["kind"] in ("Deployment", "Job")
    ]


def containers(pod_spec):
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def container(pod_spec, name):
    (found,) = [item for item in containers(pod_spec) if item["name"] == name]
    return found


def config(project):
    """The ConfigMap's variables."""
    (config_map,) = of_kind(project, "ConfigMap")
    return config_map["data"]


def secret_command(project):
    """The `kubectl create secret` command that kustomization.yaml tells operators to run,
    as (the Secret's name, the variables it holds)."""
    text = kustomization(project).read_text()
    (name,) = re.findall(r"kubectl create secret generic (\S+)", text)
    return name, set(re.findall(r"--from-literal=(\w+)=", text))


def serve_variables(project):
    """The variables realtime.serve, the image's command around daphne, reads itself."""
    code = (project / "realtime" / "serve.py").read_text()
    return set(re.findall(r'os\.environ\.get\(\s*"(\w+)"', code))


def object_names(node, within=None):
    """Every Kubernetes name in node: of objects, containers, volumes and ports, and of
    those it refers to; label values too, held to the same rules."""
    if isinstance(node, list):
        for item in node:
            yield from object_names(item, within)
    elif isinstance(node, dict):
        for key, value in node.items():
            named = key in ("name", "secretName", "claimName") and within not in NOT_OBJECT_NAMES
            if named or key.startswith("app.kubernetes.io/"):
                yield value
            else:
                yield from object_names(value, key)


def test_manifests_follow_the_kubernetes_api_schemas(bake_case):
    _, project = bake_case
    files = manifest_files(project)
    result = validate(*files)

    lines = result.stdout.splitlines()
    # A kind or apiVersion that has no schema is only warned about, and passes.
    assert [line for line in lines if " passed for resource " not in line] == [], result.stderr
    assert result.returncode == 0, result.stderr
    assert len(lines) == len(files) * len(KUBERNETES_VERSIONS), result.stdout


def test_validator_rejects_a_misspelled_field(baked, tmp_path):
    web = (baked() / MANIFESTS / "web-deployment.yaml").read_text()
    misspelled = tmp_path / "web-deployment.yaml"
    misspelled.write_text(web.replace("readinessProbe:", "readinesProbe:"))

    strict = validate(misspelled)
    assert strict.returncode != 0
    assert "'readinesProbe' was unexpected" in strict.stdout
    # Without --strict the same file passes.
    assert validate(misspelled, strict=False).returncode == 0


def test_kustomization_lists_every_manifest_and_the_image(bake_case):
    _, project = bake_case
    listed = yaml.safe_load(kustomization(project).read_text())
    assert sorted(listed["resources"]) == [path.name for path in manifest_files(project)]

    # Every container runs the Dockerfile's image, as compose.yaml names it; the
    # kustomization points that name at the registry.
    image = services(project)["web"]["image"]
    assert {item["image"] for spec in pod_specs(project) for item in containers(spec)} == {image}
    assert [entry["name"] for entry in listed["images"]] == [image]


@pytest.mark.parametrize(
    "options", [{}, {"project_slug": "_odd__slug_"}], ids=["default", "edge_underscores"]
)
def test_every_name_is_a_dns_label(baked, options):
    project = baked(**options)
    assert "_" in project.name
    names = [name for resource in resources(project).values() for name in object_names(resource)]
    names.append(secret_command(project)[0])

    assert project.name.replace("_", "-").strip("-") + "-web" in names
    assert [name for name in names if not DNS_LABEL.fullmatch(name)] == []


def test_worker_and_migrations_run_as_in_compose(bake_case):
    _, project = bake_case
    compose = services(project)
    worker = workload(project, "worker")
    assert (worker is not None) == ("worker" in compose)
    assert (project / MANIFESTS / "worker-deployment.yaml").exists() == ("worker" in compose)

    if worker:
        spec = worker["spec"]["template"]["spec"]
        assert container(spec, "worker")["command"] == compose["worker"]["command"]
        grace = int(compose["worker"]["stop_grace_period"].removesuffix("s"))
        assert spec["terminationGracePeriodSeconds"] == grace
        # It serves no HTTP for a probe to ask.
        assert not any(probe in item for item in containers(spec) for probe in PROBES)

    migrate = workload(project, "migrate")
    assert migrate["kind"] == "Job"
    (job_container,) = migrate["spec"]["template"]["spec"]["containers"]
    assert job_container["command"] == compose["migrate"]["command"]
    # Long-running pods wait for it rather than migrate themselves.
    for component in ("web", "worker"):
        found = workload(project, component)
        if found:
            wait = container(found["spec"]["template"]["spec"], "wait-for-migrations")
            assert "manage.py migrate --check" in wait["command"][-1]


def test_containers_set_only_variables_the_project_reads(bake_case):
    options, project = bake_case
    secret_name, secret = secret_command(project)
    (config_map,) = of_kind(project, "ConfigMap")
    data = config(project)
    for spec in pod_specs(project):
        for item in containers(spec):
            assert item["envFrom"] == [
                {"configMapRef": {"name": config_map["metadata"]["name"]}},
                {"secretRef": {"name": secret_name}},
            ], item["name"]
    set_here = {
        variable["name"]
        for spec in pod_specs(project)
        for item in containers(spec)
        for variable in item.get("env", [])
    }
    given = set(data) | secret | set_here

    known = settings_variables(project) | LIBPQ_VARIABLES | serve_variables(project)
    assert "DAPHNE_PROCESSES" in known  # the pattern finds it
    assert given - known == set()
    # What compose.yaml gives its containers, save the HTTPS redirect that it turns off
    # for http://localhost.
    assert set(services(project)["web"]["environment"]) - {"DJANGO_SECURE_SSL_REDIRECT"} <= given

    assert "DJANGO_SECRET_KEY" in secret
    assert ("REDIS_URL" in secret) == (options.get("channel_layer") != "in_memory")
    # A PostgreSQL address is the operator's secret; SQLite's is a path on the volume.
    postgresql = options.get("database") == "postgresql"
    assert ("DATABASE_URL" in secret, "DATABASE_URL" in data) == (postgresql, not postgresql)


def test_database_and_uploads_live_on_claimed_volumes(bake_case):
    options, project = bake_case
    claims = {claim["metadata"]["name"] for claim in of_kind(project, "PersistentVolumeClaim")}
    claimed = set()
    for spec in pod_specs(project):
        volumes = {
            volume["name"]: volume["persistentVolumeClaim"]["claimName"]
            for volume in spec.get("volumes", [])
        }
        claimed |= set(volumes.values())
        for item in containers(spec):
            mounts = {mount["mountPath"]: mount["name"] for mount in item.get("volumeMounts", [])}
            assert set(mounts.values()) <= set(volumes), item["name"]
            # Every container of the image uses the database.
            if options.get("database") != "postgresql":
                assert "/app/data" in mounts, item["name"]
    assert claimed == claims

    if options.get("database") != "postgresql":
        assert config(project)["DATABASE_URL"].startswith("sqlite:////app/data/")
    # Uploads go to the image's MEDIA_ROOT, where the web pods and the worker share them.
    thumbnails = options.get("use_thumbnails", True)
    for component in ("web", "worker"):
        found = workload(project, component)
        if found:
            spec = found["spec"]["template"]["spec"]
            mounts = {mount["mountPath"] for mount in container(spec, component)["volumeMounts"]}
            assert ("/app/media" in mounts) == thumbnails, component


def test_probes_ask_as_the_ingress_would(bake_case):
    _, project = bake_case
    spec = workload(project, "web")["spec"]["template"]["spec"]
    web = container(spec, "web")
    ports = {port["name"]: port["containerPort"] for port in web["ports"]}
    assert ports == {"http": int(only(project, "EXPOSE"))}
    assert {"name": "DAPHNE_PROCESSES", "value": "1"} in web["env"]

    paths = {}
    for probe in PROBES:
        get = web[probe]["httpGet"]
        paths[probe] = get["path"]
        assert ports[get["port"]] == 8000
        assert {header["name"]: header["value"] for header in get["httpHeaders"]} == {
            "Host": DOMAIN,
            "X-Forwarded-Proto": "https",
        }
    assert paths == {
        "startupProbe": "/healthz/",
        "livenessProbe": "/healthz/",
        "readinessProbe": "/readyz/",
    }
    assert DOMAIN in config(project)["DJANGO_ALLOWED_HOSTS"].split(",")


def test_pods_run_as_the_image_user_and_web_pods_drain_before_stopping(bake_case):
    options, project = bake_case
    for spec in pod_specs(project):
        for item in containers(spec):
            security = item["securityContext"] | spec["securityContext"]
            assert security["runAsNonRoot"] and not security["allowPrivilegeEscalation"]
            assert only(project, "USER") == f"{security['runAsUser']}:{security['runAsGroup']}"

    web = workload(project, "web")
    spec = web["spec"]["template"]["spec"]
    # Endpoints are dropped during preStop's sleep, before SIGTERM.
    assert container(spec, "web")["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert spec["terminationGracePeriodSeconds"] == 30
    # The in-memory layer lives in one process: one pod.
    if options.get("channel_layer") == "in_memory":
        assert web["spec"]["replicas"] == 1


def test_ingress_reaches_the_web_pods_through_the_service(bake_case):
    _, project = bake_case
    (service,) = of_kind(project, "Service")
    (ingress,) = of_kind(project, "Ingress")
    (budget,) = of_kind(project, "PodDisruptionBudget")
    web = workload(project, "web")
    pod_labels = web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"] == pod_labels
    assert budget["spec"]["selector"]["matchLabels"] == pod_labels
    assert web["spec"]["selector"]["matchLabels"] == pod_labels
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (80, "http")

    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": port["name"]}}
    assert rule["host"] == DOMAIN
    assert [entry["hosts"] for entry in ingress["spec"]["tls"]] == [[DOMAIN]]
    # Idle websockets and long-polls outlast ingress-nginx's 60 s timeouts.
    annotations = ingress["metadata"]["annotations"]
    for direction in ("read", "send"):
        assert annotations[f"nginx.ingress.kubernetes.io/proxy-{direction}-timeout"] == "3600"


def test_web_container_answers_its_probes(baked, project_env, redis_url, tmp_path):
    """The image's command with the web container's environment and the migrate Job
    run first; then each probe as the kubelet sends it must get 200."""
    project = baked()
    spec = workload(project, "web")["spec"]["template"]["spec"]
    web = container(spec, "web")
    variables = image_env(project) | config(project)
    variables |= {variable["name"]: variable["value"] for variable in web["env"]}
    variables |= {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "REDIS_URL": redis_url,
        # Here instead of on the volume at /app/data.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env = project_env(**variables)
    processes = Processes(project, env, tmp_path)
    (job_container,) = workload(project, "migrate")["spec"]["template"]["spec"]["containers"]
    processes.run(job_container["command"])
    # Migrated: the init container's wait ends at once.
    waited = run(container(spec, "wait-for-migrations")["command"], cwd=project, env=env)
    assert waited.returncode == 0, waited.stderr

    port = free_port()
    command = json.loads(only(project, "CMD"))
    command[command.index("-b") + 1] = "127.0.0.1"
    command[command.index("-p") + 1] = str(port)
    try:
        server = processes.start("web", command, port=port)
        # DAPHNE_PROCESSES=1: daphne runs in the command's own process, no supervisor.
        assert process_tree(server.process.pid) == [server.process.pid]
        answers = {}
        for probe in PROBES:
            get = web[probe]["httpGet"]
            headers = {header["name"]: header["value"] for header in get["httpHeaders"]}
            url = f"http://127.0.0.1:{port}{get['path']}"
            response = requests.get(url, headers=headers, timeout=5, allow_redirects=False)
            answers[probe] = response.status_code
        bare = requests.get(url, timeout=5, allow_redirects=False).status_code
    finally:
        processes.stop()

    assert answers == dict.fromkeys(PROBES, 200), server.output()
    # Without the headers, production settings would fail the probe.
    assert bare != 200

"""Every deployment artefact checked: the kustomize output of both overlays (the real kustomize's, see
``rendering.py``), each resource against its schema, what every service needs (probes, limits, disruption
budgets, autoscaling, routes, secrets), the Kafka ACLs against what the code publishes and consumes, the compose
file against the Compose specification, and the Dockerfile's promises.

Schemas: core kinds with ``kubernetes-validate`` (it bundles the Kubernetes JSON schemas, strict mode refuses
unknown fields). Strimzi and CloudNativePG resources against ``tests/deploy/schemas/*.json``: minimal JSON Schemas
written for this project from the operators' documented CRD fields (Strimzi's custom resource API reference,
CloudNativePG's API reference), covering only the fields our manifests use and refusing any other; nothing there
is copied from the operators' repositories. The compose file against the Compose specification's schema as
vendored by ``check-jsonschema``.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.runtime import SERVICES, TOPIC_PARTITIONS, service_specs
from tests.deploy.kustomize import build
from tests.deploy.rendering import K8S, OVERLAYS, ROOT, Resource, key, of_kind, rendered, rendered_text

SCHEMAS = Path(__file__).parent / "schemas"
KUBERNETES_VERSION = "1.33.0"
CUSTOM_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/")
EVENT_SERVICES = ("priorities", "tasking", "projects")
DEAD_LETTER_TOPICS = {"priorities": "priorities.dlq", "tasking": "tasking.dlq",
                      "projects": "projects.dlq", "reporting": "reporting.dlq"}

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_fallback_renderer_agrees_with_the_real_kustomize(overlay: str) -> None:
    theirs = {key(r): r for r in yaml.safe_load_all(rendered_text(overlay)) if r}
    ours = {key(r): r for r in build(K8S / "overlays" / overlay)}
    assert sorted(ours) == sorted(theirs)
    for name, resource in ours.items():
        assert resource == theirs[name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_core_resource_is_valid_kubernetes(overlay: str) -> None:
    core = [r for r in rendered(overlay) if not r["apiVersion"].startswith(CUSTOM_GROUPS)]
    assert {r["kind"] for r in core} >= {"Deployment", "Service", "Ingress", "ConfigMap", "PodDisruptionBudget",
                                         "HorizontalPodAutoscaler"}
    for resource in core:
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{key(resource)}: {error.message} at {list(error.path)}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_strimzi_and_cloudnativepg_resource_fits_its_crd_schema(overlay: str) -> None:
    custom = [r for r in rendered(overlay) if r["apiVersion"].startswith(CUSTOM_GROUPS)]
    assert {r["kind"] for r in custom} >= {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster"}
    for resource in custom:
        group_version = resource["apiVersion"].replace("/", "_")
        schema = json.loads((SCHEMAS / f"{group_version}_{resource['kind']}.json").read_text())
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(resource), key=lambda e: list(e.path))
        assert not errors, f"{key(resource)}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _deployments(overlay: str) -> dict[str, Resource]:
    return of_kind(overlay, "Deployment")


def _expected_deployments() -> dict[str, list[str]]:
    """Each Deployment and the ``partnership`` command it must run."""
    expected = {f"{s}-web": ["serve", s, "--port", "8000"] for s in EVENT_SERVICES}
    expected |= {f"{s}-worker": ["worker", s, "--port", "9000"] for s in SERVICES}
    expected["gateway"] = ["gateway", "--port", "8000"]
    return expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_runs_a_web_and_a_worker_with_probes_on_real_checks_and_limits(overlay: str) -> None:
    deployments = _deployments(overlay)
    assert sorted(deployments) == sorted(_expected_deployments())
    for name, args in _expected_deployments().items():
        pod = deployments[name]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"] == args, name
        assert container["image"].startswith("ghcr.io/"), name
        port = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert port == ({"metrics": 9000} if "worker" in name else {"http": 8000}), name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] in port, (name, probe)
        resources = container["resources"]
        kinds = {"cpu", "memory", "ephemeral-storage"}  # ephemeral: /tmp and logs cannot fill the node's disk
        assert set(resources["requests"]) == kinds and set(resources["limits"]) == kinds, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert pod["terminationGracePeriodSeconds"] >= 30, name  # a worker finishes its batch on SIGTERM


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget_and_the_web_tier_autoscales(overlay: str) -> None:
    deployments = _deployments(overlay)
    budgets = of_kind(overlay, "PodDisruptionBudget")
    autoscalers = of_kind(overlay, "HorizontalPodAutoscaler")
    web = {n for n in deployments if n.endswith("-web") or n == "gateway"}
    assert set(autoscalers) == web
    for name in web:
        target = autoscalers[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        # The autoscaler owns the count: a `replicas` in the manifest would reset it on every apply.
        assert "replicas" not in deployments[name]["spec"], name
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector, name
        fewest = autoscalers[name]["spec"]["minReplicas"] if name in web else deployment["spec"]["replicas"]
        if fewest == 1:  # a budget must never block a node drain for good
            assert "minAvailable" not in budgets[name]["spec"], name


def test_production_runs_every_worker_twice_and_keeps_backups() -> None:
    workers = {n: d for n, d in _deployments("prod").items() if n.endswith("-worker")}
    assert {d["spec"]["replicas"] for d in workers.values()} == {2}
    clusters = of_kind("prod", "Cluster")
    backups = {b["spec"]["cluster"]["name"] for b in of_kind("prod", "ScheduledBackup").values()}
    assert backups == set(clusters)
    assert all(c["spec"]["instances"] == 3 and "barmanObjectStore" in c["spec"]["backup"] for c in clusters.values())
    assert of_kind("prod", "KafkaNodePool")["dual-role"]["spec"]["replicas"] == 3


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_sends_graphql_to_the_gateway_and_each_api_to_its_service(overlay: str) -> None:
    routes: dict[str, tuple[str, dict[str, str]]] = {}
    for ingress in of_kind(overlay, "Ingress").values():
        annotations = ingress["metadata"].get("annotations", {})
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes[path["path"]] = (path["backend"]["service"]["name"], annotations)
    assert routes["/graphql"][0] == "gateway"
    services = of_kind(overlay, "Service")
    for service in EVENT_SERVICES:
        pattern = f"/api/({service})(/|$)(.*)"
        backend, annotations = routes[pattern]
        assert backend == f"{service}-web" and backend in services
        # The app serves its API under /<service>/...: /api/<service>/x must reach /<service>/x.
        rewrite = annotations["nginx.ingress.kubernetes.io/rewrite-target"]
        match = re.fullmatch(pattern, f"/api/{service}/taskings/42")
        assert match is not None
        assert match.expand(re.sub(r"\$(\d)", r"\\\1", rewrite)) == f"/{service}/taskings/42"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_a_pod_reads_is_one_an_operator_writes_or_an_operator_creates_by_hand(overlay: str) -> None:
    clusters = of_kind(overlay, "Cluster")
    users = of_kind(overlay, "KafkaUser")
    kafka = next(iter(of_kind(overlay, "Kafka")))
    by_hand = {"partnership-jwt", "partnership-audit"}  # docs/operations.md, "Secrets"
    for name, deployment in _deployments(overlay).items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        database = env["PARTNERSHIP_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert database["key"] == "uri" and database["name"].removesuffix("-app") in clusters, name
        password = env["PARTNERSHIP_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password["name"] == env["PARTNERSHIP_KAFKA_USERNAME"]["value"] and password["name"] in users, name
        assert env["PARTNERSHIP_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] in by_hand
        # Checkpoint signing is on wherever events are written or read: the key is required, never optional.
        assert env["PARTNERSHIP_AUDIT_SIGNING_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "partnership-audit",
                                                                                     "key": "signing-key"}, name
        assert not any(e["name"] == "PARTNERSHIP_AUDIT_CHECKPOINTS_OFF_UNSAFE" for e in container["env"]), name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["kafka-ca"]["secret"]["secretName"] == f"{kafka}-cluster-ca-cert"
        assert container["envFrom"] == [{"configMapRef": {"name": "partnership-config"}}]
        service = container["args"][1] if container["args"][0] != "gateway" else "reporting"
        assert database["name"] == f"{service}-db-app", name
    config = of_kind(overlay, "ConfigMap")["partnership-config"]["data"]
    assert config["PARTNERSHIP_KAFKA_BOOTSTRAP_SERVERS"].startswith(f"{kafka}-kafka-bootstrap:")
    assert config["PARTNERSHIP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    listeners = of_kind(overlay, "Kafka")[kafka]["spec"]["kafka"]["listeners"]
    port = int(config["PARTNERSHIP_KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    [internal] = [listener for listener in listeners if listener["port"] == port]
    assert internal["tls"] and internal["authentication"]["type"] == "scram-sha-512"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_deployment_names_its_audit_logs_after_its_own_host(overlay: str) -> None:
    """Checkpoints carry the log's origin: a deployment must not sign under the placeholder origin or another's."""
    origin = of_kind(overlay, "ConfigMap")["partnership-config"]["data"]["PARTNERSHIP_AUDIT_LOG_ORIGIN"]
    hosts = {rule["host"] for ingress in of_kind(overlay, "Ingress").values() for rule in ingress["spec"]["rules"]}
    assert len(hosts) == 1 and origin == f"{hosts.pop()}/audit"


def _grants(user: Resource, operation: str) -> set[str]:
    """Topics (literal) or prefixes (``prefix*``) on which the user is allowed ``operation``."""
    found = set()
    for acl in user["spec"]["authorization"]["acls"]:
        if acl.get("type", "allow") == "allow" and (operation in acl["operations"] or "All" in acl["operations"]):
            resource = acl["resource"]
            name = resource["name"] + ("*" if resource.get("patternType") == "prefix" else "")
            found.add(f"{resource['type']}:{name}")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_writes_only_its_own_topics_and_reads_only_what_it_consumes(overlay: str) -> None:
    users = of_kind(overlay, "KafkaUser")
    topics = of_kind(overlay, "KafkaTopic")
    specs = service_specs()
    for service in SERVICES:
        own = {f"{service}.events"} if service in specs else set()
        own |= {DEAD_LETTER_TOPICS[service]} if service in DEAD_LETTER_TOPICS else set()
        consumes = set(specs[service].consumes) if service in specs else {spec.topic for spec in specs.values()}
        user = users[service]
        # Projects answers every organisation's inbound commands (services/projects/inbound.py): those topics are
        # per organisation, so it holds their common prefix, and no other service does.
        inbound = {"topic:partner.*"} if service == "projects" else set()
        assert _grants(user, "Write") == {f"topic:{t}" for t in own} | inbound, service
        assert {g for g in _grants(user, "Read") if g.startswith("topic:")} == \
            {f"topic:{t}" for t in consumes} | inbound
        groups = {g for g in _grants(user, "Read") if g.startswith("group:")}
        assert groups == ({f"group:{service}*"} if consumes else set()), service
        for forbidden in ("Create", "Delete", "Alter", "AlterConfigs", "ClusterAction"):
            assert not _grants(user, forbidden), (service, forbidden)
        assert all(g.removeprefix("topic:") in topics for g in _grants(user, "Describe")
                   if g.startswith("topic:") and not g.endswith("*"))
    partners = {n: u for n, u in users.items() if n.startswith("partner-")}
    assert partners, "at least one partner organisation has a read-only user"
    assert set(users) == set(SERVICES) | set(partners)
    writers = 0
    for name, user in partners.items():
        # A partner writes at most its organisation's inbound topic and reads its outcomes (kafka_users.py).
        written = {g.removeprefix("topic:") for g in _grants(user, "Write")}
        assert len(written) <= 1 and all(t.startswith("partner.") and t.endswith(".commands") for t in written)
        answers = {t.removesuffix(".commands") + ".outcomes" for t in written}
        assert not written or answers <= set(topics), name
        writers += len(written)
        read = {g.removeprefix("topic:") for g in _grants(user, "Read") if g.startswith("topic:")}
        assert read - answers and read - answers <= {f"{s}.events" for s in EVENT_SERVICES}, name
        assert not read & written, name  # a sender never reads its inbound topic back (others' records)
        client = name.removeprefix("partner-")
        assert _grants(user, "Read") - {f"topic:{t}" for t in read} == {f"group:partner.{client}.*"}, name
        assert _grants(user, "Describe") == {f"topic:{t}" for t in read | written}, name
        assert all(t in topics for t in written), name
        for forbidden in ("Create", "Delete", "Alter", "AlterConfigs", "ClusterAction", "IdempotentWrite"):
            assert not _grants(user, forbidden), (name, forbidden)
    assert writers, "the example grants one partner organisation's system the inbound topic"


def test_the_partner_users_are_generated_from_the_example_clients_file() -> None:
    """``kafka-partner-users.yaml`` is what ``partnership partners kafka-users`` prints for ``partner-clients.yaml``:
    a grant changed in one and not the other fails here."""
    from typer.testing import CliRunner

    from services.cli import cli

    result = CliRunner().invoke(cli, ["partners", "kafka-users", "--clients", str(ROOT / "deploy" /
                                                                                  "partner-clients.yaml")])
    assert result.exit_code == 0, result.output
    committed = (K8S / "base" / "kafka-partner-users.yaml").read_text()
    assert result.stdout == committed, ("deploy/k8s/base/kafka-partner-users.yaml is stale: run `partnership partners "
                                        "kafka-users --clients deploy/partner-clients.yaml` into it")


def test_the_partner_clients_configmap_is_generated_from_the_example_clients_file() -> None:
    """``partner-clients.yaml`` in the base is what ``partnership partners clients-configmap`` prints for the example
    clients file: a client changed in one and not the other fails here."""
    from typer.testing import CliRunner

    from services.cli import cli

    result = CliRunner().invoke(cli, ["partners", "clients-configmap", "--clients",
                                      str(ROOT / "deploy" / "partner-clients.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout == (K8S / "base" / "partner-clients.yaml").read_text(), (
        "deploy/k8s/base/partner-clients.yaml is stale: run `partnership partners clients-configmap --clients "
        "deploy/partner-clients.yaml` into it")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_projects_worker_reads_the_partner_clients_and_so_consumes_their_inbound_topics(overlay: str) -> None:
    """The inbound consumer runs wherever the projects worker does: on Kubernetes the ConfigMap is mounted where
    PARTNERSHIP_PARTNER_CLIENTS_FILE says, in compose the example file; and that file, so read, gives the worker an
    inbound topic to consume (the example grants worcester-college's system progress reports)."""
    from services.partners.clients_config import KEY, MOUNT, PATH
    from services.projects.policies import partner_clients
    from shared.settings import Settings

    worker = of_kind(overlay, "Deployment")["projects-worker"]["spec"]["template"]["spec"]
    container = worker["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PARTNERSHIP_PARTNER_CLIENTS_FILE"] == PATH
    mounted = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in worker["volumes"]}
    names = [n for n, m in mounted.items() if m["mountPath"] == MOUNT]
    assert names and mounted[names[0]]["readOnly"] is True
    configmap = of_kind(overlay, "ConfigMap")[volumes[names[0]]["configMap"]["name"]]
    text = configmap["data"][KEY]
    assert text == (ROOT / "deploy" / "partner-clients.yaml").read_text()

    service = compose()["services"]["projects-worker"]
    path = service["environment"]["PARTNERSHIP_PARTNER_CLIENTS_FILE"]
    assert f"./deploy/partner-clients.yaml:{path}:ro" in service["volumes"]

    registry = partner_clients(Settings(partner_clients_file=ROOT / "deploy" / "partner-clients.yaml"))
    sender = registry.command_sender("worcester-college")
    assert sender is not None and sender.commands


def test_the_consumer_group_names_fall_under_each_service_prefix() -> None:
    """Groups are ``<consumer>.<topic>`` (shared/consumer.py); the ACL prefix is the service's name."""
    from services.projects.policies import consumers as projects_consumers
    from services.tasking.policies import consumers as tasking_consumers

    source = (ROOT / "shared" / "consumer.py").read_text()
    assert 'f"{self.name}.{self.topic}"' in source
    names = {"reporting"}
    for module in (projects_consumers, tasking_consumers):
        names |= set(re.findall(r'Runner\(\s*"([a-z-]+)"', Path(module.__code__.co_filename).read_text()))
    assert names >= {"tasking", "projects-taskings", "projects-reactions", "reporting"}
    for name in names:
        assert any(name.startswith(service) for service in SERVICES), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_exists_up_front_with_the_partitions_the_code_expects(overlay: str) -> None:
    topics = of_kind(overlay, "KafkaTopic")
    expected = {f"{s}.events" for s in EVENT_SERVICES} | set(DEAD_LETTER_TOPICS.values())
    # Each organisation granted commands has its inbound and outcomes topics (from the partner clients file).
    from services.partners.inbound import commands_topic, outcomes_topic
    from shared.auth import ClientRegistry

    clients = ClientRegistry.from_file(ROOT / "deploy" / "partner-clients.yaml", secrets_needed=False)
    inbound = {name for c in clients if c.commands
               for name in (commands_topic(c.organisation), outcomes_topic(c.organisation))}
    assert inbound, "the example grants an organisation's system commands"
    assert set(topics) == expected | inbound
    replicas = of_kind(overlay, "KafkaNodePool")["dual-role"]["spec"]["replicas"]
    for name, topic in topics.items():
        assert topic["spec"]["topicName"] == name
        assert topic["spec"]["partitions"] == TOPIC_PARTITIONS
        assert topic["spec"]["replicas"] <= replicas
        assert topic["spec"]["config"]["min.insync.replicas"] <= topic["spec"]["replicas"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == next(iter(of_kind(overlay, "Kafka")))
    for name in expected:
        assert (topics[name]["spec"]["config"]["retention.ms"] == -1) == name.endswith(".events")


def test_the_dead_letter_topics_named_here_are_the_ones_the_code_uses() -> None:
    used = set(re.findall(r'topic\("([a-z]+\.dlq)"\)', "\n".join(
        p.read_text() for p in [ROOT / "services" / "runtime.py", *ROOT.glob("services/*/policies.py")])))
    # A service's copy of tasking's meetings dead-letters to "<service>.dlq" (shared/meeting_copy.py).
    used |= {f"{service}.dlq" for service in re.findall(r'meetings_consumer\("([a-z]+)"', "\n".join(
        p.read_text() for p in ROOT.glob("services/*/meetings.py")))}
    assert used == set(DEAD_LETTER_TOPICS.values())


# -- docker-compose.yml -------------------------------------------------------------------------------------------
@cache
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_the_compose_file_fits_the_compose_specification() -> None:
    text = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(text.read_text())
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(compose()))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_compose_runs_every_process_with_a_health_check_on_its_own_database() -> None:
    services = compose()["services"]
    expected = {name.replace("gateway", "gateway"): args for name, args in _expected_deployments().items()}
    for name, args in expected.items():
        service = services[name]
        assert service["command"] == args, name
        port = "9000" if "worker" in name else "8000"
        assert f"127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"]), name
        database = "reporting" if name == "gateway" else name.rsplit("-", 1)[0]
        url = service["environment"]["PARTNERSHIP_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql://{database}:\$\{{[A-Z_]+:\?[^}}]+\}}@postgres:5432/{database}", url), url
        assert service["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
        assert service["environment"]["PARTNERSHIP_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_compose_creates_every_topic_with_its_partitions_and_loads_the_demo_once_the_workers_run() -> None:
    services = compose()["services"]
    script = " ".join(services["kafka-topics"]["command"])
    listed = re.search(r"for topic in ([a-z. ]+); do", script)
    assert listed is not None
    expected = {f"{s}.events" for s in EVENT_SERVICES} | set(DEAD_LETTER_TOPICS.values())
    assert set(listed.group(1).split()) == expected
    assert f"--partitions {TOPIC_PARTITIONS}" in script
    demo = services["demo"]
    assert demo["command"][0] == "demo" and demo["restart"] == "no"
    assert {f"{s}-worker" for s in SERVICES} <= set(demo["depends_on"])
    databases = re.findall(r"(\w+)=postgresql://(\w+):", demo["environment"]["PARTNERSHIP_DEMO_DATABASES"])
    assert sorted(databases) == sorted((s, s) for s in EVENT_SERVICES)
    init = (ROOT / "deploy" / "compose" / "init-databases.sh").read_text()
    assert "for service in priorities tasking projects reporting people; do" in init
    mounted = services["postgres"]["volumes"]
    assert "./deploy/compose/init-databases.sh:/docker-entrypoint-initdb.d/10-databases.sh:ro" in mounted


@pytest.mark.integration
def test_the_compose_init_script_gives_each_service_a_database_it_owns(postgres_url: str) -> None:
    """Run the init script against a real PostgreSQL (as the image's entrypoint would, through psql)."""
    import os
    from urllib.parse import urlsplit

    import psycopg

    psql = shutil.which("psql") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))), None)
    if psql is None:
        pytest.skip("psql is not installed")
    url = urlsplit(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'priorities'").fetchone():
            pytest.skip("this server already has the compose roles")
    env = {**os.environ, "PATH": f"{Path(psql).parent}:{os.environ['PATH']}", "PGHOST": url.hostname or "",
           "PGPORT": str(url.port), "PGPASSWORD": url.password or "", "POSTGRES_USER": url.username or "",
           **{f"{s.upper()}_DB_PASSWORD": f"{s}-secret" for s in (*SERVICES, "people")}}
    result = subprocess.run(["bash", str(ROOT / "deploy" / "compose" / "init-databases.sh")], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    try:
        for service in (*SERVICES, "people"):  # the people vault's database too, which every service reaches
            own = url._replace(netloc=f"{service}:{service}-secret@{url.hostname}:{url.port}", path=f"/{service}")
            with psycopg.connect(own.geturl(), autocommit=True) as conn:
                conn.execute("CREATE SCHEMA IF NOT EXISTS probe")  # what a service does on its first start
            other = "reporting" if service != "reporting" else "priorities"
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(own._replace(path=f"/{other}").geturl()).close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            for service in (*SERVICES, "people"):
                conn.execute(f'DROP DATABASE IF EXISTS "{service}" WITH (FORCE)')
                conn.execute(f'DROP ROLE IF EXISTS "{service}"')


# -- Dockerfile ---------------------------------------------------------------------------------------------------
def test_the_image_is_multi_stage_slim_and_runs_partnership_as_a_user_without_privileges() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert len(stages) == 2 and "slim" in dockerfile.split("ARG PYTHON_IMAGE=", 1)[1].splitlines()[0]
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "COPY --from=build /opt/partnership /opt/partnership" in final
    assert re.search(r"^USER 10001:10001$", final, re.MULTILINE)
    assert 'ENTRYPOINT ["partnership"]' in final
    assert "apt-get" not in dockerfile and "gcc" not in dockerfile  # wheels only: nothing to compile
    assert "pip uninstall --yes pip setuptools wheel" in final
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*"):][:5] == ["*", "!pyproject.toml", "!README.md", "!shared/", "!services/"]

"""The Kubernetes manifests (infra/kubernetes) would be accepted and would run the platform: each
document is checked against Kubernetes' own schemas (kubernetes-validate, offline, strict: an
unknown field fails); every process `make run` starts has a Deployment of compose's image and
command; APIs have readiness on /readyz and liveness on /healthz, background processes their
heartbeat; the secrets come from the env file whose example names them; and the network
policies let each configured call between processes through and nothing else reach a service."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
import yaml
from deployment_layout import APIS, REPO, compose_file, make_run_processes, module_of

MANIFESTS = REPO / "infra" / "kubernetes"
KUBERNETES = "1.34.0"  # the oldest release still supported upstream when these were written
PEER_URL = re.compile(r"^http://([a-z0-9-]+):(\d+)$")


def _kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    return loaded


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in _kustomization()["resources"]:
        docs.extend(d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d)
    return docs


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    container: dict[str, Any] = containers[0]
    return container


def _config_of(deployment: dict[str, Any]) -> dict[str, str]:
    maps = _of_kind("ConfigMap")
    values: dict[str, str] = {}
    for source in _container(deployment).get("envFrom", []):
        values.update(maps[source["configMapRef"]["name"]]["data"])
    return values


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for rule in selector.get("matchExpressions", []):
        present = labels.get(rule["key"])
        if rule["operator"] == "In" and present not in rule["values"]:
            return False
        if rule["operator"] == "NotIn" and present in rule["values"]:
            return False
        if rule["operator"] == "Exists" and present is None:
            return False
    return True


def _may_reach(source: dict[str, str], target: dict[str, str]) -> bool:
    """Whether the namespace's ingress policies let a pod labelled `source` reach `target`."""
    policies = [
        p["spec"]
        for p in _of_kind("NetworkPolicy").values()
        if "Ingress" in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], target)
    ]
    assert policies, f"no ingress policy selects {target}: everything reaches it"
    for policy in policies:
        for rule in policy.get("ingress", []):
            peers = rule.get("from")
            if not peers or any(_selects(p.get("podSelector", {}), source) for p in peers):
                return True
    return False


def _labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def test_every_manifest_is_valid_for_kubernetes_and_listed_in_the_kustomization() -> None:
    listed = set(_kustomization()["resources"])
    on_disk = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, "a manifest is not applied, or a listed one is missing"
    problems = {}
    for doc in _documents():
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as invalid:
            problems[f"{doc['kind']}/{doc['metadata']['name']}"] = str(invalid).splitlines()[0]
    assert problems == {}


def test_the_validator_refuses_what_kubernetes_would() -> None:
    deployment = _of_kind("Deployment")["booking"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    _container(broken)["readinesProbe"] = _container(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_every_process_make_run_starts_is_a_deployment_of_composes_image_and_command() -> None:
    compose = {
        module_of(n, s): s
        for n, s in compose_file()["services"].items()
        if s["image"].startswith("studio/")
    }
    deployments = _of_kind("Deployment")
    by_module = {}
    for name, deployment in deployments.items():
        command = _container(deployment).get("command")
        by_module[str(command[2]) if command else name] = deployment

    expected = make_run_processes()
    assert expected - set(by_module) == set(), "make run starts these, Kubernetes would not"
    for module in expected:
        container = _container(by_module[module])
        assert container["image"] == compose[module]["image"], module
        if module in APIS:
            port = container["ports"][0]
            assert port["name"] == "http"
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            service = _of_kind("Service")[module]
            assert service["spec"]["selector"] == {"app.kubernetes.io/name": module}
            assert service["spec"]["ports"][0]["targetPort"] == "http"
        else:
            heartbeat = _config_of(by_module[module])["STUDIO_HEARTBEAT_FILE"]
            probe = ["python", "-m", "kit.heartbeat", heartbeat]
            assert container["livenessProbe"]["exec"]["command"] == probe, module
            assert "ports" not in container, f"{module} serves no HTTP"
    assert deployments["render-worker"]["spec"]["replicas"] >= 2


def test_every_pod_runs_unprivileged_on_a_read_only_root_with_a_scratch_tmp() -> None:
    namespace = next(d for d in _documents() if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, deployment in _of_kind("Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = _container(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: /tmp is not writable"
        assert "memory" in container["resources"]["limits"], name


def test_every_secret_comes_from_the_env_file_whose_example_names_it_without_a_value() -> None:
    example = (MANIFESTS / "secrets.env.example").read_text()
    named = set(re.findall(r"^([A-Z0-9_]+)=$", example, re.MULTILINE))
    assert not re.findall(r"^[A-Z0-9_]+=.+$", example, re.MULTILINE), "a value in the example"
    generated = _kustomization()["secretGenerator"]
    assert generated == [{"name": "studio-secrets", "envs": ["secrets.env"]}]
    assert "infra/kubernetes/secrets.env" in (REPO / ".gitignore").read_text().splitlines()

    used: set[str] = set()
    for name, deployment in _of_kind("Deployment").items():
        for variable in _container(deployment).get("env", []):
            ref = variable["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("studio-secrets", variable["name"]), name
            used.add(ref["key"])
        for key in _config_of(deployment):
            assert not re.search(r"SECRET|PASSWORD|_KEY$", key), f"{name}: {key} in a ConfigMap"
    assert used == named
    compose_secrets = set(
        re.findall(r"\$\{([A-Z0-9_]+):\?", (REPO / "docker-compose.yml").read_text())
    )
    assert compose_secrets <= named, f"compose needs, Kubernetes lacks: {compose_secrets - named}"


def test_only_the_gateway_and_configured_peers_reach_a_service() -> None:
    deployments = _of_kind("Deployment")
    services = _of_kind("Service")
    configured: set[tuple[str, str]] = set()
    for name, deployment in deployments.items():
        for key, value in _config_of(deployment).items():
            peer = PEER_URL.match(value)
            if key.endswith("_URL") and peer and peer.group(1) in services:
                assert services[peer.group(1)]["spec"]["ports"][0]["port"] == int(peer.group(2))
                configured.add((name, peer.group(1)))

    assert ("render-worker", "workflow") in configured  # the scan found the peers
    assert ("web", "gateway") in configured
    for source, source_deployment in deployments.items():
        for target in set(APIS) - {"web"}:
            allowed = _may_reach(_labels(source_deployment), _labels(deployments[target]))
            if target == "gateway" or (source, target) in configured:
                assert allowed, f"{source} is configured to call {target}, which is blocked"
            else:
                assert not allowed, f"{source} reaches {target} without a reason to"
    assert _may_reach({"app": "ingress-controller"}, _labels(deployments["web"]))
    assert not _may_reach({"app": "ingress-controller"}, _labels(deployments["booking"]))

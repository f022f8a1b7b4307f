"""The Kubernetes manifests and the Dockerfile, checked offline.

Every manifest under ``k8s/`` is validated (strictly: unknown fields are errors) against the
Kubernetes JSON schemas bundled with ``kubernetes-validate``, for the oldest and the newest
Kubernetes version we support; then the manifests are checked against each other and
against the service (probe paths, settings names, key format).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.auth import parse_keys
from service.settings import PROJECT_ROOT, Settings

K8S = PROJECT_ROOT / "k8s"
VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]


def manifests() -> dict[str, dict[str, Any]]:
    """Every resource of the base, by kind (``kind/name`` for a second of a kind)."""
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            kind = doc["kind"]
            found[kind if kind not in found else f"{kind}/{doc['metadata']['name']}"] = doc
    return found


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", sorted(manifests()))
def test_manifest_matches_the_kubernetes_schema(kind: str, version: str) -> None:
    kubernetes_validate.validate(manifests()[kind], version, strict=True)


def test_schema_validation_catches_mistakes() -> None:
    broken = manifests()["Deployment"]
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["limit"] = {"cpu": "1"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk


def test_manifests_agree_with_each_other_and_the_service() -> None:
    m = manifests()
    deployment, pod = m["Deployment"], m["Deployment"]["spec"]["template"]
    labels = pod["metadata"]["labels"]
    for selector in (
        m["Service"]["spec"]["selector"],
        m["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    assert (
        m["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"]
        == deployment["metadata"]["name"]
    )
    assert (
        deployment["spec"]["replicas"] == 1 == m["HorizontalPodAutoscaler"]["spec"]["maxReplicas"]
    )
    assert deployment["spec"]["strategy"]["type"] == "Recreate"

    (container,) = pod["spec"]["containers"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {v["mountPath"]: v["name"] for v in container["volumeMounts"]}
    assert (
        volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"]
        == m["PersistentVolumeClaim"]["metadata"]["name"]
    )
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert (
        volumes[mounts["/etc/factcheck/keys"]]["secret"]["secretName"]
        == m["Secret"]["metadata"]["name"]
    )

    security = container["securityContext"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert (
        security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    )
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert {container[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe")} == {
        "/health/ready"
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    # bench/load.py (README "Load test"): peak RSS 1,359 MiB under load, where it levels off.
    memory = {k: v["memory"] for k, v in container["resources"].items()}
    assert all(m.endswith("Mi") for m in memory.values())
    assert int(memory["requests"][:-2]) >= 1_359 and int(memory["limits"][:-2]) >= 1.5 * 1_359

    # The ConfigMap is valid settings, the key file names the Secret's key, the keys parse.
    env = m["ConfigMap"]["data"]
    settings = Settings.from_env(env)
    assert all(k.startswith("FACTCHECK_") and hasattr(settings, k[10:].lower()) for k in env)
    key_file = Path(settings.api_keys_file)
    assert mounts[str(key_file.parent)] == "api-keys"
    assert len(parse_keys(m["Secret"]["stringData"][key_file.name])) == 2

    # The ingresses reach the Service, and wait longer than the service's own deadline.
    ingresses = {d["metadata"]["name"]: d for k, d in m.items() if k.split("/")[0] == "Ingress"}
    assert set(ingresses) == {"factcheck", "factcheck-stream"}
    for ingress in ingresses.values():
        (rule,) = ingress["spec"]["rules"]
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"]["name"] == m["Service"]["metadata"]["name"]
            assert path["backend"]["service"]["port"]["name"] == "http"
        read_timeout = ingress["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/proxy-read-timeout"
        ]
        assert int(read_timeout) > settings.request_timeout_s
    stream = ingresses["factcheck-stream"]["metadata"]["annotations"]
    assert stream["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"


def test_dockerfile_shape() -> None:
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert stages == ["python:3.11-slim", "python:3.11-slim"]  # multi-stage, slim base
    assert re.search(r"^USER 10001", text, flags=re.M)  # the Deployment's runAsUser
    assert "/health/ready" in re.search(r"^HEALTHCHECK.*\n.*", text, flags=re.M)[0]  # type: ignore[index]
    assert 'VOLUME ["/data"]' in text and "FACTCHECK_STORE=/data/" in text
    install = (PROJECT_ROOT / "scripts" / "install_image.sh").read_text()
    pinned = re.search(r'"torch==([\d.]+)"', (PROJECT_ROOT / "pyproject.toml").read_text())
    assert pinned and f'"torch=={pinned[1]}"' in install and "whl/cpu" in install

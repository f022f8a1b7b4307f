"""The multi-replica manifests: stateless replicas whose store URL comes from a Secret."""

from __future__ import annotations

from typing import Any

import yaml

from service.settings import PROJECT_ROOT

FOLDER = PROJECT_ROOT / "k8s" / "multi-replica"


def manifests() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((FOLDER / "kustomization.yaml").read_text())
    docs = [yaml.safe_load((FOLDER / name).read_text()) for name in kustomization["resources"]]
    return {doc["kind"]: doc for doc in docs}


def test_replicas_share_the_store_named_by_a_secret() -> None:
    found = manifests()
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= set(found)
    assert "Secret" not in found and "PersistentVolumeClaim" not in found
    deployment = found["Deployment"]["spec"]
    assert deployment["replicas"] >= 2
    pod = deployment["template"]["spec"]
    assert all("persistentVolumeClaim" not in v for v in pod.get("volumes", []))
    [container] = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["FACTCHECK_STORE"]["valueFrom"]["secretKeyRef"] == {
        "name": "factcheck-store",
        "key": "url",
    }
    example = yaml.safe_load((FOLDER / "secret.example.yaml").read_text())
    assert example["stringData"]["url"].startswith("postgresql://")
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == found["Deployment"]["metadata"]["name"]
    assert hpa["minReplicas"] >= 2

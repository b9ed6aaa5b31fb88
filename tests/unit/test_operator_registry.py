"""The operator's kopf configuration: what kopf copies into the run's own annotations."""

from __future__ import annotations

import json

import kopf

from yokeflow.controller.registry import last_handled_storage


def _run(tasks: int, max_concurrency: int) -> kopf.Body:
    plan = {
        "name": "big",
        "epics": [
            {
                "key": f"e{e}",
                "name": f"Epic {e}",
                "tasks": [
                    {"key": f"t{e}-{t}", "title": f"Task {t} of epic {e}", "description": "x" * 80}
                    for t in range(tasks // 20)
                ],
            }
            for e in range(20)
        ],
    }
    return kopf.Body(
        {
            "apiVersion": "yokeflow.io/v1alpha1",
            "kind": "ProjectRun",
            "metadata": {"name": "big", "namespace": "team", "annotations": {}},
            "spec": {
                "repository": {"url": "git://git.example/app.git"},
                "plan": plan,
                "maxConcurrency": max_concurrency,
            },
        }
    )


def test_the_last_handled_spec_leaves_the_plan_out_and_stays_small() -> None:
    storage = last_handled_storage()
    body = _run(2000, 8)
    assert len(json.dumps(dict(body))) > 256 * 1024  # the API server's limit for annotations
    essence = storage.build(body=body)
    encoded = json.dumps(essence)
    assert len(encoded) < 1024, encoded
    assert "plan" not in essence["spec"]
    # An edit kopf must still see (it wakes the run at once) is in it.
    assert essence["spec"]["maxConcurrency"] == 8
    changed = storage.build(body=_run(2000, 9))
    assert changed != essence

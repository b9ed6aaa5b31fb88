"""yokeflow.specs.names: deterministic, distinct, valid names; labels; owner references."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yokeflow.specs import names

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
KEYS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", fullmatch=True)
RUNS = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,80}[a-z0-9])?", fullmatch=True)


def test_the_same_inputs_give_the_same_job_name() -> None:
    assert names.task_job_name("todo", "api-auth", 1) == names.task_job_name("todo", "api-auth", 1)
    assert names.task_job_name("todo", "api-auth", 1).startswith("todo-api-auth-1-")


@given(RUNS, KEYS, st.integers(1, 10))
def test_every_task_job_name_is_a_dns_label(run: str, task: str, attempt: int) -> None:
    assert DNS_LABEL.fullmatch(names.task_job_name(run, task, attempt))


def test_names_whose_readable_parts_collide_stay_distinct() -> None:
    # "a-b" + "c" and "a" + "b-c" join to the same text; the hash of the parts keeps them apart.
    assert names.task_job_name("a-b", "c", 1) != names.task_job_name("a", "b-c", 1)
    long_run = "r" * 60
    assert names.task_job_name(long_run, "task-one", 1) != names.task_job_name(
        long_run, "task-two", 1
    )
    assert names.task_job_name("todo", "Api", 1) != names.task_job_name("todo", "api", 1)


def test_each_kind_of_object_has_its_own_name() -> None:
    made = {
        names.task_job_name("todo", "merge", 1),
        names.merge_job_name("todo", 1),
        names.planning_job_name("todo", 1),
        names.task_batch_name("todo", 1),
        names.network_policy_name("todo"),
        names.task_secret_name(names.task_job_name("todo", "merge", 1)),
    }
    assert len(made) == 6
    assert all(DNS_LABEL.fullmatch(n) for n in made)


def test_an_attempt_starts_at_one() -> None:
    with pytest.raises(ValueError, match="attempt"):
        names.task_job_name("todo", "t", 0)


def test_common_labels_name_the_run_and_never_a_gitops_tracking_label() -> None:
    labels = names.common_labels("Todo_Run", names.COMPONENT_AGENT)

    assert labels[names.LABEL_COMPONENT] == "agent"
    assert DNS_LABEL.fullmatch(labels[names.LABEL_RUN])
    assert "app.kubernetes.io/instance" not in labels


def test_an_owner_reference_is_a_blocking_controller_reference() -> None:
    ref = names.owner_reference(names.Owner("yokeflow.io/v1alpha1", "TaskBatch", "b", "u-1"))

    assert ref == {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "TaskBatch",
        "name": "b",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }

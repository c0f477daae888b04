"""The whole pipeline over real HTTP: live server with the sandbox, real qcluster workers."""

import pytest

from studio.models import Generation, SandboxTask
from studio.pipeline import enqueue
from tests.factories import give_key, make_generation
from tests.live.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
S = Generation.Status

MIX = (
    ["A calm lake at dawn #{}"] * 12
    + ["[fail] A storm that breaks #{}"] * 3
    + ["[429] A busy market #{}"] * 3
    + ["[slow] A glacier moving #{}"] * 2
)


def launch(team, user, prompts):
    made = []
    for i, prompt in enumerate(prompts):
        generation = make_generation(team, user, prompt=prompt.format(i), seconds=4, ratio="9:16" if i % 2 else "16:9")
        enqueue("studio.tasks.submit_generation", generation.pk)
        made.append(generation)
    return made


def finished(pks):
    return not Generation.objects.filter(pk__in=pks, status__in=Generation.PENDING).exists()


def assert_outcomes(generations):
    for generation in generations:
        generation.refresh_from_db()
        if "[fail]" in generation.prompt:
            assert generation.status == S.FAILED, generation
            assert "failed as requested" in generation.error
        else:
            assert generation.status == S.READY, (generation, generation.error)
            assert generation.video and generation.poster and generation.duration
    prompts = list(SandboxTask.objects.values_list("body__prompt", flat=True))
    assert len(prompts) == len(set(prompts)), "a generation was submitted twice"


def test_twenty_generations_reach_the_right_final_state(worker, alice, team):
    give_key(alice, "sk-sandbox-integration")
    generations = launch(team, alice, MIX)
    wait_until(lambda: finished([g.pk for g in generations]), timeout=180, what="all generations to finish")
    assert_outcomes(generations)


def test_worker_killed_mid_flight_loses_nothing(worker, alice, team):
    give_key(alice, "sk-sandbox-integration")
    generations = launch(team, alice, [p.replace("[slow] ", "") for p in MIX[:10]])
    pks = [g.pk for g in generations]
    wait_until(lambda: Generation.objects.filter(pk__in=pks, status=S.RUNNING).exists(), timeout=60, what="a running task")
    worker.kill()
    worker.start()
    wait_until(lambda: finished(pks), timeout=240, what="everything to finish after the restart")
    for generation in generations:
        generation.refresh_from_db()
        assert generation.status in (S.READY, S.FAILED)
        if generation.status == S.FAILED and "[fail]" not in generation.prompt:
            assert "may or may not have received" in generation.error  # killed right after sending
    prompts = list(SandboxTask.objects.values_list("body__prompt", flat=True))
    assert len(prompts) == len(set(prompts)), "a generation was submitted twice"

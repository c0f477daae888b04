"""Webhooks over real HTTP: the sandbox POSTs each final task to the live server's receiver,
which has the worker poll that task at once; the slower backup polls never come into play."""

import pytest

from studio.models import Generation, Lease, SandboxTask
from tests.factories import give_key
from tests.live.conftest import Worker, wait_until
from tests.live.test_pipeline_live import finished, launch

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
S = Generation.Status


@pytest.fixture
def webhook_worker(worker, tmp_path):
    """The shared worker's cluster, restarted with webhooks on (and back off afterwards)."""
    worker.kill()
    Lease.objects.filter(name="sweep").delete()  # the killed sweep's lease would hold for a while
    hooked = Worker({**worker.env, "WEBHOOKS_ENABLED": "1"}, tmp_path / "qcluster-webhooks.log")
    hooked.start()
    yield hooked
    hooked.kill()
    Lease.objects.filter(name="sweep").delete()
    worker.start()


def test_webhooks_finish_tasks_with_one_confirming_poll_each(webhook_worker, alice, team):
    give_key(alice, "sk-sandbox-webhooks")
    generations = launch(team, alice, ["[run=3] Lanterns over a river #{}"] * 3 + ["[fail] [run=3] A kite #{}"])
    pks = [g.pk for g in generations]
    wait_until(lambda: finished(pks), timeout=90, what="the webhooks' generations to finish")
    for generation in generations:
        generation.refresh_from_db()
        task = SandboxTask.objects.get(task_id=generation.task_id)
        assert task.callback_url.endswith(f"/hooks/relaydance/{generation.webhook_token}/")
        assert task.callback_sent_at is not None, "the webhook was not delivered"
        # Backup polls come every 15 s: the one poll is the receiver's authenticated confirmation.
        assert task.polls == 1, (generation.prompt, task.polls)
        if "[fail]" in generation.prompt:
            assert generation.status == S.FAILED and "failed as requested" in generation.error
        else:
            assert generation.status == S.READY and generation.video and generation.poster

import gc
import sys

from django.core.management import call_command, get_commands


def test_qcluster_is_studios_own(db):
    assert get_commands()["qcluster"] == "studio"


def test_qcluster_loads_the_jobs_and_freezes_the_heap_before_the_cluster_forks(db, monkeypatch):
    seen = {}

    class Cluster:
        def start(self):
            seen["frozen"] = gc.get_freeze_count()
            seen["loaded"] = {"av", "studio.tasks"} <= set(sys.modules)

        def stop(self):
            pass

    monkeypatch.setattr("django_q.management.commands.qcluster.Cluster", Cluster)
    try:
        call_command("qcluster", "--run-once")
    finally:
        gc.unfreeze()
    assert seen["frozen"] > 0 and seen["loaded"]

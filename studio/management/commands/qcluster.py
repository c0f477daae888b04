"""django-q2's qcluster, with the job code loaded and the heap frozen before the cluster forks.

The cluster is six processes forked from this one (this process, a sentinel, the workers, a
monitor and a pusher). Importing the jobs' modules here, FFmpeg's libraries included, lets
every child share those pages instead of loading its own copy, and `gc.freeze()` keeps the
collector from touching (and so copying) the objects they share. See the gc module's docs.
"""

import gc

from django_q.management.commands import qcluster


class Command(qcluster.Command):
    def handle(self, *args, **options):
        import av  # noqa: F401  (used by studio.media when a video is fetched)

        import studio.tasks  # noqa: F401

        gc.collect()
        gc.freeze()
        super().handle(*args, **options)

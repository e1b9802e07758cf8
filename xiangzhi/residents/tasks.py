"""Background work of the registry, run by the task worker (``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def import_roster(job_id: int) -> None:
    """Run a queued roster import (large files; small ones run inline in the request)."""
    from .importer import run_job

    run_job(job_id)

"""An import left "running" by a dead process is closed by the worker loop's periodic job,
and its uploaded roster file does not stay on disk."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from xiangzhi.core.periodic import JOBS
from xiangzhi.residents.models import ImportJob

pytestmark = pytest.mark.django_db


def job(*, status, started_minutes_ago, stored_path=""):
    return ImportJob.objects.create(
        area_code="341524111206", file_name="花名册.xlsx", status=status, stored_path=stored_path,
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
    )


def test_stuck_job_is_failed_and_its_file_removed(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports" / "a.xlsx").write_bytes(b"roster with personal data")
    stuck = job(status=ImportJob.Status.RUNNING, started_minutes_ago=180, stored_path="imports/a.xlsx")
    fresh = job(status=ImportJob.Status.RUNNING, started_minutes_ago=5)
    done = job(status=ImportJob.Status.DONE, started_minutes_ago=600)
    call_command("reset_stuck_imports")
    call_command("reset_stuck_imports")  # idempotent
    stuck.refresh_from_db(), fresh.refresh_from_db(), done.refresh_from_db()
    assert stuck.status == ImportJob.Status.FAILED and "重新上传" in stuck.message and stuck.finished_at
    assert stuck.stored_path == "" and not (Path(settings.UPLOAD_DIR) / "imports" / "a.xlsx").exists()
    assert fresh.status == ImportJob.Status.RUNNING  # may still be working
    assert done.status == ImportJob.Status.DONE


def test_the_worker_loop_runs_it():
    assert any(name == "reset_stuck_imports" for name, _ in JOBS)

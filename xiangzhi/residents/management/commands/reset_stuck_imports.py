"""Close import jobs left "running" by a process that died (a server restart, a killed
worker): the import writes all or nothing in one transaction, so such a job wrote nothing —
it is marked failed with a message asking for a new upload, and its uploaded file (a roster
full of personal data) is deleted. Idempotent; run by the worker loop every 10 minutes."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from xiangzhi.residents.models import ImportJob

STUCK_AFTER = timedelta(hours=1)  # far longer than the largest allowed file takes
MESSAGE = "导入中途中断（服务曾重启），未写入任何数据。请重新上传该文件。"


class Command(BaseCommand):
    help = "把中断后一直显示“导入中”的户籍导入任务标记为未导入"

    def handle(self, *args, **options):
        cutoff = timezone.now() - STUCK_AFTER
        stuck = ImportJob.objects.filter(status=ImportJob.Status.RUNNING, started_at__lt=cutoff)
        n = 0
        for job in stuck.only("pk", "stored_path"):
            if job.stored_path:
                (Path(settings.UPLOAD_DIR) / job.stored_path).unlink(missing_ok=True)
            n += ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
                status=ImportJob.Status.FAILED, message=MESSAGE, finished_at=timezone.now(), stored_path=""
            )
        if n:
            self.stdout.write(f"已关闭 {n} 个中断的导入任务")

"""The background worker `make run` starts: the task worker (django-tasks-db ``db_worker``)
plus the periodic jobs of ``xiangzhi.core.periodic`` on their schedules."""

import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from xiangzhi.core.periodic import JOBS


class Command(BaseCommand):
    help = "后台工作进程：执行导入/导出等任务，并按时运行定期作业"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只运行一次定期作业后退出")

    def handle(self, *args, once=False, **options):
        if once:
            for name, _ in JOBS:
                call_command(name)
            return
        worker = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--interval", "1"])  # noqa: S603
        last_run: dict[str, float] = {}
        try:
            while worker.poll() is None:
                now = time.monotonic()
                for name, every in JOBS:
                    if now - last_run.get(name, -every) >= every:
                        last_run[name] = now
                        try:
                            call_command(name)
                        except Exception as exc:  # noqa: BLE001 - one bad job must not stop the loop
                            self.stderr.write(f"定期作业 {name} 失败：{exc}")
                time.sleep(5)
        except KeyboardInterrupt:
            pass
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()

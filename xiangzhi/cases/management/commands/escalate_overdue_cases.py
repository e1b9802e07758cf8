from django.core.management.base import BaseCommand

from xiangzhi.cases.services import escalate_overdue


class Command(BaseCommand):
    help = "将超过本级办理时限的矛盾纠纷、急难愁盼事项自动上报上一级（可重复运行，不会重复上报）"

    def handle(self, *args, **options):
        n = escalate_overdue()
        self.stdout.write(f"自动上报 {n} 件超时事项")

from django.core.management.base import BaseCommand

from xiangzhi.points.services import post_due_awards


class Command(BaseCommand):
    help = "公示期满且无异议的积分入账（可重复运行）"

    def handle(self, *args, **options):
        self.stdout.write(f"入账 {post_due_awards()} 笔")

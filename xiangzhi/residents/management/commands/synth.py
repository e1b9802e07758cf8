"""manage.py synth --households N --seed S [--county 341524]: county-scale fictional data."""

from django.core.management.base import BaseCommand, CommandError

from xiangzhi.core import demo
from xiangzhi.org.models import Region
from xiangzhi.org.services import regions_import_shipped
from xiangzhi.residents.synth import synth


class Command(BaseCommand):
    help = "生成规模测试用的虚构户籍数据（可重复：同一种子得到同样的数据）"

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, required=True, help="户数")
        parser.add_argument("--seed", type=int, default=1, help="随机种子")
        parser.add_argument(
            "--county", default=demo.COUNTY, help="县级（或乡镇级）区划代码，默认 341524 金寨县；只用已导入的区划"
        )

    def handle(self, *args, households, seed, county, **options):
        if households < 1:
            raise CommandError("户数必须大于 0")
        if county.startswith(demo.COUNTY) and not Region.objects.filter(code=county).exists():
            regions_import_shipped(actor=None)
        try:
            result = synth(households=households, seed=seed, county=county, log=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成 {result['households']} 户、{result['residents']} 人"
                f"（{result['villages']} 个村，{result['grids']} 个网格），用时 {result['seconds']} 秒"
            )
        )

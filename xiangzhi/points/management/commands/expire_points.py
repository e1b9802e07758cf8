from django.core.management.base import BaseCommand, CommandError

from xiangzhi.points.expiry import expire_points


class Command(BaseCommand):
    help = "积分过期清零：N 年以前获得、尚未使用的积分按先进先出过期（XIANGZHI_POINTS_EXPIRY_YEARS，默认不启用；可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=None, help="有效期（年），覆盖设置")

    def handle(self, *args, years=None, **options):
        if years is not None and years < 1:
            raise CommandError("有效期应为至少 1 年")
        result = expire_points(years=years)
        if not result["enabled"]:
            self.stdout.write("积分过期未启用（设置 XIANGZHI_POINTS_EXPIRY_YEARS 启用）")
            return
        self.stdout.write(
            f"截止 {result['cutoff']:%Y-%m-%d} 以前获得的积分：{result['accounts']} 个账户过期 {result['points']} 分"
        )

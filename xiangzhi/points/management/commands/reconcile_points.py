from django.core.management.base import BaseCommand, CommandError

from xiangzhi.points.ledger import reconcile


class Command(BaseCommand):
    help = "核对积分：每个账户余额必须等于其全部流水之和；输出流水哈希"

    def handle(self, *args, **options):
        result = reconcile()
        self.stdout.write(f"账户 {result['accounts']} 个，流水 {result['entries']} 笔")
        self.stdout.write(f"流水哈希 {result['journal_hash']}")
        if result["mismatches"]:
            for m in result["mismatches"][:20]:
                self.stderr.write(f"账户 {m['account']}：余额 {m['balance']}，流水合计 {m['sum']}")
            raise CommandError(f"{len(result['mismatches'])} 个账户余额与流水不符")
        self.stdout.write(self.style.SUCCESS("全部账户余额与流水一致"))

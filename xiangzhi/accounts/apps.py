from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xiangzhi.accounts"
    label = "accounts"
    verbose_name = "账户"

    def ready(self):
        from axes.signals import user_locked_out

        from . import signals

        user_locked_out.connect(signals.on_locked_out, dispatch_uid="xiangzhi_lockout_audit")

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "xiangzhi.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self):
        from xiangzhi.core.periodic import register

        register("anchor_audit_chain", 3600)

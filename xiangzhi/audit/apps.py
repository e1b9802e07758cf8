from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "xiangzhi.audit"
    label = "audit"
    verbose_name = "审计"

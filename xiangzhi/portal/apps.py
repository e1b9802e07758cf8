from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "xiangzhi.portal"
    label = "portal"
    verbose_name = "群众服务（公开页面）"

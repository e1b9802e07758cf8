"""Staff pages of cases (mounted at /cases/)."""

from django.urls import include, path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.case_create, name="create"),
    path("new/households/", views.household_search, name="household_search"),
    path("new/assist/", views.create_assist, name="create_assist"),
    path("config/", views.config_page, name="config"),
    path("config/categories/", views.config_category_add, name="config_category_add"),
    path("config/categories/defaults/", views.config_category_defaults, name="config_category_defaults"),
    path("config/categories/<int:cid>/", views.config_category, name="config_category"),
    path("config/deadlines/", views.config_deadlines, name="config_deadlines"),
    path("config/calendar/", views.config_calendar, name="config_calendar"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/actions/<slug:action>/", views.case_action, name="action"),
    path("<int:pk>/records/<slug:kind>/", views.case_record, name="record"),
    path("<int:pk>/attachments/<int:aid>/", views.attachment, name="attachment"),
    path("<int:pk>/mediations/<int:mid>/agreement/", views.agreement, name="agreement"),
    path("", include("xiangzhi.cases.views_registers")),  # registers (台账) and KPI page
]

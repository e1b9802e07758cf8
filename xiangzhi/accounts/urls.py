from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/area-options/", views.assignment_area_options, name="assignment_area_options"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("users/<int:pk>/assignments/", views.assignment_add, name="assignment_add"),
    path(
        "users/<int:pk>/assignments/<int:assignment_pk>/remove/",
        views.assignment_remove,
        name="assignment_remove",
    ),
]

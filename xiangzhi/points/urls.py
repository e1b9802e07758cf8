"""Staff pages of the points module (mounted at /points/)."""

from django.urls import include, path

from . import converters, views

assert converters.IdConverter  # registers the points_id converter

app_name = "points"
urlpatterns = [
    path("", views.home, name="home"),
    # rulebook
    path("rules/", views.rules, name="rules"),
    path("rules/history/", views.rulebook_history, name="rulebook_history"),
    path("rules/adopt/", views.rulebook_adopt, name="rulebook_adopt"),
    path("rules/<points_id:pk>/", views.rulebook_detail, name="rulebook_detail"),
    # accounts and ledger
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/<points_id:pk>/", views.account_detail, name="account_detail"),
    path("households/<points_id:pk>/", views.household_account, name="household_account"),
    path("households/<points_id:pk>/card/", views.card, name="card"),
    path("entries/<points_id:pk>/reverse/", views.entry_reverse, name="entry_reverse"),
    # awards, review, publicity, objections
    path("awards/", views.award_list, name="award_list"),
    path("awards/new/", views.award_create, name="award_create"),
    path("awards/subjects/", views.subject_search, name="subject_search"),
    path("awards/batch/", views.batch_award, name="batch_award"),
    path("awards/<points_id:pk>/", views.award_detail, name="award_detail"),
    path("awards/<points_id:pk>/evidence/", views.award_evidence, name="award_evidence"),
    path("awards/<points_id:pk>/review/", views.award_review, name="award_review"),
    path("awards/<points_id:pk>/object/", views.award_object, name="award_object"),
    path("objections/", views.objection_list, name="objection_list"),
    path("objections/<points_id:pk>/decide/", views.objection_decide, name="objection_decide"),
    # 振风超市
    path("shops/", views.shop_list, name="shop_list"),
    path("shops/new/", views.shop_create, name="shop_create"),
    path("shops/low-stock/", views.low_stock, name="low_stock"),
    path("shops/<points_id:pk>/", views.shop_detail, name="shop_detail"),
    path("shops/<points_id:pk>/counter/", views.counter, name="counter"),
    path("shops/<points_id:pk>/counter/find/", views.counter_search, name="counter_search"),
    path("shops/<points_id:pk>/products/new/", views.product_create, name="product_create"),
    path("products/<points_id:pk>/stock-in/", views.stock_in, name="stock_in"),
    path("redemptions/<points_id:pk>/", views.receipt, name="receipt"),
    path("redemptions/<points_id:pk>/cancel/", views.redemption_cancel, name="redemption_cancel"),
    # 红黑榜
    path("lists/", views.board_list, name="board_list"),
    path("lists/generate/", views.board_generate, name="board_generate"),
    path("lists/<points_id:pk>/", views.board_detail, name="board_detail"),
    path("lists/<points_id:pk>/approve/", views.board_approve, name="board_approve"),
    path("lists/<points_id:pk>/publish/", views.board_publish, name="board_publish"),
    path("lists/<points_id:pk>/poster/", views.board_poster, name="board_poster"),
    path("lists/entries/<points_id:pk>/remove/", views.entry_remove, name="entry_remove"),
    path("appeals/", views.appeal_list, name="appeal_list"),
    path("appeals/<points_id:pk>/decide/", views.appeal_decide, name="appeal_decide"),
    path("", include("xiangzhi.points.views_registers")),  # registers (台账): printable + .xlsx
]

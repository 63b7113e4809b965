from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/contact/", views.me_contact, name="me_contact"),
    path("me/transfer/", views.me_transfer, name="me_transfer"),
    path(
        "me/transfers/<int:transfer_id>/withdraw/",
        views.me_transfer_withdraw,
        name="me_transfer_withdraw",
    ),
    path("join/", views.join, name="join"),
    path("join/<int:branch_id>/", views.join_send, name="join_send"),
    path(
        "join/requests/<int:join_request_id>/withdraw/",
        views.join_withdraw,
        name="join_withdraw",
    ),
    path("members/radar/", views.radar, name="radar"),
    path("members/radar/<int:member_id>/case/", views.case_open, name="case_open"),
    path("members/cases/<int:case_id>/", views.case, name="case"),
    path("members/cases/<int:case_id>/attempt/", views.case_attempt, name="case_attempt"),
    path("members/cases/<int:case_id>/close/", views.case_close, name="case_close"),
]

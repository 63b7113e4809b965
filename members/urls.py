from django.urls import path

from . import views, views_invitations, views_sites

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
    path("members/invitations/", views_invitations.invitations, name="invitations"),
    path(
        "members/invitations/<int:branch_id>/",
        views_invitations.invitations_branch,
        name="invitations_branch",
    ),
    path(
        "members/invitations/<int:branch_id>/new/",
        views_invitations.invitation_new,
        name="invitation_new",
    ),
    path(
        "members/invitations/revoke/<int:invitation_id>/",
        views_invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "members/invite/<str:token>/",
        views_invitations.invitation_accept,
        name="invitation_accept",
    ),
    path("members/sites/", views_sites.sites, name="sites"),
    path("members/sites/<int:site_id>/rehome/", views_sites.site_rehome, name="site_rehome"),
    path("members/sites/<int:site_id>/attach/", views_sites.site_attach, name="site_attach"),
]

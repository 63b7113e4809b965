from django.urls import path

from . import views

app_name = "welfare"

urlpatterns = [
    path("welfare/", views.index, name="index"),
    path("welfare/activities/<int:activity_id>/", views.activity_detail, name="activity"),
    path("welfare/activities/<int:activity_id>/sign-up/", views.sign_up, name="sign_up"),
    path("welfare/activities/<int:activity_id>/withdraw/", views.withdraw, name="withdraw"),
    path("welfare/cases/", views.case_list, name="cases"),
    path("welfare/cases/<int:case_id>/", views.case_detail, name="case"),
    path("welfare/cases/<int:case_id>/visits/", views.follow_up_create, name="follow_up"),
    path("welfare/cases/<int:case_id>/photos/<int:photo_id>/", views.case_photo, name="case_photo"),
    path(
        "welfare/cases/<int:case_id>/handover-document/",
        views.handover_document,
        name="handover_document",
    ),
    path("welfare/export/activities.xlsx", views.export_activities, name="export_activities"),
    path("welfare/export/cases.xlsx", views.export_cases, name="export_cases"),
]

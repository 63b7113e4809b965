from django.urls import path

from . import views

app_name = "decisions"

urlpatterns = [
    path("decisions/", views.motion_list, name="list"),
    path("decisions/<int:motion_id>/", views.motion_detail, name="detail"),
    path("decisions/<int:motion_id>/vote/", views.motion_vote, name="vote"),
    path("decisions/<int:motion_id>/open/", views.motion_open, name="open"),
    path("decisions/<int:motion_id>/close/", views.motion_close, name="close"),
    path("decisions/<int:motion_id>/progress/", views.motion_progress, name="progress"),
    path("decisions/<int:motion_id>/results.xlsx", views.motion_export, name="export"),
]

from django.urls import path

from . import views

app_name = "lessons"

urlpatterns = [
    path("lessons/", views.lesson_list, name="list"),
    path("lessons/<int:lesson_id>/", views.lesson_detail, name="detail"),
    path("lessons/<int:lesson_id>/studied/", views.lesson_mark, name="mark"),
    path("lessons/<int:lesson_id>/check/", views.lesson_check, name="check"),
    path("study/", views.study, name="study"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("documents/", views.document_list, name="documents"),
    path("documents/<int:document_id>/", views.document_detail, name="document"),
]

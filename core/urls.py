from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("editor/upload/", views.ckeditor_upload, name="ckeditor_upload"),
]

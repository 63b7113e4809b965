from django.urls import path

from . import views

app_name = "branches"

urlpatterns = [
    path("<int:organization_id>/", views.organization_detail, name="detail"),
]

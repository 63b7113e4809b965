from django.urls import path

from . import views

app_name = "discussions"

urlpatterns = [
    path("comments/", views.comment_create, name="comment_create"),
    path("comments/thread/", views.thread, name="thread"),
    path("comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("comments/<int:comment_id>/hide/", views.comment_hide, name="comment_hide"),
    path("likes/toggle/", views.like_toggle, name="like_toggle"),
    path("board/", views.board, name="board"),
    path("board/<int:post_id>/", views.board_post, name="board_post"),
    path("board/<int:post_id>/answer/", views.board_post_answer, name="board_post_answer"),
    path("board/<int:post_id>/resolve/", views.board_post_resolve, name="board_post_resolve"),
    path("board/<int:post_id>/hide/", views.board_post_hide, name="board_post_hide"),
]

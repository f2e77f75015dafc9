from django.urls import path

from papercrane.engagement import views

app_name = "engagement"

urlpatterns = [
    path("notes/<int:note_id>/like", views.like, name="like"),
    path("notes/<int:note_id>/collect", views.collect, name="collect"),
    path("notes/<int:note_id>/comments", views.comment, name="comment"),
    path("comments/<int:comment_id>/like", views.like_comment, name="like_comment"),
    path("comments/<int:comment_id>/delete", views.delete_comment, name="delete_comment"),
    path("comments/<int:comment_id>/pin", views.pin_comment, name="pin_comment"),
    path("boards", views.create_board, name="create_board"),
    path("boards/<int:board_id>", views.board, name="board"),
]

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.join_apply, name="join-apply"),
    path("sent/", views.join_sent, name="join-sent"),
    path("resubmit/<str:token>/", views.join_resubmit, name="join-resubmit"),
]

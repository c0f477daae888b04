from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import language, views
from accounts.forms import LoginForm

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("language/", language.switch_language, name="language"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("key/", views.api_key, name="api_key"),
    path("key/delete/", views.api_key_delete, name="api_key_delete"),
    path("teams/", views.teams, name="teams"),
    path("teams/<uuid:code>/", views.team, name="team"),
    path("teams/<uuid:code>/rename/", views.team_rename, name="team_rename"),
    path("teams/<uuid:code>/switch/", views.team_switch, name="team_switch"),
    path("teams/<uuid:code>/leave/", views.team_leave, name="team_leave"),
    path("teams/<uuid:code>/invites/", views.invite_create, name="invite_create"),
    path("teams/<uuid:code>/invites/<int:pk>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("teams/<uuid:code>/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("teams/<uuid:code>/members/<int:pk>/promote/", views.member_promote, name="member_promote"),
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
]

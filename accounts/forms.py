from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.keys import KeyCheckFailed, check_key
from accounts.models import Team, User


class SignupForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists. Log in instead."))
        return email

    def save(self, commit=True):
        return User.objects.create_user(self.cleaned_data["email"], self.cleaned_data["password1"])


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True}))


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]


class ApiKeyForm(forms.Form):
    """Checks the key against RelayDance before anything is saved."""

    key = forms.CharField(
        label=_("RelayDance API key"),
        max_length=512,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "sk-…"}, render_value=False),
    )

    def clean_key(self):
        key = self.cleaned_data["key"]
        if any(ch.isspace() for ch in key):
            raise forms.ValidationError(_("A key has no spaces in it. Paste it again."))
        try:
            self.cleaned_data["model_ids"] = check_key(key)
        except KeyCheckFailed as exc:
            raise forms.ValidationError(exc.message) from None
        return key

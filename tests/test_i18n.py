"""English and Simplified Chinese: the catalogue, failures shown in each viewer's language, the
language switch, and every page rendered in Chinese with no English left in it."""

import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Team
from studio import failures, relaydance, tasks
from studio.catalogue import CATALOGUE
from studio.models import Generation, Reference
from tests.factories import give_key, make_generation

S = Generation.Status
ZH_PO = Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)")


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request leaves its language active in the thread; later tests expect the default."""
    yield
    translation.deactivate()


# --- the catalogue ---------------------------------------------------------------------------


def test_chinese_catalogue_has_no_untranslated_or_fuzzy_entries():
    po = polib.pofile(str(ZH_PO))
    assert not po.metadata_is_fuzzy
    todo = [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()]
    assert not todo, f"run `make messages` and translate these in {ZH_PO}: {todo}"


def test_catalogue_translations_keep_their_placeholders():
    for entry in polib.pofile(str(ZH_PO)).translated_entries():
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(entry.msgid)), entry.msgid
            assert text.count("{}") == entry.msgid.count("{}"), entry.msgid


def test_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(ZH_PO))
    mo = polib.mofile(str(ZH_PO.with_suffix(".mo")))
    compiled = {e.msgid: e.msgstr_plural.get(0) if e.msgid_plural else e.msgstr for e in mo if e.msgid}
    wanted = {e.msgid: e.msgstr_plural.get(0) if e.msgid_plural else e.msgstr for e in po.translated_entries()}
    assert compiled == wanted, "the .mo is stale: run `make messages`"


def test_generic_failure_is_the_one_relaydance_reports():
    assert failures.GENERIC_FAILURE == relaydance.GENERIC_FAILURE


# --- failures: stored in English with their values, shown in the viewer's language -----------


def test_upstream_refusal_is_stored_as_message_and_values(alice, team, upstream):
    give_key(alice)
    generation = make_generation(team, alice)
    upstream.post("/video/generations").respond(400, json={"error": {"message": "prompt too spicy"}})
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.error == "RelayDance refused the request: %(reason)s"
    assert generation.error_args == {"reason": "prompt too spicy"}
    with translation.override("zh-hans"):
        assert failures.failure_text(generation.error, generation.error_args) == "RelayDance 拒绝了请求：prompt too spicy"
    assert failures.failure_text(generation.error, generation.error_args, translate=False).endswith("prompt too spicy")


def test_failure_text_falls_back_to_english_then_raw_text():
    with translation.override("zh-hans"):
        assert failures.failure_text(failures.TIMED_OUT, {"minutes": 30}) == "已超时：RelayDance 未在 30 分钟内完成。"
        assert failures.failure_text(failures.TIMED_OUT, {"wrong": 1}) == failures.TIMED_OUT
        assert failures.failure_text("content policy: 100%", {}) == "content policy: 100%"
        assert failures.failure_text(failures.GENERIC_FAILURE) == "RelayDance 生成失败（不计费）。"


def test_failed_card_reads_in_each_viewers_language(alice, bob, team, client):
    generation = make_generation(team, alice, status=S.RUNNING)
    tasks.fail(generation.pk, failures.TIMED_OUT, {"minutes": 30})
    bob.language = "zh-hans"
    bob.save()
    client.force_login(alice)
    assert "did not finish within 30 minutes" in client.get("/").content.decode()
    client.force_login(bob)
    assert "RelayDance 未在 30 分钟内完成" in client.get("/").content.decode()


# --- choosing the language ---------------------------------------------------------------------


def test_language_follows_accept_language(client):
    response = client.get(reverse("accounts:login"), headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-hans">' in response.content.decode() and "欢迎回来" in response.content.decode()
    assert '<html lang="en">' in client.get(reverse("accounts:login"), headers={"accept-language": "en-GB"}).content.decode()


def test_switch_saves_the_choice_on_the_user(alice, client):
    client.force_login(alice)
    response = client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/accounts/teams/"})
    assert response.status_code == 302 and response.url == "/accounts/teams/"
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    client.cookies.clear()  # another device: no cookie, an English browser, still Chinese
    client.force_login(alice)
    page = client.get("/accounts/teams/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="zh-hans">' in page and "创建团队" in page


def test_anonymous_switch_sets_only_the_cookie(client):
    response = client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "https://evil.example/"})
    assert response.url == "/" and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(reverse("accounts:login")).content.decode()


def test_switch_ignores_unknown_languages_and_gets(alice, client):
    client.force_login(alice)
    client.post(reverse("accounts:language"), {"language": "xx"})
    alice.refresh_from_db()
    assert alice.language == ""
    assert client.get(reverse("accounts:language")).status_code == 405


# --- every page in Chinese -----------------------------------------------------------------------

ALLOWED = {  # brands, model names and units that stay as they are in Chinese
    "Studio", "RelayDance", "Seedance", "HappyHorse", "Grok", "Imagine", "Video", "Pro", "API", "ID",
    "MB", "CSV", "USD", "JPEG", "PNG", "WebP", "MP4", "MOV", "WebM", "MP3", "WAV", "M4A", "English", "http", "https",
}
MODEL_IDS = "|".join(re.escape(i) for i in sorted(CATALOGUE, key=len, reverse=True))  # shown as ids
USER_DATA = ("alice", "bob", "charlie")  # display names come from the email addresses
TEXT_ATTRS = {"placeholder", "title", "aria-label", "alt", "data-confirm", "data-none", "data-some",
              "data-move-label", "label", "data-fill-prompt", "data-copy-text"}
SKIP_TAGS = {"script", "style", "code", "svg", "textarea"}


class VisibleText(HTMLParser):
    """Text nodes and human-readable attribute values, without code and user-typed content."""

    def __init__(self):
        super().__init__()
        self.skip, self.chunks = 0, []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in SKIP_TAGS
        self.chunks += [value for name, value in attrs if name in TEXT_ATTRS and value]
        if tag == "input" and dict(attrs).get("type") in {"submit", "button"}:
            self.chunks.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        self.skip -= tag in SKIP_TAGS and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def english_words(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.chunks)
    text = re.sub(r"https?://\S+|\S+@\S+|@image\d+|sk-[\w…-]+|\d+p\b|" + MODEL_IDS, " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z'’]+", text))
    return {w for w in words if w not in ALLOWED and w.lower() not in USER_DATA}


@pytest.fixture
def cast(alice, bob, charlie, team):
    """Alice's team with a card in every state, Chinese user data, an invite and keys."""
    Team.objects.filter(personal=True).update(name="个人工作室")
    team.name = "月光"
    team.save()
    give_key(alice)
    give_key(charlie)
    cards = {status: make_generation(team, alice, status=status, prompt=f"雪中的红狐狸 {i}") for i, status in enumerate(S.values)}
    Generation.objects.filter(pk=cards[S.FAILED].pk).update(status=S.RUNNING)
    Generation.objects.filter(pk=cards[S.READY].pk).update(video="videos/x.mp4", poster="posters/x.jpg", duration=5.2)
    Reference.objects.create(generation=cards[S.READY], kind=Reference.Kind.IMAGE, url="https://example.com/a.png")
    tasks.fail(cards[S.FAILED].pk, failures.TIMED_OUT, {"minutes": 30})
    for error, args in [(failures.GENERIC_FAILURE, {}), ("", {}), (*failures.failure_message(relaydance.RateLimited("x"), stage="create"),)]:
        failed = make_generation(team, bob, status=S.QUEUED, prompt="失败的镜头")
        tasks.fail(failed.pk, error, args)
    invite = team.invite(alice)
    return {"team": team, "cards": cards, "invite": invite}


def member_pages(cast):
    ready, failed, running = (cast["cards"][s].code for s in (S.READY, S.FAILED, S.RUNNING))
    team, token = cast["team"].code, cast["invite"].token
    return [
        "/", "/?status=failed&favourites=1", "/?q=没有", f"/g/{ready}/", f"/g/{failed}/", f"/g/{running}/",
        f"/g/{ready}/remix/", "/accounts/key/", "/accounts/teams/", f"/accounts/teams/{team}/",
        "/accounts/password/", "/accounts/password/done/", f"/accounts/invite/{token}/", "/usage/",
    ]


def anonymous_pages(cast, alice):
    uid, token = urlsafe_base64_encode(force_bytes(alice.pk)), default_token_generator.make_token(alice)
    return [
        "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/password/reset/sent/",
        f"/accounts/password/reset/{uid}/{token}/", "/accounts/password/reset/x/y/", "/accounts/password/reset/complete/",
        f"/accounts/invite/{cast['invite'].token}/", "/accounts/invite/nope/",
    ]


def zh_get(client, url, **headers):
    response = client.get(url, headers={"accept-language": "zh-hans", **headers}, follow=True)
    assert response.status_code in (200, 404), url
    return response.content.decode()


def test_every_page_is_chinese(cast, client, alice, charlie):
    untranslated = {}
    for url in anonymous_pages(cast, alice):
        untranslated[f"anonymous {url}"] = english_words(zh_get(client, url))
    client.force_login(charlie)  # no videos yet: the first-run gallery; an invite to accept
    for url in ["/", f"/accounts/invite/{cast['invite'].token}/"]:
        untranslated[f"charlie {url}"] = english_words(zh_get(client, url))
    client.force_login(alice)
    for url in member_pages(cast):
        untranslated[url] = english_words(zh_get(client, url))
    for url in ["/gallery/", "/gallery/?status=pending"]:
        untranslated[f"htmx {url}"] = english_words(zh_get(client, url, hx_request="true"))
    assert not {page: sorted(words) for page, words in untranslated.items() if words}


def test_form_errors_are_chinese(cast, client, alice):
    client.force_login(alice)
    data = {"model": "happyhorse-1.0-i2v", "prompt": "@image2 一匹马", "seconds": "99", "ratio": "21:9",
            "resolution": "720p", "generate_audio": "on", "video_urls": "不是链接"}
    form = client.post("/generate/", data, headers={"accept-language": "zh-hans", "hx-request": "true"})
    assert form.status_code == 422 and "errorlist" in form.content.decode()
    key = client.post("/accounts/key/", {"key": "sk bad"}, headers={"accept-language": "zh-hans"})
    client.logout()
    login = client.post("/accounts/login/", {"username": "alice@example.com", "password": "nope"},
                        headers={"accept-language": "zh-hans"})
    signup = client.post("/accounts/signup/", {"email": "alice@example.com", "password1": "a", "password2": "b"},
                         headers={"accept-language": "zh-hans"})
    found = {name: english_words(r.content.decode()) for name, r in [("form", form), ("key", key), ("login", login), ("signup", signup)]}
    assert not {name: sorted(words) for name, words in found.items() if words}


def test_english_pages_stay_english(cast, client, alice):
    client.force_login(alice)
    for url in member_pages(cast):
        page = client.get(url, headers={"accept-language": "en"}).content.decode()
        assert '<html lang="en">' in page
        assert not re.findall(r"[\u4e00-\u9fff]+", re.sub(r"简体中文|个人工作室|月光|雪中的红狐狸|失败的镜头|没有", "", page)), url

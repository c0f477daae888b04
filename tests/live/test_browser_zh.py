"""The studio page in Simplified Chinese, in a real Chromium with a Chinese browser: screenshots
at desktop and phone width land in test-artifacts/ (studio-zh-*.png) for people to look at."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from accounts.models import Membership, Team, User
from studio import failures, tasks
from studio.models import Generation
from tests.conftest import PASSWORD
from tests.factories import give_key, make_generation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
S = Generation.Status
PHONE = {"width": 390, "height": 844}
PROMPTS = ["黄昏时分，纸船顺着霓虹小巷漂流而下，缓慢推轨镜头", "雪中的红狐狸抬头望向镜头，浅景深", "海浪拍打礁石，航拍慢动作",
           "城市夜景延时摄影，车流如光带", "猫咪在窗台上打哈欠，暖色晨光"]


@pytest.fixture
def studio_zh(mp4_bytes, tmp_path):
    """Mei's team "月光" with a finished video, cards in flight and a failed one."""
    mei = User.objects.create_user("mei@example.com", PASSWORD, first_name="美")
    team = Team.objects.create(name="月光")
    Membership.objects.create(user=mei, team=team, role=Membership.Role.OWNER)
    mei.switch_team(team)
    give_key(mei)
    for status, prompt in zip([S.QUEUED, S.RUNNING, S.SUCCEEDED, S.FAILED, S.READY], PROMPTS):
        generation = make_generation(team, mei, prompt=prompt, status=S.RUNNING if status == S.FAILED else status)
        if status == S.FAILED:
            tasks.fail(generation.pk, failures.TIMED_OUT, {"minutes": 30})
        if status == S.READY:
            generation.video.save("v.mp4", ContentFile(mp4_bytes), save=False)
            generation.duration = 1.0
            generation.save()
    return mei


def test_studio_page_in_chinese_at_desktop_and_phone_width(browser, live_server, studio_zh, shot):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    shot("login-zh", page)
    page.fill("#id_username", studio_zh.email)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    expect(page.locator("#generate-form button[type=submit]")).to_contain_text("生成")
    expect(page.locator("article.card.is-failed .card-error")).to_have_text("已超时：RelayDance 未在 30 分钟内完成。")
    # Relative times are written by studio.js with Intl in the page's language ("刚刚", "3分钟前").
    expect(page.locator("time[data-relative]").first).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
    shot("studio-zh-desktop", page)

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("article.card").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the phone layout scrolls sideways by {overflow}px"
    shot("studio-zh-phone", page)

    page.set_viewport_size({"width": 1280, "height": 860})  # switch to English from the user menu
    page.click(".usermenu summary")
    shot("studio-zh-menu", page)
    page.click(".usermenu button[name=language][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#generate-form button[type=submit]")).to_contain_text("Generate")
    studio_zh.refresh_from_db()
    assert studio_zh.language == "en"
    context.close()

"""The prompt search index: the same results as a plain scan, kept in step with the table."""

import pytest
from django.db import connection

from studio import search
from studio.gallery import GalleryFilters
from studio.models import Generation
from tests.factories import make_generation

pytestmark = pytest.mark.django_db


def found(team, text):
    return set(Generation.objects.filter(team=team).filter(GalleryFilters({"q": text}).q_object()).values_list("prompt", flat=True))


@pytest.fixture
def prompts(team, alice):
    for prompt in ["A red Fox at dawn", "an arctic fox", "Owl over the city", 'She said "hi" 50% off', "狐狸在雪中奔跑"]:
        make_generation(team, alice, prompt=prompt)


def test_search_matches_substrings_ignoring_case(team, prompts):
    assert found(team, "fox") == {"A red Fox at dawn", "an arctic fox"}
    assert found(team, "OWL OVER") == {"Owl over the city"}
    assert found(team, "OX") == {"A red Fox at dawn", "an arctic fox"}  # shorter than a trigram: a scan


def test_search_treats_quotes_and_wildcards_as_text(team, prompts):
    assert found(team, '"hi"') == {'She said "hi" 50% off'}
    assert found(team, "50%") == {'She said "hi" 50% off'}
    assert found(team, "%") == {'She said "hi" 50% off'}
    assert found(team, "AND OR NOT") == set()


def test_search_finds_chinese_text(team, prompts):
    assert found(team, "在雪中") == {"狐狸在雪中奔跑"}


def test_the_index_follows_edits_and_deletes(team, alice, prompts):
    generation = Generation.objects.get(prompt="Owl over the city")
    generation.prompt = "Walrus on the ice"
    generation.save(update_fields=["prompt"])
    assert found(team, "walrus") == {"Walrus on the ice"}
    assert found(team, "owl over") == set()
    generation.delete()
    assert found(team, "walrus") == set()


def test_search_is_scoped_to_the_team(team, charlie, prompts):
    make_generation(charlie.get_current_team(), charlie, prompt="A fox of another team")
    assert found(team, "fox") == {"A red Fox at dawn", "an arctic fox"}


def test_install_is_idempotent_and_repairs_lost_triggers(team, prompts):
    assert search.install(connection)
    assert search.install(connection)
    if connection.vendor == "sqlite":  # as when a migration remakes the table
        with connection.cursor() as cursor:
            for name in search._SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
        make_generation(team, None, prompt="Made while the triggers were gone: a heron")
        assert search.install(connection)
    else:
        make_generation(team, None, prompt="Made while the triggers were gone: a heron")
    assert found(team, "heron") == {"Made while the triggers were gone: a heron"}


def test_search_uses_the_index(team, prompts):
    qs = Generation.objects.filter(search.prompt_contains("arctic"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        assert search.PG_INDEX in qs.explain()
    else:
        assert search.FTS_TABLE in qs.explain()
    assert [g.prompt for g in qs] == ["an arctic fox"]


def test_statistics_are_refreshed_hourly():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="studio-statistics")
    assert schedule.schedule_type == Schedule.HOURLY
    search.refresh_statistics(connection)  # runs on either database

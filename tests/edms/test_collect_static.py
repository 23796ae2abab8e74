"""`edms run` collects the static files only when their sources changed since the last start."""

from __future__ import annotations

import os

import pytest

from edms.launcher import collect_static


@pytest.fixture
def one_source(settings, tmp_path):
    source = tmp_path / "sources"
    source.mkdir()
    (source / "site.css").write_text("body { margin: 0 }")
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return source


def test_a_start_with_the_same_sources_collects_nothing(one_source, settings):
    assert collect_static() is True
    collected = settings.STATIC_ROOT / "site.css"
    assert collected.read_text() == "body { margin: 0 }"
    collected.unlink()  # were it collected again, it would be back

    assert collect_static() is False
    assert not collected.exists()


def test_a_changed_or_added_source_is_collected(one_source, settings):
    assert collect_static() is True
    changed = one_source / "site.css"
    changed.write_text("body { margin: 1em }")
    # Later than the collected copy by more than collectstatic's one-second resolution.
    later = changed.stat().st_mtime + 5
    os.utime(changed, (later, later))
    assert collect_static() is True
    assert (settings.STATIC_ROOT / "site.css").read_text() == "body { margin: 1em }"
    (one_source / "app.js").write_text("'use strict';")
    assert collect_static() is True
    assert (settings.STATIC_ROOT / "app.js").exists()


def test_another_storage_collects_again(one_source, settings):
    assert collect_static() is True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    assert collect_static() is True
    assert (settings.STATIC_ROOT / "staticfiles.json").exists()

"""The Tesseract languages the OCR step reads a version in (worker side).

First choice (`first_choice`): the document's declared language (with the dossier's and the
office's), or else the packs of the scripts Tesseract's OSD sees on its pages
(`ingest.scripts`). A declared language can be wrong (a Chinese scan filed as English), and OSD
may have had too little to go on: when the OCR'd text then fails the quality gate, `second_choice`
looks at the pages' scripts (again, only if OSD did not run for the first choice) and names the
packs of a script no language of the first pass covers. A page read in a language that does not
cover its script comes back as junk, and no preprocessing mends that.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from ingest import capabilities
from ingest.languages import ocr_languages
from ingest.sandbox import Limits
from ingest.scripts import debian_package, script_languages, uncovered, unreadable
from ingest.steps import Run, StepFailed, sandboxed


@dataclass(frozen=True)
class LanguageChoice:
    languages: list[str]
    note: str = ""  # " (script detected: Han)"; "" when no script was looked for
    scripts: tuple[str, ...] | None = None  # what OSD saw on the pages; None: it did not look


def first_choice(run: Run) -> LanguageChoice:
    """The languages to OCR the version with first: the document's declared language (with
    the dossier's and the office's), or else those of the scripts on its pages."""
    document = run.version.document
    installed = capabilities.tesseract_languages()
    office = (document.dossier.language, settings.EDMS_OCR_LANGUAGES)
    if document.language:
        return LanguageChoice(ocr_languages(document.language, *office, installed=installed))
    if not capabilities.tesseract_osd():
        note = " (script not detected: Tesseract's osd pack is missing)"
        return LanguageChoice(ocr_languages(*office, installed=installed), note)
    try:
        found = _page_scripts(run)
    except StepFailed as failure:  # OCR in the office's languages beats no OCR
        note = f" (script not detected: {failure.described})"
        return LanguageChoice(ocr_languages(*office, installed=installed), note)
    scripts = tuple(page["script"] for page in found["scripts"])
    return LanguageChoice(
        script_languages(scripts, *office, installed=installed),
        f" ({_scripts_note(found, installed)})",
        scripts,
    )


def second_choice(run: Run, first: LanguageChoice) -> LanguageChoice | None:
    """After the text OCR'd in `first` failed the quality gate (or was empty): the languages to
    read the version again in, when its pages show a script that an installed pack reads and no
    language of `first` does; None when there is no such script (the warning stays)."""
    installed = capabilities.tesseract_languages()
    scripts, note = first.scripts, first.note
    if scripts is None:
        if not capabilities.tesseract_osd():
            return None
        try:
            found = _page_scripts(run)
        except StepFailed:
            return None  # the first pass's text and its warning stand
        scripts = tuple(page["script"] for page in found["scripts"])
        note = f" ({_scripts_note(found, installed)})"
    missing = uncovered(scripts, first.languages, installed)
    if not missing:
        return None
    languages = script_languages(missing, "+".join(first.languages), installed=installed)
    return LanguageChoice(languages, note, scripts)


def _page_scripts(run: Run) -> dict:
    return sandboxed(
        run,
        "ingest.scripts:page_scripts",
        {"path": run.readable, "media_type": run.processing.media_type},
        network=False,
        limits=Limits(timeout_s=settings.EDMS_OCR_TIMEOUT, memory_mib=settings.EDMS_OCR_MEMORY_MIB),
    )


def _scripts_note(found: dict, installed: tuple[str, ...]) -> str:
    """'script detected: Arabic', 'scripts detected: Arabic (pages 1, 3), Latin (page 2)',
    'no script detected: too little text', the scripts no installed pack reads, and how many
    pages were looked at when not all were."""
    pages = found["scripts"]
    if not pages:
        note = "no script detected: too little text"
    else:
        by_script: dict[str, list[str]] = {}
        for page in pages:
            by_script.setdefault(page["script"], []).append(str(page["page"]))
        if len(by_script) == 1:
            note = f"script detected: {pages[0]['script']}"
        else:
            note = "scripts detected: " + ", ".join(
                f"{script} (page{'s' if len(numbers) > 1 else ''} {', '.join(numbers)})"
                for script, numbers in by_script.items()
            )
        for script in unreadable(by_script, installed):
            note += f"; no Tesseract pack reads {script}: install {debian_package(script)}"
    if len(found["looked_at"]) < found["pages"]:
        note += f"; {len(found['looked_at'])} of {found['pages']} pages looked at"
    return note

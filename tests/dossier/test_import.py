"""`edms import`: a backfile from a manifest (CSV, JSON) or a folder, filed through the actions in
the bulk lane; idempotent (a second run files nothing twice), so a partial run is resumed by
running it again; a bad line is reported and the others are filed."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dossier.lanes import Lane
from dossier.models import Channel, Document, Dossier, Event, EventKind
from tests.conftest import create_dossier
from tests.lanes_support import deliver

pytestmark = pytest.mark.django_db

HEADER = "file_number,type,date,path,title,language,ip_type\n"


def run_import(*args) -> tuple[str, str, CommandError | None]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import", *map(str, args), stdout=stdout, stderr=stderr)
    except CommandError as exc:
        return stdout.getvalue(), stderr.getvalue(), exc
    return stdout.getvalue(), stderr.getvalue(), None


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def test_a_csv_manifest_is_filed_and_a_second_run_files_nothing_twice(tmp_path):
    create_dossier("BG/P/2018/112748")
    write(tmp_path / "files/claims.txt", "Claims: a clock escapement.")
    write(tmp_path / "files/oa.txt", "Office action: claim 1 lacks novelty.")
    write(tmp_path / "files/mark.txt", "A trademark's representation.")
    manifest = write(
        tmp_path / "manifest.csv",
        HEADER
        + "BG/P/2018/112748,CLM,2019-03-01,files/claims.txt,,en,\n"
        + "BG/P/2018/112748,OA,2020-01-15,files/oa.txt,First office action,,\n"
        + "BG/N/2021/7,MARK,,files/mark.txt,,,trademark\n",
    )

    out, err, failed = run_import(manifest)

    assert failed is None, err
    assert "3 filed, 0 skipped (filed already), 0 failed; 1 dossier(s) created" in out
    claims = Document.objects.get(doc_type="CLM")
    assert (claims.official_date, claims.language, claims.channel) == (
        dt.date(2019, 3, 1),
        "en",
        Channel.IMPORT,
    )
    assert Document.objects.get(doc_type="OA").title == "First office action"
    assert Dossier.objects.get(key="BG/N/2021/7").ip_type == "trademark"
    assert Document.objects.get(doc_type="MARK").official_date is None

    out, err, failed = run_import(manifest)

    assert failed is None, err
    assert "0 filed, 3 skipped (filed already), 0 failed; 0 dossier(s) created" in out
    assert Document.objects.count() == 3


def test_bad_lines_are_reported_the_others_filed_and_the_exit_is_an_error(tmp_path):
    create_dossier("BG/P/2018/112748")
    write(tmp_path / "good.txt", "Claims: a clock escapement.")
    write(tmp_path / "empty.txt", b"")
    manifest = write(
        tmp_path / "manifest.csv",
        HEADER
        + "BG/P/2018/112748,NOPE,2019-03-01,good.txt,,,\n"
        + "BG/P/2018/112748,CLM,01.03.2019,good.txt,,,\n"
        + "BG/P/2018/112748,CLM,2019-03-01,missing.txt,,,\n"
        + "BG/P/2018/999,CLM,2019-03-01,good.txt,,,\n"
        + "BG/P/18/1,CLM,2019-03-01,good.txt,,,\n"
        + "BG/P/2018/112748,CLM,2019-03-01,empty.txt,,,\n"
        + "BG/P/2018/112748,CLM,2019-03-01,good.txt,,,\n",
    )

    out, err, failed = run_import(manifest)

    assert failed is not None and "6 file(s) failed" in str(failed)
    assert "1 filed, 0 skipped (filed already), 6 failed" in out
    assert "FAILED line 2: unknown document type 'NOPE'" in err
    assert "FAILED line 3: date '01.03.2019' is not YYYY-MM-DD" in err
    assert "FAILED line 4: " in err and "missing.txt: no such file" in err
    assert "FAILED line 5: dossier BG/P/2018/999 does not exist; give its ip_type" in err
    assert "FAILED line 6: series '18' is not four digits" in err
    assert "FAILED line 7: " in err and "empty.txt: the file is empty" in err
    assert Document.objects.count() == 1
    assert not Dossier.objects.filter(key="BG/P/2018/999").exists()


def test_a_manifest_with_unknown_or_missing_fields_is_refused_whole(tmp_path):
    write(tmp_path / "a.txt", "text")
    manifest = write(
        tmp_path / "m.csv", "file_number,kind,path,colour\nBG/P/2018/1,CLM,a.txt,red\n"
    )
    _, _, failed = run_import(manifest)
    assert "missing type, date; unknown kind, colour" in str(failed)
    _, _, failed = run_import(write(tmp_path / "m.txt", "nothing"))
    assert "expected a folder, a .csv or a .json manifest" in str(failed)
    assert not Document.objects.exists()


def test_a_json_manifest_creates_dossiers_of_the_default_ip_type(tmp_path):
    write(tmp_path / "docs/desc.txt", "Description of the widget.")
    manifest = write(
        tmp_path / "manifest.json",
        json.dumps(
            [
                {
                    "file_number": "BG/P/2024/5",
                    "type": "DESC",
                    "date": "2024-05-01",
                    "path": "docs/desc.txt",
                    "title": "Description",
                },
                {
                    "file_number": "BG/P/2024/6",
                    "type": "DESC",
                    "date": "",
                    "path": "docs/desc.txt",
                    "ip_type": "utility_model",
                },
            ]
        ),
    )

    out, err, failed = run_import(manifest, "--ip-type", "patent")

    assert failed is None, err
    assert "2 filed" in out and "2 dossier(s) created" in out
    assert Dossier.objects.get(key="BG/P/2024/5").ip_type == "patent"
    assert Dossier.objects.get(key="BG/P/2024/6").ip_type == "utility_model"


def test_a_folder_is_one_subfolder_per_dossier(tmp_path):
    create_dossier("BG/P/2018/112748")
    root = tmp_path / "backfile"
    write(root / "BG_P_2018_112748/CLM_2019-03-01.txt", "Claims: a clock escapement.")
    write(root / "BG_P_2018_112748/OA_2020-01-15_First office action.txt", "Lacks novelty.")
    write(root / "BG_P_2018_112748/PRIO-TR_Translation.txt", "Translation of the priority.")
    write(root / "BG_P_2018_112748/.DS_Store", "junk")
    write(root / "stray.txt", "not in a dossier")

    out, err, failed = run_import(root)

    assert failed is not None
    assert "3 filed, 0 skipped (filed already), 1 failed" in out
    assert "FAILED stray.txt: not in a dossier's subfolder" in err
    oa = Document.objects.get(doc_type="OA")
    assert (oa.official_date, oa.title) == (dt.date(2020, 1, 15), "First office action")
    translation = Document.objects.get(doc_type="PRIO-TR")
    assert (translation.official_date, translation.title) == (None, "Translation")

    (root / "stray.txt").unlink()
    out, _, failed = run_import(root)
    assert failed is None and "0 filed, 3 skipped (filed already)" in out


def test_an_interrupted_import_is_resumed_by_running_it_again(tmp_path):
    """A run that stopped half-way (here: the later files were not there yet, as if the import
    had been killed after the first two) is completed by the next, which files only the rest."""
    create_dossier("BG/P/2018/112748")
    manifest = write(
        tmp_path / "manifest.csv",
        HEADER
        + "".join(f"BG/P/2018/112748,CLM,2019-03-0{n},claims-{n}.txt,,,\n" for n in range(1, 6)),
    )
    for n in (1, 2):
        write(tmp_path / f"claims-{n}.txt", f"Claims, version {n}.")
    _, _, failed = run_import(manifest)
    assert failed is not None and Document.objects.count() == 2

    for n in range(3, 6):
        write(tmp_path / f"claims-{n}.txt", f"Claims, version {n}.")
    out, err, failed = run_import(manifest)

    assert failed is None, err
    assert "3 filed, 2 skipped (filed already), 0 failed" in out
    dates = sorted(Document.objects.values_list("official_date", flat=True))
    assert dates == [dt.date(2019, 3, n) for n in range(1, 6)]


def test_the_same_content_as_another_type_or_dossier_is_filed(tmp_path):
    """Idempotence is per dossier and document type: the same bytes elsewhere are new."""
    create_dossier("BG/P/2018/1"), create_dossier("BG/P/2018/2")
    write(tmp_path / "same.txt", "Identical bytes.")
    manifest = write(
        tmp_path / "m.csv",
        HEADER
        + "BG/P/2018/1,CLM,,same.txt,,,\n"
        + "BG/P/2018/1,DESC,,same.txt,,,\n"
        + "BG/P/2018/2,CLM,,same.txt,,,\n"
        + "BG/P/2018/2,CLM,,same.txt,,,\n",
    )
    out, _, failed = run_import(manifest)
    assert failed is None and "3 filed, 1 skipped (filed already)" in out


def test_an_import_is_bulk_work(tmp_path, django_capture_on_commit_callbacks):
    create_dossier("BG/P/2018/112748")
    write(tmp_path / "claims.txt", "Claims: a clock escapement.")
    manifest = write(tmp_path / "m.csv", HEADER + "BG/P/2018/112748,CLM,,claims.txt,,,\n")
    assert run_import(manifest)[2] is None

    event = Event.objects.get(kind=EventKind.DOCUMENT_REGISTERED)
    assert event.lane == Lane.BULK
    assert deliver(event, django_capture_on_commit_callbacks) == [
        ("ingest.tasks.process_version", "extract")
    ]

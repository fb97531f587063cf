"""Open data (knet.opendata, `knet export opendata`, the /opendata page): public content under open
licences as JSON Lines and CSV, a DCAT-AP catalogue that expands to the DCAT and DCT vocabularies with a
bundled context, and never anything internal, network or private."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from pyld import jsonld

from knet.db import db
from knet.opendata import CONTEXT_FILE
from learning import courses, structure, versions
from learning.courses import CourseInput
from tests.outward import MARKERS, TAG, content_of_every_visibility, hidden_markers
from tests.test_cli import knet

NODE = "http://127.0.0.1:5000"
CONTEXT_URL = f"{NODE}/opendata/context.jsonld"
DCAT, DCT, FOAF = "http://www.w3.org/ns/dcat#", "http://purl.org/dc/terms/", "http://xmlns.com/foaf/0.1/"
RDF_TYPE = "@type"
FILES = {"pages.jsonl", "pages.csv", "questions.jsonl", "questions.csv", "courses.jsonl", "courses.csv",
         "catalog.jsonld"}


@pytest.fixture
def world(app, make_user):
    author, trainer = make_user("alice", role="editor"), make_user("tina", role="trainer")
    content_of_every_visibility(app, author, trainer)
    # Public, but its trainer keeps every right: not open data.
    course = courses.create_course(trainer, CourseInput(title="Κλειστό δημόσιο μάθημα", visibility="public",
                                                        licence="all-rights-reserved"))
    structure.add_lesson(trainer, structure.add_module(trainer, course, "Α"), "Β", "Γ")
    versions.publish(trainer, course)
    db.session.commit()
    return author


def offline_loader(url: str, options=None) -> dict:
    """Serve the bundled context for its address on the node; refuse anything else (no network)."""
    if url != CONTEXT_URL:
        raise ValueError(f"the test refused to load {url}")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(CONTEXT_FILE.read_text("utf-8"))}


def download(client, name: str) -> bytes:
    with client.get(f"/opendata/{name}") as response:
        assert response.status_code == 200, name
        return response.data


def assert_nothing_hidden(text: str) -> None:
    assert not [marker for marker in hidden_markers() if marker in text]
    assert "Κλειστό δημόσιο μάθημα" not in text


def test_each_dataset_holds_the_public_records_in_both_formats(app, client, world):
    public = MARKERS["public"]
    lines = [json.loads(line) for line in download(client, "questions.jsonl").decode("utf-8").splitlines()]
    [question] = lines
    assert question["title"] == f"Ερώτηση {public} για τις προμήθειες"  # Greek round-trips as written
    assert question["text"] == f"Πώς γίνεται η ανάθεση; ({public})"
    assert question["licence"] == "CC-BY-4.0" and question["licence_url"].startswith("https://creativecommons.org/")
    assert question["author"] == "alice" and question["language"] == "el" and question["tags"] == [TAG]
    assert question["home"] == NODE and question["uri"].startswith(f"{NODE}/questions/")
    assert question["published"] and question["updated"]
    assert [answer["text"] for answer in question["answers"]] == [f"Με απευθείας ανάθεση έως 30.000 € ({public}-answer)."]
    rows = list(csv.DictReader(io.StringIO(download(client, "questions.csv").decode("utf-8"))))
    assert [(row["type"], row["title"]) for row in rows] == [("Page", question["title"]), ("Note", "")]
    assert rows[1]["in_reply_to"] == question["uri"] and rows[1]["author"] == "tina"
    assert rows[1]["text"] == question["answers"][0]["text"]
    [page] = csv.DictReader(io.StringIO(download(client, "pages.csv").decode("utf-8")))
    assert page["title"] == f"Σελίδα {public}" and page["tags"] == TAG.lower()
    assert page["text"] == f"Οδηγός για τις **προμήθειες** ({public})."
    [course] = [json.loads(line) for line in download(client, "courses.jsonl").decode("utf-8").splitlines()]
    assert course["title"] == f"Μάθημα {public}" and course["author"] == "tina"
    for name in FILES:
        assert_nothing_hidden(download(client, name).decode("utf-8"))


def expand(document: dict) -> list[dict]:
    return jsonld.expand(document, {"documentLoader": offline_loader})


def test_the_catalogue_is_dcat_ap_that_expands_with_the_bundled_context(app, client, world):
    [catalogue] = expand(json.loads(download(client, "catalog.jsonld")))
    assert catalogue[RDF_TYPE] == [f"{DCAT}Catalog"]
    assert {title["@language"] for title in catalogue[f"{DCT}title"]} == {"el", "en"}
    [publisher] = catalogue[f"{DCT}publisher"]
    assert publisher[RDF_TYPE] == [f"{FOAF}Agent"] and publisher[f"{FOAF}name"] == [{"@value": "Δήμος Δοκιμών"}]
    datasets = catalogue[f"{DCAT}dataset"]
    assert len(datasets) == 3
    for dataset in datasets:
        assert dataset[RDF_TYPE] == [f"{DCAT}Dataset"]
        assert {text["@language"] for text in dataset[f"{DCT}title"]} == {"el", "en"}
        assert {text["@language"] for text in dataset[f"{DCT}description"]} == {"el", "en"}
        assert dataset[f"{DCT}license"] == [{"@id": "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"}]
        assert dataset[f"{DCT}modified"][0]["@type"] == "http://www.w3.org/2001/XMLSchema#dateTime"
        distributions = dataset[f"{DCAT}distribution"]
        media = {distribution[f"{DCAT}mediaType"][0]["@id"] for distribution in distributions}
        assert media == {"http://www.iana.org/assignments/media-types/text/csv",
                         "http://www.iana.org/assignments/media-types/application/jsonl"}
        for distribution in distributions:
            assert distribution[RDF_TYPE] == [f"{DCAT}Distribution"]
            assert distribution[f"{DCAT}accessURL"] == [{"@id": f"{NODE}/opendata"}]
            [address] = distribution[f"{DCAT}downloadURL"]
            # Every file the catalogue names is there, at the address it names.
            name = address["@id"].removeprefix(f"{NODE}/opendata/")
            assert name in FILES and int(distribution[f"{DCAT}byteSize"][0]["@value"]) == len(download(client, name))


def test_the_context_the_catalogue_names_is_served_as_bundled(app, client):
    with client.get("/opendata/context.jsonld") as response:
        assert response.mimetype == "application/ld+json"
        assert json.loads(response.data) == json.loads(CONTEXT_FILE.read_text("utf-8"))


def test_the_download_page_lists_every_file_and_follows_changes(app, client, world, make_page):
    html = client.get("/opendata").get_data(as_text=True)
    for name in FILES:
        assert f'href="/opendata/{name}"' in html
    before = download(client, "pages.jsonl")
    make_page(world, "Νέα δημόσια σελίδα", visibility="public")
    after = download(client, "pages.jsonl").decode("utf-8")
    assert after != before.decode("utf-8") and "Νέα δημόσια σελίδα" in after
    # One export for the node's current content: the older one is gone.
    assert len([path for path in (Path(app.instance_path) / "opendata").iterdir()]) == 1


def test_an_unknown_file_is_not_found(app, client):
    response = client.get("/opendata/secrets.txt")
    assert response.status_code == 404 and "<p" in response.get_data(as_text=True)


def test_every_page_links_the_open_data_and_the_accessibility_statement(app, client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/opendata"' in html and 'href="/accessibility"' in html


# The command ------------------------------------------------------------------------------------------

def test_the_command_writes_every_file_with_a_progress_bar(app, world, instance, tmp_path):
    target = tmp_path / "export"
    result = knet("export", "opendata", str(target), "--instance", str(instance))
    assert result.returncode == 0, result.stderr
    assert "Exporting" in result.stderr  # the progress bar (a terminal sees it fill; a pipe its label)
    assert {path.name for path in target.iterdir()} == FILES
    for path in target.iterdir():
        assert_nothing_hidden(path.read_text(encoding="utf-8"))
    [catalogue] = expand(json.loads((target / "catalog.jsonld").read_text("utf-8")))
    assert len(catalogue[f"{DCAT}dataset"]) == 3
    # Nothing is left beside it.
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_the_command_refuses_a_directory_that_holds_something_unless_forced(app, world, instance, tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "notes.txt").write_text("κρατήστε με", encoding="utf-8")
    refused = knet("export", "opendata", str(target), "--instance", str(instance))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "--force" in refused.stderr
    assert [path.name for path in target.iterdir()] == ["notes.txt"]
    forced = knet("export", "opendata", str(target), "--force", "--instance", str(instance))
    assert forced.returncode == 0, forced.stderr
    assert {path.name for path in target.iterdir()} == FILES


def test_the_command_says_when_it_cannot_write(app, instance, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for target in (blocker, blocker / "export"):
        result = knet("export", "opendata", str(target), "--instance", str(instance))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and str(target) in result.stderr
    assert blocker.read_text(encoding="utf-8") == "x"

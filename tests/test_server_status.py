"""What the server tells editors about its state: model preparation, embedding progress
whose percentages are the status counts, and no log noise for client-only settings."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from urllib.parse import quote

from lsp_server.engine.folder_indexer import FolderIndexer
from lsp_server.engine.settings import EngineSettings
from lsp_server.server.main import NearcodeServer
from lsp_server.server.settings import parse_settings

from .stub_encoder import StubEncoder


class SlowExportEncoder(StubEncoder):
    """An encoder whose first load exports the model, held until the test releases it."""

    identity = "test-export-encoder|dim64"

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.exported = False

    def preparation_note(self) -> str | None:
        return None if self.exported else "first run, about 30 s"

    def load(self) -> None:
        assert self.release.wait(10)
        self.exported = True


def test_status_says_the_model_is_being_prepared_during_the_export():
    server = NearcodeServer()
    assert server.status_report()["modelState"] == "idle"
    events = Events()  # stands in for the LSP client's progress
    server.begin_progress = events.begin_progress  # type: ignore[method-assign]
    encoder = SlowExportEncoder()
    loader = threading.Thread(target=server.encoders._load, args=(encoder, threading.Event()))
    loader.start()
    deadline = time.monotonic() + 5
    while server.status_report()["modelState"] != "exporting" and time.monotonic() < deadline:
        time.sleep(0.01)
    report = server.status_report()
    assert report["modelState"] == "exporting"
    assert re.fullmatch(r"preparing the model \(first run.*about \d+ s\)", report["modelMessage"])
    encoder.release.set()
    loader.join(10)
    assert (server.status_report()["modelState"], server.status_report()["modelMessage"]) == (
        "ready",
        "",
    )
    # A progress without a bar (no fake 0%), ended when the model is ready.
    assert events.progress == [
        ("nearcode", None, report["modelMessage"]),
        ("nearcode", None, "end model ready"),
    ]


def test_a_cached_model_only_loads():
    server = NearcodeServer()
    encoder = SlowExportEncoder()
    encoder.exported = True
    encoder.release.set()
    states: list[str] = []
    original = encoder.load

    def load() -> None:
        states.append(server.status_report()["modelState"])
        original()

    encoder.load = load  # type: ignore[method-assign]
    server.encoders._load(encoder, threading.Event())
    assert states == ["loading"]
    assert server.status_report()["modelState"] == "ready"


class RecordedProgress:
    def __init__(self, log: list[tuple[str, int | None, str]], title: str) -> None:
        self.cancelled = threading.Event()
        self._log, self._title = log, title

    def report(self, percentage: int | None, message: str) -> None:
        self._log.append((self._title, percentage, message))

    def end(self, message: str) -> None:
        self._log.append((self._title, None, f"end {message}"))


class Events:
    def __init__(self) -> None:
        self.progress: list[tuple[str, int | None, str]] = []

    def begin_progress(self, title: str, message: str, percentage: int | None = 0):
        self.progress.append((title, percentage, message))
        return RecordedProgress(self.progress, title)

    def show_error(self, message: str) -> None:
        raise AssertionError(message)

    def show_info(self, message: str) -> None:
        pass


def _many_functions(root: Path, count: int) -> None:
    body = "    return value * {} + len(str(value))\n"
    lines = [f"def helper_{i}(value):\n" + body.format(i) for i in range(count)]
    (root / "many.py").write_text("\n\n".join(lines))


def test_embedding_percentages_are_the_embedded_chunk_counts(tmp_path: Path):
    root = tmp_path / "ws"
    root.mkdir()
    _many_functions(root, 100)  # several rounds of 32 chunks
    events = Events()
    folder = FolderIndexer("file://ws", root, EngineSettings(), StubEncoder(), events)
    folder.start()
    try:
        deadline = time.monotonic() + 30
        while folder.status.state != "ready" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert folder.status.state == "ready"
    finally:
        folder.stop()
    scanning = [p for p in events.progress if p[0].startswith("Indexing")]
    # The scan reports no percentage: only the embedding bar has one.
    assert scanning and all(percentage is None for _, percentage, _ in scanning)
    embedding = [p for p in events.progress if p[0].startswith("Embedding") and p[1] is not None]
    assert len(embedding) >= 3, events.progress
    for _, percentage, message in embedding:
        found = re.fullmatch(r"(\d+)/(\d+) chunks embedded", message)
        assert found, message
        assert percentage == 100 * int(found[1]) // int(found[2])
    assert embedding[0][2].startswith("0/") and embedding[-1][1] == 100


def test_client_only_settings_are_ignored_silently(caplog):
    caplog.set_level(logging.INFO, logger="lsp_server")
    raw = {"server": {"python": "/x"}, "trace": {"server": "off"}, "resultLimit": 7, "bogus": 1}
    settings, problems = parse_settings(raw)
    assert settings.result_limit == 7 and problems == []
    logged = [r.getMessage() for r in caplog.records]
    assert logged == ["ignoring setting 'bogus': not a server setting"]


def test_a_scope_setting_left_unset_is_null_and_a_bad_one_says_what_holds_instead():
    settings, problems = parse_settings({"exclude": None, "maxFileSize": None})
    assert (settings.exclude, settings.max_file_size, problems) == (None, None, [])
    settings, problems = parse_settings({"exclude": "gen/**", "maxFileSize": 12})
    assert (settings.exclude, settings.max_file_size) == (None, None)
    assert problems == [
        "nearcode setting 'exclude': expected a list of glob strings; "
        "using what the index was built with",
        "nearcode setting 'maxFileSize': expected a whole number from 1024 to 1073741824; "
        "using what the index was built with",
    ]
    # Setting the patterns, even to none, changes which files each folder holds.
    emptied, _ = parse_settings({"exclude": []})
    folder = Path("/ws")
    assert emptied.exclude == () and emptied.reopens(settings, folder)
    assert not settings.reopens(parse_settings({"resultLimit": 7})[0], folder)
    # A folder's own setting over the window's: a change to the window's that the folder
    # overrides leaves that folder as it was.
    mine = {"folders": [{"uri": folder.as_uri(), "exclude": ["gen/**"], "maxFileSize": 4096}]}
    before, _ = parse_settings(mine | {"exclude": ["a/**"]})
    after, _ = parse_settings(mine | {"exclude": ["b/**"]})
    assert not before.reopens(after, folder) and before.reopens(after, Path("/other"))


def test_a_folder_setting_that_does_not_hold_says_which_folder_and_falls_back(tmp_path):
    """A bad folder entry is named with its folder; every folder then takes the window's."""
    workspace = tmp_path
    settings, problems = parse_settings(
        {"exclude": ["gen/**"], "folders": [{"uri": workspace.as_uri(), "maxFileSize": 12}]}
    )
    assert problems == [
        f"nearcode setting 'folders': {workspace.resolve()}: expected a whole number from "
        "1024 to 1073741824; using the window's exclude and maxFileSize in every folder"
    ]
    assert settings.engine_for(workspace.resolve()).exclude == ("gen/**",)
    # A folder's URI as VS Code writes it (spaces and other characters escaped) is its path.
    spaced = tmp_path / "my project#2"
    settings, problems = parse_settings(
        {"folders": [{"uri": "file://" + quote(str(spaced)), "exclude": ["gen/**"]}]}
    )
    assert problems == [] and settings.engine_for(spaced.resolve()).exclude == ("gen/**",)
    settings, problems = parse_settings({"folders": [{"uri": "untitled:1"}]})
    assert problems == [
        "nearcode setting 'folders': 'untitled:1' is not a folder's file: URI; using the "
        "window's exclude and maxFileSize in every folder"
    ]

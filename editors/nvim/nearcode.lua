-- nearcode.lua: Neovim (0.10+) client for the nearcode semantic code search server.
--
--   require("nearcode").setup({ settings = { resultLimit = 30 } })
--
-- Starts `nearcode serve` for the project root of every file buffer and adds the commands
-- :NearcodeSearch {query}, :NearcodeSimilar, :[range]NearcodeSelection, :NearcodeStatus and
-- :NearcodeReindex. The searches fill the quickfix list. workspace/symbol needs no code here:
-- vim.lsp.buf.workspace_symbol() already asks every attached server, nearcode included.
--
-- Searches look at the index, which holds files as saved. The query itself is taken from the
-- buffer as it is now: :NearcodeSimilar and :NearcodeSelection send its unsaved text too.

local M = {}

local defaults = {
  cmd = { "nearcode", "serve" },
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml",
    "pom.xml", "build.gradle", "setup.py", "Makefile", ".hg" },
  -- nil: every filetype. nearcode indexes the whole folder anyway; attaching tells it which
  -- files are open (indexed first) and gives it their current text for the query commands.
  filetypes = nil,
  -- Sent as initializationOptions: model, adapter, exclude, maxFileSize, resultLimit,
  -- workspaceSymbols.
  settings = {},
  -- Use the 0.10 code path (vim.lsp.start from an autocmd) even on 0.11+.
  legacy_start = false,
  quickfix = {
    -- Move the cursor into the quickfix window when results arrive (default: stay put).
    focus = false,
    -- The window grows to fit the results, up to this many lines.
    max_height = 20,
  },
}

local has_011 = vim.fn.has("nvim-0.11") == 1
local options = defaults
-- Why the server is not running, once we know: shown by every command instead of a guess.
local start_problem = nil

local function notify(msg, level)
  vim.notify("nearcode: " .. msg, level or vim.log.levels.INFO)
end

local INSTALL_HINT = "install it (editors/nvim/README.md: build a wheel with scripts/build-wheel.sh, "
  .. "pip install it into a virtual environment) and set cmd to that environment's "
  .. "{ \".../bin/nearcode\", \"serve\" }"

local function report_start_problem(problem)
  start_problem = problem
  notify(problem, vim.log.levels.ERROR)
end

-- The interpreter of a `{ python, "-m", "lsp_server", ... }` command, else nil.
local function module_interpreter(cmd)
  if type(cmd) == "table" and cmd[2] == "-m" and cmd[3] == "lsp_server" then
    return cmd[1]
  end
  return nil
end

-- A command that cannot start at all is reported by setup(), before any buffer opens.
local function check_cmd(cmd)
  if type(cmd) ~= "table" or type(cmd[1]) ~= "string" then
    return nil -- a function or an RPC client: Neovim starts it, we cannot check it
  end
  if vim.fn.executable(cmd[1]) == 1 then
    return nil
  end
  return ("the server command %q was not found (cmd = { %q, ... }): %s"):format(
    cmd[1], cmd[1], INSTALL_HINT)
end

local function server_log()
  local cache = vim.env.NEARCODE_CACHE_DIR
    or vim.fs.joinpath(vim.env.XDG_CACHE_HOME or vim.fs.normalize("~/.cache"), "nearcode")
  return vim.fs.joinpath(cache, "logs", "server.log")
end

-- The server quit (a clean shutdown exits 0): find out why (no package for that interpreter,
-- or something in the logs) and say it at once.
local function on_exit(code, signal)
  vim.schedule(function()
    if code == 0 and (signal == 0 or signal == 15) then
      return
    end
    local python = module_interpreter(options.cmd)
    local generic = ("the server exited with code %d (cmd %s); see %s and %s"):format(
      code, table.concat(options.cmd, " "), server_log(), require("vim.lsp.log").get_filename())
    if not python then
      report_start_problem(generic)
      return
    end
    vim.system({ python, "-c", "import lsp_server" }, { text = true }, function(check)
      vim.schedule(function()
        if check.code ~= 0 and (check.stderr or ""):find("No module named") then
          report_start_problem(("nearcode is not installed for %s (it cannot import lsp_server): %s")
            :format(python, INSTALL_HINT))
        else
          report_start_problem(generic)
        end
      end)
    end)
  end)
end

-- The project root of a buffer, found by its markers; nil for files outside any project
-- (never the home folder: indexing all of it would take hours and help nobody).
local function root_of(bufnr, markers)
  local root = vim.fs.root(bufnr, markers)
  if root == nil or vim.fs.normalize(root) == vim.fs.normalize(vim.env.HOME or "") then
    return nil
  end
  return root
end

-- The server for the current buffer if it has one, else any nearcode server: searches
-- work from scratch buffers too.
local function get_client()
  return vim.lsp.get_clients({ name = "nearcode", bufnr = 0 })[1]
    or vim.lsp.get_clients({ name = "nearcode" })[1]
end

-- 0.11 made client methods take `self` (client:request); 0.10 only has client.request.
local function request(client, method, params, handler)
  if has_011 then
    return client:request(method, params, handler, 0)
  end
  return client.request(method, params, handler, 0)
end

local function execute(command, argument, on_result)
  local client = get_client()
  if not client then
    if start_problem then
      notify("no server: " .. start_problem, vim.log.levels.ERROR)
    else
      notify("no server running: open a file of your project first", vim.log.levels.ERROR)
    end
    return
  end
  -- Every nearcode command takes exactly one object argument.
  local params = { command = command, arguments = { argument } }
  request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
    elseif result ~= nil then
      on_result(result)
    end
  end)
end

local function text_of(value)
  return (value ~= nil and value ~= vim.NIL) and value or ""
end

-- Lines that do not say what a module-level chunk is about.
local NOISE = { "^$", "^#", "^//", "^%-%-", "^/?%*", "^import%s", "^from%s", "^require", "^use%s",
  "^package%s", "^#include", "^\"\"\"", "^'''", "^[\"']" }

local function meaningful(line)
  local trimmed = vim.trim(line)
  for _, pattern in ipairs(NOISE) do
    if trimmed:find(pattern) then
      return false
    end
  end
  return true
end

-- What a quickfix entry is called: the symbol, or for module-level code its path and the
-- first line that means something (not an import, comment or docstring).
function M.label(r)
  local symbol = text_of(r.symbol)
  if symbol ~= "" then
    return symbol, text_of(r.preview)
  end
  for _, c in ipairs(r.context ~= vim.NIL and r.context or {}) do
    if meaningful(c.text) then
      return r.path, vim.trim(c.text)
    end
  end
  return r.path, text_of(r.preview)
end

local function open_quickfix(count)
  local height = math.max(1, math.min(count, options.quickfix.max_height))
  local from = vim.api.nvim_get_current_win()
  vim.cmd("botright copen " .. height)
  if not options.quickfix.focus and vim.api.nvim_win_is_valid(from) then
    vim.api.nvim_set_current_win(from)
  end
end

local function to_quickfix(title)
  return function(result)
    local items = {}
    for _, r in ipairs(result.results or {}) do
      local label, preview = M.label(r)
      -- The name past the doc comment and decorators (older servers: the start of the range).
      local cursor = (r.selectionRange or r.range).start
      table.insert(items, {
        filename = vim.uri_to_fname(r.uri),
        lnum = cursor.line + 1,
        col = cursor.character + 1,
        -- Quickfix text is one line: collapse the preview's whitespace.
        text = ("%s — %s  (%.2f)"):format(label, (preview:gsub("%s+", " ")), r.score),
      })
    end
    vim.fn.setqflist({}, " ", { title = "nearcode: " .. title, items = items })
    if type(result.notice) == "string" and result.notice ~= "" then
      notify(result.notice, vim.log.levels.WARN) -- e.g. the embedding server is down
    elseif result.partial then
      notify("index still building: results may be incomplete", vim.log.levels.WARN)
    end
    if #items == 0 then
      notify("no results for " .. title)
    else
      open_quickfix(#items)
    end
  end
end

local function buffer_ref()
  return { uri = vim.uri_from_bufnr(0) }
end

local MODEL_STATES = {
  idle = "not loaded yet",
  exporting = "preparing",
  loading = "loading",
  ready = "ready",
  error = "failed",
}

-- The server's default largest file (maxFileSize), not worth a line.
local DEFAULT_MAX_FILE_SIZE = 1024 * 1024

function M.status_lines(result)
  local model = text_of(result.modelState)
  local lines = { "model: " .. (MODEL_STATES[model] or (result.modelLoaded and "ready" or "loading")) }
  local message = text_of(result.modelMessage) ~= "" and result.modelMessage or text_of(result.modelError)
  if message ~= "" then
    lines[1] = lines[1] .. " — " .. message
  end
  for _, f in ipairs(result.folders or {}) do
    table.insert(lines, ("%s: %s, %s files, %s/%s chunks embedded, %s pending"):format(
      vim.uri_to_fname(f.uri), f.state, f.files or "?", f.embedded or "?", f.chunks or "?",
      f.pending or "?"))
    if text_of(f.message) ~= "" then
      table.insert(lines, "  " .. f.message)
    end
    -- Files left out by choice, which no scan lists: the folder's settings, or the scope its
    -- index was built with (`nearcode index --exclude`).
    if type(f.exclude) == "table" and #f.exclude > 0 then
      table.insert(lines, "  excluding: " .. table.concat(vim.tbl_map(text_of, f.exclude), ", "))
    end
    local largest = tonumber(f.maxFileSize)
    if largest and largest ~= DEFAULT_MAX_FILE_SIZE then
      table.insert(lines, ("  files over %d bytes left out"):format(largest))
    end
    -- Files a user would expect indexed, and why they are not (the server names up to 20).
    if (tonumber(f.skipped) or 0) > 0 then
      table.insert(lines, ("  not indexed: %d"):format(f.skipped))
      for _, item in ipairs(f.skippedFiles or {}) do
        table.insert(lines, ("    %s: %s"):format(text_of(item.path), text_of(item.reason)))
      end
    end
  end
  return lines
end

-- A floating window, closed when the cursor moves: no "Press ENTER" prompt.
local function show_status(result)
  vim.lsp.util.open_floating_preview(M.status_lines(result), "text", {
    border = "rounded",
    title = " nearcode ",
    focus_id = "nearcode_status",
  })
end

local function create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd("NearcodeSearch", function(o)
    execute("nearcode.search", { query = o.args }, to_quickfix(o.args))
  end, { nargs = "+", desc = "nearcode: semantic search of the project" })

  cmd("NearcodeSimilar", function()
    local pos = vim.api.nvim_win_get_cursor(0)
    execute("nearcode.findSimilar", {
      textDocument = buffer_ref(),
      position = { line = pos[1] - 1, character = pos[2] },
    }, to_quickfix("similar to " .. vim.fn.expand("%:t") .. ":" .. pos[1]))
  end, { desc = "nearcode: code similar to the cursor's function" })

  cmd("NearcodeSelection", function(o)
    -- Whole lines: the end column is the last line's length (the server clips it).
    local last = vim.api.nvim_buf_get_lines(0, o.line2 - 1, o.line2, false)[1] or ""
    execute("nearcode.searchSelection", {
      textDocument = buffer_ref(),
      range = {
        start = { line = o.line1 - 1, character = 0 },
        ["end"] = { line = o.line2 - 1, character = #last },
      },
    }, to_quickfix(("like lines %d-%d"):format(o.line1, o.line2)))
  end, { range = true, desc = "nearcode: code like the selected lines" })

  cmd("NearcodeStatus", function()
    execute("nearcode.status", vim.empty_dict(), show_status)
  end, { desc = "nearcode: index state" })

  cmd("NearcodeReindex", function()
    execute("nearcode.reindex", vim.empty_dict(), function()
      notify("reindexing")
    end)
  end, { desc = "nearcode: rebuild the index" })
end

function M.setup(opts)
  opts = vim.tbl_deep_extend("force", defaults, opts or {})
  options = opts
  start_problem = nil
  create_commands()
  local problem = check_cmd(opts.cmd)
  if problem then
    report_start_problem(problem)
    return
  end
  local config = {
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    -- An empty Lua table would be sent as a JSON list; the server wants an object or null.
    init_options = next(opts.settings) and opts.settings or nil,
    on_exit = on_exit,
    on_init = function()
      start_problem = nil
    end,
  }
  if has_011 and not opts.legacy_start then
    config.root_dir = function(bufnr, on_dir)
      local root = root_of(bufnr, opts.root_markers)
      if root then
        on_dir(root)
      end
    end
    vim.lsp.config("nearcode", config)
    vim.lsp.enable("nearcode")
  else
    local function start(bufnr)
      -- Only buffers that are files: not help, terminals, quickfix or unnamed scratch.
      if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
        return
      end
      if opts.filetypes and not vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
        return
      end
      local root = root_of(bufnr, opts.root_markers)
      if root == nil then
        return
      end
      -- vim.lsp.start reuses the running client with the same name and root_dir.
      vim.lsp.start(vim.tbl_extend("force", config, {
        name = "nearcode",
        root_dir = root,
      }), { bufnr = bufnr })
    end
    vim.api.nvim_create_autocmd("FileType", {
      group = vim.api.nvim_create_augroup("nearcode", {}),
      callback = function(args) start(args.buf) end,
    })
    -- Buffers opened before setup() ran already had their FileType event.
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
        start(bufnr)
      end
    end
  end
end

return M

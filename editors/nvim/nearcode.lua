-- nearcode.lua: Neovim (0.10+) client for the nearcode semantic code search server.
--
--   require("nearcode").setup({ settings = { resultLimit = 30 } })
--
-- Starts `nearcode serve` for the project root of every file buffer and adds the commands
-- :NearcodeSearch {query}, :NearcodeSimilar, :[range]NearcodeSelection, :NearcodeStatus and
-- :NearcodeReindex, which fill the quickfix list. workspace/symbol needs no code here:
-- vim.lsp.buf.workspace_symbol() already asks every attached server, nearcode included.

local M = {}

local defaults = {
  cmd = { "nearcode", "serve" },
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml",
    "pom.xml", "build.gradle", "setup.py", "Makefile", ".hg" },
  -- nil: every filetype. nearcode indexes the whole folder anyway; attaching only tells it
  -- which files are open (so they are indexed first and searched as edited, unsaved).
  filetypes = nil,
  -- Sent as initializationOptions: model, exclude, maxFileSize, resultLimit, workspaceSymbols.
  settings = {},
  -- Use the 0.10 code path (vim.lsp.start from an autocmd) even on 0.11+.
  legacy_start = false,
}

local has_011 = vim.fn.has("nvim-0.11") == 1

local function notify(msg, level)
  vim.notify("nearcode: " .. msg, level or vim.log.levels.INFO)
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
    notify("no server running: open a file of your project first", vim.log.levels.ERROR)
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

local function to_quickfix(title)
  return function(result)
    local items = {}
    for _, r in ipairs(result.results or {}) do
      -- Module-level chunks have no symbol: name them by their path.
      local label = (r.symbol ~= vim.NIL and r.symbol ~= "" and r.symbol) or r.path
      -- Quickfix text is one line: collapse the preview's whitespace.
      local preview = ((r.preview ~= vim.NIL and r.preview) or ""):gsub("%s+", " ")
      table.insert(items, {
        filename = vim.uri_to_fname(r.uri),
        lnum = r.range.start.line + 1,
        col = r.range.start.character + 1,
        text = ("%s — %s  (%.2f)"):format(label, preview, r.score),
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
      vim.cmd("botright copen")
    end
  end
end

local function buffer_ref()
  return { uri = vim.uri_from_bufnr(0) }
end

local function show_status(result)
  local lines = { "model " .. (result.modelLoaded and "loaded" or "loading") }
  if result.modelError and result.modelError ~= vim.NIL then
    table.insert(lines, "model error: " .. result.modelError)
  end
  for _, f in ipairs(result.folders or {}) do
    table.insert(lines, ("%s: %s, %s files, %s/%s chunks embedded, %s pending"):format(
      vim.uri_to_fname(f.uri), f.state, f.files or "?", f.embedded or "?", f.chunks or "?",
      f.pending or "?"))
  end
  notify(table.concat(lines, "\n"))
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
  local config = {
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    -- An empty Lua table would be sent as a JSON list; the server wants an object or null.
    init_options = next(opts.settings) and opts.settings or nil,
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

  create_commands()
end

return M

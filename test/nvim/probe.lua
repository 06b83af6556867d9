-- Headless Neovim (0.7.2+) as a real LSP client of `adapter-composer lsp --stdio`.
-- Env: PROBE_FILE (a recipe), PROBE_CMD (JSON argv of the server), PROBE_CWD, PROBE_TIMEOUT_MS.
-- Prints one JSON object (diagnostics + code lenses) on stdout; exit code 0 on success.
local file = assert(os.getenv('PROBE_FILE'), 'PROBE_FILE not set')
local cmd = vim.json.decode((assert(os.getenv('PROBE_CMD'), 'PROBE_CMD not set')))
local cwd = os.getenv('PROBE_CWD')
local timeout = tonumber(os.getenv('PROBE_TIMEOUT_MS') or '30000')
local result = { nvim = tostring(vim.version().major .. '.' .. vim.version().minor .. '.' .. vim.version().patch) }

local function finish(code)
  io.stdout:write(vim.json.encode(result) .. '\n')
  io.stdout:flush()
  vim.cmd((code == 0) and 'qall!' or ('cquit! ' .. code))
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local uri, published = vim.uri_from_bufnr(bufnr), false
  local orig = vim.lsp.handlers['textDocument/publishDiagnostics']
  vim.lsp.handlers['textDocument/publishDiagnostics'] = function(e, res, ctx, cfg)
    if res and res.uri == uri then published = true end
    return orig(e, res, ctx, cfg)
  end
  -- 0.7 has no vim.lsp.start(): start_client + buf_attach_client works on 0.7 and later.
  local client_id = vim.lsp.start_client({
    name = 'adapter-composer',
    cmd = cmd,
    cmd_cwd = cwd,
    root_dir = vim.fn.fnamemodify(file, ':p:h:h'),
  })
  assert(client_id, 'start_client failed')
  vim.lsp.buf_attach_client(bufnr, client_id)

  local got = vim.wait(timeout, function() return published end, 20)
  local client = vim.lsp.get_client_by_id(client_id)
  result.server_initialized = client ~= nil and client.initialized == true
  result.diagnostics = vim.tbl_map(function(d)
    return { lnum = d.lnum, col = d.col, severity = d.severity, source = d.source, code = d.code, message = d.message }
  end, vim.diagnostic.get(bufnr))
  if not got then result.error = 'timeout waiting for textDocument/publishDiagnostics' end

  vim.lsp.codelens.refresh()
  vim.wait(timeout, function() return #vim.lsp.codelens.get(bufnr) > 0 end, 50)
  result.codelenses = vim.tbl_map(function(l)
    return { line = l.range.start.line, title = l.command and l.command.title or nil, command = l.command and l.command.command or nil }
  end, vim.lsp.codelens.get(bufnr))

  vim.lsp.stop_client(client_id)
  vim.wait(3000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
end)
if not ok then result.error = tostring(err) end
finish((ok and result.error == nil) and 0 or 1)

-- Runs after the configuration docs/editors.md documents (loaded with -u): waits for the code lenses the
-- documented refresh brings (this probe never asks for them itself), then `:e!` and checks that the same
-- server is reused and the lenses come back. Prints one JSON object on stdout.
local timeout = tonumber(os.getenv('PROBE_TIMEOUT_MS') or '60000')
local result = {}
local function lenses(bufnr)
  return vim.tbl_map(function(l)
    return { line = l.range.start.line, title = l.command and l.command.title or nil }
  end, vim.lsp.codelens.get(bufnr))
end
local ok, err = pcall(function()
  local bufnr = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[bufnr].filetype
  vim.wait(timeout, function() return #vim.lsp.codelens.get(bufnr) > 0 end, 50)
  result.codelenses = lenses(bufnr)
  vim.cmd('edit!')
  bufnr = vim.api.nvim_get_current_buf()
  vim.wait(timeout, function() return #vim.lsp.codelens.get(bufnr) > 0 and #vim.lsp.buf_get_clients(bufnr) > 0 end, 50)
  result.after_reload = lenses(bufnr)
  result.clients = #vim.lsp.get_active_clients()
  for _, c in ipairs(vim.lsp.get_active_clients()) do c.stop() end
  vim.wait(3000, function() return #vim.lsp.get_active_clients() == 0 end, 50)
end)
if not ok then result.error = tostring(err) end
io.stdout:write(vim.json.encode(result) .. '\n')
io.stdout:flush()
vim.cmd('qall!')

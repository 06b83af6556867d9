#!/usr/bin/env bash
# Installs what the editor tests need, idempotently (CI calls it on a fresh machine):
#   apt: chromium (the browser Playwright drives), ripgrep (code-server search), neovim (the second LSP client),
#        python3-numpy (npy files written by numpy itself)
#   npm: code-server 4.100.3 (the last release on Node 20) into .tools/code-server, offline-safe.
# Usage: scripts/setup-editor-tests.sh        env: CODE_SERVER_PREFIX (default .tools/code-server)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${CODE_SERVER_PREFIX:-$root/.tools/code-server}"
version="${CODE_SERVER_VERSION:-4.100.3}"

if ! command -v chromium >/dev/null || ! command -v rg >/dev/null || ! command -v nvim >/dev/null || ! python3 -c 'import numpy' 2>/dev/null; then
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get -o DPkg::Lock::Timeout=900 install -y -qq chromium ripgrep neovim python3-numpy >/dev/null
fi

bin="$prefix/node_modules/.bin/code-server"
if [ -x "$bin" ] && XDG_CONFIG_HOME="$prefix/.xdg-config" "$bin" --version 2>/dev/null | grep -q "^$version"; then
  echo "code-server $version already in $prefix"; exit 0
fi

# Plain `npm i code-server` fails here: its postinstall refuses root, builds kerberos (needs krb5 headers),
# downloads ripgrep from GitHub and runs `npx node-gyp` (cancelled without a TTY). So: fetch without scripts,
# then do what postinstall.sh does, minus the parts that need the internet.
export npm_config_yes=true
t0=$(date +%s)
mkdir -p "$prefix"; cd "$prefix"
[ -f package.json ] || echo '{"name":"code-server-host","private":true}' > package.json
npm install --no-audit --no-fund --ignore-scripts "code-server@$version"
npm rebuild --no-audit --no-fund argon2   # prebuilt download fails offline; node-pre-gyp builds it
cd "$prefix/node_modules/code-server/lib/vscode"
npm install --no-audit --no-fund --omit=dev --ignore-scripts
npm rebuild --no-audit --no-fund @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog node-pty
mkdir -p node_modules/@vscode/ripgrep/bin
if command -v rg >/dev/null; then ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg; fi
ln -sfn node_modules node_modules.asar
( cd bin/remote-cli && ln -sf code-linux.sh code-server )
( cd bin/helpers && ln -sf browser-linux.sh browser.sh )
cd extensions
npm install --no-audit --no-fund --omit=dev --ignore-scripts
node ./postinstall.mjs >/dev/null
echo "code-server $version installed in $(( $(date +%s) - t0 ))s; size: $(du -sh "$prefix" | cut -f1)"
XDG_CONFIG_HOME="$prefix/.xdg-config" "$bin" --version

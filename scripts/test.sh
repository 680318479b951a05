#!/usr/bin/env bash
# Every test Girok has, on a fresh machine: installs what the tests need
# (Chromium, its WebDriver and CJK fonts for the browser tests; schemathesis
# for the API's property tests; PostgreSQL's server programs, with which
# the PostgreSQL backend's tests start private clusters of their own; openssl
# makes the certificates of the TLS test's cluster; axe-core from npm for the
# browser tests' accessibility check), then
# runs the workspace's tests and schemathesis against the OpenAPI document. No test is skipped because a
# tool is missing: this script installs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v pip >/dev/null 2>&1 || command -v schemathesis >/dev/null 2>&1 || need+=(python3-pip)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
    echo "== apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q >/dev/null || true
    $sudo apt-get install -y -q "${need[@]}" >/dev/null
fi

# The accessibility check's engine, one pinned version, kept beside the build.
axe_version=4.14.1
axe=target/axe-core/node_modules/axe-core
if ! grep -qs "\"version\": \"$axe_version\"" "$axe/package.json"; then
    echo "== npm install axe-core@$axe_version"
    mkdir -p target/axe-core
    npm install --prefix target/axe-core --no-audit --no-fund --no-save "axe-core@$axe_version" >/dev/null
fi

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== schemathesis against the OpenAPI document (no 5xx, no schema violations)"
bash bench/web/schemathesis.sh target/debug/girok

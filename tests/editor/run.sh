#!/usr/bin/env bash
# Checks the checked-in editor schema (schemas/migspec.schema.json) the way people meet it:
# yaml-language-server, driven over stdio by check.mjs, reports a misspelt key, names types by
# their title, completes keys inside spec.MigrateOption, and shows enum meanings and secret
# fields' descriptions on hover.
#
# Usage: tests/editor/run.sh
#
# Installs yaml-language-server (npm; the registry must be reachable) into a throwaway
# directory, or uses EDITOR_CHECK_PREFIX to reuse (or create and keep) one. Needs node and
# npm; installs them from Debian's packages when missing and this runs as root.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
        apt-get install -y -qq nodejs npm >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
    else
        echo "error: node and npm are needed for the editor check (apt-get install nodejs npm)" >&2
        exit 1
    fi
fi

if [[ -n "${EDITOR_CHECK_PREFIX:-}" ]]; then
    PREFIX="$EDITOR_CHECK_PREFIX"
else
    PREFIX="$(mktemp -d "${TMPDIR:-/tmp}/migspec-editor.XXXXXX")"
    trap 'rm -rf "$PREFIX"' EXIT
fi
SERVER="$PREFIX/node_modules/yaml-language-server/bin/yaml-language-server"
if [[ ! -f "$SERVER" ]]; then
    npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
        "yaml-language-server@^1.25.0" >/dev/null
fi
node "$HERE/check.mjs" "$SERVER" "$ROOT"

#!/usr/bin/env bash
# Lints the example GitHub Actions workflow (examples/ci/migspec.yml) as GitHub would read it:
# check-jsonschema (PyPI) against its built-in GitHub workflow schema, then shellcheck on every
# `run:` block (GitHub expressions replaced by a placeholder, so that only the shell is judged).
#
# Usage: tests/ci-lint/run.sh [WORKFLOW...]   (default: examples/ci/*.yml)
#
# Installs check-jsonschema into a throwaway virtualenv (CI_LINT_VENV reuses one) and
# shellcheck from Debian's packages when it is missing and this runs as root.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [[ $# -eq 0 ]]; then
    set -- "$ROOT"/examples/ci/*.yml
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/migspec-ci-lint.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

VENV="${CI_LINT_VENV:-$WORK/venv}"
if [[ ! -x "$VENV/bin/check-jsonschema" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
fi
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$@"

if ! command -v shellcheck >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
        apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }
    else
        echo "error: shellcheck is needed to lint the workflow's run: blocks (apt-get install shellcheck)" >&2
        exit 1
    fi
fi
"$VENV/bin/python" "$HERE/run_blocks.py" "$WORK/blocks" "$@"
shopt -s nullglob
blocks=("$WORK"/blocks/*.sh)
if [[ ${#blocks[@]} -eq 0 ]]; then
    echo "error: no run: blocks found in $*" >&2
    exit 1
fi
shellcheck --shell=bash --severity=style "${blocks[@]}"
echo "ci-lint: ${#blocks[@]} run blocks of $# workflow(s) pass check-jsonschema and shellcheck"

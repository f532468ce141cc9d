#!/usr/bin/env bash
# Runs full lifecycles against `migspec emulator` with the official, unmodified clients:
# tencentcloud-sdk-python (dts v20180330 and v20211206), tccli, and huaweicloudsdkoms.
#
# Usage: tests/sdk-compat/run.sh PATH/TO/migspec
#
# Installs the SDKs (tests/sdk-compat/requirements.txt) into a throwaway virtualenv
# (python3 -m venv; PyPI must be reachable), starts its own emulator on a free loopback
# port with short phase durations and a few fault rules, runs lifecycle.py, and always
# stops the emulator. Exits non-zero on any mismatch.
#
# Environment:
#   SDK_COMPAT_VENV   reuse (or create and keep) a virtualenv at this path instead of a
#                     throwaway one, to skip the ~1-2 minute install on repeated runs.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PATH/TO/migspec" >&2
    exit 2
fi
MIGSPEC="$1"
if [[ ! -x "$MIGSPEC" ]]; then
    echo "error: $MIGSPEC is not an executable migspec binary" >&2
    exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/migspec-sdk-compat.XXXXXX")"
EMULATOR_PID=""

cleanup() {
    local status=$?
    if [[ -n "$EMULATOR_PID" ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        kill -TERM "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -s "$WORK/emulator.err" ]]; then
        echo "--- emulator stderr ---" >&2
        cat "$WORK/emulator.err" >&2
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The SDKs, in a virtualenv.
VENV="${SDK_COMPAT_VENV:-$WORK/venv}"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import tencentcloud.dts.v20211206, huaweicloudsdkoms.v2" 2>/dev/null \
    || [[ ! -x "$VENV/bin/tccli" ]]; then
    echo "installing the official SDKs into $VENV ..."
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$HERE/requirements.txt"
fi

# 2. The emulator, with its own credentials, short phases and fault rules.
SECRET_ID="AKIDSDKCOMPAT00000000000000000000001"
SECRET_KEY="sdkCompatSecretKey00000000000001"
AK="SDKCOMPATAK000000001"
SK="sdkCompatSecretKey0000000000000000000001"
cat >"$WORK/emulator.yaml" <<'YAML'
durations:
  creating: 200ms
  checking: 300ms
  migrating: 600ms
  completing: 200ms
  stopping: 200ms
  pausing: 200ms
  resuming: 200ms
  isolating: 200ms
  offlining: 200ms
  oms_waiting: 100ms
  oms_task_creation: 200ms
  oms_migration: 600ms
  oms_pausing: 200ms
  oms_deleting: 200ms
rate_limit_per_second: 200
faults:
  rules:
    - {match: "sdk-checkfail-*", service: tencent, check_fail: {message: "source database unreachable: connect timeout (injected)"}}
    - {match: "sdk-resume-*", service: tencent, fail_at_percent: 50, resumes_needed: 1}
    - {match: "sdk-retry-*", service: huawei, fail_at_percent: 60}
YAML
"$MIGSPEC" emulator --listen 127.0.0.1:0 --config "$WORK/emulator.yaml" \
    --tencent-credential "$SECRET_ID:$SECRET_KEY" --huawei-credential "$AK:$SK" \
    >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMULATOR_PID=$!

URL=""
for _ in $(seq 1 200); do
    URL="$(head -n 1 "$WORK/emulator.out" 2>/dev/null | grep -o 'http://127\.0\.0\.1:[0-9]*' || true)"
    [[ -n "$URL" ]] && break
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
        echo "error: the emulator exited before listening" >&2
        exit 1
    fi
    sleep 0.05
done
if [[ -z "$URL" ]]; then
    echo "error: no URL on the emulator's first stdout line within 10 s" >&2
    exit 1
fi
echo "emulator: $URL"

# 3. The lifecycles. HOME is private: tccli and the Huawei SDK write files there.
mkdir -p "$WORK/home"
HOME="$WORK/home" NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost" \
    SDK_COMPAT_SECRET_ID="$SECRET_ID" SDK_COMPAT_SECRET_KEY="$SECRET_KEY" SDK_COMPAT_AK="$AK" SDK_COMPAT_SK="$SK" \
    "$VENV/bin/python" "$HERE/lifecycle.py" "$URL"

# 4. The emulator saw only what the clients sent: no auth errors other than the two deliberate ones.
curl_stats() { "$VENV/bin/python" -c "import json,sys,urllib.request; print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1] + '/_emulator/stats'))))" "$URL"; }
STATS="$(NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 curl_stats)"
"$VENV/bin/python" - "$STATS" <<'PY'
import json, sys
stats = json.loads(sys.argv[1])
total = stats["total"]
print(f"emulator stats: {total['requests']} requests, {total['ok']} ok, {total['business_error']} business errors, "
      f"{total['auth_error']} auth errors, {total['throttled']} throttled")
assert total["auth_error"] == 2, f"only the two deliberate wrong-key requests may fail authentication: {stats}"
assert total["throttled"] == 0, f"nothing should be throttled: {stats}"
PY

kill -TERM "$EMULATOR_PID"
wait "$EMULATOR_PID"
EMULATOR_PID=""
echo "sdk-compat: passed"

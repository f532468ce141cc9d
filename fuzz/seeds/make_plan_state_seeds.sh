#!/usr/bin/env bash
# Writes the starting inputs of the `plan` and `state` fuzz targets with the real binary:
# `migspec plan --out` and `migspec apply` on the shipped specs against `migspec emulator`.
# Usage (from fuzz/): seeds/make_plan_state_seeds.sh PATH/TO/migspec
set -euo pipefail
migspec=$(realpath "$1")
seeds=$(realpath "$(dirname "$0")")
work=$(mktemp -d)
trap 'kill "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
printf 'durations: {creating: 100ms, checking: 100ms, migrating: 200ms, completing: 100ms, stopping: 100ms, oms_task_creation: 100ms, oms_migration: 200ms}\n' > emulator.yaml
"$migspec" emulator --listen 127.0.0.1:0 --config emulator.yaml > emulator.out 2>/dev/null &
emulator=$!
for _ in $(seq 50); do grep -q 'http://127.0.0.1:' emulator.out 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' emulator.out | head -1)
mkdir -p specs/secrets && cp "$seeds"/../../specs/*.yaml specs/
for file in $(grep -ho "fromFile: [^ ,}]*" specs/*.yaml | awk "{print \$2}" | sort -u); do echo secret > "specs/$file"; done
printf 'pollInterval: 50ms\n' > migspec.yaml
export HOME=$work NO_COLOR=1 MIGSPEC_TENCENT_ENDPOINT=$url MIGSPEC_HUAWEI_OMS_ENDPOINT=$url \
  TENCENTCLOUD_SECRET_ID=AKIDMIGSPECEMULATOR0000000000000000 TENCENTCLOUD_SECRET_KEY=migspecEmulatorSecretKey00000000 \
  HUAWEICLOUD_SDK_AK=MIGSPECEMULATORAK000 HUAWEICLOUD_SDK_SK=migspecEmulatorSecretKey0000000000000000 \
  HUAWEICLOUD_SDK_PROJECT_ID=0123456789abcdef0123456789abcdef
for name in $(grep -ho 'fromEnv: [A-Z_]*' specs/*.yaml | awk '{print $2}' | sort -u); do export "$name=secret-$name"; done
mkdir -p "$seeds/plan" "$seeds/state"
"$migspec" plan specs/ --out "$seeds/plan/fresh.json" > /dev/null || true
"$migspec" apply specs/ --auto-approve > /dev/null 2>&1 || true
cp .migspec/state.json "$seeds/state/after-apply"
if [[ -f .migspec/state.log ]]; then
  { cat .migspec/state.json; printf '\0'; cat .migspec/state.log; } > "$seeds/state/with-log"
fi
rm specs/orders-mysql.yaml
"$migspec" plan specs/ --prune --out "$seeds/plan/prune.json" > /dev/null || true
sed -i 's/desired: running/desired: stopped/' specs/*.yaml
"$migspec" plan specs/ --out "$seeds/plan/changes.json" > /dev/null || true
ls -l "$seeds/plan" "$seeds/state"

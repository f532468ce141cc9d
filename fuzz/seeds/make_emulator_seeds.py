#!/usr/bin/env python3
"""Writes the hand-made starting inputs of the `tencent` and `huawei` fuzz targets.

Each input is one flag byte (bit 0: the harness signs the request; bit 1: a second
request follows; the upper six bits: seconds the clock moves between them) and then
HTTP/1.1 requests as a client sends them. Run from fuzz/: python3 seeds/make_emulator_seeds.py
"""
import json
import os

PID = "0123456789abcdef0123456789abcdef"
REGION = "ap-guangzhou"


def http(method, target, headers, body=b""):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def tc(action, version, body):
    return http("POST", "/", [("Content-Type", "application/json"), ("Host", "127.0.0.1"),
                              ("X-TC-Action", action), ("X-TC-Version", version),
                              ("X-TC-Region", REGION)], body)


create_2018 = {
    "JobName": "orders",
    "MigrateOption": {"RunMode": 1, "MigrateType": 3, "MigrateObject": 2, "ConsistencyType": 5, "IsOverrideRoot": 0},
    "SrcDatabaseType": "mysql", "SrcAccessType": "cvm",
    "SrcInfo": {"CvmInstanceId": "ins-1a2b3c4d", "Port": 3306, "User": "dts", "Password": "s", "Region": REGION},
    "DstDatabaseType": "mysql", "DstAccessType": "cdb",
    "DstInfo": {"InstanceId": "cdb-9z8y7x6w", "Region": REGION, "User": "root", "Password": "d"},
    "DatabaseInfo": "[{\"Database\":\"orders\",\"Table\":[\"orders\"]}]",
    "Tags": [{"TagKey": "migspec:address", "TagValue": "orders"}],
}
modify_2021 = {
    "JobId": "dts-emu00001", "RunMode": "immediate",
    "MigrateOption": {"DatabaseTable": {"ObjectMode": "partial", "Databases": [{"DbName": "orders", "DBMode": "all"}]}, "MigrateType": "fullAndIncrement"},
    "SrcInfo": {"Region": REGION, "AccessType": "extranet", "DatabaseType": "mysql", "NodeType": "simple",
                "Info": [{"Host": "10.0.0.1", "Port": 3306, "User": "dts", "Password": "s"}]},
    "DstInfo": {"Region": REGION, "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                "Info": [{"InstanceId": "cdb-12345678", "User": "root", "Password": "d"}]},
}
create_group = {
    "src_node": {"ak": "SRCAK", "sk": "SRCSK", "region": "cn-hangzhou", "object_key": ["2024/"], "bucket": "src-bucket", "cloud_type": "Aliyun"},
    "description": "media migspec:address=media",
    "dst_node": {"ak": "DSTAK", "sk": "DSTSK", "region": "cn-north-4", "bucket": "dst-bucket", "save_prefix": "archive/"},
    "enable_failed_object_recording": True, "task_type": "PREFIX",
    "bandwidth_policy": [{"end": "06:00", "max_bandwidth": 104857600, "start": "00:00"}],
}

tencent = {
    "create-2018": b"\x01" + tc("CreateMigrateJob", "2018-03-30", create_2018),
    "create-then-describe-2018": bytes([0x03 | (5 << 2)]) + tc("CreateMigrateJob", "2018-03-30", create_2018)
    + tc("DescribeMigrateJobs", "2018-03-30", {"JobId": "dts-emu00001", "Limit": 10, "TagFilters": [{"TagKey": "k", "TagValue": ["v1"]}]}),
    "create-then-check-2018": bytes([0x03 | (1 << 2)]) + tc("CreateMigrateJob", "2018-03-30", create_2018)
    + tc("CreateMigrateCheckJob", "2018-03-30", {"JobId": "dts-emu00001"}),
    "start-2018": b"\x01" + tc("StartMigrateJob", "2018-03-30", {"JobId": "dts-emu00001"}),
    "buy-then-modify-2021": bytes([0x03 | (1 << 2)]) + tc("CreateMigrationService", "2021-12-06", {"SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "small", "JobName": "n", "Tags": [{"TagKey": "k", "TagValue": "v"}]})
    + tc("ModifyMigrationJob", "2021-12-06", modify_2021),
    "describe-2021": b"\x01" + tc("DescribeMigrationJobs", "2021-12-06", {"Limit": 10, "Offset": 0, "TagFilters": [{"TagKey": "k"}]}),
    "get-query-2018": b"\x01" + http("GET", "/?Action=DescribeMigrateJobs&Version=2018-03-30&Region=ap-guangzhou&JobId=dts-emu00001&Limit=10&TagFilters.0.TagKey=k&TagFilters.0.TagValue.0=v1",
                                     [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "127.0.0.1")]),
    "unsigned": b"\x00" + http("POST", "/", [("Content-Type", "application/json"), ("Host", "127.0.0.1"), ("X-TC-Action", "DescribeMigrateJobs"), ("X-TC-Version", "2018-03-30"), ("X-TC-Timestamp", "1767225600"),
                                              ("Authorization", "TC3-HMAC-SHA256 Credential=AKIDMIGSPECEMULATOR0000000000000000/2026-01-01/dts/tc3_request, SignedHeaders=content-type;host, Signature=00")], b"{}"),
}
base = f"/v2/{PID}/taskgroups"
jh = [("Content-Type", "application/json;charset=utf-8"), ("Host", "127.0.0.1")]
huawei = {
    "create": b"\x01" + http("POST", base, jh, create_group),
    "create-then-show": bytes([0x03 | (3 << 2)]) + http("POST", base, jh, create_group) + http("GET", base + "/00000000-0000-4000-8000-000000000001", jh),
    "create-then-stop": bytes([0x03 | (1 << 2)]) + http("POST", base, jh, create_group) + http("PUT", base + "/00000000-0000-4000-8000-000000000001/stop", jh),
    "list": b"\x01" + http("GET", base + "?limit=10&offset=0&status=2", jh),
    "start": b"\x01" + http("PUT", base + "/g/start", jh, {"src_ak": "A", "src_sk": "S", "dst_ak": "A", "dst_sk": "S"}),
    "retry": b"\x01" + http("PUT", base + "/g/retry", jh, {"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "source_cdn_authentication_key": "cdnkey", "migrate_failed_object": True}),
    "update": b"\x01" + http("PUT", base + "/g/update", jh, {"bandwidth_policy": [{"start": "00:00", "end": "06:00", "max_bandwidth": 1048576}]}),
    "delete": b"\x01" + http("DELETE", base + "/g", jh),
    "signed-sdk": b"\x00" + http("GET", base + "?limit=10", jh + [("X-Sdk-Date", "20260101T000000Z"), ("Authorization", "SDK-HMAC-SHA256 Access=MIGSPECEMULATORAK000, SignedHeaders=content-type;host;x-sdk-date, Signature=00")]),
}
for name, cases in (("tencent", tencent), ("huawei", huawei)):
    os.makedirs(f"seeds/{name}", exist_ok=True)
    for case, data in cases.items():
        with open(f"seeds/{name}/{case}", "wb") as f:
            f.write(data)

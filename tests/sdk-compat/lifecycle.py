"""Drive the migspec emulator with the official clients, unchanged.

Usage: lifecycle.py URL

Runs a full lifecycle with each of:
  * tencentcloud-sdk-python, dts v20180330 (POST JSON, GET, and the http:// endpoint form),
  * tencentcloud-sdk-python, dts v20211206,
  * tccli (both API versions),
  * huaweicloudsdkoms v2 task groups,
and fails (non-zero exit, with a traceback) on the first mismatch.

The emulator must run with the credentials, durations and fault rules that run.sh sets.
"""

import json
import os
import subprocess
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.dts.v20180330 import dts_client as dts2018
from tencentcloud.dts.v20180330 import models as m2018
from tencentcloud.dts.v20211206 import dts_client as dts2021
from tencentcloud.dts.v20211206 import models as m2021
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as hw_exceptions
from huaweicloudsdkoms.v2 import (
    BandwidthPolicyDto,
    CreateTaskGroupReq,
    CreateTaskGroupRequest,
    DeleteTaskGroupRequest,
    ListTaskGroupRequest,
    OmsClient,
    RetryTaskGroupReq,
    RetryTaskGroupRequest,
    ShowTaskGroupRequest,
    StartTaskGroupReq,
    StartTaskGroupRequest,
    StopTaskGroupRequest,
    TaskGroupDstNode,
    TaskGroupSrcNode,
    UpdateBandwidthPolicyReq,
    UpdateTaskGroupRequest,
)

SECRET_ID = os.environ["SDK_COMPAT_SECRET_ID"]
SECRET_KEY = os.environ["SDK_COMPAT_SECRET_KEY"]
AK = os.environ["SDK_COMPAT_AK"]
SK = os.environ["SDK_COMPAT_SK"]
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "ap-guangzhou"


def log(message):
    print(f"  ok  {message}", flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_until(read, accept, what, timeout=15.0):
    """Polls read() until accept(value); returns the value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = read()
        if accept(value):
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last value: {value}")


def expect_tencent_error(call, code):
    try:
        call()
    except TencentCloudSDKException as error:
        check(error.get_code() == code, f"expected {code}, got {error.get_code()}: {error.get_message()}")
        check(error.get_request_id(), "the error carries a RequestId")
        return error
    raise AssertionError(f"expected the SDK to raise {code}")


def request(model, params):
    instance = model()
    instance.from_json_string(json.dumps(params))
    return instance


# ---------------------------------------------------------------------------------------
# Tencent SDK, 2018-03-30


def create_2018_params(name, migrate_type=3):
    return {
        "JobName": name,
        "MigrateOption": {"RunMode": 1, "MigrateType": migrate_type, "MigrateObject": 2, "ConsistencyType": 5, "IsOverrideRoot": 0},
        "SrcDatabaseType": "mysql",
        "SrcAccessType": "extranet",
        "SrcInfo": {"Supplier": "others", "Ip": "14.17.22.36", "Region": REGION, "User": "root", "Password": "src-password", "Port": 3306},
        "DstDatabaseType": "mysql",
        "DstAccessType": "cdb",
        "DstInfo": {"InstanceId": "cdb-e78e0nnv", "Region": REGION, "ReadOnly": 0, "User": "root", "Password": "dst-password"},
        "DatabaseInfo": json.dumps([{"Database": "orders", "Table": ["orders", "order_items"]}]),
        "Tags": [{"TagKey": "owner", "TagValue": "sdk-compat"}],
    }


def tencent_2018(host, url):
    print("tencentcloud-sdk-python dts v20180330", flush=True)
    cred = credential.Credential(SECRET_ID, SECRET_KEY)
    client = dts2018.DtsClient(cred, REGION, ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host)))

    def job(job_id):
        response = client.DescribeMigrateJobs(request(m2018.DescribeMigrateJobsRequest, {"JobId": job_id}))
        check(response.TotalCount == 1, f"DescribeMigrateJobs found {response.TotalCount} jobs for {job_id}")
        return response.JobList[0]

    job_id = client.CreateMigrateJob(request(m2018.CreateMigrateJobRequest, create_2018_params("sdk-2018"))).JobId
    check(job_id.startswith("dts-") and len(job_id) == 12, f"job id {job_id}")
    info = job(job_id)
    check(info.Status == 1, f"status after create: {info.Status}")
    check(info.SrcInfo.Password == "" and info.DstInfo.Password == "", "passwords are not returned")
    check(info.SrcInfo.Ip == "14.17.22.36" and info.Tags[0].TagValue == "sdk-compat", "fields round-trip")
    log(f"create {job_id}, describe")

    client.CreateMigrateCheckJob(request(m2018.CreateMigrateCheckJobRequest, {"JobId": job_id}))
    check_result = wait_until(
        lambda: client.DescribeMigrateCheckJob(request(m2018.DescribeMigrateCheckJobRequest, {"JobId": job_id})),
        lambda r: r.Status == "finished",
        "the check to finish",
    )
    check(check_result.CheckFlag == 1 and check_result.ErrorMessage == "ok", f"check passed: {check_result.to_json_string()}")
    log("check passed")

    client.StartMigrateJob(request(m2018.StartMigrateJobRequest, {"JobId": job_id}))
    running = job(job_id)
    check(running.Status == 7, f"status after start: {running.Status}")
    info = wait_until(lambda: job(job_id), lambda j: j.Status == 8, "ready to complete (8)")
    check(info.Detail.StepAll == 3 and [s.StepId for s in info.Detail.StepInfo] == ["dumper", "loader", "sinker"], "StepInfo steps")
    check(info.Detail.Progress == "100", f"progress {info.Detail.Progress}")
    log("start, running, ready to complete with Detail.StepInfo")

    # The GET form and the full-URL endpoint form reach the same API.
    get_client = dts2018.DtsClient(cred, REGION, ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host, reqMethod="GET")))
    by_tag = get_client.DescribeMigrateJobs(
        request(m2018.DescribeMigrateJobsRequest, {"TagFilters": [{"TagKey": "owner", "TagValue": ["sdk-compat"]}], "Limit": 10})
    )
    check(by_tag.TotalCount >= 1, "GET DescribeMigrateJobs with TagFilters")
    url_client = dts2018.DtsClient(cred, REGION, ClientProfile(httpProfile=HttpProfile(endpoint=url)))
    check(url_client.DescribeMigrateJobs(request(m2018.DescribeMigrateJobsRequest, {"JobId": job_id})).TotalCount == 1, "http:// endpoint")
    log("GET requests and the http:// endpoint form")

    expect_tencent_error(lambda: client.DeleteMigrateJob(request(m2018.DeleteMigrateJobRequest, {"JobId": job_id})), "FailedOperation.StatusInConflict")
    client.CompleteMigrateJob(request(m2018.CompleteMigrateJobRequest, {"JobId": job_id, "CompleteMode": "waitForSync"}))
    wait_until(lambda: job(job_id).Status, lambda s: s == 9, "success (9)")
    client.DeleteMigrateJob(request(m2018.DeleteMigrateJobRequest, {"JobId": job_id}))
    expect_tencent_error(lambda: client.StartMigrateJob(request(m2018.StartMigrateJobRequest, {"JobId": job_id})), "ResourceNotFound.JobNotExist")
    log("complete, success, delete (refused while ready to complete)")

    # A failing check, then a fix (modify) and a failing migration that is retried by restarting.
    failing = client.CreateMigrateJob(request(m2018.CreateMigrateJobRequest, create_2018_params("sdk-checkfail-2018"))).JobId
    client.CreateMigrateCheckJob(request(m2018.CreateMigrateCheckJobRequest, {"JobId": failing}))
    result = wait_until(
        lambda: client.DescribeMigrateCheckJob(request(m2018.DescribeMigrateCheckJobRequest, {"JobId": failing})),
        lambda r: r.Status == "finished",
        "the failing check",
    )
    check(result.CheckFlag == 0 and result.ErrorCode == -1 and "unreachable" in result.ErrorMessage, f"failed check: {result.to_json_string()}")
    check(job(failing).Status == 5, "status 5 after a failed check")
    expect_tencent_error(lambda: client.StartMigrateJob(request(m2018.StartMigrateJobRequest, {"JobId": failing})), "FailedOperation.StatusInConflict")
    client.ModifyMigrateJob(request(m2018.ModifyMigrateJobRequest, {"JobId": failing, "JobName": "sdk-resume-2018"}))
    check(job(failing).Status == 1, "a modification resets the job to 1")
    client.CreateMigrateCheckJob(request(m2018.CreateMigrateCheckJobRequest, {"JobId": failing}))
    wait_until(lambda: job(failing).Status, lambda s: s == 4, "check passed (4)")
    client.StartMigrateJob(request(m2018.StartMigrateJobRequest, {"JobId": failing}))
    failed = wait_until(lambda: job(failing), lambda j: j.Status == 10, "the injected failure (10)")
    check(failed.ErrorInfo and failed.ErrorInfo[0].ErrorLog, "ErrorInfo is filled")
    client.CreateMigrateCheckJob(request(m2018.CreateMigrateCheckJobRequest, {"JobId": failing}))
    wait_until(lambda: job(failing).Status, lambda s: s == 4, "check passed again")
    client.StartMigrateJob(request(m2018.StartMigrateJobRequest, {"JobId": failing}))
    wait_until(lambda: job(failing).Status, lambda s: s == 8, "the restarted job reaches 8")
    client.StopMigrateJob(request(m2018.StopMigrateJobRequest, {"JobId": failing}))
    wait_until(lambda: job(failing).Status, lambda s: s == 10, "stopped (10)")
    client.DeleteMigrateJob(request(m2018.DeleteMigrateJobRequest, {"JobId": failing}))
    log("failed check, modify, failed migration, restart (the 2018 retry), stop, delete")

    bad = dts2018.DtsClient(credential.Credential(SECRET_ID, "wrong-key"), REGION, ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host)))
    expect_tencent_error(lambda: bad.DescribeMigrateJobs(m2018.DescribeMigrateJobsRequest()), "AuthFailure.SignatureFailure")
    log("a wrong key is AuthFailure.SignatureFailure")


# ---------------------------------------------------------------------------------------
# Tencent SDK, 2021-12-06


def modify_2021_params(job_id, name):
    return {
        "JobId": job_id,
        "JobName": name,
        "RunMode": "immediate",
        "MigrateOption": {
            "DatabaseTable": {"ObjectMode": "partial", "Databases": [{"DbName": "orders", "DBMode": "all"}]},
            "MigrateType": "fullAndIncrement",
            "Consistency": {"Mode": "full"},
        },
        "SrcInfo": {"Region": REGION, "AccessType": "extranet", "DatabaseType": "mysql", "NodeType": "simple",
                    "Info": [{"Host": "10.0.0.1", "Port": 3306, "User": "root", "Password": "src-password"}]},
        "DstInfo": {"Region": REGION, "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                    "Info": [{"InstanceId": "cdb-o7uph0cj", "User": "root", "Password": "dst-password"}]},
        "Tags": [{"TagKey": "owner", "TagValue": "sdk-compat"}],
    }


def tencent_2021(host):
    print("tencentcloud-sdk-python dts v20211206", flush=True)
    client = dts2021.DtsClient(credential.Credential(SECRET_ID, SECRET_KEY), REGION, ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host)))

    def detail(job_id):
        return client.DescribeMigrationDetail(request(m2021.DescribeMigrationDetailRequest, {"JobId": job_id}))

    bought = client.CreateMigrationService(
        request(
            m2021.CreateMigrationServiceRequest,
            {"SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "small", "Count": 1},
        )
    )
    job_id = bought.JobIds[0]
    check(detail(job_id).TradeInfo.TradeStatus == "normal", "TradeInfo is returned")
    client.ModifyMigrationJob(request(m2021.ModifyMigrationJobRequest, modify_2021_params(job_id, "sdk-resume-2021")))
    wait_until(lambda: detail(job_id).Status, lambda s: s == "created", "created")
    log(f"buy {job_id}, configure")

    client.CreateMigrateCheckJob(request(m2021.CreateMigrateCheckJobRequest, {"JobId": job_id}))
    result = wait_until(
        lambda: client.DescribeMigrationCheckJob(request(m2021.DescribeMigrationCheckJobRequest, {"JobId": job_id})),
        lambda r: r.CheckFlag in ("checkPass", "checkNotPass"),
        "the check",
    )
    check(result.CheckFlag == "checkPass" and result.Status == "success" and result.StepInfo, f"check: {result.to_json_string()}")
    log("check passed, with StepInfo")

    client.StartMigrateJob(request(m2021.StartMigrateJobRequest, {"JobId": job_id}))
    failed = wait_until(lambda: detail(job_id), lambda d: d.Status == "resumableErr", "the injected resumable error")
    check(failed.BriefMsg and failed.ErrorInfo, "BriefMsg and ErrorInfo explain the failure")
    check(any(step.Status == "failed" for step in failed.StepInfo.StepInfo), "a failed step")
    expect_tencent_error(
        lambda: client.ResumeMigrateJob(request(m2021.ResumeMigrateJobRequest, {"JobId": job_id, "ResumeOption": "clearData"})),
        "InvalidParameterValue",
    )
    client.ResumeMigrateJob(request(m2021.ResumeMigrateJobRequest, {"JobId": job_id, "ResumeOption": "normal"}))
    ready = wait_until(lambda: detail(job_id), lambda d: d.Status == "readyComplete", "readyComplete after the resume")
    check([step.StepId for step in ready.StepInfo.StepInfo] == ["dumper", "loader", "sinker"], "2021 steps")
    check(ready.StepInfo.StepInfo[0].Percent == 100, "step percentages")
    log("start, resumableErr, resume (ResumeOption rules), readyComplete")

    listed = client.DescribeMigrationJobs(
        request(m2021.DescribeMigrationJobsRequest, {"Status": ["readyComplete"], "TagFilters": [{"TagKey": "owner", "TagValue": ["sdk-compat"]}], "OrderSeq": "desc", "Limit": 10})
    )
    check(listed.TotalCount == 1 and listed.JobList[0].JobId == job_id, "DescribeMigrationJobs filters")
    check(listed.JobList[0].SrcInfo.Info[0].Password == "", "no password in JobItem")
    client.PauseMigrateJob(request(m2021.PauseMigrateJobRequest, {"JobId": job_id}))
    wait_until(lambda: detail(job_id).Status, lambda s: s == "manualPaused", "manualPaused")
    client.ContinueMigrateJob(request(m2021.ContinueMigrateJobRequest, {"JobId": job_id}))
    wait_until(lambda: detail(job_id).Status, lambda s: s == "readyComplete", "readyComplete after continue")
    client.CompleteMigrateJob(request(m2021.CompleteMigrateJobRequest, {"JobId": job_id}))
    wait_until(lambda: detail(job_id).Status, lambda s: s == "success", "success")
    log("describe with filters, pause, continue, complete")

    expect_tencent_error(lambda: client.DestroyMigrateJob(request(m2021.DestroyMigrateJobRequest, {"JobId": job_id})), "OperationDenied.OperationDeniedError")
    client.IsolateMigrateJob(request(m2021.IsolateMigrateJobRequest, {"JobId": job_id}))
    wait_until(lambda: detail(job_id).TradeInfo.TradeStatus, lambda s: s == "isolated", "isolated")
    client.RecoverMigrateJob(request(m2021.RecoverMigrateJobRequest, {"JobId": job_id}))
    check(detail(job_id).TradeInfo.TradeStatus == "normal", "recovered")
    client.IsolateMigrateJob(request(m2021.IsolateMigrateJobRequest, {"JobId": job_id}))
    wait_until(lambda: detail(job_id).TradeInfo.TradeStatus, lambda s: s == "isolated", "isolated again")
    client.DestroyMigrateJob(request(m2021.DestroyMigrateJobRequest, {"JobId": job_id}))
    wait_until(lambda: detail(job_id).TradeInfo.TradeStatus, lambda s: s == "offlined", "offlined")
    log("isolate, recover, isolate, destroy")

    expect_tencent_error(lambda: client.StartMigrateJob(request(m2021.StartMigrateJobRequest, {"JobId": "dts-nothere0"})), "ResourceNotFound.JobNotExist")
    expect_tencent_error(lambda: client.DescribeMigrationDetail(request(m2021.DescribeMigrationDetailRequest, {"JobId": "dts-nothere0"})), "ResourceNotFound.ResourceNotFoundError")
    log("unknown jobs")


# ---------------------------------------------------------------------------------------
# tccli


def tccli(url, *args, expect_error=None):
    tccli_bin = os.path.join(os.path.dirname(sys.executable), "tccli")
    env = dict(os.environ, TENCENTCLOUD_SECRET_ID=SECRET_ID, TENCENTCLOUD_SECRET_KEY=SECRET_KEY, TENCENTCLOUD_REGION=REGION)
    completed = subprocess.run([tccli_bin, "dts", *args, "--endpoint", url], env=env, capture_output=True, text=True, timeout=120)
    if expect_error:
        check(completed.returncode != 0 and expect_error in (completed.stdout + completed.stderr), f"tccli {args[0]} should fail with {expect_error}: {completed.stdout}{completed.stderr}")
        return None
    check(completed.returncode == 0, f"tccli {' '.join(args)} failed ({completed.returncode}): {completed.stdout}{completed.stderr}")
    return json.loads(completed.stdout)


def tccli_suite(url):
    print("tccli", flush=True)
    old = ["--version", "2018-03-30"]
    params = create_2018_params("tccli-2018", migrate_type=2)
    args = []
    for key, value in params.items():
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    job_id = tccli(url, "CreateMigrateJob", *old, *args)["JobId"]
    tccli(url, "CreateMigrateCheckJob", *old, "--JobId", job_id)
    wait_until(lambda: tccli(url, "DescribeMigrateCheckJob", *old, "--JobId", job_id)["Status"], lambda s: s == "finished", "tccli check")
    tccli(url, "StartMigrateJob", *old, "--JobId", job_id)
    listed = wait_until(lambda: tccli(url, "DescribeMigrateJobs", *old, "--JobId", job_id), lambda r: r["JobList"][0]["Status"] == 9, "tccli 2018 success")
    check(listed["JobList"][0]["Detail"]["StepAll"] == 2, "full migration: two steps")
    tccli(url, "DeleteMigrateJob", *old, "--JobId", job_id)
    tccli(url, "StartMigrateJob", *old, "--JobId", job_id, expect_error="ResourceNotFound.JobNotExist")
    log(f"2018-03-30: create {job_id}, check, start, describe, delete")

    job_id = tccli(url, "CreateMigrationService", "--SrcDatabaseType", "mysql", "--DstDatabaseType", "mysql", "--SrcRegion", REGION,
                   "--DstRegion", REGION, "--InstanceClass", "small")["JobIds"][0]
    modify = modify_2021_params(job_id, "sdk-resume-tccli")
    args = []
    for key, value in modify.items():
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    tccli(url, "ModifyMigrationJob", *args)
    wait_until(lambda: tccli(url, "DescribeMigrationDetail", "--JobId", job_id)["Status"], lambda s: s == "created", "tccli created")
    tccli(url, "CreateMigrateCheckJob", "--JobId", job_id)
    wait_until(lambda: tccli(url, "DescribeMigrationCheckJob", "--JobId", job_id)["CheckFlag"], lambda f: f == "checkPass", "tccli checkPass")
    tccli(url, "StartMigrateJob", "--JobId", job_id)
    wait_until(lambda: tccli(url, "DescribeMigrationJobs", "--JobId", job_id)["JobList"][0]["Status"], lambda s: s == "resumableErr", "tccli resumableErr")
    tccli(url, "ResumeMigrateJob", "--JobId", job_id, "--ResumeOption", "normal")
    wait_until(lambda: tccli(url, "DescribeMigrationDetail", "--JobId", job_id)["Status"], lambda s: s == "readyComplete", "tccli readyComplete")
    tccli(url, "StopMigrateJob", "--JobId", job_id)
    wait_until(lambda: tccli(url, "DescribeMigrationDetail", "--JobId", job_id)["Status"], lambda s: s == "canceled", "tccli canceled")
    tccli(url, "IsolateMigrateJob", "--JobId", job_id)
    wait_until(lambda: tccli(url, "DescribeMigrationDetail", "--JobId", job_id)["TradeInfo"]["TradeStatus"], lambda s: s == "isolated", "tccli isolated")
    tccli(url, "DestroyMigrateJob", "--JobId", job_id)
    log(f"2021-12-06: buy {job_id}, configure, check, start, resume, stop, isolate, destroy")


# ---------------------------------------------------------------------------------------
# Huawei OMS SDK


def huawei(url):
    print("huaweicloudsdkoms v2", flush=True)
    client = OmsClient.new_builder().with_credentials(BasicCredentials(AK, SK, PROJECT)).with_endpoint(url).build()

    def show(group_id):
        return client.show_task_group(ShowTaskGroupRequest(group_id=group_id))

    def expect_error(call, status, code):
        try:
            call()
        except hw_exceptions.ClientRequestException as error:
            check(error.status_code == status and error.error_code == code, f"expected {status} {code}, got {error.status_code} {error.error_code}: {error.error_msg}")
            check(error.request_id, "X-Request-Id is passed on")
            return
        raise AssertionError(f"expected {status} {code}")

    def create(description):
        body = CreateTaskGroupReq(
            src_node=TaskGroupSrcNode(ak="SRCAK", sk="SRCSK", region="cn-hangzhou", object_key=["2024/"], bucket="media-src", cloud_type="Aliyun"),
            dst_node=TaskGroupDstNode(ak="DSTAK", sk="DSTSK", region="cn-north-4", bucket="media-dst", save_prefix="archive/"),
            description=description,
            enable_failed_object_recording=True,
            task_type="PREFIX",
            object_overwrite_mode="SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE",
            consistency_check="crc64",
            bandwidth_policy=[BandwidthPolicyDto(end="06:00", max_bandwidth=104857600, start="00:00")],
        )
        return client.create_task_group(CreateTaskGroupRequest(body=body)).group_id

    group_id = create("sdk-retry-oms")
    group = show(group_id)
    check(group.src_node.cloud_type == "ALIYUN" and group.dst_node.bucket == "media-dst", "TaskGroupResp fields")
    check(group.bandwidth_policy[0].max_bandwidth == 104857600, "bandwidth policy round-trips")
    check("SRCSK" not in str(group) and "DSTAK" not in str(group), "no credentials returned")
    log(f"create {group_id}, show")

    failed = wait_until(lambda: show(group_id), lambda g: g.status == 5, "migration failed (5)")
    check(failed.fail_num > 0 and failed.error_reason.error_code, f"failure details: {failed}")
    succeeded_before = failed.success_num
    expect_error(lambda: client.start_task_group(StartTaskGroupRequest(group_id=group_id, body=StartTaskGroupReq(dst_ak="DSTAK", dst_sk="DSTSK"))), 400, "OMS.0064")
    client.retry_task_group(RetryTaskGroupRequest(group_id=group_id, body=RetryTaskGroupReq(
        src_ak="SRCAK", src_sk="SRCSK", dst_ak="DSTAK", dst_sk="DSTSK", migrate_failed_object=True)))
    done = wait_until(lambda: show(group_id), lambda g: g.status == 6, "completed (6) after the retry")
    check(done.fail_num == 0 and done.skip_num == 0 and done.success_num == done.total_num, f"counters after retry: {done}")
    check(done.success_num > succeeded_before, "only the failed objects were redone")
    log("migration failed (5, fail_num, error_reason), retry of failed objects, completed (6)")

    listed = client.list_task_group(ListTaskGroupRequest(limit=10, offset=0, status=6))
    check(listed.count >= 1 and any(g.group_id == group_id for g in listed.taskgroups), "list with a status filter")
    client.delete_task_group(DeleteTaskGroupRequest(group_id=group_id))
    wait_until(lambda: _status_or_gone(client, group_id), lambda s: s == "gone", "deleted (404)")
    expect_error(lambda: show(group_id), 404, "OMS.1009")
    log("list, delete, 404 OMS.1009")

    second = create("sdk-pause-oms")
    wait_until(lambda: show(second).status, lambda s: s == 2, "migrating (2)")
    expect_error(lambda: client.delete_task_group(DeleteTaskGroupRequest(group_id=second)), 400, "OMS.0063")
    client.stop_task_group(StopTaskGroupRequest(group_id=second))
    expect_error(lambda: client.stop_task_group(StopTaskGroupRequest(group_id=second)), 400, "OMS.0066")
    wait_until(lambda: show(second).status, lambda s: s == 3, "paused (3)")
    client.update_task_group(UpdateTaskGroupRequest(group_id=second, body=UpdateBandwidthPolicyReq(
        bandwidth_policy=[BandwidthPolicyDto(end="07:00", max_bandwidth=52428800, start="01:00")])))
    check(show(second).bandwidth_policy[0].max_bandwidth == 52428800, "update replaced the bandwidth policy")
    client.start_task_group(StartTaskGroupRequest(group_id=second, body=StartTaskGroupReq(src_ak="SRCAK", src_sk="SRCSK", dst_ak="DSTAK", dst_sk="DSTSK")))
    expect_error(lambda: client.start_task_group(StartTaskGroupRequest(group_id=second, body=StartTaskGroupReq(dst_ak="DSTAK", dst_sk="DSTSK"))), 400, "OMS.0065")
    wait_until(lambda: show(second).status, lambda s: s == 6, "completed after start")
    client.delete_task_group(DeleteTaskGroupRequest(group_id=second))
    log("delete refused while running, stop, update, start, completed, delete")

    bad = OmsClient.new_builder().with_credentials(BasicCredentials(AK, "wrong-secret", PROJECT)).with_endpoint(url).build()
    try:
        bad.list_task_group(ListTaskGroupRequest(limit=1))
        raise AssertionError("a wrong SK must be refused")
    except hw_exceptions.ClientRequestException as error:
        check(error.status_code == 401 and error.error_code == "APIGW.0301", f"wrong SK: {error.status_code} {error.error_code}")
    log("a wrong SK is 401 APIGW.0301")


def _status_or_gone(client, group_id):
    try:
        return client.show_task_group(ShowTaskGroupRequest(group_id=group_id)).status
    except hw_exceptions.ClientRequestException as error:
        if error.status_code == 404:
            return "gone"
        raise


def main():
    url = sys.argv[1].rstrip("/")
    host = url[len("http://"):]
    tencent_2018(host, url)
    tencent_2021(host)
    tccli_suite(url)
    huawei(url)
    print("sdk-compat: all lifecycles passed", flush=True)


if __name__ == "__main__":
    main()

//! `HuaweiOmsTaskGroup`: a Huawei Cloud OMS v2 migration task group (CreateTaskGroupReq).
//! Field names are the API's own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{DeletionPolicy, HuaweiOnFailure, SecretRef, Timeouts, ValueRef};
use crate::api_enum;

/// The `spec` of a `HuaweiOmsTaskGroup`: the fields of CreateTaskGroupReq, plus where to send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskGroupSpec {
    /// The OMS region (the endpoint `oms.{region}.myhuaweicloud.com`); must equal `dst_node.region`.
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+-[0-9]+$"))]
    pub region: String,
    /// The project ID in the request path. Not a secret: leave it out to use the provider's
    /// (`huawei.projectId` in `migspec.yaml`, else `HUAWEICLOUD_SDK_PROJECT_ID`, else
    /// `project_id` in `~/.huaweicloud/credentials`); a literal or a `fromEnv`/`fromFile`
    /// reference here overrides it. The state records the project used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ValueRef>,
    /// The source.
    pub src_node: SrcNode,
    /// The destination OBS bucket.
    pub dst_node: DstNode,
    /// Task group description (none of `^ < > & " '`). migspec appends its address marker
    /// (` migspec:address=<name>`, at most 80 characters) within the API's 255, so at most 170.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 170))]
    pub description: Option<String>,
    /// What the source list is (default `PREFIX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TaskType>,
    /// Migrate object metadata (default false; Content-Type is always migrated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_metadata_migration: Option<bool>,
    /// Record failed objects (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_failed_object_recording: Option<bool>,
    /// Restore archived source objects automatically (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_restore: Option<bool>,
    /// Encrypt objects at the destination with KMS (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_kms: Option<bool>,
    /// Bandwidth windows (at most 5, not overlapping). The only field OMS can change in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub bandwidth_policy: Vec<BandwidthPolicy>,
    /// Notifications through SMN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smn_config: Option<SmnConfig>,
    /// Fetch objects through this CDN domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_cdn: Option<SourceCdn>,
    /// Migrate only objects modified after this Unix time (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_since: Option<u64>,
    /// What to do with objects that already exist at the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_overwrite_mode: Option<ObjectOverwriteMode>,
    /// Storage class at the destination (default `STANDARD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_storage_policy: Option<DstStoragePolicy>,
    /// How migrated objects are verified (default `size_last_modified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_check: Option<ConsistencyCheck>,
    /// Requester pays for the source bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_requester_pays: Option<bool>,
}

/// `TaskGroupSrcNode`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SrcNode {
    /// Source cloud (default `Aliyun`; `URLSource` for URL lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_type: Option<CloudType>,
    /// Source bucket region (required unless `URL_LIST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Source regions of every supported cloud are short names (`cn-hangzhou`, `us-east-1`,
    // `ap-guangzhou`); the reference gives no length.
    #[schemars(length(min = 1, max = 64))]
    pub region: Option<String>,
    /// Source access key (required unless `URL_LIST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ak: Option<SecretRef>,
    /// Source secret key (required unless `URL_LIST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sk: Option<SecretRef>,
    /// Azure Blob connection string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_string: Option<SecretRef>,
    /// Google Cloud Storage key file contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_auth_file: Option<SecretRef>,
    /// Tencent Cloud APPID (required when `cloud_type` is `Tencent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub app_id: Option<String>,
    /// How `ak`/`sk` are protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<CryptoType>,
    /// KMS key ID (36 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 36, max = 36))]
    pub kms_key_id: Option<String>,
    /// Source bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The source clouds' bucket names are at most 63 characters (S3, OSS, COS, Azure) or 222
    // (Google, dotted); the reference (huawei-oms-api.md §4.1) gives no length.
    #[schemars(length(min = 1, max = 255))]
    pub bucket: Option<String>,
    /// `PREFIX` tasks: the prefixes to migrate (`[""]` is the whole bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // An object key is at most 1024 characters (huawei-oms-api.md §4.2, `save_prefix`).
    #[schemars(inner(length(max = 1024)))]
    pub object_key: Option<Vec<String>>,
    /// `LIST`/`URL_LIST` tasks: where the list files are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_file: Option<ListFile>,
}

/// `TaskGroupDstNode`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DstNode {
    /// Destination access key.
    pub ak: SecretRef,
    /// Destination secret key.
    pub sk: SecretRef,
    /// Destination region; must equal the OMS region.
    // Must equal the OMS region (huawei-oms-api.md §4.2), so it has the same form.
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+-[0-9]+$"))]
    pub region: String,
    /// Destination OBS bucket.
    // OBS bucket names: 3–63 lower-case letters, digits, `-` and `.`, starting and ending with a
    // letter or digit (the reference, huawei-oms-api.md §4.2, only says "OBS bucket").
    #[schemars(
        length(min = 3, max = 63),
        regex(pattern = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
    )]
    pub bucket: String,
    /// Destination cloud (default `HEC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_type: Option<DstCloudType>,
    /// Prefix prepended to every object key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1023))]
    pub save_prefix: Option<String>,
    /// How `ak`/`sk` are protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<CryptoType>,
    /// KMS key ID (36 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 36, max = 36))]
    pub kms_key_id: Option<String>,
}

/// `ListFile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFile {
    /// Object name of the list file, or a folder such as `lists/`.
    #[schemars(length(min = 1, max = 1024))]
    pub list_file_key: String,
    /// OBS bucket holding the list files; must be in the destination region.
    // OBS bucket names: 3–63 lower-case letters, digits, `-` and `.`, starting and ending with a
    // letter or digit (the reference, huawei-oms-api.md §4.2, only says "OBS bucket").
    #[schemars(
        length(min = 3, max = 63),
        regex(pattern = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
    )]
    pub obs_bucket: String,
    /// Number of list files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // "The number of list files" (huawei-oms-api.md §4.3), sent as a string.
    #[schemars(regex(pattern = r"^[0-9]{1,9}$"))]
    pub list_file_num: Option<String>,
}

/// `BandwidthPolicyDto`, with the bandwidth in MB/s (migspec sends bytes/s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthPolicy {
    /// Window start, `hh:mm`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,
    /// Window end, `hh:mm`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub end: String,
    /// Bandwidth limit in MB/s (1–200).
    #[schemars(range(min = 1, max = 200))]
    pub max_bandwidth: u32,
}

/// `SmnConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmnConfig {
    /// SMN topic URN.
    pub topic_urn: String,
    /// When to notify.
    #[schemars(length(min = 1))]
    pub trigger_conditions: Vec<SmnTrigger>,
    /// Message language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<SmnLanguage>,
    /// Message template name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_name: Option<String>,
}

/// `SourceCdnReq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceCdn {
    /// CDN domain.
    pub domain: String,
    /// CDN protocol.
    pub protocol: CdnProtocol,
    /// CDN authentication type.
    pub authentication_type: CdnAuthenticationType,
    /// CDN authentication key (required unless the type is `NONE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_key: Option<SecretRef>,
    /// How the key is protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<CryptoType>,
    /// KMS key ID (36 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 36, max = 36))]
    pub kms_key_id: Option<String>,
}

api_enum! {
    /// Source cloud (`src_node.cloud_type`).
    pub enum CloudType: str {
        Aws = "AWS" => "Amazon S3",
        Azure = "Azure" => "Azure Blob Storage (connection_string)",
        Aliyun = "Aliyun" => "Alibaba Cloud OSS (default)",
        Tencent = "Tencent" => "Tencent Cloud COS (app_id required)",
        HuaweiCloud = "HuaweiCloud" => "Huawei Cloud OBS",
        QingCloud = "QingCloud" => "QingCloud QingStor",
        KingsoftCloud = "KingsoftCloud" => "Kingsoft Cloud KS3",
        Baidu = "Baidu" => "Baidu BOS",
        Qiniu = "Qiniu" => "Qiniu Kodo",
        UrlSource = "URLSource" => "HTTP/HTTPS URLs (task_type URL_LIST)",
        Google = "Google" => "Google Cloud Storage (json_auth_file)",
        UCloud = "UCloud" => "UCloud US3",
    }
}

api_enum! {
    /// Destination cloud (`dst_node.cloud_type`).
    pub enum DstCloudType: str {
        Hec = "HEC" => "Huawei Cloud OBS (default)",
    }
}

api_enum! {
    /// `task_type`.
    pub enum TaskType: str {
        Prefix = "PREFIX" => "migrate the prefixes in src_node.object_key (default)",
        List = "LIST" => "migrate the objects named in list files (src_node.list_file required)",
        UrlList = "URL_LIST" => "migrate the URLs in list files (src_node.list_file required, cloud_type URLSource)",
    }
}

api_enum! {
    /// `crypto_type`.
    pub enum CryptoType: str {
        Default = "DEFAULT" => "default protection",
        Kms = "KMS" => "protected with a KMS key (kms_key_id)",
    }
}

api_enum! {
    /// `object_overwrite_mode`.
    pub enum ObjectOverwriteMode: str {
        NoOverwrite = "NO_OVERWRITE" => "never overwrite existing destination objects",
        SizeLastModifiedComparisonOverwrite = "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE" => "overwrite when size or last-modified time differ (default)",
        Crc64ComparisonOverwrite = "CRC64_COMPARISON_OVERWRITE" => "overwrite when CRC64 differs (HuaweiCloud, Aliyun and Tencent sources only)",
        FullOverwrite = "FULL_OVERWRITE" => "always overwrite destination objects",
    }
}

api_enum! {
    /// `dst_storage_policy`.
    pub enum DstStoragePolicy: str {
        Standard = "STANDARD" => "standard storage (default)",
        Ia = "IA" => "infrequent access",
        Archive = "ARCHIVE" => "archive",
        DeepArchive = "DEEP_ARCHIVE" => "deep archive",
        SrcStorageMapping = "SRC_STORAGE_MAPPING" => "map the source's storage classes",
    }
}

api_enum! {
    /// `consistency_check`.
    pub enum ConsistencyCheck: str {
        SizeLastModified = "size_last_modified" => "compare size and last-modified time (default)",
        Crc64 = "crc64" => "compare CRC64 checksums",
        NoCheck = "no_check" => "no check (HTTP/HTTPS sources only)",
    }
}

api_enum! {
    /// `smn_config.trigger_conditions` items.
    pub enum SmnTrigger: str {
        Success = "SUCCESS" => "notify on success",
        Failure = "FAILURE" => "notify on failure",
    }
}

api_enum! {
    /// `smn_config.language`.
    pub enum SmnLanguage: str {
        ZhCn = "zh-cn" => "Chinese",
        EnUs = "en-us" => "English",
    }
}

api_enum! {
    /// `source_cdn.protocol`.
    pub enum CdnProtocol: str {
        Http = "http" => "HTTP",
        Https = "https" => "HTTPS",
    }
}

api_enum! {
    /// `source_cdn.authentication_type`.
    pub enum CdnAuthenticationType: str {
        None = "NONE" => "no authentication",
        QiniuPrivate = "QINIU_PRIVATE_AUTHENTICATION" => "Qiniu private-bucket authentication",
        AliyunOssA = "ALIYUN_OSS_A" => "Alibaba Cloud OSS type A",
        AliyunOssB = "ALIYUN_OSS_B" => "Alibaba Cloud OSS type B",
        AliyunOssC = "ALIYUN_OSS_C" => "Alibaba Cloud OSS type C",
        KsyunPrivate = "KSYUN_PRIVATE_AUTHENTICATION" => "Kingsoft Cloud private authentication",
        AzureSasToken = "AZURE_SAS_TOKEN" => "Azure SAS token",
        TencentCosA = "TENCENT_COS_A" => "Tencent COS type A",
        TencentCosB = "TENCENT_COS_B" => "Tencent COS type B",
        TencentCosC = "TENCENT_COS_C" => "Tencent COS type C",
        TencentCosD = "TENCENT_COS_D" => "Tencent COS type D",
    }
}

api_enum! {
    /// The state the task group should reach.
    pub enum TaskGroupDesired: str {
        Running = "running" => "create the group and wait until it migrates",
        Completed = "completed" => "wait until the migration completes",
        Paused = "paused" => "pause the group (stop_task_group)",
    }
}

/// The `lifecycle` of a `HuaweiOmsTaskGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskGroupLifecycle {
    /// The state to reach.
    pub desired: TaskGroupDesired,
    /// What to do when the migration fails.
    #[serde(rename = "onFailure", default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<HuaweiOnFailure>,
    /// Per-phase deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    /// What to do with the task group when this spec is removed.
    #[serde(
        rename = "deletionPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub deletion_policy: Option<DeletionPolicy>,
}

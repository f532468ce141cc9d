//! Huawei OMS task-group specs for the tests that drive a provider (or plugin) directly.

use migspec_provider::{Address, DesiredSpec};
use migspec_spec::secret::Secret;
use serde_json::json;

/// A `HuaweiOmsTaskGroup` named `name` (its prefix under the destination bucket too), from
/// Aliyun to `cn-north-4`, with its four keys resolved to test values.
pub fn task_group(name: &str, description: &str, desired: &str) -> DesiredSpec {
    let document = json!({
        "apiVersion": "migspec/v1",
        "kind": "HuaweiOmsTaskGroup",
        "metadata": {"name": name},
        "spec": {
            "region": "cn-north-4",
            "description": description,
            "task_type": "PREFIX",
            "src_node": {
                "cloud_type": "Aliyun",
                "region": "cn-hangzhou",
                "bucket": "media-src",
                "object_key": ["2023/"],
                "ak": {"fromEnv": "SRC_AK"},
                "sk": {"fromEnv": "SRC_SK"}
            },
            "dst_node": {
                "region": "cn-north-4",
                "bucket": "media-dst",
                "save_prefix": format!("{name}/"),
                "ak": {"fromEnv": "DST_AK"},
                "sk": {"fromEnv": "DST_SK"}
            }
        },
        "lifecycle": {"desired": desired}
    });
    let secrets = ["src_node/ak", "src_node/sk", "dst_node/ak", "dst_node/sk"]
        .into_iter()
        .map(|field| {
            (
                format!("/spec/{field}"),
                Secret::new(format!("{field}-value")),
            )
        })
        .collect();
    DesiredSpec {
        address: Address(name.into()),
        kind: "HuaweiOmsTaskGroup".into(),
        document,
        secrets,
    }
}

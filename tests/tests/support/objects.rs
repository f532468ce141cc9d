//! The emulator's own view of the cloud (`GET /_emulator/objects`, see
//! `crates/migspec-emulator/README.md`) and the recorded state, as plain values that
//! invariants can be checked against.

use std::collections::BTreeMap;

use super::cloud::Cloud;

/// The tag (DTS) or description marker (OMS) prefix migspec puts on what it creates.
pub const MARKER: &str = "migspec:address";

/// One remote object as the emulator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    /// `dts-…` or an OMS group id.
    pub id: String,
    /// `2018-03-30`, `2021-12-06` or `v2` (OMS).
    pub api: String,
    /// Its region (OMS: the destination region).
    pub region: String,
    /// The address its `migspec:address` tag or description marker names.
    pub marker: Option<String>,
    /// Whether it exists and is not deleted, isolated or being deleted.
    pub live: bool,
    /// The API's own status value (`null` once gone).
    pub status: serde_json::Value,
    /// Its history, oldest first: `created`, `deleted`, `isolated`, `recovered`, `destroyed`.
    pub events: Vec<String>,
    /// Creation order within its service.
    pub sequence: u64,
}

impl Remote {
    /// The migspec kind whose objects live in this API.
    pub fn kind(&self) -> &'static str {
        match self.api.as_str() {
            "2018-03-30" => "TencentDtsMigrateJob",
            "2021-12-06" => "TencentDtsMigrationJob",
            _ => "HuaweiOmsTaskGroup",
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} in {}, marker {}, status {}, {}, events [{}])",
            self.id,
            self.kind(),
            self.region,
            self.marker.as_deref().unwrap_or("none"),
            self.status,
            if self.live { "live" } else { "deleted" },
            self.events.join(", ")
        )
    }
}

/// The address in a `migspec:address=NAME` description marker.
fn description_marker(description: &str) -> Option<String> {
    let (_, rest) = description.split_once(&format!("{MARKER}="))?;
    let name: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    (!name.is_empty()).then_some(name)
}

/// One recorded address of `.migspec/state.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its kind.
    pub kind: String,
    /// The remote id (`None` while only an intent is recorded).
    pub remote_id: Option<String>,
    /// `location.region`, when recorded.
    pub region: Option<String>,
    /// `deletion_policy` of the last applied spec (`orphan`, `delete`), when it had one.
    pub deletion_policy: Option<String>,
}

impl Cloud {
    /// Every remote object, live or deleted, by id (`GET /_emulator/objects`).
    pub fn objects(&self) -> BTreeMap<String, Remote> {
        let value = self.admin("objects");
        let list = value["objects"].as_array().unwrap_or_else(|| {
            panic!("the emulator has no GET /_emulator/objects (an older emulator?): {value}")
        });
        list.iter()
            .map(|entry| {
                let text = |key: &str| entry[key].as_str().unwrap_or_default().to_owned();
                let marker = entry["tags"]
                    .as_array()
                    .and_then(|tags| {
                        tags.iter()
                            .find(|tag| tag["TagKey"] == MARKER)
                            .and_then(|tag| tag["TagValue"].as_str())
                            .map(str::to_owned)
                    })
                    .or_else(|| entry["description"].as_str().and_then(description_marker));
                let remote = Remote {
                    id: text("id"),
                    api: text("api"),
                    region: text("region"),
                    marker,
                    live: entry["live"].as_bool().unwrap_or(false),
                    status: entry["status"].clone(),
                    events: entry["events"]
                        .as_array()
                        .map(|events| {
                            events
                                .iter()
                                .filter_map(|event| event["event"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    sequence: entry["sequence"].as_u64().unwrap_or_default(),
                };
                (remote.id.clone(), remote)
            })
            .collect()
    }

    /// The recorded addresses of the state file (empty when there is none).
    pub fn records(&self) -> BTreeMap<String, Record> {
        let state = self.state();
        state["resources"]
            .as_object()
            .map(|resources| {
                resources
                    .iter()
                    .map(|(address, resource)| {
                        (
                            address.clone(),
                            Record {
                                kind: resource["kind"].as_str().unwrap_or_default().to_owned(),
                                remote_id: resource["remote_id"].as_str().map(str::to_owned),
                                region: resource["location"]["region"].as_str().map(str::to_owned),
                                deletion_policy: resource["deletion_policy"]
                                    .as_str()
                                    .map(str::to_owned),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

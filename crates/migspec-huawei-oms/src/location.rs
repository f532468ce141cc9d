//! Where a task group lives.

use serde_json::{Value, json};

use crate::client::Target;

/// Where a task group lives: `{"region": …, "project_id": …}` in observations and state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Location {
    pub(crate) region: String,
    pub(crate) project_id: String,
}

impl Location {
    pub(crate) fn to_value(&self) -> Value {
        json!({"region": self.region, "project_id": self.project_id})
    }

    pub(crate) fn target(&self) -> Target<'_> {
        Target {
            region: &self.region,
            project_id: &self.project_id,
        }
    }
}

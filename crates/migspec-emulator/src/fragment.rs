//! Pre-serialised JSON of jobs and task groups in stable states.
//!
//! Describe and list answers are dominated by JSON serialisation. A job whose state
//! cannot change by itself (no timed phase running) serialises to the same bytes until
//! an API call changes something, so its JSON is kept in a [`Fragment`] and copied into
//! the next answers. Every successful state-changing action clears all fragments of its
//! service, which keeps the cache trivially correct.

use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value serialised once, written verbatim wherever it is serialised again.
#[derive(Debug, Clone)]
pub(crate) struct Fragment(Arc<RawValue>);

impl Fragment {
    /// Serialises `value` now.
    pub(crate) fn of<T: Serialize>(value: &T) -> Self {
        let raw =
            serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Self(Arc::from(raw))
    }

    /// Length of the JSON text in bytes.
    pub(crate) fn len(&self) -> usize {
        self.0.get().len()
    }
}

impl Serialize for Fragment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// The capacity to reserve for a list of fragments plus `extra` bytes around them.
pub(crate) fn capacity(fragments: &[Fragment], extra: usize) -> usize {
    extra
        + fragments
            .iter()
            .map(|fragment| fragment.len() + 1)
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_are_written_verbatim() {
        #[derive(Serialize)]
        struct List {
            items: Vec<Fragment>,
        }
        let item = Fragment::of(&serde_json::json!({"A": 1, "B": "x"}));
        let text = serde_json::to_string(&List {
            items: vec![item.clone(), item],
        })
        .expect("json");
        assert_eq!(text, r#"{"items":[{"A":1,"B":"x"},{"A":1,"B":"x"}]}"#);
    }
}

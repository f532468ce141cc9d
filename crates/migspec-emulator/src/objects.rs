//! `GET /_emulator/objects`: every remote object the emulator holds or held, live or
//! deleted, with its identity (id, region or project, name, tags or description), its
//! current status and its history (created, deleted, isolated, recovered, destroyed).
//!
//! This is the emulator's own view, for tests that check invariants about what a client
//! did (e.g. "nothing was deleted that the plan did not show"): the cloud APIs forget a
//! deleted 2018 job or OMS task group, so the history is kept here, beside the objects,
//! and persisted with them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Something that happened to an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Event {
    /// Emulator time (ms since the Unix epoch).
    pub(crate) at_ms: u64,
    /// `created`, `deleted` (2018 `DeleteMigrateJob`, OMS `DELETE`), `isolated`,
    /// `recovered` or `destroyed` (2021).
    pub(crate) event: String,
}

/// One object's identity at creation and its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The listing entry as it was at creation (used once the object is gone).
    pub(crate) identity: Value,
    pub(crate) events: Vec<Event>,
}

/// The history of every object of one service, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct History {
    records: BTreeMap<String, Record>,
}

impl History {
    /// Records the creation of `id` with its listing entry.
    pub(crate) fn created(&mut self, id: &str, at_ms: u64, identity: Value) {
        self.records.insert(
            id.to_owned(),
            Record {
                identity,
                events: vec![Event {
                    at_ms,
                    event: "created".to_owned(),
                }],
            },
        );
    }

    /// Records `event` for `id` (an object created before the history existed gets a
    /// record without identity).
    pub(crate) fn event(&mut self, id: &str, at_ms: u64, event: &str) {
        self.records
            .entry(id.to_owned())
            .or_insert_with(|| Record {
                identity: json!({"id": id}),
                events: Vec::new(),
            })
            .events
            .push(Event {
                at_ms,
                event: event.to_owned(),
            });
    }

    /// The events of `id` (empty when none were recorded).
    pub(crate) fn events(&self, id: &str) -> &[Event] {
        self.records
            .get(id)
            .map_or(&[], |record| record.events.as_slice())
    }

    /// Every recorded object, by id.
    pub(crate) fn records(&self) -> impl Iterator<Item = (&String, &Record)> {
        self.records.iter()
    }
}

/// Completes one listing entry: `live`, `created_ms`, `deleted_ms` and `events`.
///
/// `deleted_ms` is the time of the first destructive event (`deleted`, `isolated`,
/// `destroyed`) since the last `recovered`.
pub(crate) fn finish(mut entry: Value, live: bool, events: &[Event]) -> Value {
    let created = events
        .iter()
        .find(|event| event.event == "created")
        .map(|event| event.at_ms);
    let mut deleted = None;
    for event in events {
        match event.event.as_str() {
            "deleted" | "isolated" | "destroyed" => deleted = deleted.or(Some(event.at_ms)),
            "recovered" => deleted = None,
            _ => {}
        }
    }
    if let Value::Object(map) = &mut entry {
        map.insert("live".to_owned(), json!(live));
        if let Some(created) = created {
            map.entry("created_ms").or_insert(json!(created));
        }
        map.insert("deleted_ms".to_owned(), json!(deleted));
        map.insert("events".to_owned(), json!(events));
    }
    entry
}

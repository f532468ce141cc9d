//! Tests against the in-process emulator (stateful flows) and wiremock (exact wire cases).

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    missing_docs,
    unreachable_pub,
    reason = "tests"
)]

mod client;
mod conformance;
mod lifecycle;
mod support;
mod wire;

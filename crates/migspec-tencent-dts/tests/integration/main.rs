//! Integration tests: the provider against the in-process emulator, and exact wire cases
//! against wiremock.

#![allow(
    clippy::unwrap_used,
    reason = "test code: helpers panic on failures, like the tests using them"
)]

mod conformance;
mod errors;
mod lifecycle;
mod revision;
mod support;
mod wire;

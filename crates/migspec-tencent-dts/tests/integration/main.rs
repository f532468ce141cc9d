//! Integration tests: the provider against the in-process emulator, and exact wire cases
//! against wiremock.

mod errors;
mod lifecycle;
mod support;
mod wire;

//! Exact wire cases against wiremock.

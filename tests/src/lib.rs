//! End-to-end tests of the `migspec` binary live in `tests/`; this library is empty.

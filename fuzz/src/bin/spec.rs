//! Fuzz target: spec loading and validation (see `../../README.md`).
fn main() {
    afl::fuzz!(|data: &[u8]| migspec_fuzz::spec(data));
}

//! Fuzz target: loading a saved plan file (see `../../README.md`).
fn main() {
    afl::fuzz!(|data: &[u8]| migspec_fuzz::plan(data));
}

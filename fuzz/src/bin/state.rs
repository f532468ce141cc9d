//! Fuzz target: reading the local state backend's files (see `../../README.md`).
fn main() {
    // One directory for the whole run (ideally on tmpfs: TMPDIR=/dev/shm); each input
    // overwrites its files.
    let dir = tempfile::tempdir().expect("a temporary directory");
    afl::fuzz!(|data: &[u8]| migspec_fuzz::state(dir.path(), data));
}

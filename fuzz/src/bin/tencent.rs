//! Fuzz target: the emulator's Tencent DTS request handling (see `../../README.md`).
fn main() {
    afl::fuzz!(|data: &[u8]| migspec_fuzz::emulator(migspec_fuzz::Service::Tencent, data));
}

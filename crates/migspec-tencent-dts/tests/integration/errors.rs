//! Error paths against the emulator.

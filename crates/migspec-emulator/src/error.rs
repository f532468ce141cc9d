//! The emulator's error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the emulator could not start or keep its state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listen address is not a loopback address and remote access was not allowed.
    #[error("refusing to listen on non-loopback address {addr} without --allow-remote")]
    RemoteNotAllowed {
        /// The requested address.
        addr: SocketAddr,
    },
    /// Binding the listen socket failed.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration value is out of range.
    #[error("invalid emulator configuration: {message}")]
    InvalidConfig {
        /// What is wrong.
        message: String,
    },
    /// The config file could not be read.
    #[error("failed to read config file {path}")]
    ConfigRead {
        /// The config file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not a valid config.
    #[error("invalid config file {path}: {message}")]
    ConfigParse {
        /// The config file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The state directory or state file could not be read or written.
    #[error("failed to access emulator state at {path}")]
    State {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The state file exists but does not hold emulator state this version understands.
    #[error("invalid emulator state file {path}: {message}")]
    StateFormat {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The async runtime could not be created or a signal handler installed.
    #[error("failed to set up the async runtime")]
    Runtime(#[source] std::io::Error),
}

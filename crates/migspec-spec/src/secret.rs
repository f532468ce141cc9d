//! Secret values and where they come from.
//!
//! A spec names its secrets with [`SecretRef`] (`{fromEnv: VAR}` / `{fromFile: path}`); at run
//! time a [`SecretSource`] turns a reference into a [`Secret`], whose `Debug` and `Display`
//! never show the value. Fingerprints let a plan say "(sensitive, changed)" without ever
//! storing or printing the value.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::{FromEnv, FromFile, SecretRef};

/// A secret value. Only [`Secret::expose`] reveals it; formatting prints `(sensitive)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it (a signed request body).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A salted SHA-256 fingerprint (hex) of the value, for change detection without storing
    /// the value. The salt is per state file, so fingerprints cannot be compared across
    /// projects or looked up in a table.
    #[must_use]
    pub fn fingerprint(&self, salt: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(salt.as_bytes());
        hasher.update([0]);
        hasher.update(self.0.as_bytes());
        hex::encode(hasher.finalize())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(sensitive)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("(sensitive)")
    }
}

/// A secret that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The environment variable is not set (or empty).
    #[error("environment variable `{variable}` is not set")]
    MissingVariable {
        /// The variable.
        variable: String,
    },
    /// The file could not be read.
    #[error("cannot read secret file `{}`: {message}", path.display())]
    Unreadable {
        /// The file, resolved against the spec's directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A literal secret where literals are not allowed.
    #[error("a secret is written in clear text in the spec")]
    Literal,
}

/// Turns secret references into values.
pub trait SecretSource: Send + Sync {
    /// The value of one reference, for a spec in `spec_dir`.
    ///
    /// # Errors
    ///
    /// When the variable is unset or the file unreadable.
    fn value(&self, reference: &SecretRef, spec_dir: &Path) -> Result<Secret, SecretError>;
}

/// Reads `fromEnv` from the process environment and `fromFile` from disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvironmentSecrets {
    /// Accept literal values (only with `--allow-literal-secrets`).
    pub allow_literals: bool,
}

impl SecretSource for EnvironmentSecrets {
    fn value(&self, reference: &SecretRef, spec_dir: &Path) -> Result<Secret, SecretError> {
        match reference {
            SecretRef::Env(FromEnv { from_env }) => match std::env::var(from_env) {
                Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
                _ => Err(SecretError::MissingVariable {
                    variable: from_env.clone(),
                }),
            },
            SecretRef::File(FromFile { from_file }) => {
                let path = spec_dir.join(from_file);
                match std::fs::read_to_string(&path) {
                    Ok(text) => Ok(Secret::new(
                        text.strip_suffix('\n')
                            .map(|t| t.strip_suffix('\r').unwrap_or(t))
                            .unwrap_or(&text),
                    )),
                    Err(error) => Err(SecretError::Unreadable {
                        path,
                        message: error.to_string(),
                    }),
                }
            }
            SecretRef::Literal(value) if self.allow_literals => Ok(Secret::new(value.clone())),
            SecretRef::Literal(_) => Err(SecretError::Literal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_format_their_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret}"), "(sensitive)");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn fingerprints_depend_on_salt_and_value() {
        let a = Secret::new("one");
        assert_eq!(a.fingerprint("s"), Secret::new("one").fingerprint("s"));
        assert_ne!(a.fingerprint("s"), a.fingerprint("t"));
        assert_ne!(a.fingerprint("s"), Secret::new("two").fingerprint("s"));
        assert_eq!(a.fingerprint("s").len(), 64);
    }

    #[test]
    fn files_lose_one_trailing_newline_and_missing_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("migspec-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pw"), "s3cret\n").unwrap();
        let source = EnvironmentSecrets::default();
        let file = SecretRef::File(FromFile {
            from_file: "pw".into(),
        });
        assert_eq!(source.value(&file, &dir).unwrap().expose(), "s3cret");
        let missing = SecretRef::File(FromFile {
            from_file: "nope".into(),
        });
        assert!(matches!(
            source.value(&missing, &dir),
            Err(SecretError::Unreadable { .. })
        ));
        let unset = SecretRef::Env(FromEnv {
            from_env: "MIGSPEC_TEST_SURELY_UNSET_VARIABLE".into(),
        });
        assert_eq!(
            source.value(&unset, &dir).unwrap_err().to_string(),
            "environment variable `MIGSPEC_TEST_SURELY_UNSET_VARIABLE` is not set"
        );
        assert_eq!(
            source.value(&SecretRef::Literal("x".into()), &dir),
            Err(SecretError::Literal)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

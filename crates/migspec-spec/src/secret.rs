//! Secret values and where they come from.
//!
//! A spec names its secrets with [`SecretRef`] (`{fromEnv: VAR}` / `{fromFile: path}`); at run
//! time a [`SecretSource`] turns a reference into a [`Secret`], whose `Debug` and `Display`
//! never show the value. Fingerprints let a plan say "(sensitive, changed)" without ever
//! storing or printing the value.

use std::fmt;
use std::io::Read;
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

/// The largest secret file `fromFile` reads: 64 KiB. A secret is one value; a larger file
/// is a wrong path (a log, a dump, a device), not a secret.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// A secret that could not be read, or a reference that is refused.
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
    /// The file is outside the spec set's root and every allowed directory (after
    /// symbolic links are resolved).
    #[error(
        "secret file `{}` resolves to {}, outside the spec set's root {}{}",
        path.display(),
        resolved.display(),
        root.display(),
        if file_dirs.is_empty() { "" } else { " and the directories in `secrets.fileDirs`" }
    )]
    OutsideRoot {
        /// The file as referenced, joined to the spec's directory.
        path: PathBuf,
        /// Where it really is.
        resolved: PathBuf,
        /// The spec set's root (the directory of `migspec.yaml`).
        root: PathBuf,
        /// The other allowed directories (`secrets.fileDirs`).
        file_dirs: Vec<PathBuf>,
    },
    /// The file is a directory, a FIFO, a device or a socket.
    #[error("secret file `{}` is a {kind}, not a regular file", path.display())]
    NotRegularFile {
        /// The file as referenced, joined to the spec's directory.
        path: PathBuf,
        /// What it is (`directory`, `fifo`, `character device`, …).
        kind: String,
    },
    /// The file is larger than [`MAX_SECRET_FILE_BYTES`].
    #[error("secret file `{}` is larger than {limit} bytes, the limit for a secret file", path.display())]
    TooLarge {
        /// The file as referenced, joined to the spec's directory.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The variable holds migspec's own cloud credentials.
    #[error(
        "environment variable `{variable}` holds migspec's own cloud credentials and cannot be a spec's secret"
    )]
    CredentialVariable {
        /// The variable.
        variable: String,
    },
    /// The variable matches a `secrets.denyEnv` pattern.
    #[error(
        "environment variable `{variable}` is denied by `secrets.denyEnv` pattern `{pattern}` in migspec.yaml"
    )]
    DeniedVariable {
        /// The variable.
        variable: String,
        /// The pattern it matches.
        pattern: String,
    },
    /// `secrets.allowEnv` is set and no pattern of it matches the variable.
    #[error(
        "environment variable `{variable}` is not matched by `secrets.allowEnv` in migspec.yaml"
    )]
    UnlistedVariable {
        /// The variable.
        variable: String,
    },
}

impl SecretError {
    /// Whether the secret is merely absent (an unset variable, a missing or unreadable
    /// file), as opposed to a reference the policy refuses. Only absent secrets may get
    /// placeholder values (`--emulator`).
    #[must_use]
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::MissingVariable { .. } | Self::Unreadable { .. })
    }
}

/// Turns secret references into values.
pub trait SecretSource: Send + Sync {
    /// The value of one reference, for a spec in `spec_dir`.
    ///
    /// # Errors
    ///
    /// When the variable is unset or the file unreadable, or the policy refuses the
    /// reference.
    fn value(&self, reference: &SecretRef, spec_dir: &Path) -> Result<Secret, SecretError>;
}

/// A pattern of environment variable names: letters, digits and `_`, with `*` (any run of
/// characters) and `?` (one character). Case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPattern(String);

/// A pattern that is not a pattern of environment variable names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{pattern}` is not a pattern of environment variable names; use letters, digits, `_`, `*` and `?`"
)]
pub struct BadEnvPattern {
    /// The pattern as written.
    pub pattern: String,
}

impl EnvPattern {
    /// Parses a pattern.
    ///
    /// # Errors
    ///
    /// When it is empty or has a character other than letters, digits, `_`, `*`, `?`.
    pub fn new(pattern: &str) -> Result<Self, BadEnvPattern> {
        if pattern.is_empty()
            || !pattern
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'*' | b'?'))
        {
            return Err(BadEnvPattern {
                pattern: pattern.to_owned(),
            });
        }
        Ok(Self(pattern.to_owned()))
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern names exactly `name` (no wildcard).
    #[must_use]
    pub fn is_exactly(&self, name: &str) -> bool {
        self.0 == name
    }

    /// Whether `name` matches.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        wildcard(self.0.as_bytes(), name.as_bytes())
    }
}

/// `*`/`?` matching with the usual single backtrack point (linear in practice).
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// What secret references may name.
///
/// - `fromFile` reads only regular files (checked without blocking: a FIFO is never opened
///   for a blocking read) of at most [`MAX_SECRET_FILE_BYTES`], whose real path (symbolic
///   links resolved) is under the root or one of the allowed directories.
/// - `fromEnv`: a name matching a deny pattern is refused; a credential variable (migspec's
///   own cloud keys) is refused unless an allow pattern names it exactly (a wildcard never
///   unlocks one); when allow patterns are given, a name must match one of them.
#[derive(Debug, Clone)]
pub struct SecretPolicy {
    root: PathBuf,
    file_dirs: Vec<PathBuf>,
    allow_env: Vec<EnvPattern>,
    deny_env: Vec<EnvPattern>,
    credential_variables: Vec<String>,
}

impl SecretPolicy {
    /// A policy reading files under `root` only, with no environment patterns and no
    /// credential variables.
    ///
    /// # Errors
    ///
    /// When `root` cannot be resolved (it does not exist, or is not readable).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(Self {
            root: canonical_dir(root)?,
            file_dirs: Vec::new(),
            allow_env: Vec::new(),
            deny_env: Vec::new(),
            credential_variables: Vec::new(),
        })
    }

    /// Also reads files under `dir`.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be resolved or is not a directory.
    pub fn with_file_dir(mut self, dir: &Path) -> std::io::Result<Self> {
        self.file_dirs.push(canonical_dir(dir)?);
        Ok(self)
    }

    /// Names that `fromEnv` may use (when any are given, only these).
    #[must_use]
    pub fn with_allowed_env(mut self, patterns: Vec<EnvPattern>) -> Self {
        self.allow_env.extend(patterns);
        self
    }

    /// Names that `fromEnv` may not use.
    #[must_use]
    pub fn with_denied_env(mut self, patterns: Vec<EnvPattern>) -> Self {
        self.deny_env.extend(patterns);
        self
    }

    /// Variables holding migspec's own credentials: refused unless allowed by exact name.
    #[must_use]
    pub fn with_credential_variables<S: AsRef<str>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.credential_variables
            .extend(names.into_iter().map(|name| name.as_ref().to_owned()));
        self
    }

    /// The root (canonical).
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `fromEnv` may name `variable`.
    ///
    /// # Errors
    ///
    /// The refusal: denied, a credential, or not allowed.
    pub fn check_variable(&self, variable: &str) -> Result<(), SecretError> {
        if let Some(pattern) = self.deny_env.iter().find(|p| p.matches(variable)) {
            return Err(SecretError::DeniedVariable {
                variable: variable.to_owned(),
                pattern: pattern.as_str().to_owned(),
            });
        }
        if self
            .credential_variables
            .iter()
            .any(|name| name == variable)
        {
            if self.allow_env.iter().any(|p| p.is_exactly(variable)) {
                return Ok(());
            }
            return Err(SecretError::CredentialVariable {
                variable: variable.to_owned(),
            });
        }
        if !self.allow_env.is_empty() && !self.allow_env.iter().any(|p| p.matches(variable)) {
            return Err(SecretError::UnlistedVariable {
                variable: variable.to_owned(),
            });
        }
        Ok(())
    }

    /// Reads a secret file, `path` being the reference joined to the spec's directory.
    ///
    /// # Errors
    ///
    /// Outside the allowed directories, not a regular file, too large, unreadable.
    pub fn read_file(&self, path: &Path) -> Result<Secret, SecretError> {
        let unreadable = |error: &dyn std::fmt::Display| SecretError::Unreadable {
            path: path.to_path_buf(),
            message: error.to_string(),
        };
        let resolved = match std::fs::canonicalize(path) {
            Ok(resolved) => resolved,
            Err(error) => {
                // A missing file outside the root is reported as outside, not as missing.
                if let Some(resolved) = path
                    .parent()
                    .and_then(|parent| std::fs::canonicalize(parent).ok())
                    .and_then(|parent| path.file_name().map(|name| parent.join(name)))
                {
                    self.check_inside(path, &resolved)?;
                }
                return Err(unreadable(&error));
            }
        };
        self.check_inside(path, &resolved)?;
        // The type first, from the path (no open, so nothing can block) …
        let metadata = std::fs::metadata(&resolved).map_err(|error| unreadable(&error))?;
        self.check_regular(path, &metadata)?;
        // … then again from the open file, which may have been swapped in between: opened
        // non-blocking, a FIFO put there meanwhile cannot hold the open either.
        let file = open_nonblocking(&resolved).map_err(|error| unreadable(&error))?;
        let metadata = file.metadata().map_err(|error| unreadable(&error))?;
        self.check_regular(path, &metadata)?;
        // Where the open file really is: a directory on the way swapped for a link after
        // the check above would show here.
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            if let Ok(opened) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
                self.check_inside(path, &opened)?;
            }
        }
        let mut bytes = Vec::new();
        file.take(MAX_SECRET_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| unreadable(&error))?;
        if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
            return Err(SecretError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_SECRET_FILE_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| SecretError::Unreadable {
            path: path.to_path_buf(),
            message: "the file is not UTF-8 text".to_owned(),
        })?;
        Ok(Secret::new(
            text.strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text),
        ))
    }

    fn check_inside(&self, path: &Path, resolved: &Path) -> Result<(), SecretError> {
        if resolved.starts_with(&self.root)
            || self.file_dirs.iter().any(|d| resolved.starts_with(d))
        {
            return Ok(());
        }
        Err(SecretError::OutsideRoot {
            path: path.to_path_buf(),
            resolved: resolved.to_path_buf(),
            root: self.root.clone(),
            file_dirs: self.file_dirs.clone(),
        })
    }

    fn check_regular(&self, path: &Path, metadata: &std::fs::Metadata) -> Result<(), SecretError> {
        let file_type = metadata.file_type();
        if !file_type.is_file() {
            return Err(SecretError::NotRegularFile {
                path: path.to_path_buf(),
                kind: file_kind(file_type).to_owned(),
            });
        }
        if metadata.len() > MAX_SECRET_FILE_BYTES {
            return Err(SecretError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_SECRET_FILE_BYTES,
            });
        }
        Ok(())
    }
}

fn canonical_dir(dir: &Path) -> std::io::Result<PathBuf> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let resolved = std::fs::canonicalize(dir)?;
    if !resolved.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a directory", resolved.display()),
        ));
    }
    Ok(resolved)
}

/// Opens a file for reading without blocking on a FIFO or a device.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Opens a file for reading (the type was checked just before).
#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn file_kind(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "directory";
    }
    if file_type.is_symlink() {
        return "symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "fifo";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_socket() {
            return "socket";
        }
    }
    "special file"
}

/// Reads `fromEnv` from the process environment and `fromFile` from disk, within a
/// [`SecretPolicy`].
#[derive(Debug, Clone)]
pub struct EnvironmentSecrets {
    /// Accept literal values (only with `--allow-literal-secrets`).
    pub allow_literals: bool,
    /// What references may name.
    pub policy: SecretPolicy,
}

impl EnvironmentSecrets {
    /// Secrets resolved within `policy`, literals refused.
    #[must_use]
    pub fn new(policy: SecretPolicy) -> Self {
        Self {
            allow_literals: false,
            policy,
        }
    }
}

impl SecretSource for EnvironmentSecrets {
    fn value(&self, reference: &SecretRef, spec_dir: &Path) -> Result<Secret, SecretError> {
        match reference {
            SecretRef::Env(FromEnv { from_env }) => {
                self.policy.check_variable(from_env)?;
                match std::env::var(from_env) {
                    Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
                    _ => Err(SecretError::MissingVariable {
                        variable: from_env.clone(),
                    }),
                }
            }
            SecretRef::File(FromFile { from_file }) => {
                self.policy.read_file(&spec_dir.join(from_file))
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

    /// A fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("migspec-secret-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.canonicalize().unwrap()
    }

    fn file(path: &str) -> SecretRef {
        SecretRef::File(FromFile {
            from_file: path.into(),
        })
    }

    fn env(name: &str) -> SecretRef {
        SecretRef::Env(FromEnv {
            from_env: name.into(),
        })
    }

    #[test]
    fn files_lose_one_trailing_newline_and_missing_ones_are_named() {
        let dir = scratch("basic");
        std::fs::write(dir.join("pw"), "s3cret\n").unwrap();
        std::fs::write(dir.join("crlf"), "s3cret\r\n").unwrap();
        let source = EnvironmentSecrets::new(SecretPolicy::new(&dir).unwrap());
        assert_eq!(source.value(&file("pw"), &dir).unwrap().expose(), "s3cret");
        assert_eq!(
            source.value(&file("crlf"), &dir).unwrap().expose(),
            "s3cret"
        );
        let missing = source.value(&file("nope"), &dir).unwrap_err();
        assert!(
            matches!(missing, SecretError::Unreadable { .. }),
            "{missing:?}"
        );
        assert!(missing.is_absent());
        let unset = env("MIGSPEC_TEST_SURELY_UNSET_VARIABLE");
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

    #[test]
    fn files_outside_the_root_are_refused_after_resolving_links() {
        let root = scratch("root");
        let outside = scratch("outside");
        std::fs::write(outside.join("pw"), "elsewhere").unwrap();
        std::fs::create_dir(root.join("specs")).unwrap();
        let specs = root.join("specs");
        std::os::unix::fs::symlink(outside.join("pw"), specs.join("link")).unwrap();
        std::os::unix::fs::symlink(&outside, specs.join("dirlink")).unwrap();
        let source = EnvironmentSecrets::new(SecretPolicy::new(&root).unwrap());
        let traversal = format!(
            "../../{}/pw",
            outside.file_name().unwrap().to_string_lossy()
        );
        for reference in [
            traversal.as_str(),
            &outside.join("pw").display().to_string(),
            "link",
            "dirlink/pw",
            // Missing, but outside: said so, not "no such file".
            "../../nope",
        ] {
            let error = source.value(&file(reference), &specs).unwrap_err();
            match &error {
                SecretError::OutsideRoot {
                    path,
                    resolved,
                    root: named,
                    file_dirs,
                } => {
                    assert_eq!(path, &specs.join(reference));
                    assert!(!resolved.starts_with(&root), "{reference}: {error}");
                    assert_eq!(named, &root);
                    assert!(file_dirs.is_empty());
                }
                other => panic!("{reference}: {other:?}"),
            }
            assert!(!error.is_absent());
        }
        assert_eq!(
            source.value(&file("link"), &specs).unwrap_err().to_string(),
            format!(
                "secret file `{}` resolves to {}, outside the spec set's root {}",
                specs.join("link").display(),
                outside.join("pw").display(),
                root.display()
            )
        );
        // Listing the directory allows it.
        let source = EnvironmentSecrets::new(
            SecretPolicy::new(&root)
                .unwrap()
                .with_file_dir(&outside)
                .unwrap(),
        );
        assert_eq!(
            source.value(&file("link"), &specs).unwrap().expose(),
            "elsewhere"
        );
        assert_eq!(
            source.value(&file(&traversal), &specs).unwrap().expose(),
            "elsewhere"
        );
        assert!(
            SecretPolicy::new(&root)
                .unwrap()
                .with_file_dir(&root.join("missing"))
                .is_err()
        );
        std::fs::remove_dir_all(root).unwrap();
        std::fs::remove_dir_all(outside).unwrap();
    }

    #[test]
    fn only_small_regular_files_are_read_and_a_fifo_never_blocks() {
        let root = scratch("kinds");
        let fifo = root.join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        std::fs::create_dir(root.join("folder")).unwrap();
        std::fs::write(root.join("cap"), vec![b'x'; 64 * 1024]).unwrap();
        std::fs::write(root.join("big"), vec![b'x'; 64 * 1024 + 1]).unwrap();
        let source = EnvironmentSecrets::new(SecretPolicy::new(&root).unwrap());
        assert_eq!(
            source.value(&file("pipe"), &root).unwrap_err(),
            SecretError::NotRegularFile {
                path: fifo,
                kind: "fifo".into()
            }
        );
        assert_eq!(
            source
                .value(&file("folder"), &root)
                .unwrap_err()
                .to_string(),
            format!(
                "secret file `{}` is a directory, not a regular file",
                root.join("folder").display()
            )
        );
        assert_eq!(
            source.value(&file("big"), &root).unwrap_err(),
            SecretError::TooLarge {
                path: root.join("big"),
                limit: MAX_SECRET_FILE_BYTES
            }
        );
        assert_eq!(
            source.value(&file("cap"), &root).unwrap().expose().len(),
            64 * 1024
        );
        // A device in an allowed directory is not a regular file either (and is never read).
        let source = EnvironmentSecrets::new(
            SecretPolicy::new(&root)
                .unwrap()
                .with_file_dir(Path::new("/dev"))
                .unwrap(),
        );
        assert_eq!(
            source.value(&file("/dev/zero"), &root).unwrap_err(),
            SecretError::NotRegularFile {
                path: "/dev/zero".into(),
                kind: "character device".into()
            }
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn credential_variables_need_their_exact_name_allowed_and_deny_wins() {
        let root = scratch("env");
        let patterns = |list: &[&str]| -> Vec<EnvPattern> {
            list.iter().map(|p| EnvPattern::new(p).unwrap()).collect()
        };
        let policy = || {
            SecretPolicy::new(&root)
                .unwrap()
                .with_credential_variables(["CLOUD_SECRET_KEY"])
        };
        assert_eq!(
            policy().check_variable("CLOUD_SECRET_KEY"),
            Err(SecretError::CredentialVariable {
                variable: "CLOUD_SECRET_KEY".into()
            })
        );
        assert_eq!(policy().check_variable("DB_PASSWORD"), Ok(()));
        let glob = policy().with_allowed_env(patterns(&["*"]));
        assert!(glob.check_variable("CLOUD_SECRET_KEY").is_err());
        assert_eq!(glob.check_variable("DB_PASSWORD"), Ok(()));
        let exact = policy().with_allowed_env(patterns(&["CLOUD_SECRET_KEY", "DB_*"]));
        assert_eq!(exact.check_variable("CLOUD_SECRET_KEY"), Ok(()));
        assert_eq!(exact.check_variable("DB_PASSWORD"), Ok(()));
        assert_eq!(
            exact.check_variable("OTHER"),
            Err(SecretError::UnlistedVariable {
                variable: "OTHER".into()
            })
        );
        let denied = exact.with_denied_env(patterns(&["CLOUD_*"]));
        assert_eq!(
            denied.check_variable("CLOUD_SECRET_KEY"),
            Err(SecretError::DeniedVariable {
                variable: "CLOUD_SECRET_KEY".into(),
                pattern: "CLOUD_*".into()
            })
        );
        // The check comes before the lookup: a refused variable is refused even when unset.
        let source = EnvironmentSecrets::new(denied);
        assert!(matches!(
            source.value(&env("CLOUD_SURELY_UNSET"), &root),
            Err(SecretError::DeniedVariable { .. })
        ));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn env_patterns_match_whole_names() {
        let matches = |pattern: &str, name: &str| EnvPattern::new(pattern).unwrap().matches(name);
        assert!(matches("DB_*", "DB_PASSWORD"));
        assert!(matches("DB_*", "DB_"));
        assert!(!matches("DB_*", "XDB_PASSWORD"));
        assert!(matches("*_PASSWORD", "DB_PASSWORD"));
        assert!(matches("*PASS*", "DB_PASSWORD_2"));
        assert!(matches("A?C", "ABC"));
        assert!(!matches("A?C", "AC"));
        assert!(!matches("ABC", "abc"));
        assert!(matches("*", "ANYTHING"));
        assert!(matches("A*B*C", "AXXBYYBC"));
        assert!(!matches("A*B*C", "AXXBYYB"));
        for bad in ["", "DB-*", "a b", "x/y", "ÄB"] {
            assert!(EnvPattern::new(bad).is_err(), "{bad}");
        }
    }
}

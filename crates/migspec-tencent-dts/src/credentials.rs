//! Tencent Cloud API keys and where they come from (reference §5.1–5.3).
//!
//! The order of precedence:
//!
//! 1. keys given explicitly (project file, command line);
//! 2. `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` (with `TENCENTCLOUD_TOKEN`, which
//!    tccli reads and the SDKs do not);
//! 3. the official SDK's credentials file, exactly where `tencentcloud-sdk-python-common`
//!    3.1.195's `ProfileCredential` looks (`tencentcloud/common/credential.py`):
//!    `~/.tencentcloud/credentials` if it exists, otherwise `/etc/tencentcloud/credentials`;
//!    INI, section `[default]`, keys `secret_id` and `secret_key` (values trimmed). migspec
//!    also reads a `token` key there for temporary credentials, which that SDK ignores;
//! 4. tccli's profile file `~/.tccli/<profile>.credential` (profile from `TCCLI_PROFILE`,
//!    default `default`).
//!
//! As in the SDK's `DefaultCredentialProvider`, a credentials file without a `[default]`
//! section or without keys is passed over; one with only half a key pair is an error.
//! Values are held in [`Secret`]s: they never appear in `Debug` output, logs or error
//! messages; [`CredentialSource`] says where they came from, so that a refused key can be
//! traced to its file.

use std::path::{Path, PathBuf};

use migspec_spec::secret::Secret;

use crate::error::ConfigError;

pub use crate::env::{CREDENTIAL_ENV, ENV_PROFILE, ENV_SECRET_ID, ENV_SECRET_KEY, ENV_TOKEN};

/// The system-wide SDK credentials file, read when `~/.tencentcloud/credentials` is absent.
pub const SYSTEM_CREDENTIALS_FILE: &str = "/etc/tencentcloud/credentials";

/// The directories credentials files are looked for in (a seam for tests).
#[derive(Debug, Clone, Copy)]
pub struct Locations<'a> {
    /// The home directory (`~/.tencentcloud/credentials`, `~/.tccli/`).
    pub home: Option<&'a Path>,
    /// The system-wide SDK credentials file ([`SYSTEM_CREDENTIALS_FILE`]).
    pub system_file: Option<&'a Path>,
}

impl<'a> Locations<'a> {
    /// `home`, and the real system-wide file.
    #[must_use]
    pub fn new(home: Option<&'a Path>) -> Self {
        Self {
            home,
            system_file: Some(Path::new(SYSTEM_CREDENTIALS_FILE)),
        }
    }

    /// The SDK credentials file that is read: the first of `~/.tencentcloud/credentials`
    /// and the system-wide file that exists (as the SDK does, the second is not read when
    /// the first exists, even if it holds no keys).
    #[must_use]
    pub fn sdk_file(&self) -> Option<PathBuf> {
        self.home
            .map(sdk_credentials_path)
            .into_iter()
            .chain(self.system_file.map(Path::to_owned))
            .find(|path| path.exists())
    }
}

/// Where a set of credentials was found (for messages; never the values).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Given explicitly (project file, command line, tests).
    Explicit,
    /// `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` (and `TENCENTCLOUD_TOKEN`).
    Environment,
    /// The official SDK's INI credentials file (`~/.tencentcloud/credentials` or
    /// `/etc/tencentcloud/credentials`).
    SdkFile {
        /// The file.
        path: PathBuf,
    },
    /// A tccli profile file.
    Profile {
        /// The file.
        path: PathBuf,
    },
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Explicit => formatter.write_str("explicit configuration"),
            Self::Environment => write!(formatter, "{ENV_SECRET_ID}/{ENV_SECRET_KEY}"),
            Self::SdkFile { path } => {
                write!(formatter, "the SDK credentials file {}", path.display())
            }
            Self::Profile { path } => write!(formatter, "tccli profile {}", path.display()),
        }
    }
}

/// A Tencent Cloud API key pair, with the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret_id: Secret,
    secret_key: Secret,
    token: Option<Secret>,
    source: CredentialSource,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("source", &self.source)
            .field("token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Explicit credentials.
    #[must_use]
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: Secret::new(secret_id),
            secret_key: Secret::new(secret_key),
            token: None,
            source: CredentialSource::Explicit,
        }
    }

    /// Adds the session token of temporary credentials (sent as `X-TC-Token`).
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    /// Where these credentials were found.
    #[must_use]
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// The SecretId (it appears in every `Authorization` header).
    #[must_use]
    pub fn secret_id(&self) -> &Secret {
        &self.secret_id
    }

    /// The SecretKey.
    #[must_use]
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// The session token, if any.
    #[must_use]
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// Finds credentials in the documented order (see the module documentation):
    /// `explicit`, the environment (read through `lookup`), the SDK credentials file, then
    /// the tccli profile file, the files under `locations`. `Ok(None)` means none of them
    /// holds any.
    ///
    /// # Errors
    ///
    /// When a source is present but unusable: only one of the two variables or keys set, a
    /// value with surrounding spaces, an unreadable or malformed file.
    pub fn resolve(
        explicit: Option<Self>,
        lookup: &dyn Fn(&str) -> Option<String>,
        locations: Locations<'_>,
    ) -> Result<Option<Self>, ConfigError> {
        if let Some(explicit) = explicit {
            check_value("the explicit SecretId", explicit.secret_id.expose())?;
            check_value("the explicit SecretKey", explicit.secret_key.expose())?;
            return Ok(Some(explicit));
        }
        let read = |name: &str| lookup(name).filter(|value| !value.is_empty());
        match (read(ENV_SECRET_ID), read(ENV_SECRET_KEY)) {
            (Some(id), Some(key)) => {
                check_value(ENV_SECRET_ID, &id)?;
                check_value(ENV_SECRET_KEY, &key)?;
                let token = read(ENV_TOKEN);
                if let Some(token) = &token {
                    check_value(ENV_TOKEN, token)?;
                }
                return Ok(Some(Self {
                    secret_id: Secret::new(id),
                    secret_key: Secret::new(key),
                    token: token.map(Secret::new),
                    source: CredentialSource::Environment,
                }));
            }
            (Some(_), None) => {
                return Err(ConfigError::new(format!(
                    "{ENV_SECRET_ID} is set but {ENV_SECRET_KEY} is not: set both, or unset both to use the tccli profile"
                )));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(format!(
                    "{ENV_SECRET_KEY} is set but {ENV_SECRET_ID} is not: set both, or unset both to use the tccli profile"
                )));
            }
            (None, None) => {}
        }
        if let Some(path) = locations.sdk_file()
            && let Some(found) = Self::from_sdk_file(&path)?
        {
            return Ok(Some(found));
        }
        let Some(home) = locations.home else {
            return Ok(None);
        };
        let profile = read(ENV_PROFILE).unwrap_or_else(|| "default".to_owned());
        let path = profile_path(home, &profile);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(ConfigError::new(format!(
                    "cannot read the tccli profile {}: {error}",
                    path.display()
                )));
            }
        };
        Self::from_profile_text(&text, &path).map(Some)
    }

    /// Reads the SDK's INI file; `Ok(None)` when it has no `[default]` keys (the SDK then
    /// goes on to its next provider, and so does migspec).
    fn from_sdk_file(path: &Path) -> Result<Option<Self>, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigError::new(format!(
                "cannot read the Tencent Cloud credentials file {}: {error}",
                path.display()
            ))
        })?;
        let section = ini_section(&text, "default", path)?;
        let value = |key: &str| {
            section
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
                .filter(|value| !value.is_empty())
        };
        let name = |key: &str| format!("`{key}` in [default] of {}", path.display());
        match (value("secret_id"), value("secret_key")) {
            (Some(id), Some(key)) => {
                check_value(&name("secret_id"), &id)?;
                check_value(&name("secret_key"), &key)?;
                let token = value("token");
                if let Some(token) = &token {
                    check_value(&name("token"), token)?;
                }
                Ok(Some(Self {
                    secret_id: Secret::new(id),
                    secret_key: Secret::new(key),
                    token: token.map(Secret::new),
                    source: CredentialSource::SdkFile {
                        path: path.to_owned(),
                    },
                }))
            }
            (None, None) => Ok(None),
            (Some(_), None) | (None, Some(_)) => Err(ConfigError::new(format!(
                "the Tencent Cloud credentials file {} has only one of `secret_id` and `secret_key` in [default]: set both",
                path.display()
            ))),
        }
    }

    fn from_profile_text(text: &str, path: &Path) -> Result<Self, ConfigError> {
        #[derive(serde::Deserialize)]
        struct ProfileFile {
            #[serde(rename = "secretId", default)]
            secret_id: Option<String>,
            #[serde(rename = "secretKey", default)]
            secret_key: Option<String>,
            #[serde(default)]
            token: Option<String>,
            #[serde(rename = "type", default)]
            kind: Option<String>,
        }
        let file: ProfileFile = serde_json::from_str(text).map_err(|error| {
            ConfigError::new(format!(
                "the tccli profile {} is not valid JSON ({error}); expected {{\"secretId\": …, \"secretKey\": …}}",
                path.display()
            ))
        })?;
        let name = |field: &str| format!("`{field}` in {}", path.display());
        match (
            file.secret_id.filter(|v| !v.is_empty()),
            file.secret_key.filter(|v| !v.is_empty()),
        ) {
            (Some(id), Some(key)) => {
                check_value(&name("secretId"), &id)?;
                check_value(&name("secretKey"), &key)?;
                let token = file.token.filter(|v| !v.is_empty());
                if let Some(token) = &token {
                    check_value(&name("token"), token)?;
                }
                Ok(Self {
                    secret_id: Secret::new(id),
                    secret_key: Secret::new(key),
                    token: token.map(Secret::new),
                    source: CredentialSource::Profile {
                        path: path.to_owned(),
                    },
                })
            }
            _ => match file.kind {
                Some(kind) if !kind.is_empty() => Err(ConfigError::new(format!(
                    "the tccli profile {} uses credentials of type `{kind}`, which migspec cannot use; set {ENV_SECRET_ID} and {ENV_SECRET_KEY} instead",
                    path.display()
                ))),
                _ => Err(ConfigError::new(format!(
                    "the tccli profile {} has no `secretId` and `secretKey`",
                    path.display()
                ))),
            },
        }
    }

    /// The message for "no credentials anywhere": what was looked at, and what to set.
    #[must_use]
    pub fn missing_message(
        lookup: &dyn Fn(&str) -> Option<String>,
        locations: Locations<'_>,
    ) -> String {
        let profile = lookup(ENV_PROFILE)
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let file = locations.home.map_or_else(
            || format!("~/.tccli/{profile}.credential"),
            |home| profile_path(home, &profile).display().to_string(),
        );
        let sdk_file = locations.home.map_or_else(
            || "~/.tencentcloud/credentials".to_owned(),
            |home| sdk_credentials_path(home).display().to_string(),
        );
        format!(
            "no Tencent Cloud credentials found: set {ENV_SECRET_ID} and {ENV_SECRET_KEY} (and {ENV_TOKEN} for temporary credentials), write `secret_id` and `secret_key` under [default] in {sdk_file} (or {SYSTEM_CREDENTIALS_FILE}), or create the tccli profile {file} (`tccli configure`; profile chosen by {ENV_PROFILE})"
        )
    }
}

/// `~/.tencentcloud/credentials`, the official SDK's credentials file.
#[must_use]
pub fn sdk_credentials_path(home: &Path) -> PathBuf {
    home.join(".tencentcloud").join("credentials")
}

/// The `key = value` pairs of `[name]` in an INI text, read as Python's `configparser`
/// reads the SDK's file: `=` or `:` separates, keys are case-insensitive (lower-cased),
/// names and values are trimmed, whole-line `#`/`;` comments; a key repeated within the
/// section is an error there, and here.
fn ini_section(text: &str, name: &str, path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(section) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            inside = section == name;
            continue;
        }
        if !inside {
            continue;
        }
        let separator = trimmed.find(['=', ':']);
        let Some(at) = separator else { continue };
        let key = trimmed[..at].trim().to_ascii_lowercase();
        let value = trimmed[at + 1..].trim().to_owned();
        if pairs.iter().any(|(existing, _)| *existing == key) {
            return Err(ConfigError::new(format!(
                "`{key}` appears twice in [{name}] of {}",
                path.display()
            )));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// `~/.tccli/<profile>.credential`.
#[must_use]
pub fn profile_path(home: &Path, profile: &str) -> PathBuf {
    home.join(".tccli").join(format!("{profile}.credential"))
}

/// The official SDK refuses empty values and values with surrounding spaces (a pasted key
/// with a trailing newline signs every request wrongly); so do we, naming the source.
fn check_value(what: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::new(format!("{what} is empty")));
    }
    if value.trim() != value {
        return Err(ConfigError::new(format!(
            "{what} has leading or trailing whitespace; remove it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    /// `home` and no system-wide file (the real one must not leak into tests).
    fn at(home: &Path) -> Locations<'_> {
        Locations {
            home: Some(home),
            system_file: None,
        }
    }

    fn nowhere() -> Locations<'static> {
        Locations {
            home: None,
            system_file: None,
        }
    }

    fn home_with(profile: &str, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".tccli")).unwrap();
        std::fs::write(profile_path(dir.path(), profile), text).unwrap();
        dir
    }

    #[test]
    fn explicit_wins_over_environment_and_profile() {
        let home = home_with("default", r#"{"secretId":"AKIDfile","secretKey":"kf"}"#);
        let lookup = env(&[(ENV_SECRET_ID, "AKIDenv"), (ENV_SECRET_KEY, "ke")]);
        let found = Credentials::resolve(
            Some(Credentials::new("AKIDx", "kx")),
            &lookup,
            at(home.path()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDx");
        assert_eq!(found.source(), &CredentialSource::Explicit);
    }

    #[test]
    fn environment_wins_over_profile_and_reads_the_token() {
        let home = home_with("default", r#"{"secretId":"AKIDfile","secretKey":"kf"}"#);
        let lookup = env(&[
            (ENV_SECRET_ID, "AKIDenv"),
            (ENV_SECRET_KEY, "ke"),
            (ENV_TOKEN, "s3ss10n"),
        ]);
        let found = Credentials::resolve(None, &lookup, at(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDenv");
        assert_eq!(found.secret_key().expose(), "ke");
        assert_eq!(found.token().map(Secret::expose), Some("s3ss10n"));
        assert_eq!(found.source(), &CredentialSource::Environment);
        assert!(!format!("{found:?}").contains("ke\""));
        assert!(!format!("{found:?}").contains("s3ss10n"));
    }

    #[test]
    fn profile_file_is_read_from_tccli_profile() {
        let home = home_with(
            "prod",
            r#"{"secretId":"AKIDprod","secretKey":"kp","token":"tp","type":""}"#,
        );
        let found = Credentials::resolve(None, &env(&[(ENV_PROFILE, "prod")]), at(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDprod");
        assert_eq!(found.token().map(Secret::expose), Some("tp"));
        assert!(matches!(found.source(), CredentialSource::Profile { .. }));
        // The default profile is not the prod one.
        assert!(
            Credentials::resolve(None, &env(&[]), at(home.path()))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn half_set_environment_and_bad_values_are_errors_naming_the_variable() {
        let error =
            Credentials::resolve(None, &env(&[(ENV_SECRET_ID, "AKID")]), nowhere()).unwrap_err();
        assert!(error.to_string().contains(ENV_SECRET_KEY), "{error}");
        let error = Credentials::resolve(
            None,
            &env(&[(ENV_SECRET_ID, "AKID"), (ENV_SECRET_KEY, "key\n")]),
            nowhere(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("whitespace"), "{error}");
        assert!(!error.to_string().contains("key\n"));
        let home = home_with("default", r#"{"type":"cvm-role"}"#);
        let error = Credentials::resolve(None, &env(&[]), at(home.path())).unwrap_err();
        assert!(error.to_string().contains("cvm-role"), "{error}");
        let home = home_with("default", "not json");
        assert!(Credentials::resolve(None, &env(&[]), at(home.path())).is_err());
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = tempfile::tempdir().unwrap();
        assert!(
            Credentials::resolve(None, &env(&[]), at(home.path()))
                .unwrap()
                .is_none()
        );
        let message = Credentials::missing_message(&env(&[]), at(home.path()));
        for needle in [
            ENV_SECRET_ID,
            ENV_SECRET_KEY,
            ENV_TOKEN,
            ENV_PROFILE,
            "default.credential",
        ] {
            assert!(message.contains(needle), "{message}");
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Issue 13, item 14: the official SDK's INI file, between the environment and tccli.
    #[test]
    fn sdk_credentials_file_comes_after_the_environment_and_before_tccli() {
        let home = home_with("default", r#"{"secretId":"AKIDtccli","secretKey":"kt"}"#);
        let file = sdk_credentials_path(home.path());
        write(
            &file,
            "# written by hand\n[other]\nsecret_id = AKIDother\n\n[default]\nSecret_Id = AKIDsdk \nsecret_key: ks\ntoken=tk\nrole_arn =\n",
        );
        let found = Credentials::resolve(None, &env(&[]), at(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDsdk");
        assert_eq!(found.secret_key().expose(), "ks");
        assert_eq!(found.token().map(Secret::expose), Some("tk"));
        assert_eq!(
            found.source(),
            &CredentialSource::SdkFile { path: file.clone() }
        );
        assert_eq!(
            found.source().to_string(),
            format!("the SDK credentials file {}", file.display())
        );
        let lookup = env(&[(ENV_SECRET_ID, "AKIDenv"), (ENV_SECRET_KEY, "ke")]);
        let found = Credentials::resolve(None, &lookup, at(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(found.source(), &CredentialSource::Environment);
    }

    #[test]
    fn system_file_is_read_only_when_the_home_file_is_absent() {
        let home = home_with("default", r#"{"secretId":"AKIDtccli","secretKey":"kt"}"#);
        let system = tempfile::tempdir().unwrap();
        let system_file = system.path().join("credentials");
        write(
            &system_file,
            "[default]\nsecret_id=AKIDetc\nsecret_key=ke\n",
        );
        let locations = Locations {
            home: Some(home.path()),
            system_file: Some(&system_file),
        };
        let found = Credentials::resolve(None, &env(&[]), locations)
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDetc");
        assert_eq!(
            found.source(),
            &CredentialSource::SdkFile {
                path: system_file.clone()
            }
        );
        // A home file without [default] keys shadows the system one (as in the SDK), and is
        // passed over for the tccli profile.
        write(
            &sdk_credentials_path(home.path()),
            "[prod]\nsecret_id=AKIDp\nsecret_key=kp\n",
        );
        let found = Credentials::resolve(None, &env(&[]), locations)
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDtccli");
        assert!(matches!(found.source(), CredentialSource::Profile { .. }));
    }

    #[test]
    fn half_a_key_pair_or_a_repeated_key_in_the_sdk_file_is_an_error_naming_the_file() {
        let home = tempfile::tempdir().unwrap();
        let file = sdk_credentials_path(home.path());
        write(&file, "[default]\nsecret_id=AKIDsdk\n");
        let error = Credentials::resolve(None, &env(&[]), at(home.path())).unwrap_err();
        assert!(
            error.to_string().contains(&file.display().to_string()),
            "{error}"
        );
        assert!(error.to_string().contains("secret_key"), "{error}");
        write(
            &file,
            "[default]\nsecret_id=a\nsecret_key=b\nsecret_key=c\n",
        );
        let error = Credentials::resolve(None, &env(&[]), at(home.path())).unwrap_err();
        assert!(error.to_string().contains("twice"), "{error}");
        assert!(!error.to_string().contains("=c"), "{error}");
    }
}

//! Tencent Cloud API keys and where they come from (reference §5.1–5.3).
//!
//! The order of precedence is the one tccli documents: keys given explicitly (project file,
//! command line), then `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` /
//! `TENCENTCLOUD_TOKEN`, then tccli's profile file `~/.tccli/<profile>.credential` (profile
//! from `TCCLI_PROFILE`, default `default`). Values are held in [`Secret`]s: they never
//! appear in `Debug` output, logs or error messages.

use std::path::{Path, PathBuf};

use migspec_spec::secret::Secret;

use crate::config::ConfigError;

/// Environment variable holding the SecretId.
pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
/// Environment variable holding the SecretKey.
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
/// Environment variable holding the session token of temporary credentials.
pub const ENV_TOKEN: &str = "TENCENTCLOUD_TOKEN";
/// The variables above that hold credentials: a spec's `fromEnv` may not name them (they
/// would send migspec's own cloud keys to a database or bucket).
pub const CREDENTIAL_ENV: &[&str] = &[ENV_SECRET_ID, ENV_SECRET_KEY, ENV_TOKEN];
/// Environment variable naming the tccli profile.
pub const ENV_PROFILE: &str = "TCCLI_PROFILE";

/// Where a set of credentials was found (for messages; never the values).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Given explicitly (project file, command line, tests).
    Explicit,
    /// `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` (and `TENCENTCLOUD_TOKEN`).
    Environment,
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

    /// Finds credentials in the documented order: `explicit`, the environment (read through
    /// `lookup`), then the tccli profile file under `home`. `Ok(None)` means none of them
    /// holds any.
    ///
    /// # Errors
    ///
    /// When a source is present but unusable: only one of the two variables set, a value
    /// with surrounding spaces, an unreadable or malformed profile file.
    pub fn resolve(
        explicit: Option<Self>,
        lookup: &dyn Fn(&str) -> Option<String>,
        home: Option<&Path>,
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
        let Some(home) = home else {
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
    pub fn missing_message(lookup: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> String {
        let profile = lookup(ENV_PROFILE)
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let file = home.map_or_else(
            || format!("~/.tccli/{profile}.credential"),
            |home| profile_path(home, &profile).display().to_string(),
        );
        format!(
            "no Tencent Cloud credentials found: set {ENV_SECRET_ID} and {ENV_SECRET_KEY} (and {ENV_TOKEN} for temporary credentials), or create the tccli profile {file} (`tccli configure`; profile chosen by {ENV_PROFILE})"
        )
    }
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
            Some(home.path()),
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
        let found = Credentials::resolve(None, &lookup, Some(home.path()))
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
        let found = Credentials::resolve(None, &env(&[(ENV_PROFILE, "prod")]), Some(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret_id().expose(), "AKIDprod");
        assert_eq!(found.token().map(Secret::expose), Some("tp"));
        assert!(matches!(found.source(), CredentialSource::Profile { .. }));
        // The default profile is not the prod one.
        assert!(
            Credentials::resolve(None, &env(&[]), Some(home.path()))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn half_set_environment_and_bad_values_are_errors_naming_the_variable() {
        let error = Credentials::resolve(None, &env(&[(ENV_SECRET_ID, "AKID")]), None).unwrap_err();
        assert!(error.to_string().contains(ENV_SECRET_KEY), "{error}");
        let error = Credentials::resolve(
            None,
            &env(&[(ENV_SECRET_ID, "AKID"), (ENV_SECRET_KEY, "key\n")]),
            None,
        )
        .unwrap_err();
        assert!(error.to_string().contains("whitespace"), "{error}");
        assert!(!error.to_string().contains("key\n"));
        let home = home_with("default", r#"{"type":"cvm-role"}"#);
        let error = Credentials::resolve(None, &env(&[]), Some(home.path())).unwrap_err();
        assert!(error.to_string().contains("cvm-role"), "{error}");
        let home = home_with("default", "not json");
        assert!(Credentials::resolve(None, &env(&[]), Some(home.path())).is_err());
    }

    #[test]
    fn nothing_found_names_every_source() {
        let home = tempfile::tempdir().unwrap();
        assert!(
            Credentials::resolve(None, &env(&[]), Some(home.path()))
                .unwrap()
                .is_none()
        );
        let message = Credentials::missing_message(&env(&[]), Some(home.path()));
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
}

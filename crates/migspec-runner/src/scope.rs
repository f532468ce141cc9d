//! Which recorded addresses a run may touch: the spec paths it was given.
//!
//! An address recorded in the state remembers the spec file it was last applied from,
//! relative to the project root (the working directory), so the rule works the same on
//! every machine that shares the state. A run over `specs/redis` treats as "removed" only
//! the recorded addresses whose file lies under `specs/redis`; everything else is outside
//! the run and untouched. Paths are compared lexically (`.` and `..` resolved, no file
//! system access), because a removed spec's file no longer exists to be canonicalised.

use std::path::{Component, Path, PathBuf};

/// The given spec paths of a run, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    roots: Vec<PathBuf>,
    everything: bool,
}

impl Scope {
    /// The scope of spec paths given on the command line (relative to the working
    /// directory, or absolute). No paths: nothing recorded is in scope.
    #[must_use]
    pub fn new(paths: &[PathBuf]) -> Self {
        Self {
            roots: paths.iter().map(|path| absolute(path)).collect(),
            everything: false,
        }
    }

    /// Every recorded address, wherever its spec was (`migspec status`).
    #[must_use]
    pub fn everything() -> Self {
        Self {
            roots: Vec::new(),
            everything: true,
        }
    }

    /// Whether a recorded spec file (as [`project_relative`] wrote it) lies under one of
    /// the given paths. An address recorded without a file (imported without `--out`, or
    /// by an older migspec) is in no path's scope: only its spec, once applied, brings it in.
    #[must_use]
    pub fn covers(&self, recorded_file: Option<&str>) -> bool {
        if self.everything {
            return true;
        }
        let Some(recorded_file) = recorded_file else {
            return false;
        };
        let file = absolute(Path::new(recorded_file));
        self.roots.iter().any(|root| file.starts_with(root))
    }

    /// The given paths, for messages (`specs/`, `specs/redis`).
    #[must_use]
    pub fn describe(&self) -> String {
        self.roots
            .iter()
            .map(|root| project_relative(root))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A spec file's path as the state records it: relative to the working directory when it
/// lies under it (`specs/orders.yaml`), absolute otherwise.
#[must_use]
pub fn project_relative(path: &Path) -> String {
    let file = absolute(path);
    let root = absolute(Path::new("."));
    match file.strip_prefix(&root) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => relative.display().to_string(),
        Err(_) => file.display().to_string(),
    }
}

/// `path` made absolute against the working directory and cleaned lexically.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sub_directory_covers_only_its_own_files() {
        let scope = Scope::new(&[PathBuf::from("specs/redis/")]);
        assert!(scope.covers(Some("specs/redis/cache.yaml")));
        assert!(scope.covers(Some("specs/redis/deep/x.yaml")));
        assert!(!scope.covers(Some("specs/orders.yaml")));
        assert!(
            !scope.covers(Some("specs/redis-old/x.yaml")),
            "components, not prefixes"
        );
        assert!(!scope.covers(None), "no recorded file: outside every path");
        let all = Scope::new(&[PathBuf::from("./specs")]);
        assert!(all.covers(Some("specs/redis/cache.yaml")));
        assert!(all.covers(Some("specs/../specs/orders.yaml")));
        assert!(!Scope::default().covers(Some("specs/orders.yaml")));
        assert!(Scope::everything().covers(None));
        let file = Scope::new(&[PathBuf::from("specs/orders.yaml")]);
        assert!(file.covers(Some("specs/orders.yaml")));
        assert!(!file.covers(Some("specs/orders.yaml.bak")));
    }

    #[test]
    fn recorded_paths_are_relative_to_the_project_root() {
        assert_eq!(
            project_relative(Path::new("./specs/../specs/a.yaml")),
            "specs/a.yaml"
        );
        assert_eq!(
            project_relative(Path::new("/elsewhere/a.yaml")),
            "/elsewhere/a.yaml"
        );
        assert_eq!(Scope::new(&[PathBuf::from("specs/")]).describe(), "specs");
    }
}

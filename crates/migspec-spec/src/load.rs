//! Finding and reading spec files.
//!
//! Every `*.yaml`/`*.yml` under the given paths is a spec file, except the project file
//! `migspec.yaml` (`migspec.yml`) and anything in a hidden directory (`.git`, `.migspec`).
//! A path named explicitly is read whatever its extension. Files are read whole, refused
//! above [`MAX_FILE_BYTES`], and must be UTF-8 text.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, SourceFile, line_column};
use crate::yaml::{self, Node, Span};

/// The largest spec file migspec reads (1 MiB): real specs are a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Names of the project file, which sits beside the specs but is not one.
pub const PROJECT_FILE_NAMES: [&str; 2] = ["migspec.yaml", "migspec.yml"];

/// One YAML document of a spec file.
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    /// The file it came from.
    pub file: Arc<SourceFile>,
    /// Its position in the file (0-based).
    pub index: usize,
    /// Its tree, with spans.
    pub root: Node,
}

/// Lists the spec files under `paths`, sorted, with a diagnostic for each path that does not
/// exist or cannot be listed.
#[must_use]
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) => {
                problems.push(
                    Diagnostic::error(
                        "migspec::load::not_found",
                        format!("cannot read `{}`: {error}", path.display()),
                    )
                    .at_path(path, None)
                    .with_help("pass a spec file or a directory of *.yaml specs"),
                );
                continue;
            }
        };
        if metadata.is_file() {
            files.push(path.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() && is_spec_file(entry.path()) => {
                    files.push(entry.into_path());
                }
                Ok(_) => {}
                Err(error) => {
                    let at = error.path().unwrap_or(path).to_path_buf();
                    problems.push(
                        Diagnostic::error(
                            "migspec::load::unreadable",
                            format!("cannot list `{}`: {error}", at.display()),
                        )
                        .at_path(&at, None),
                    );
                }
            }
        }
    }
    files.sort();
    files.dedup();
    (files, problems)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|name| name.starts_with('.'))
}

fn is_spec_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    if PROJECT_FILE_NAMES.contains(&name) {
        return false;
    }
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Reads a spec file and parses its documents.
///
/// # Errors
///
/// One diagnostic naming the file (and line and column when known) when the file cannot be
/// read, is too large, is binary, is not UTF-8, is not YAML, or holds no document.
pub fn load_file(path: &Path) -> Result<Vec<LoadedDocument>, Box<Diagnostic>> {
    let bytes = read_capped(path)?;
    let head = &bytes[..bytes.len().min(8192)];
    // `contains` on bytes is a vectorised memchr; only a binary file pays for `position`.
    if head.contains(&0)
        && let Some(at) = head.iter().position(|&byte| byte == 0)
    {
        return Err(Box::new(
            Diagnostic::error(
                "migspec::load::binary",
                format!("`{}` is a binary file, not a YAML spec", path.display()),
            )
            .at_path(path, Some(position_in_prefix(&bytes, at)))
            .with_help("remove it from the spec directory, or name the spec files explicitly"),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            return Err(Box::new(
                Diagnostic::error(
                    "migspec::load::not_utf8",
                    format!(
                        "`{}` is not UTF-8 text (invalid byte 0x{:02x} at offset {at})",
                        path.display(),
                        bytes[at]
                    ),
                )
                .at_path(path, Some(position_in_prefix(&bytes, at)))
                .with_help("save the file as UTF-8"),
            ));
        }
    };
    let file = Arc::new(SourceFile::new(path, text));
    parse_file(&file)
}

/// Parses the documents of a file already in memory.
///
/// # Errors
///
/// As [`load_file`], for YAML problems and files without documents.
pub fn parse_file(file: &Arc<SourceFile>) -> Result<Vec<LoadedDocument>, Box<Diagnostic>> {
    let roots = yaml::parse_documents(file.text()).map_err(|error| {
        let help = match error.kind {
            yaml::YamlErrorKind::DuplicateKey => "remove one of the two keys",
            yaml::YamlErrorKind::Budget => {
                "specs are small documents: check for runaway aliases or nesting"
            }
            yaml::YamlErrorKind::Syntax => "fix the YAML syntax at this place",
        };
        let span = error.span.unwrap_or(Span::new(0, 0));
        Box::new(
            Diagnostic::error(error.kind.code(), error.message)
                .in_file(file)
                .with_label(span, Some("here".to_owned()), true)
                .with_help(help),
        )
    })?;
    if roots.is_empty() {
        return Err(Box::new(
            Diagnostic::error(
                "migspec::load::empty",
                format!("`{}` holds no YAML document", file.name()),
            )
            .in_file(file)
            .with_label(Span::new(0, 0), Some("empty".to_owned()), true)
            .with_help("write a spec here (see `migspec schema`), or delete the file"),
        ));
    }
    Ok(roots
        .into_iter()
        .enumerate()
        .map(|(index, root)| LoadedDocument {
            file: Arc::clone(file),
            index,
            root,
        })
        .collect())
}

fn read_capped(path: &Path) -> Result<Vec<u8>, Box<Diagnostic>> {
    let unreadable = |error: std::io::Error| {
        Box::new(
            Diagnostic::error(
                "migspec::load::unreadable",
                format!("cannot read `{}`: {error}", path.display()),
            )
            .at_path(path, None),
        )
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let cap = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
        let (line, column) = position_in_prefix(&bytes, cap);
        return Err(Box::new(Diagnostic::error(
            "migspec::load::too_large",
            format!(
                "`{}` is larger than {} KiB, the most a spec file may be (the limit falls on line {line})",
                path.display(),
                MAX_FILE_BYTES / 1024
            ),
        )
        .at_path(path, Some((line, column)))
        .with_help("split it into several spec files")));
    }
    Ok(bytes)
}

fn position_in_prefix(bytes: &[u8], at: usize) -> (usize, usize) {
    let prefix = String::from_utf8_lossy(&bytes[..at.min(bytes.len())]);
    line_column(&prefix, prefix.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "migspec-load-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn discovery_skips_project_file_hidden_dirs_and_other_extensions() {
        let dir = temp_dir();
        std::fs::create_dir_all(dir.join(".migspec")).unwrap();
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        for name in [
            "b.yaml",
            "a.yml",
            "migspec.yaml",
            "notes.txt",
            ".migspec/state.yaml",
            "nested/c.yaml",
        ] {
            std::fs::write(dir.join(name), "x: 1\n").unwrap();
        }
        let (files, problems) = discover(std::slice::from_ref(&dir));
        assert!(problems.is_empty());
        let names: Vec<_> = files
            .iter()
            .map(|file| file.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "nested/c.yaml"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_path_is_a_diagnostic() {
        let (files, problems) = discover(&[PathBuf::from("/definitely/not/here")]);
        assert!(files.is_empty());
        assert_eq!(problems[0].code, "migspec::load::not_found");
    }

    #[test]
    fn binary_non_utf8_and_oversized_files_are_refused_with_positions() {
        let dir = temp_dir();
        std::fs::write(dir.join("bin.yaml"), b"a: 1\n\0\x01\x02").unwrap();
        std::fs::write(dir.join("latin1.yaml"), b"a: 1\nname: caf\xe9\n").unwrap();
        std::fs::write(
            dir.join("big.yaml"),
            vec![b'#'; usize::try_from(MAX_FILE_BYTES).unwrap() + 10],
        )
        .unwrap();
        let binary = load_file(&dir.join("bin.yaml")).unwrap_err();
        assert_eq!(binary.code, "migspec::load::binary");
        assert_eq!(binary.position(), Some((2, 1)));
        let latin = load_file(&dir.join("latin1.yaml")).unwrap_err();
        assert_eq!(latin.code, "migspec::load::not_utf8");
        assert_eq!(latin.position(), Some((2, 10)));
        let big = load_file(&dir.join("big.yaml")).unwrap_err();
        assert_eq!(big.code, "migspec::load::too_large");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

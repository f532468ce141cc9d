//! Finding and reading spec files.
//!
//! Every `*.yaml`/`*.yml` under the given paths is a spec file, except the project file
//! `migspec.yaml` (`migspec.yml`) and anything in a hidden directory (`.git`, `.migspec`).
//! A path named explicitly is read whatever its extension. Symbolic links are followed (see
//! [`discover`] for loops, dangling links and a file reached twice). Files are read whole, refused
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
///
/// Symbolic links are followed, to files and to directories. A link that leads nowhere
/// (dangling), a link loop, an unreadable directory and a special file (a FIFO, a socket)
/// with a spec file's name are errors naming the path, so that a spec set with a hole in it
/// is never planned (a spec that is not read would look like a spec that left the set). A
/// file reached twice (a link to a file already in the set) is read once, with a warning
/// naming both paths. Other names, the project file and hidden directories are skipped
/// silently, as documented above.
#[must_use]
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) => {
                problems.push(match link_problem(path, &error) {
                    Some(problem) => problem,
                    None => Diagnostic::error(
                        "migspec::load::not_found",
                        format!("cannot read `{}`: {error}", path.display()),
                    )
                    .at_path(path, None)
                    .with_help("pass a spec file or a directory of *.yaml specs"),
                });
                continue;
            }
        };
        if metadata.is_file() {
            files.push(path.clone());
            continue;
        }
        if !metadata.is_dir() {
            problems.push(not_a_file(path));
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
        for entry in walker {
            match entry {
                Ok(entry) if !is_spec_file(entry.path()) => {}
                Ok(entry) if entry.file_type().is_file() => files.push(entry.into_path()),
                Ok(entry) if entry.file_type().is_dir() => {}
                Ok(entry) => problems.push(not_a_file(entry.path())),
                Err(error) => {
                    let at = error.path().unwrap_or(path).to_path_buf();
                    // Editors leave dangling links such as `.#spec.yaml`: hidden, so skipped.
                    if at != *path && at.file_name().is_some_and(is_hidden) {
                        continue;
                    }
                    problems.push(walk_problem(&at, &error));
                }
            }
        }
    }
    files.sort();
    files.dedup();
    let (files, duplicates) = read_once(files);
    problems.extend(duplicates);
    (files, problems)
}

fn not_a_file(path: &Path) -> Diagnostic {
    Diagnostic::error(
        "migspec::load::not_a_file",
        format!(
            "`{}` is neither a regular file nor a directory (a FIFO, socket or device)",
            path.display()
        ),
    )
    .at_path(path, None)
    .with_help("remove it from the spec directory, or rename it")
}

/// A diagnostic for an entry the walk could not follow or list.
fn walk_problem(at: &Path, error: &walkdir::Error) -> Diagnostic {
    if let Some(ancestor) = error.loop_ancestor() {
        return Diagnostic::error(
            "migspec::load::symlink_loop",
            format!(
                "`{}` is a symbolic link loop: it leads back to `{}`",
                at.display(),
                ancestor.display()
            ),
        )
        .at_path(at, None)
        .with_help("remove the link, or point it at a directory outside the spec set");
    }
    if let Some(problem) = error.io_error().and_then(|io| link_problem(at, io)) {
        return problem;
    }
    // walkdir's own message repeats the path; the I/O error alone says why.
    let why = error
        .io_error()
        .map_or_else(|| error.to_string(), ToString::to_string);
    Diagnostic::error(
        "migspec::load::unreadable",
        format!("cannot list `{}`: {why}", at.display()),
    )
    .at_path(at, None)
    .with_help("make it readable, or pass only the spec paths that are (a spec not read would look like a spec that left the set)")
}

/// `ELOOP` on Linux (and most Unix systems but macOS, where it is 62).
#[cfg(not(target_os = "macos"))]
const ELOOP: i32 = 40;
#[cfg(target_os = "macos")]
const ELOOP: i32 = 62;

/// When `path` is a symbolic link that cannot be followed, says so (dangling or a loop).
fn link_problem(path: &Path, error: &std::io::Error) -> Option<Diagnostic> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return None;
    }
    let target = std::fs::read_link(path)
        .map_or_else(|_| "?".to_owned(), |target| target.display().to_string());
    // "Too many levels of symbolic links": the chain of links never reaches a file.
    let looping = error.raw_os_error() == Some(ELOOP);
    Some(if looping {
        Diagnostic::error(
            "migspec::load::symlink_loop",
            format!(
                "`{}` is a symbolic link loop (to `{target}`, which never reaches a file)",
                path.display()
            ),
        )
        .at_path(path, None)
        .with_help("point the link at a spec file or directory, or remove it")
    } else {
        Diagnostic::error(
            "migspec::load::dangling_link",
            format!(
                "`{}` is a dangling symbolic link (to `{target}`): {error}",
                path.display()
            ),
        )
        .at_path(path, None)
        .with_help("restore its target, or remove the link")
    })
}

/// Keeps one path per file: a file reached twice (through a link) is read once, under the
/// path that is not a link when there is one, else the first in order, with a warning.
fn read_once(files: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut by_target: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for file in files {
        // A file that cannot be resolved is kept as it is: reading it says why.
        let target = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        match index.get(&target) {
            Some(&at) => {
                let (_, paths): &mut (PathBuf, Vec<PathBuf>) = &mut by_target[at];
                paths.push(file);
            }
            None => {
                index.insert(target.clone(), by_target.len());
                by_target.push((target, vec![file]));
            }
        }
    }
    let mut kept = Vec::with_capacity(by_target.len());
    let mut warnings = Vec::new();
    for (_, mut paths) in by_target {
        let chosen = paths
            .iter()
            .position(|path| {
                !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
            })
            .unwrap_or(0);
        let first = paths.remove(chosen);
        for other in paths {
            warnings.push(
                Diagnostic::error(
                    "migspec::load::same_file",
                    format!(
                        "`{}` is the same file as `{}` (a symbolic link): read once",
                        other.display(),
                        first.display()
                    ),
                )
                .warning()
                .at_path(&other, None)
                .with_help("remove the extra link if it is not needed"),
            );
        }
        kept.push(first);
    }
    kept.sort();
    (kept, warnings)
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
            yaml::YamlErrorKind::Version => {
                "remove the `%YAML` line (or write `%YAML 1.2`) and check the values YAML 1.1 reads differently"
            }
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

    #[cfg(unix)]
    #[test]
    fn links_are_followed_once_and_broken_links_are_errors_naming_them() {
        use std::os::unix::fs::symlink;
        let dir = temp_dir();
        let specs = dir.join("specs");
        std::fs::create_dir_all(specs.join(".hidden")).unwrap();
        std::fs::create_dir_all(dir.join("elsewhere/deep")).unwrap();
        std::fs::write(dir.join("elsewhere/linked.yaml"), "x: 1\n").unwrap();
        std::fs::write(dir.join("elsewhere/deep/d.yaml"), "x: 1\n").unwrap();
        std::fs::write(specs.join("a.yaml"), "x: 1\n").unwrap();
        symlink("../elsewhere/linked.yaml", specs.join("file-link.yaml")).unwrap();
        symlink("../elsewhere/deep", specs.join("dir-link")).unwrap();
        symlink("a.yaml", specs.join("0-again.yaml")).unwrap();
        // Skipped silently: a link with another name, and an editor's dangling lock link.
        symlink("a.yaml", specs.join("notes.txt")).unwrap();
        symlink("user@host.1234", specs.join(".#a.yaml")).unwrap();
        let (files, problems) = discover(std::slice::from_ref(&specs));
        let names: Vec<_> = files
            .iter()
            .map(|file| file.strip_prefix(&specs).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.yaml", "dir-link/d.yaml", "file-link.yaml"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(!problems[0].is_error());
        assert_eq!(problems[0].code, "migspec::load::same_file");
        assert!(problems[0].message.contains("0-again.yaml"), "{problems:?}");

        symlink("missing.yaml", specs.join("dangling.yaml")).unwrap();
        symlink("loop-b.yaml", specs.join("loop-a.yaml")).unwrap();
        symlink("loop-a.yaml", specs.join("loop-b.yaml")).unwrap();
        symlink(".", specs.join("up")).unwrap();
        let (_, problems) = discover(std::slice::from_ref(&specs));
        let errors: Vec<_> = problems
            .iter()
            .filter(|problem| problem.is_error())
            .map(|problem| (problem.code.to_string(), problem.message.clone()))
            .collect();
        let codes: Vec<_> = errors.iter().map(|(code, _)| code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "migspec::load::dangling_link",
                "migspec::load::symlink_loop",
                "migspec::load::symlink_loop",
                "migspec::load::symlink_loop",
            ],
            "{errors:?}"
        );
        for (name, (_, message)) in ["dangling.yaml", "loop-a.yaml", "loop-b.yaml", "up"]
            .iter()
            .zip(&errors)
        {
            assert!(message.contains(&format!("specs/{name}`")), "{message}");
        }

        // A link named explicitly is followed too, and a dangling one is named.
        let (files, problems) = discover(&[specs.join("file-link.yaml")]);
        assert_eq!(files.len(), 1);
        assert!(problems.is_empty());
        let (_, problems) = discover(&[specs.join("dangling.yaml")]);
        assert_eq!(problems[0].code, "migspec::load::dangling_link");
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

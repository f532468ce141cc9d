//! `cargo xtask circles`: fails when the modules of a workspace crate import each other in a
//! circle (issue 12 item 8: "the module import circles broken"; kept broken by `ci`).
//!
//! A crate's modules are its source files (`a/b.rs` and `a/b/mod.rs` are `a::b`). Module
//! `a` depends on `b` when `a`'s file names `crate::b…` or `super::…` resolving to `b`, in a
//! `use` or in any path. A module and its own ancestors or descendants are not counted
//! (a parent declares its children; a child may use its parent's items), nor is
//! `#[cfg(test)]` code (a test module may reach anywhere). The files are parsed with `syn`,
//! so comments, strings and macros' text do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The module path of a source file relative to its crate's `src/`.
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| matches!(last.as_str(), "mod" | "lib" | "main"))
    {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            rust_files(&path, into)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
    Ok(())
}

/// The `crate::`/`super::` paths one file names (as segment lists from the crate root).
#[derive(Default)]
struct Paths {
    /// The file's module, split.
    here: Vec<String>,
    found: Vec<Vec<String>>,
}

impl Paths {
    fn rooted(&self, segments: &[String]) -> Option<Vec<String>> {
        match segments.first().map(String::as_str) {
            Some("crate") => Some(segments[1..].to_vec()),
            Some("super") => {
                let mut base = self.here.clone();
                let mut rest = segments;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            _ => None,
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.record(prefix, Some(name.ident.to_string())),
            syn::UseTree::Rename(rename) => self.record(prefix, Some(rename.ident.to_string())),
            syn::UseTree::Glob(_) => self.record(prefix, None),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn record(&mut self, prefix: &[String], last: Option<String>) {
        let mut segments = prefix.to_vec();
        segments.extend(last);
        if let Some(rooted) = self.rooted(&segments) {
            self.found.push(rooted);
        }
    }
}

fn is_test_only(attributes: &[syn::Attribute]) -> bool {
    attributes.iter().any(|attribute| {
        attribute.path().is_ident("cfg")
            && attribute
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attributes = match item {
            syn::Item::Mod(item) => &item.attrs,
            syn::Item::Fn(item) => &item.attrs,
            syn::Item::Impl(item) => &item.attrs,
            syn::Item::Use(item) => &item.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attributes) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        self.record(&segments, None);
        syn::visit::visit_path(self, path);
    }
}

/// The module dependency graph of one crate's `src/`.
fn graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let modules: BTreeMap<String, PathBuf> = files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(src).unwrap_or(&file).to_path_buf();
            (module_of(&relative), file)
        })
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed = syn::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut paths = Paths {
            here: module
                .split("::")
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect(),
            found: Vec::new(),
        };
        paths.visit_file(&parsed);
        let targets = edges.entry(module.clone()).or_default();
        for segments in paths.found {
            // The longest module prefix of the path is the module it names.
            let Some(target) = (1..=segments.len())
                .rev()
                .map(|length| segments[..length].join("::"))
                .find(|candidate| modules.contains_key(candidate))
            else {
                continue;
            };
            let related = target == *module
                || module.is_empty()
                || target.starts_with(&format!("{module}::"))
                || module.starts_with(&format!("{target}::"));
            if !related {
                targets.insert(target);
            }
        }
    }
    Ok(edges)
}

/// The strongly connected components with more than one module (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Search<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, node: &'g str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.found
}

/// Checks every crate under `crates/` and `xtask/`.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let mut sources = vec![root.join("xtask/src")];
    let crates = root.join("crates");
    let entries = std::fs::read_dir(&crates).map_err(|e| format!("{}: {e}", crates.display()))?;
    for entry in entries {
        let src = entry
            .map_err(|e| format!("{}: {e}", crates.display()))?
            .path()
            .join("src");
        if src.is_dir() {
            sources.push(src);
        }
    }
    sources.sort();
    let mut report = Vec::new();
    for src in &sources {
        let graph = graph(src)?;
        for circle in circles(&graph) {
            let members: BTreeSet<&String> = circle.iter().collect();
            let mut lines = vec![format!("{}: {}", src.display(), circle.join(" ↔ "))];
            for module in &circle {
                for target in graph[module]
                    .iter()
                    .filter(|target| members.contains(target))
                {
                    lines.push(format!("    {module} imports {target}"));
                }
            }
            report.push(lines.join("\n"));
        }
    }
    if report.is_empty() {
        crate::say(&format!(
            "circles: no module import circle in {} crates",
            sources.len()
        ));
        Ok(())
    } else {
        Err(format!(
            "modules import each other in a circle (move what both need into a module both import):\n{}",
            report.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn a_circle_through_use_or_path_is_found_and_parents_tests_and_comments_are_not() {
        let dir = std::env::temp_dir().join(format!("xtask-circles-{}", std::process::id()));
        let src = dir.join("src");
        write(&src, "lib.rs", "mod a; mod b; mod c; mod d;\n");
        write(&src, "a.rs", "use crate::b::{Thing, other::More};\n");
        write(
            &src,
            "b/mod.rs",
            "pub mod other;\npub fn f() { crate::a::g(); }\n",
        );
        write(
            &src,
            "b/other.rs",
            "use super::f; // crate::c::X in a comment\n",
        );
        write(
            &src,
            "c.rs",
            "#[cfg(test)]\nmod tests { use crate::d::Y; }\nconst S: &str = \"crate::d::Z\";\n",
        );
        write(&src, "d.rs", "use crate::c::Q;\n");
        let graph = graph(&src).expect("graph");
        assert_eq!(circles(&graph), vec![vec!["a".to_owned(), "b".to_owned()]]);
        // b::other → b is a child using its parent: no edge; c → d only in tests and text.
        assert!(graph["b::other"].is_empty(), "{graph:?}");
        assert!(graph["c"].is_empty(), "{graph:?}");
        assert_eq!(graph["d"], BTreeSet::from(["c".to_owned()]));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

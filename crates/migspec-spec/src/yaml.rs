//! Strict YAML loading into a tree that keeps the byte span of every key and value.
//!
//! Every spec file goes through [`parse_documents`], which applies one fixed option set:
//! YAML 1.2 booleans only (`yes`, `on`, `NO` stay strings), numbers with leading zeros stay
//! strings (`0755`), duplicate keys are an error, merge keys are expanded, a `%YAML` directive
//! other than 1.2 is refused, and budgets bound the nodes of each document, nesting depth and
//! alias expansion in the whole file, so that an alias bomb fails fast instead of exhausting
//! memory.
//!
//! The tree ([`Node`]) converts to a [`serde_json::Value`] for schema validation and typed
//! deserialization, and answers "where is `/spec/MigrateOption/RunMode`?" by walking the tree
//! ([`Node::locate`]), so no pointer index has to be built for files that validate cleanly.

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{self, Event, ScalarStyle};

/// A byte range in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    /// Offset of the first byte.
    pub offset: usize,
    /// Length in bytes (zero for a point, as for the start of a mapping).
    pub len: usize,
}

impl Span {
    /// A span from an offset and a length.
    #[must_use]
    pub const fn new(offset: usize, len: usize) -> Self {
        Self { offset, len }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new(span.offset.into(), span.len)
    }
}

/// The most YAML nodes one document may expand to (aliases included); a spec is about a
/// hundred. Per document, not per file: a file may hold many specs (a 1 MiB file of ordinary
/// specs is about 50,000 nodes), and its size already bounds the nodes written out.
pub const MAX_NODES: usize = 20_000;
/// The most nodes alias expansion may copy in one file, all documents together: what the
/// file size does not bound (each document of a file of small alias bombs stays under
/// [`MAX_NODES`], but together they would not).
pub const MAX_ALIAS_NODES: usize = 100_000;
/// The deepest nesting allowed; the deepest real spec is about ten levels.
pub const MAX_DEPTH: usize = 32;

/// One node of a parsed YAML document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node is used in the file (for a mapping or sequence, a point at its start).
    pub span: Span,
    /// What the node holds.
    pub value: NodeValue,
}

/// The value of a YAML node, after the strict YAML 1.2 scalar resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer that does not fit `i64`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key is written.
    pub span: Span,
}

/// Where a JSON pointer lands in the YAML source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The span of the value.
    pub value: Span,
    /// The span of the key naming it, when the value sits in a mapping.
    pub key: Option<Span>,
    /// True when the whole pointer resolved; false when only a prefix did (the spans are then
    /// those of the deepest node that exists, e.g. the parent of a missing field).
    pub exact: bool,
}

impl Node {
    /// Converts the tree to JSON, the form the schema validator and the typed model read.
    #[must_use]
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::Number((*i).into()),
            NodeValue::UInt(u) => Value::Number((*u).into()),
            NodeValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            NodeValue::String(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (key, value) in entries {
                    map.insert(key.name.clone(), value.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// The child under a mapping key, if this is a mapping holding it.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            NodeValue::Map(entries) => entries
                .iter()
                .find(|(key, _)| key.name == name)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Finds the node a JSON pointer (RFC 6901, e.g. `/spec/SrcInfo/Port`) designates.
    ///
    /// When part of the pointer does not exist, the deepest existing node is returned with
    /// `exact: false`, so that an error about a missing field can point at its parent.
    #[must_use]
    pub fn locate(&self, pointer: &str) -> Located {
        let mut node = self;
        let mut key_span = None;
        if pointer.is_empty() {
            return Located {
                value: node.span,
                key: None,
                exact: true,
            };
        }
        for raw in pointer.trim_start_matches('/').split('/') {
            let segment = unescape_pointer_segment(raw);
            let next = match &node.value {
                NodeValue::Map(entries) => entries
                    .iter()
                    .find(|(key, _)| key.name == segment)
                    .map(|(key, value)| (Some(key.span), value)),
                NodeValue::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| items.get(index))
                    .map(|value| (None, value)),
                _ => None,
            };
            match next {
                Some((key, value)) => {
                    key_span = key;
                    node = value;
                }
                None => {
                    return Located {
                        value: node.span,
                        key: key_span,
                        exact: false,
                    };
                }
            }
        }
        Located {
            value: node.span,
            key: key_span,
            exact: true,
        }
    }

    /// Looks up a node by JSON pointer; `None` when it does not exist.
    #[must_use]
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        if pointer.is_empty() {
            return Some(node);
        }
        for raw in pointer.trim_start_matches('/').split('/') {
            let segment = unescape_pointer_segment(raw);
            node = match &node.value {
                NodeValue::Map(entries) => &entries.iter().find(|(key, _)| key.name == segment)?.1,
                NodeValue::Seq(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// Escapes one JSON pointer segment (`~` → `~0`, `/` → `~1`).
#[must_use]
pub fn escape_pointer_segment(segment: &str) -> String {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1")
    } else {
        segment.to_owned()
    }
}

/// Reverses [`escape_pointer_segment`].
#[must_use]
pub fn unescape_pointer_segment(segment: &str) -> String {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~")
    } else {
        segment.to_owned()
    }
}

/// A YAML file that could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What the parser said, without its own source snippet.
    pub message: String,
    /// Where, when the parser knows.
    pub span: Option<Span>,
    /// The kind of failure.
    pub kind: YamlErrorKind,
}

/// The kinds of YAML failures that get their own diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// Malformed YAML.
    Syntax,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// A size, depth or alias-expansion budget was exceeded.
    Budget,
    /// A `%YAML` directive for a version other than 1.2.
    Version,
}

impl YamlErrorKind {
    /// The diagnostic code for this kind.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Syntax => "migspec::yaml::syntax",
            Self::DuplicateKey => "migspec::yaml::duplicate_key",
            Self::Budget => "migspec::yaml::budget",
            Self::Version => "migspec::yaml::version",
        }
    }
}

/// Parses every document of a YAML stream (documents separated by `---`).
///
/// Empty documents (nothing, or only comments, between separators) are skipped.
///
/// # Errors
///
/// Returns the first syntax error, duplicate key or exceeded budget, located when possible.
pub fn parse_documents(source: &str) -> Result<Vec<Node>, YamlError> {
    Composer::new(source).run()
}

// Why a composer of our own over the parser's events instead of `serde_saphyr::from_str`:
// serde-saphyr's serde layer (deserialize_any plus `Spanned<T>` on every node) measured
// 1.41 s for 10,000 parses of a 55-line spec on this machine, against 0.39 s for iterating the
// same parser's events, and `migspec validate` has 1.0 s for 10,000 files in total. So we keep
// serde-saphyr's parser (granit-parser, which serde-saphyr re-exports) and build the span tree
// from its events, applying the rules we would otherwise configure in serde-saphyr:
// YAML 1.2 core-schema scalars (`strict_booleans`), numbers with leading zeros as strings
// (`leading_zero_numbers_as_strings`), duplicate keys as errors, merge keys expanded, and a
// budget on nodes (alias expansion included) and nesting depth.
struct Composer<'input> {
    source: &'input str,
    parser: granit_parser::Parser<'input, granit_parser::StrInput<'input>>,
    /// Anchored nodes of the current document, by anchor id.
    anchors: Vec<Option<Node>>,
    /// Nodes created so far in this document, copies made by alias expansion included.
    nodes: usize,
    /// Nodes copied by alias expansion so far in this file.
    alias_nodes: usize,
}

/// A collection being built.
enum Frame {
    Seq {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        span: Span,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        /// The keys of `entries` by name, once there are many (see [`KeyIndex`]).
        index: KeyIndex,
        pending_key: Option<Key>,
        merged: Vec<(Key, Node)>,
    },
}

/// Finds a mapping's keys by name for the duplicate check: by scanning while the mapping is
/// small (a spec's mappings hold a handful of keys, and a scan allocates nothing), through a
/// hash index once it is large, so that a mapping of 10,000 keys costs 10,000 look-ups
/// instead of 50 million string comparisons.
#[derive(Default)]
struct KeyIndex(Option<std::collections::HashMap<String, usize>>);

impl KeyIndex {
    /// Above this many keys the index is built.
    const SCAN_LIMIT: usize = 32;

    fn find<'e>(&mut self, entries: &'e [(Key, Node)], name: &str) -> Option<&'e Key> {
        if self.0.is_none() && entries.len() > Self::SCAN_LIMIT {
            self.0 = Some(
                entries
                    .iter()
                    .enumerate()
                    .map(|(at, (key, _))| (key.name.clone(), at))
                    .collect(),
            );
        }
        match &self.0 {
            Some(index) => index.get(name).map(|&at| &entries[at].0),
            None => entries
                .iter()
                .find(|(key, _)| key.name == name)
                .map(|(key, _)| key),
        }
    }

    fn push(&mut self, entries: &mut Vec<(Key, Node)>, key: Key, node: Node) {
        if let Some(index) = &mut self.0 {
            index.insert(key.name.clone(), entries.len());
        }
        entries.push((key, node));
    }
}

impl<'input> Composer<'input> {
    fn new(source: &'input str) -> Self {
        Self {
            source,
            parser: granit_parser::Parser::new_from_str(source),
            anchors: Vec::new(),
            nodes: 0,
            alias_nodes: 0,
        }
    }

    fn span_of(&self, span: &granit_parser::Span) -> Span {
        match span.byte_range() {
            Some(range) => Span::new(range.start, range.end.saturating_sub(range.start)),
            None => Span::new(span.start.index().min(self.source.len()), 0),
        }
    }

    fn error(kind: YamlErrorKind, message: impl Into<String>, span: Option<Span>) -> YamlError {
        YamlError {
            message: message.into(),
            span,
            kind,
        }
    }

    fn run(mut self) -> Result<Vec<Node>, YamlError> {
        let mut documents = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        while let Some(next) = self.parser.next_event() {
            let (event, raw_span) = next.map_err(|error| {
                let marker = error.marker();
                let offset = marker.byte_offset().unwrap_or_else(|| marker.index());
                Self::error(
                    YamlErrorKind::Syntax,
                    error.to_string(),
                    Some(Span::new(offset.min(self.source.len()), 0)),
                )
            })?;
            let span = self.span_of(&raw_span);
            let node = match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_, version) => {
                    if let Some(version) = version
                        && (version.major, version.minor) != (1, 2)
                    {
                        return Err(self.version_error(version, span));
                    }
                    self.anchors.clear();
                    self.nodes = 0;
                    root = None;
                    continue;
                }
                Event::DocumentEnd => {
                    if let Some(node) = root.take()
                        && node.value != NodeValue::Null
                    {
                        documents.push(node);
                    }
                    continue;
                }
                Event::Alias(id) => {
                    let Some(copied) = self
                        .anchors
                        .get(id)
                        .and_then(Option::as_ref)
                        .map(|target| count_nodes(&target.value))
                    else {
                        return Err(Self::error(
                            YamlErrorKind::Syntax,
                            "alias refers to an anchor that is not defined before it",
                            Some(span),
                        ));
                    };
                    // Counted before the copy is made, so that a bomb never allocates.
                    self.count_alias(copied, span)?;
                    self.count(copied, span)?;
                    let value = self.anchors[id]
                        .as_ref()
                        .map_or(NodeValue::Null, |target| target.value.clone());
                    Node { span, value }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.count(1, span)?;
                    let value =
                        resolve_scalar(&text, style, tag.as_deref()).map_err(|message| {
                            Self::error(YamlErrorKind::Syntax, message, Some(span))
                        })?;
                    let node = Node { span, value };
                    self.remember(anchor, &node);
                    node
                }
                Event::SequenceStart(_, anchor, tag) => {
                    check_collection_tag(tag.as_deref(), "seq", span)?;
                    self.count(1, span)?;
                    push(
                        &mut stack,
                        Frame::Seq {
                            span,
                            anchor,
                            items: Vec::new(),
                        },
                        span,
                    )?;
                    continue;
                }
                Event::MappingStart(_, anchor, tag) => {
                    check_collection_tag(tag.as_deref(), "map", span)?;
                    self.count(1, span)?;
                    push(
                        &mut stack,
                        Frame::Map {
                            span,
                            anchor,
                            entries: Vec::new(),
                            index: KeyIndex::default(),
                            pending_key: None,
                            merged: Vec::new(),
                        },
                        span,
                    )?;
                    continue;
                }
                Event::SequenceEnd => {
                    let Some(Frame::Seq {
                        span,
                        anchor,
                        items,
                    }) = stack.pop()
                    else {
                        return Err(Self::error(
                            YamlErrorKind::Syntax,
                            "unbalanced sequence",
                            Some(span),
                        ));
                    };
                    let node = Node {
                        span,
                        value: NodeValue::Seq(items),
                    };
                    self.remember(anchor, &node);
                    node
                }
                Event::MappingEnd => {
                    let Some(Frame::Map {
                        span,
                        anchor,
                        mut entries,
                        mut index,
                        merged,
                        ..
                    }) = stack.pop()
                    else {
                        return Err(Self::error(
                            YamlErrorKind::Syntax,
                            "unbalanced mapping",
                            Some(span),
                        ));
                    };
                    // Explicit keys win over merged ones, wherever the `<<` stands.
                    for (key, value) in merged {
                        if index.find(&entries, &key.name).is_none() {
                            index.push(&mut entries, key, value);
                        }
                    }
                    let node = Node {
                        span,
                        value: NodeValue::Map(entries),
                    };
                    self.remember(anchor, &node);
                    node
                }
                _ => continue,
            };
            self.attach(&mut stack, &mut root, node)?;
        }
        Ok(documents)
    }

    /// Adds a finished node to the collection being built (or makes it the document root).
    fn attach(
        &self,
        stack: &mut [Frame],
        root: &mut Option<Node>,
        node: Node,
    ) -> Result<(), YamlError> {
        match stack.last_mut() {
            None => *root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                index,
                pending_key,
                merged,
                ..
            }) => match pending_key.take() {
                None => {
                    let name = key_text(&node)?;
                    if name != "<<"
                        && let Some(first) = index.find(entries, &name)
                    {
                        let line = line_of(self.source, first.span.offset);
                        return Err(Self::error(
                            YamlErrorKind::DuplicateKey,
                            format!("duplicate key `{name}` (first defined on line {line})"),
                            Some(node.span),
                        ));
                    }
                    *pending_key = Some(Key {
                        name,
                        span: node.span,
                    });
                }
                Some(key) if key.name == "<<" => merge_into(merged, node).map_err(|span| {
                    Self::error(
                        YamlErrorKind::Syntax,
                        "a merge key `<<` takes a mapping or a list of mappings",
                        Some(span),
                    )
                })?,
                Some(key) => index.push(entries, key, node),
            },
        }
        Ok(())
    }

    fn count(&mut self, nodes: usize, span: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(Self::error(
                YamlErrorKind::Budget,
                format!(
                    "this document expands to more than {MAX_NODES} YAML nodes (aliases included); \
                     a spec is far smaller, so this looks like an alias bomb"
                ),
                Some(span),
            ));
        }
        Ok(())
    }

    fn count_alias(&mut self, nodes: usize, span: Span) -> Result<(), YamlError> {
        self.alias_nodes = self.alias_nodes.saturating_add(nodes);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(Self::error(
                YamlErrorKind::Budget,
                format!(
                    "aliases in this file expand to more than {MAX_ALIAS_NODES} YAML nodes; \
                     specs use a few small anchors, so this looks like an alias bomb"
                ),
                Some(span),
            ));
        }
        Ok(())
    }

    /// The error for a `%YAML` directive other than 1.2, located at the directive (the
    /// document-start event's span is the `---` after it, or the document's first token).
    fn version_error(&self, version: granit_parser::YamlVersion, start: Span) -> YamlError {
        let before = &self.source[..start.offset.min(self.source.len())];
        let span = before.rfind("%YAML").map_or(start, |at| {
            let line_len = self.source[at..]
                .find(['\n', '\r'])
                .unwrap_or(self.source.len() - at);
            Span::new(at, line_len)
        });
        Self::error(
            YamlErrorKind::Version,
            format!(
                "`%YAML {}.{}` asks for YAML {}.{} semantics; migspec reads YAML 1.2 only \
                 (in 1.1, `yes`, `on` and `0755` mean other things)",
                version.major, version.minor, version.major, version.minor
            ),
            Some(span),
        )
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(node.clone());
    }
}

fn push(stack: &mut Vec<Frame>, frame: Frame, span: Span) -> Result<(), YamlError> {
    if stack.len() >= MAX_DEPTH {
        return Err(Composer::error(
            YamlErrorKind::Budget,
            format!("nesting is deeper than {MAX_DEPTH} levels"),
            Some(span),
        ));
    }
    stack.push(frame);
    Ok(())
}

fn check_collection_tag(
    tag: Option<&granit_parser::Tag>,
    expected: &str,
    span: Span,
) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.is_yaml_core_schema_tag(expected) => Ok(()),
        Some(tag) => Err(Composer::error(
            YamlErrorKind::Syntax,
            format!("unsupported YAML tag `{}`", tag.original()),
            Some(span),
        )),
    }
}

fn key_text(node: &Node) -> Result<String, YamlError> {
    Ok(match &node.value {
        NodeValue::String(s) => s.clone(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::UInt(u) => u.to_string(),
        NodeValue::Float(f) => f.to_string(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Null => "null".to_owned(),
        NodeValue::Seq(_) | NodeValue::Map(_) => {
            return Err(Composer::error(
                YamlErrorKind::Syntax,
                "a mapping key must be a scalar, not a collection",
                Some(node.span),
            ));
        }
    })
}

fn count_nodes(value: &NodeValue) -> usize {
    1 + match value {
        NodeValue::Seq(items) => items.iter().map(|item| count_nodes(&item.value)).sum(),
        NodeValue::Map(entries) => entries
            .iter()
            .map(|(_, value)| 1 + count_nodes(&value.value))
            .sum(),
        _ => 0,
    }
}

fn merge_into(merged: &mut Vec<(Key, Node)>, node: Node) -> Result<(), Span> {
    // The first mapping to name a key wins; an index keeps a merge of large mappings linear.
    let mut index = KeyIndex::default();
    let mut merge = |merged: &mut Vec<(Key, Node)>, entries: Vec<(Key, Node)>| {
        for (key, value) in entries {
            if index.find(merged, &key.name).is_none() {
                index.push(merged, key, value);
            }
        }
    };
    match node.value {
        NodeValue::Map(entries) => {
            merge(merged, entries);
            Ok(())
        }
        NodeValue::Seq(items) => {
            for item in items {
                let NodeValue::Map(entries) = item.value else {
                    return Err(item.span);
                };
                merge(merged, entries);
            }
            Ok(())
        }
        _ => Err(node.span),
    }
}

/// The 1-based line of a byte offset.
#[must_use]
pub fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// Resolves a scalar by the YAML 1.2 core schema, except that numbers written with leading
/// zeros (`0755`) stay strings, as they are in YAML 1.1 and in every spec we have seen.
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&granit_parser::Tag>,
) -> Result<NodeValue, String> {
    if let Some(tag) = tag {
        let suffix = tag.core_suffix().unwrap_or_default();
        return match suffix {
            "str" => Ok(NodeValue::String(text.to_owned())),
            "null" | "bool" | "int" | "float" => {
                let value = resolve_plain(text);
                let matches = matches!(
                    (suffix, &value),
                    ("null", NodeValue::Null)
                        | ("bool", NodeValue::Bool(_))
                        | ("int", NodeValue::Int(_) | NodeValue::UInt(_))
                        | ("float", NodeValue::Float(_) | NodeValue::Int(_))
                );
                if matches {
                    Ok(value)
                } else {
                    Err(format!("`{text}` is not a valid `{}`", tag.original()))
                }
            }
            _ => Err(format!("unsupported YAML tag `{}`", tag.original())),
        };
    }
    Ok(match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => NodeValue::String(text.to_owned()),
    })
}

fn resolve_plain(text: &str) -> NodeValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeValue::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeValue::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeValue::Float(f64::NAN),
        _ => {}
    }
    let string = || NodeValue::String(text.to_owned());
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return string();
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).map_or_else(|_| string(), NodeValue::Int);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).map_or_else(|_| string(), NodeValue::Int);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let digits = unsigned.as_bytes();
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return string();
    }
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        if let Ok(value) = text.parse::<i64>() {
            return NodeValue::Int(value);
        }
        return unsigned
            .parse::<u64>()
            .ok()
            .filter(|_| !text.starts_with('-'))
            .map_or_else(string, NodeValue::UInt);
    }
    if is_core_float(unsigned)
        && let Ok(value) = text.parse::<f64>()
    {
        return NodeValue::Float(value);
    }
    string()
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core-schema float without its sign.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            all_digits(int) && all_digits(frac) && (!frac.is_empty() || !int.is_empty())
        }
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && all_digits(digits)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(source: &str) -> Node {
        let mut docs = parse_documents(source).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn spans_point_at_keys_and_scalars() {
        let source = "a:\n  b: 42\n  c: [x, \"y\"]\n";
        let root = one(source);
        let located = root.locate("/a/b");
        assert!(located.exact);
        assert_eq!(&source[located.value.offset..][..located.value.len], "42");
        let key = located.key.unwrap();
        assert_eq!(&source[key.offset..][..key.len], "b");
        let item = root.locate("/a/c/1");
        assert_eq!(&source[item.value.offset..][..item.value.len], "\"y\"");
    }

    #[test]
    fn missing_pointer_falls_back_to_parent() {
        let source = "a:\n  b: 1\n";
        let root = one(source);
        let located = root.locate("/a/zz");
        assert!(!located.exact);
        let key = located.key.unwrap();
        assert_eq!(&source[key.offset..][..key.len], "a");
    }

    #[test]
    fn yaml_11_booleans_and_leading_zeros_stay_strings() {
        let root = one("a: yes\nb: NO\nc: 0755\nd: true\n");
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": "yes", "b": "NO", "c": "0755", "d": true})
        );
    }

    #[test]
    fn duplicate_keys_are_an_error_with_location() {
        let error = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(error.kind, YamlErrorKind::DuplicateKey, "{error}");
        assert!(error.span.is_some());
    }

    #[test]
    fn multiple_documents_keep_absolute_offsets() {
        let source = "a: 1\n---\nb: 2\n";
        let docs = parse_documents(source).unwrap();
        assert_eq!(docs.len(), 2);
        let located = docs[1].locate("/b");
        assert_eq!(&source[located.value.offset..][..located.value.len], "2");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut source = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..9 {
            let prev = level - 1;
            source.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let error = parse_documents(&source).unwrap_err();
        assert_eq!(error.kind, YamlErrorKind::Budget, "{error}");
    }

    #[test]
    fn yaml_11_directive_is_refused_at_the_directive() {
        let source = "a: 1\n---\n%YAML 1.1\n---\nb: yes\n";
        // A directive needs an explicit end of the document before it.
        let source = source.replacen("---\n%YAML", "...\n%YAML", 1);
        let error = parse_documents(&source).unwrap_err();
        assert_eq!(error.kind, YamlErrorKind::Version, "{error}");
        let span = error.span.unwrap();
        assert_eq!(&source[span.offset..][..span.len], "%YAML 1.1");
        assert!(error.message.contains("1.2"), "{error}");
    }

    #[test]
    fn yaml_12_directive_is_accepted() {
        assert_eq!(parse_documents("%YAML 1.2\n---\na: 1\n").unwrap().len(), 1);
    }

    #[test]
    fn node_budget_is_per_document() {
        // 30 documents of about 1,000 nodes: 30,000 in the file, each far under the budget.
        let document: String = (0..500).map(|i| format!("k{i}: v\n")).collect();
        let source = vec![document; 30].join("---\n");
        assert_eq!(parse_documents(&source).unwrap().len(), 30);
    }

    #[test]
    fn one_document_over_the_budget_is_refused() {
        let document: String = (0..(MAX_NODES / 2 + 1))
            .map(|i| format!("k{i}: v\n"))
            .collect();
        let error = parse_documents(&format!("a: 1\n---\n{document}")).unwrap_err();
        assert_eq!(error.kind, YamlErrorKind::Budget, "{error}");
    }

    #[test]
    fn small_alias_bombs_in_many_documents_are_refused() {
        // Each document copies 10,000 nodes, under the per-document budget; eleven of them
        // exceed the file's alias budget.
        let bomb = format!(
            "a: &a [{}]\nb: [{}]\n",
            vec!["x"; 999].join(", "),
            ["*a"; 10].join(", ")
        );
        assert!(parse_documents(&bomb).is_ok());
        assert!(parse_documents(&vec![bomb.clone(); 10].join("---\n")).is_ok());
        let error = parse_documents(&vec![bomb; 11].join("---\n")).unwrap_err();
        assert_eq!(error.kind, YamlErrorKind::Budget, "{error}");
        assert!(error.span.is_some());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let source = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_documents(&source).is_err());
    }

    #[test]
    fn pointer_escaping_round_trips() {
        for segment in ["a/b", "c~d", "plain", "~/~1"] {
            assert_eq!(
                unescape_pointer_segment(&escape_pointer_segment(segment)),
                segment
            );
        }
    }

    #[test]
    fn merge_keys_expand_and_explicit_keys_win() {
        let root = one("base: &b {x: 1, y: 2}\nuse:\n  y: 3\n  <<: *b\n");
        assert_eq!(root.to_json()["use"], serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn core_schema_scalars() {
        let root = one(
            "a: 1e3\nb: -12\nc: 0x1f\nd: 1_000\ne: ~\nf: '1'\ng: .5\nh: 18446744073709551615\n",
        );
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": 1000.0, "b": -12, "c": 31, "d": "1_000", "e": null, "f": "1", "g": 0.5, "h": 18_446_744_073_709_551_615_u64})
        );
    }

    #[test]
    fn empty_documents_are_skipped() {
        assert!(parse_documents("").unwrap().is_empty());
        assert!(parse_documents("# only a comment\n").unwrap().is_empty());
        assert_eq!(parse_documents("---\n---\na: 1\n").unwrap().len(), 1);
    }

    #[test]
    fn syntax_errors_are_located() {
        let error = parse_documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(error.kind, YamlErrorKind::Syntax);
        assert!(error.span.is_some());
    }

    #[test]
    fn custom_tags_are_refused() {
        assert!(parse_documents("a: !secret x\n").is_err());
        assert_eq!(
            one("a: !!str 12\n").to_json(),
            serde_json::json!({"a": "12"})
        );
    }
}

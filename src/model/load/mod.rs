//! Reads a rules directory into Doc types. Problems inside files become
//! diagnostics; a directory that cannot be read at all is a [`LoadError`].
//! It must not check what the documents mean beyond their kind and shape.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::doc::{
    CalendarDoc, ExperimentDoc, MappingDoc, PolicyDoc, Probe, SchemaDoc, TableDoc, TemplateDoc,
};
use super::spanned::{reading, Format, Spanned};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::input::{kind_of, read_regular, ReadError};
use crate::source::{SourceFile, Span};

/// Rule files larger than this are rejected unread: no policy is this big.
pub const MAX_RULE_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Rule files per directory (subdirectories included) above which the
/// directory is refused: it is not a rules directory (`arrears lint /`?).
pub const MAX_RULE_FILES: usize = 10_000;
/// Total bytes of rule files read from one directory; the files past it are
/// reported and not read.
pub const MAX_TOTAL_RULE_BYTES: u64 = 64 * 1024 * 1024;

/// The documents of a rules directory, each with the file it came from.
#[derive(Debug, Default)]
pub struct RuleDocs {
    pub files: Vec<Arc<SourceFile>>,
    pub schemas: Vec<(Arc<SourceFile>, SchemaDoc)>,
    pub tables: Vec<(Arc<SourceFile>, TableDoc)>,
    pub calendars: Vec<(Arc<SourceFile>, CalendarDoc)>,
    pub templates: Vec<(Arc<SourceFile>, TemplateDoc)>,
    pub experiments: Vec<(Arc<SourceFile>, ExperimentDoc)>,
    pub policies: Vec<(Arc<SourceFile>, PolicyDoc)>,
    /// Column mappings for `arrears batch`; not rules, so the checker ignores them.
    pub mappings: Vec<(Arc<SourceFile>, MappingDoc)>,
    /// Test documents found among the rules, for `arrears test`.
    pub test_files: Vec<PathBuf>,
    /// Names that files which failed to load probably define (see [`Broken`]):
    /// the checker does not report their uses again.
    pub broken: Broken,
    pub diagnostics: Vec<Diagnostic>,
}

/// What the rule files that failed to load would have defined, as far as their
/// text tells: their file stems and the values of their top-level keys
/// (`table: entry` → `entry`). A use of such a name is a follow-on of the
/// load error, not a problem of its own.
#[derive(Debug, Default)]
pub struct Broken {
    pub names: Vec<String>,
    /// Whether one of them may be the schema (its kind could not be told, or it is `schema`).
    pub maybe_schema: bool,
}

impl Broken {
    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn note(&mut self, file: &SourceFile) {
        let stem = Path::new(&file.name).file_stem().and_then(|s| s.to_str());
        self.names.extend(stem.map(str::to_string));
        let keys = top_level_lines(&file.text);
        self.maybe_schema |= keys.is_empty() || keys.iter().any(|(k, _)| *k == "schema");
        for (_, value) in keys {
            if crate::model::doc::is_identifier(value) {
                self.names.push(value.to_string());
            }
        }
    }
}

/// `key: value` (YAML) or `key = "value"` (TOML) lines at the top level, read
/// from the text alone (the file may not parse): key and unquoted value.
fn top_level_lines(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-', '[', '.', '%']))
        .filter_map(|l| {
            let at = l.find([':', '='])?;
            let key = l[..at].trim().trim_matches(['"', '\'']);
            let value = l[at + 1..].split(" #").next().unwrap_or("").trim();
            Some((key, value.trim_matches(['"', '\''])))
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{0}` is not a directory of rule files")]
    NotADirectory(PathBuf),
    #[error(
        "`{dir}` holds more than {MAX_RULE_FILES} rule files; is it really a rules directory?"
    )]
    TooManyFiles { dir: PathBuf },
}

/// Loads every `.yaml`, `.yml` and `.toml` file below `dir`, in path order.
/// Each file is read once: a link back to a directory already walked is
/// skipped, and so is a rule file that is not a regular file (a FIFO would
/// block the read, a device never ends), each with a warning naming it.
pub fn load_dir(dir: &Path) -> Result<RuleDocs, LoadError> {
    let meta = std::fs::metadata(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(LoadError::NotADirectory(dir.to_path_buf()));
    }
    let mut docs = RuleDocs::default();
    let mut paths = Vec::new();
    let mut walk = Walk {
        root: std::fs::canonicalize(dir).map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?,
        visited: vec![(meta.dev(), meta.ino())],
        files: &mut paths,
        diagnostics: &mut docs.diagnostics,
    };
    walk.dir(dir)?;
    if paths.len() > MAX_RULE_FILES {
        return Err(LoadError::TooManyFiles {
            dir: dir.to_path_buf(),
        });
    }
    paths.sort();
    let mut total = 0u64;
    for path in paths {
        let name = path.display().to_string();
        let not_read = |code, message: String, help: &str| {
            Diagnostic::error(
                code,
                &SourceFile::new(name.clone(), String::new()),
                Span::default(),
                message,
            )
            .with_help(help)
        };
        let too_many_bytes = || {
            not_read(
                "too-many-bytes",
                format!(
                    "not read: the rules directory holds more than {} MiB of rule files",
                    MAX_TOTAL_RULE_BYTES >> 20
                ),
                "a rules directory holds policy, not data; move generated or data files elsewhere",
            )
        };
        if total >= MAX_TOTAL_RULE_BYTES {
            docs.diagnostics.push(too_many_bytes());
            continue;
        }
        let bytes = match read_regular(&path, MAX_RULE_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(ReadError::TooLarge { .. }) => {
                docs.diagnostics.push(not_read(
                    "file-too-large",
                    format!("rule file is larger than {} MiB", MAX_RULE_FILE_BYTES >> 20),
                    "split the table into smaller tables, or move data out of the rules directory",
                ));
                continue;
            }
            // Swapped for a FIFO or device after the walk looked at it.
            Err(ReadError::NotRegular { kind, .. }) => {
                docs.diagnostics.push(skipped(&name, kind));
                continue;
            }
            Err(ReadError::Io { path, source }) => return Err(LoadError::Io { path, source }),
        };
        total += bytes.len() as u64;
        if total > MAX_TOTAL_RULE_BYTES {
            docs.diagnostics.push(too_many_bytes());
            continue;
        }
        match String::from_utf8(bytes) {
            Ok(text) => load_text(&mut docs, SourceFile::new(name, text)),
            Err(err) => {
                let valid = err.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                let file = SourceFile::new(name, text);
                docs.diagnostics.push(
                    Diagnostic::error(
                        "not-utf8",
                        &file,
                        Span::new(valid, valid + 1),
                        "rule file is not valid UTF-8",
                    )
                    .with_help("save the file as UTF-8"),
                );
            }
        }
    }
    Ok(docs)
}

/// A warning that the rule file `name` was not read: it is a `kind`.
fn skipped(name: &str, kind: &str) -> Diagnostic {
    Diagnostic::warning(
        "skipped-file",
        &SourceFile::new(name, String::new()),
        Span::default(),
        format!("skipped: not a regular file ({kind})"),
    )
    .with_help("rule files are regular files; remove it from the rules directory")
}

/// The walk of a rules directory: the directories entered (device and inode,
/// so a symlink back into one is not walked again) and the rule files found.
struct Walk<'a> {
    /// The rules directory, canonical: a symlink to a directory inside it is
    /// skipped, since the directory is read through its own path.
    root: PathBuf,
    visited: Vec<(u64, u64)>,
    files: &'a mut Vec<PathBuf>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path) -> Result<(), LoadError> {
        let io = |source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<PathBuf>, _>>()
            .map_err(io)?;
        entries.sort();
        for path in entries {
            // Through symlinks; a stat opens nothing, so a FIFO cannot block it.
            let meta = match std::fs::metadata(&path) {
                Ok(meta) => meta,
                // A dangling symlink named like a rule file.
                Err(source) if format_of(&path).is_some() => {
                    return Err(LoadError::Io { path, source })
                }
                Err(_) => continue,
            };
            if meta.is_dir() {
                // `tests/` holds test documents and their accounts: `arrears test` reads them, not the rules.
                if path.file_name().is_some_and(|n| n == "tests") {
                    continue;
                }
                let id = (meta.dev(), meta.ino());
                let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                let inside = is_link
                    && std::fs::canonicalize(&path).is_ok_and(|p| p.starts_with(&self.root));
                if inside || self.visited.contains(&id) {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "skipped-file",
                            &SourceFile::new(path.display().to_string(), String::new()),
                            Span::default(),
                            "skipped: a symlink to a directory that is read through another path (a symlink loop?)",
                        )
                        .with_help("each rule file is read once; remove the link"),
                    );
                    continue;
                }
                self.visited.push(id);
                if self.files.len() > MAX_RULE_FILES {
                    return Ok(());
                }
                self.dir(&path)?;
            } else if format_of(&path).is_some() {
                if meta.is_file() {
                    self.files.push(path);
                } else {
                    let name = path.display().to_string();
                    self.diagnostics
                        .push(skipped(&name, kind_of(meta.file_type())));
                }
            }
        }
        Ok(())
    }
}

pub fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "yaml" | "yml" => Some(Format::Yaml),
        "toml" => Some(Format::Toml),
        _ => None,
    }
}

/// Parses one file's text (its name decides the format) into `docs`.
pub fn load_text(docs: &mut RuleDocs, file: Arc<SourceFile>) {
    docs.files.push(file.clone());
    let Some(format) = format_of(Path::new(&file.name)) else {
        return;
    };
    if file.text.trim().is_empty() {
        docs.diagnostics
            .push(empty_file(&file, "rule file is empty"));
        docs.broken.note(&file);
        return;
    }
    let probe = match parse::<Probe>(format, &file) {
        Ok(probe) => probe,
        Err(diagnostic) => {
            docs.diagnostics.push(*diagnostic);
            docs.broken.note(&file);
            return;
        }
    };
    if probe.tests.is_some() {
        docs.test_files.push(PathBuf::from(&file.name));
        return;
    }
    if probe.mapping.is_some() {
        match parse::<MappingDoc>(format, &file) {
            Ok(d) => docs.mappings.push((file.clone(), d)),
            Err(diagnostic) => {
                docs.diagnostics.push(*diagnostic);
                docs.broken.note(&file);
            }
        }
        return;
    }
    // Templates and policies name their calendar with a `calendar` key of their own.
    let calendar_doc =
        probe.calendar.is_some() && probe.template.is_none() && probe.policy.is_none();
    let kinds = [
        ("schema", probe.schema.is_some()),
        ("table", probe.table.is_some()),
        ("calendar", calendar_doc),
        ("template", probe.template.is_some()),
        ("experiment", probe.experiment.is_some()),
        ("policy", probe.policy.is_some()),
    ];
    let present: Vec<&str> = kinds.iter().filter(|(_, p)| *p).map(|(k, _)| *k).collect();
    let result = match present.as_slice() {
        ["schema"] => {
            parse::<SchemaDoc>(format, &file).map(|d| docs.schemas.push((file.clone(), d)))
        }
        ["table"] => parse::<TableDoc>(format, &file).map(|d| docs.tables.push((file.clone(), d))),
        ["calendar"] => {
            parse::<CalendarDoc>(format, &file).map(|d| docs.calendars.push((file.clone(), d)))
        }
        ["template"] => {
            parse::<TemplateDoc>(format, &file).map(|d| docs.templates.push((file.clone(), d)))
        }
        ["experiment"] => {
            parse::<ExperimentDoc>(format, &file).map(|d| docs.experiments.push((file.clone(), d)))
        }
        ["policy"] => {
            parse::<PolicyDoc>(format, &file).map(|d| docs.policies.push((file.clone(), d)))
        }
        [] => Err(Box::new(unknown_document(format, &file))),
        several => Err(Box::new(
            Diagnostic::error(
                "unknown-document",
                &file,
                Span::new(0, 1),
                format!(
                    "a file holds one document, but this one has the keys {}",
                    several
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            )
            .with_help("put each document in a file of its own"),
        )),
    };
    if let Err(diagnostic) = result {
        docs.diagnostics.push(*diagnostic);
        docs.broken.note(&file);
    }
}

/// The top-level keys that name a document kind (a test document's `tests`, a mapping's `mapping` included).
const DOCUMENT_KEYS: [&str; 8] = [
    "table",
    "schema",
    "policy",
    "template",
    "experiment",
    "calendar",
    "mapping",
    "tests",
];

fn empty_file(file: &Arc<SourceFile>, message: &str) -> Diagnostic {
    Diagnostic::error("empty-file", file, Span::default(), message)
        .with_help("start a table with `table: <name>` or a schema with `schema: <name>`")
}

/// A file none of whose top-level keys names a document kind: reported at the
/// key that is nearest to one (`tabel`), or at the first key.
fn unknown_document(format: Format, file: &Arc<SourceFile>) -> Diagnostic {
    let keys = parse::<TopLevelKeys>(format, file)
        .map(|k| k.0)
        .unwrap_or_default();
    let Some(first) = keys.first() else {
        return empty_file(file, "rule file holds only comments");
    };
    let near = keys
        .iter()
        .find_map(|k| did_you_mean(&k.value, DOCUMENT_KEYS).map(|help| (k, help)));
    let (key, help) = near.unwrap_or_else(|| {
        (
            first,
            "start a table with `table: <name>` (see docs/rule-files.md)".to_string(),
        )
    });
    let expected = DOCUMENT_KEYS.map(|k| format!("`{k}`"));
    Diagnostic::error(
        "unknown-document",
        file,
        key.span,
        format!(
            "unknown document: `{}` is not a document kind; expected a top-level {} or {} key",
            key.value,
            expected[..expected.len() - 1].join(", "),
            expected[expected.len() - 1]
        ),
    )
    .with_help(help)
}

/// The top-level keys of a document, with their spans, in file order.
struct TopLevelKeys(Vec<Spanned<String>>);

impl<'de> serde::Deserialize<'de> for TopLevelKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> serde::de::Visitor<'de> for KeysVisitor {
            type Value = TopLevelKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TopLevelKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(TopLevelKeys(keys))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<TopLevelKeys, E> {
                Ok(TopLevelKeys(Vec::new()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<TopLevelKeys, E> {
                Ok(TopLevelKeys(Vec::new()))
            }
        }
        deserializer.deserialize_any(KeysVisitor)
    }
}

pub(crate) fn parse<T: DeserializeOwned>(
    format: Format,
    file: &Arc<SourceFile>,
) -> Result<T, Box<Diagnostic>> {
    reading(format, file, || match format {
        Format::Yaml => {
            serde_saphyr::from_str_with_options::<T>(&file.text, yaml_options(&file.text))
                .map_err(|e| Box::new(yaml_diagnostic(file, &e)))
        }
        Format::Toml => {
            toml::from_str::<T>(&file.text).map_err(|e| Box::new(toml_diagnostic(file, &e)))
        }
    })
}

/// Values (nodes) any YAML file may hold, however short.
pub const MIN_YAML_NODES: usize = 200_000;

/// The options for every YAML arrears reads (rules, accounts, scenarios),
/// for the file `text`.
pub fn yaml_options(text: &str) -> serde_saphyr::Options {
    // Written out, a YAML value takes at least a byte, so a file holds at most
    // one value per byte: more means aliases expand it (an alias bomb), which is
    // refused fast. A 100,000-row table (1.3 million values in 8 MiB) fits.
    let max_nodes = text.len().max(MIN_YAML_NODES);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: max_nodes,
            // Each value is at most a start and an end event.
            max_events: 2 * max_nodes + 16,
            max_total_scalar_bytes: text.len().max(32 * 1024 * 1024),
        },
        // YAML 1.2 booleans only: `no` (Norway), `off` or `n` stay text.
        strict_booleans: true,
        // `00123` is an id, not 123.
        leading_zero_numbers_as_strings: true,
    }
}

fn yaml_diagnostic(file: &Arc<SourceFile>, err: &serde_saphyr::Error) -> Diagnostic {
    let (message, help) = describe_yaml_error(err);
    let start = err.location().map_or(0, |l| {
        file.offset_of(l.line() as usize, l.column() as usize)
    });
    if message.contains("did not find expected") {
        if let Some(at) = dedented_line(&file.text, start) {
            return Diagnostic::error("yaml", file, Span::new(at, at + 1), message).with_help(
                "this line is indented less than the lines around it: indent it like the line above",
            );
        }
    }
    let span = Span::new(start, (start + 1).min(file.text.len().max(start)));
    Diagnostic::error("yaml", file, span, message).with_help_opt(help)
}

/// YAML notices a dedented `key: value` line only at the next line, which is
/// then indented more than it: where that dedented line starts, when the line
/// before it is indented like the line the error is on.
fn dedented_line(text: &str, error_at: usize) -> Option<usize> {
    let content = |line: &str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let indent = |line: &str| line.len() - line.trim_start().len();
    let line_start = text.get(..error_at)?.rfind('\n').map_or(0, |i| i + 1);
    let mut starts = text[..line_start]
        .split_inclusive('\n')
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len();
            Some((start, line))
        })
        .filter(|(_, line)| content(line))
        .collect::<Vec<_>>()
        .into_iter()
        .rev();
    let error_line = text[line_start..].lines().next().unwrap_or("");
    let (p_start, p) = starts.next()?;
    let (_, q) = starts.next()?;
    let opens_block = p.trim_end().ends_with([':', '|', '>', '-', '+']);
    (indent(p) < indent(error_line) && indent(q) == indent(error_line) && !opens_block)
        .then(|| p_start + indent(p))
}

/// A YAML error in the user's words: serde-saphyr's message without its
/// location (shown separately) or library advice, and a fix hint where one is known.
/// Shared by rule files and accounts files.
pub fn describe_yaml_error(err: &serde_saphyr::Error) -> (String, Option<String>) {
    let text = err.without_snippet().to_string();
    // The message ends with "at line L, column C"; the location is shown separately.
    let raw = match text.find(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    // Library advice ("set DuplicateKeyPolicy in Options ...") means nothing to a rule author.
    let raw = raw.split(", set ").next().unwrap_or(raw).trim();
    let (message, help): (String, Option<&str>) = if let Some(rest) =
        text.strip_prefix("budget breached: ")
    {
        if rest.starts_with("Depth") {
            (
                "YAML nesting is too deep".into(),
                Some("rule and account files are only a few levels deep; flatten the nested lists or mappings"),
            )
        } else {
            (
                "YAML budget exceeded: the file expands to more values than it has bytes".into(),
                Some("the file expands to too many values (an alias bomb?); remove the repeated aliases"),
            )
        }
    } else if raw.contains("recursion limit exceeded") {
        (
            "YAML nesting is too deep".into(),
            Some("rule and account files are only a few levels deep; flatten the nested lists or mappings"),
        )
    } else if raw.contains("block scalar") {
        (
            raw.into(),
            Some("in YAML a cell that starts with `>` or `|` must be quoted: \">= 5\""),
        )
    } else if raw.starts_with("duplicate mapping key") {
        (
            raw.into(),
            Some("each key may appear once in a mapping; remove or rename the repeated one"),
        )
    } else if raw.starts_with("unknown field") {
        (
            raw.into(),
            Some("check the spelling; see docs/rule-files.md for the keys each document takes"),
        )
    } else if raw.contains("multiple YAML documents") {
        (
            "the file holds more than one YAML document (a second one starts after `---`)".into(),
            Some("put each document in a file of its own"),
        )
    } else if raw.contains("found a tab") || raw.contains("tabs disallowed") {
        (raw.into(), Some("indent YAML with spaces, not tabs"))
    } else if raw == "expected sequence start" {
        (
            "expected a list here".into(),
            Some("write the items one per line, each starting with `- `"),
        )
    } else if raw == "expected mapping start" {
        (
            "expected a mapping (`key: value` lines) here".into(),
            Some("a rule file starts with the key naming its document, e.g. `table: entry`"),
        )
    } else if raw.starts_with("expected string scalar") {
        (
            "expected a single value here, not a list or a mapping".into(),
            Some("write one value, e.g. `hit: first`"),
        )
    } else if raw.contains("unclosed quote") {
        (
            raw.into(),
            Some("end the quoted value with the same quote it starts with"),
        )
    } else if raw.starts_with("unexpected character") {
        (
            raw.into(),
            Some("remove the control character; YAML files are plain text"),
        )
    } else if raw.starts_with("non-finite float") {
        (
            "number is too large (it overflows to infinity)".into(),
            Some("numbers have at most 28 significant digits; quote exact amounts, e.g. \"12.50\""),
        )
    } else {
        (raw.into(), None)
    };
    (lowercase_first(&message), help.map(str::to_string))
}

fn toml_diagnostic(file: &Arc<SourceFile>, err: &toml::de::Error) -> Diagnostic {
    let span = err.span().map_or(Span::new(0, 1), |r| {
        Span::new(r.start, r.end.max(r.start + 1))
    });
    let message = err.message().trim().to_string();
    if let Some(d) = unclosed_inline_table(file, span, &message)
        .or_else(|| single_table_header(file, span, &message))
    {
        return d;
    }
    let unquoted = message.contains("expected newline")
        || message.contains("invalid string")
        || message.contains("invalid basic string")
        || message.contains("must be quoted")
        || message.contains("extra assignment")
        || message.contains("expected `,`")
        || message.contains("invalid unquoted key");
    let (span, help) = if unquoted {
        (
            unquoted_value(file, span).unwrap_or(span),
            Some("in TOML every cell is a quoted string: dpd = \">= 5\"".to_string()),
        )
    } else if message.contains("duplicate key") {
        (
            span,
            Some(
                "each key may appear once in a table; remove or rename the repeated one"
                    .to_string(),
            ),
        )
    } else if message.contains("max recursion depth") {
        (
            span,
            Some(
                "rule files are only a few levels deep; flatten the nested arrays or tables"
                    .to_string(),
            ),
        )
    } else if message.starts_with("invalid type") {
        (span, Some(
            "check the value's type: see docs/rule-files.md for what each key takes (`rows` is an array of tables `[[rows]]`, `inputs` and `outputs` are tables)"
                .to_string(),
        ))
    } else if message.starts_with("unknown field") {
        (
            span,
            Some(
                "check the spelling; see docs/rule-files.md for the keys each document takes"
                    .to_string(),
            ),
        )
    } else {
        (span, None)
    };
    let message = if message.contains("max recursion depth") {
        "TOML nesting is too deep".to_string()
    } else {
        message
    };
    Diagnostic::error("toml", file, span, lowercase_first(&message)).with_help_opt(help)
}

/// Where the value that should have been quoted starts: after the last
/// assignment `key = ` on the error's line, when that value is not quoted.
fn unquoted_value(file: &SourceFile, span: Span) -> Option<Span> {
    let line_start = file.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let before = &file.text[line_start..span.start];
    let assign = before.match_indices(" =").last()?.0 + 2;
    let value = &before[assign..];
    let start = line_start + assign + (value.len() - value.trim_start().len());
    let first = file.text[start..].chars().next()?;
    (!matches!(first, '"' | '\'' | '{' | '[')).then(|| Span::new(start, span.end.max(start + 1)))
}

/// A line that starts where TOML wanted a `,` or `}`: the inline table on the
/// line before was not closed (inline tables cannot span lines).
fn unclosed_inline_table(file: &Arc<SourceFile>, span: Span, message: &str) -> Option<Diagnostic> {
    if !(message.contains("expected `,`") || message.contains("expected `}`")) {
        return None;
    }
    let before = file.text.get(..span.start)?;
    let line_start = before.rfind('\n')?;
    if !before[line_start..].trim().is_empty() {
        return None;
    }
    let previous = before[..line_start].trim_end();
    let previous_start = previous.rfind('\n').map_or(0, |i| i + 1);
    let line = &previous[previous_start..];
    if line.matches('{').count() <= line.matches('}').count() {
        return None;
    }
    let end = previous.len();
    Some(
        Diagnostic::error(
            "toml",
            file,
            Span::new(end, end + 1),
            "this line's inline table `{ ... }` is not closed: missing `}`",
        )
        .with_help("close the inline table with `}` on the same line: a TOML inline table cannot span lines"),
    )
}

/// `[rows]` where `[[rows]]` was meant: the next `[[rows]]` is then a duplicate
/// key, reported by TOML there; the mistake is the single-bracket header.
fn single_table_header(file: &Arc<SourceFile>, span: Span, message: &str) -> Option<Diagnostic> {
    if !message.contains("duplicate key") {
        return None;
    }
    let key = file.text.get(span.start..span.end)?.trim();
    let header = format!("[{key}]");
    let mut offset = 0;
    for line in file.text[..span.start].split_inclusive('\n') {
        if line.trim() == header {
            let start = offset + (line.len() - line.trim_start().len());
            return Some(
                Diagnostic::error(
                    "toml",
                    file,
                    Span::new(start, start + header.len()),
                    format!("`{header}` declares one table, but `[[{key}]]` follows"),
                )
                .with_help(format!("each entry of `{key}` starts with `[[{key}]]`")),
            );
        }
        offset += line.len();
    }
    None
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if !s.starts_with("TOML") && !s.starts_with("YAML") => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s.to_string(),
    }
}

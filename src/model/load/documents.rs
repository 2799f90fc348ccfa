//! What a rules directory holds: one document per file, its kind told by its
//! top-level key (a test document or a mapping set aside), parsed into its Doc
//! type; a file that fails leaves its probable names in [`Broken`]. It must not
//! read files (`mod.rs` walks the directory) or check what a document means.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::format_of;
use super::parse::parse;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::doc::{
    CalendarDoc, ExperimentDoc, GuardDoc, InvariantDoc, MappingDoc, PolicyDoc, Probe, SchemaDoc,
    TableDoc, TemplateDoc,
};
use crate::model::spanned::{Format, Spanned};
use crate::source::{SourceFile, Span};

/// The documents of a rules directory, each with the file it came from.
#[derive(Clone, Debug, Default)]
pub struct RuleDocs {
    pub files: Vec<Arc<SourceFile>>,
    pub schemas: Vec<(Arc<SourceFile>, SchemaDoc)>,
    pub tables: Vec<(Arc<SourceFile>, TableDoc)>,
    /// The guard-rail tables (`guardrails:` documents, also in `tables`), by name.
    pub guardrails: Vec<String>,
    /// The invariants the guard-rail packs state, with their file and pack name.
    pub invariants: Vec<(Arc<SourceFile>, String, Spanned<InvariantDoc>)>,
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
    /// The rule files' fingerprint (`sha256:` and 64 hex digits, see
    /// `load_dir`); empty for rules not read from a directory.
    pub fingerprint: String,
}

/// The name the policy gives its promise follow-up table's promise (`promise.status`).
pub const PROMISE_LOCAL: &str = "promise";

/// The name the policy gives its re-treatment table's facts (`retreat.promise_pending`).
pub const RETREAT_LOCAL: &str = "retreat";

/// What the rule files that failed to load would have defined, as far as their
/// text tells: their file stems and the values of their top-level keys
/// (`table: entry` → `entry`). A use of such a name is a follow-on of the
/// load error, not a problem of its own.
#[derive(Clone, Debug, Default)]
pub struct Broken {
    pub names: Vec<String>,
    /// Whether one of them may be the schema (its kind could not be told, or it is `schema`).
    pub maybe_schema: bool,
    /// A broken policy document's top-level `key: value` lines (`promise_follow_up:
    /// promise_follow_up`): the tables it wires still get their roles' names.
    pub policy_wiring: Vec<(String, String)>,
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
        if keys.iter().any(|(k, _)| *k == "policy") {
            self.policy_wiring
                .extend(keys.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            // What the policy gives its follow-up and re-treatment tables,
            // when their lines are the broken ones too.
            self.names.push(PROMISE_LOCAL.to_string());
            self.names.push(RETREAT_LOCAL.to_string());
        }
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

/// Whether a `key: ...` (YAML) or `key = ...` (TOML) line at the top level
/// of `text` names `key`, read from the text alone (the file may not parse).
pub(crate) fn has_top_level_key(text: &str, key: &str) -> bool {
    top_level_lines(text).iter().any(|(k, _)| *k == key)
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
    // A well-formed file whose lines name its kind is parsed once.
    if let Some(kind) = guessed_kind(&file.text) {
        if load_as(docs, kind, format, &file).is_ok() {
            return;
        }
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
        ("guardrails", probe.guardrails.is_some()),
        ("calendar", calendar_doc),
        ("template", probe.template.is_some()),
        ("experiment", probe.experiment.is_some()),
        ("policy", probe.policy.is_some()),
    ];
    let present: Vec<&str> = kinds.iter().filter(|(_, p)| *p).map(|(k, _)| *k).collect();
    let result = match present.as_slice() {
        [kind] => load_as(docs, kind, format, &file),
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

/// Parses `file` as a document of `kind` (a key of [`DOCUMENT_KINDS`]) into
/// `docs`; on an error `docs` is left as it was.
fn load_as(
    docs: &mut RuleDocs,
    kind: &str,
    format: Format,
    file: &Arc<SourceFile>,
) -> Result<(), Box<Diagnostic>> {
    let file = file.clone();
    match kind {
        "schema" => parse::<SchemaDoc>(format, &file).map(|d| docs.schemas.push((file, d))),
        "table" => parse::<TableDoc>(format, &file).map(|d| docs.tables.push((file, d))),
        "guardrails" => parse::<GuardDoc>(format, &file).map(|d| {
            docs.guardrails.push(d.guardrails.value.clone());
            for invariant in &d.invariants {
                let pack = d.guardrails.value.clone();
                docs.invariants
                    .push((file.clone(), pack, invariant.clone()));
            }
            docs.tables.push((file, d.into_table()));
        }),
        "calendar" => parse::<CalendarDoc>(format, &file).map(|d| docs.calendars.push((file, d))),
        "template" => parse::<TemplateDoc>(format, &file).map(|d| docs.templates.push((file, d))),
        "experiment" => {
            parse::<ExperimentDoc>(format, &file).map(|d| docs.experiments.push((file, d)))
        }
        "policy" => parse::<PolicyDoc>(format, &file).map(|d| docs.policies.push((file, d))),
        _ => Err(Box::new(unknown_document(format, &file))),
    }
}

/// The rule document kind the file's top-level lines name, when they name
/// exactly one (a template's or policy's own `calendar` key aside): a guess
/// that lets a well-formed file be parsed once instead of probed first. The
/// guess is safe because every document type refuses unknown keys, so a file
/// that parses as the guessed kind has no other kind's key.
pub(super) fn guessed_kind(text: &str) -> Option<&'static str> {
    let keys = top_level_lines(text);
    let has = |kind: &str| keys.iter().any(|(k, _)| *k == kind);
    if has("tests") || has("mapping") {
        return None;
    }
    let mut named = DOCUMENT_KINDS
        .iter()
        .copied()
        .filter(|kind| has(kind) && !(*kind == "calendar" && (has("template") || has("policy"))));
    match (named.next(), named.next()) {
        (Some(kind), None) => Some(kind),
        _ => None,
    }
}

/// The rule document kinds, each parsed by [`load_as`].
const DOCUMENT_KINDS: [&str; 7] = [
    "schema",
    "table",
    "guardrails",
    "calendar",
    "template",
    "experiment",
    "policy",
];

/// The top-level keys that name a document kind (a test document's `tests`, a mapping's `mapping` included).
const DOCUMENT_KEYS: [&str; 9] = [
    "table",
    "guardrails",
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

#[cfg(test)]
mod tests {
    use super::guessed_kind;

    #[test]
    fn the_kind_is_guessed_only_from_one_top_level_kind_key() {
        let cases = [
            (
                "# c\ntable: entry\nhit: first\nrows:\n  - id: a\n",
                Some("table"),
            ),
            ("table = \"exit\"\nhit = \"first\"\n", Some("table")),
            ("template: t\ncalendar: uk\nevents: []\n", Some("template")),
            ("policy: p\ncalendar: uk\n", Some("policy")),
            ("calendar: uk\nholidays: []\n", Some("calendar")),
            (
                "guardrails: reg_f\ninputs:\n  table: x\n",
                Some("guardrails"),
            ),
            // Two kinds, none, a test document, a mapping, a flow mapping: the probe decides.
            ("table: a\nschema: b\n", None),
            ("rows: []\n", None),
            ("tests: []\ntable: entry\n", None),
            ("mapping: m\n", None),
            ("{table: entry, hit: first}\n", None),
        ];
        for (text, kind) in cases {
            assert_eq!(guessed_kind(text), kind, "{text}");
        }
    }
}

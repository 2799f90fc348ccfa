//! Reading account snapshots for `dry-run`: a YAML list, a JSON array or
//! object, JSON Lines, or a directory of such files. A line of JSON Lines that
//! does not parse is that record's error; the other records still run.
//! It reads and splits files into JSON values; decoding them by the schema is
//! `snapshot`'s, and it must not evaluate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use crate::data::schema::Schema;
use crate::data::snapshot::{account_id, unknown_fields};
use crate::input::ReadError;
use crate::model::spanned::{reading, Format, LocatedJson, Positions};
use crate::source::{SourceFile, Span};

/// Account files larger than this are refused unread (split the batch).
pub const MAX_ACCOUNTS_FILE_BYTES: u64 = MAX_ACCOUNTS_FILE_MIB << 20;
const MAX_ACCOUNTS_FILE_MIB: u64 = 512;

/// One account as read, with where it came from.
#[derive(Debug)]
pub struct AccountRecord {
    /// `samples/accounts.yaml:12`: file and line of the record.
    pub origin: String,
    pub json: Result<Json, String>,
    /// Where a YAML record's values are written, so that a field's problem
    /// is shown where the field is.
    pub written: Option<Written>,
    /// The JSON text the record was read from, for finding a key in it when a
    /// warning names one (rare: JSON is read without positions).
    json_source: Option<(Arc<SourceFile>, JsonItem)>,
}

/// A YAML record's file and the span of each value in it.
#[derive(Debug)]
pub struct Written {
    file: Arc<SourceFile>,
    positions: Positions<Span>,
}

/// Which value of a JSON file's text a record is.
#[derive(Clone, Copy, Debug)]
enum JsonItem {
    /// The file is the one account.
    Whole,
    /// An item of the file's array.
    Item(usize),
    /// A JSON Lines line (0-based).
    Line(usize),
}

impl AccountRecord {
    fn new(origin: String, json: Result<Json, String>) -> AccountRecord {
        AccountRecord {
            origin,
            json,
            written: None,
            json_source: None,
        }
    }

    /// Where the account's `field` (`account.service_agreements[1].arrears`,
    /// as decoding names it) is written: `file:line:column` in a YAML file
    /// (its record's, or its nearest enclosing value's when it was not
    /// written), the record's origin otherwise.
    pub fn location_of(&self, field: &str) -> String {
        match &self.written {
            Some(Written { file, positions }) => {
                let (line, col) = file.line_col(positions.of("account", field).start);
                format!("{}:{line}:{col}", file.name)
            }
            None => self.origin.clone(),
        }
    }

    /// Where the key that ends `field` (`account.dispositions[0].callbackdate`)
    /// is written, `file:line:column`, in YAML or JSON; the value's place, or
    /// the record's origin, when the key cannot be found.
    pub fn key_location(&self, field: &str) -> String {
        self.key_place(field).to_string()
    }

    /// [`AccountRecord::key_location`]'s place: in its file, or the record's origin.
    pub fn key_place(&self, field: &str) -> Place {
        let key = field.rsplit(['.', ']']).next().unwrap_or(field);
        let located = match (&self.written, &self.json_source) {
            (Some(Written { file, positions }), _) => {
                Some((file.clone(), positions.of("account", field)))
            }
            (None, Some((file, item))) => json_positions(file, *item)
                .map(|positions| (file.clone(), positions.of("account", field))),
            (None, None) => None,
        };
        match located {
            Some((file, value)) => {
                let at = crate::model::spanned::key_before(&file, value, key).unwrap_or(value);
                Place::Written(file, at)
            }
            None => Place::Origin(self.origin.clone()),
        }
    }
}

/// Where something in an accounts file is: a span of its text, or only the
/// record's origin (`accounts.jsonl:3`) when its text cannot be read again.
#[derive(Clone, Debug)]
pub enum Place {
    Written(Arc<SourceFile>, Span),
    Origin(String),
}

impl std::fmt::Display for Place {
    /// `file:line:column`, or the origin.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Written(file, at) => {
                let (line, col) = file.line_col(at.start);
                write!(f, "{}:{line}:{col}", file.name)
            }
            Place::Origin(origin) => f.write_str(origin),
        }
    }
}

/// The span of each value of a JSON record in its file's text, read again
/// as YAML (which JSON is, the few texts it is not aside: `None`).
fn json_positions(file: &SourceFile, item: JsonItem) -> Option<Positions<Span>> {
    let (start, end) = match item {
        JsonItem::Line(line) => {
            let start = file.offset_of(line + 1, 1);
            let end = file.text[start..]
                .find('\n')
                .map_or(file.text.len(), |n| start + n);
            (start, end)
        }
        JsonItem::Whole | JsonItem::Item(_) => (0, file.text.len()),
    };
    let text = &file.text[start..end];
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let shift = end - text.len();
    let part = SourceFile::new(file.name.clone(), text);
    let parse = |text: &str| -> Option<LocatedJson> {
        match item {
            JsonItem::Item(i) => reading(Format::Yaml, &part, || {
                serde_saphyr::from_str::<Vec<LocatedJson>>(text).ok()
            })?
            .into_iter()
            .nth(i),
            JsonItem::Whole | JsonItem::Line(_) => {
                reading(Format::Yaml, &part, || serde_saphyr::from_str(text).ok())
            }
        }
    };
    let located = parse(&part.text)?;
    Some(
        located
            .into_parts(&mut |span| Span::new(span.start + shift, span.end + shift))
            .1,
    )
}

/// The fields of the accounts read that the schema does not have: decoding
/// ignores them (an extract carries columns no rule reads), but in accounts
/// written by hand one is a typo or a field in the wrong record. One line for
/// each distinct path (list positions aside), at the first account that has
/// it, with the nearest known field and how many more accounts have it.
pub fn unknown_field_warnings<'r>(
    schema: &Schema,
    records: impl IntoIterator<Item = &'r AccountRecord>,
) -> Vec<String> {
    unknown_fields_found(schema, records)
        .into_iter()
        .map(|(at, what)| format!("{at}: {what}"))
        .collect()
}

/// [`unknown_field_warnings`] with each one's place apart from what it says
/// (`account `a1`: `account.risk_scor` is ignored: …`), for lint's diagnostics.
pub fn unknown_fields_found<'r>(
    schema: &Schema,
    records: impl IntoIterator<Item = &'r AccountRecord>,
) -> Vec<(Place, String)> {
    // Per distinct path: the first account's place and words, and how many more.
    let mut found: Vec<(String, Place, String, usize)> = Vec::new();
    for record in records {
        let Ok(json) = &record.json else { continue };
        for (path, message) in unknown_fields(schema, json, None) {
            let distinct = without_positions(&path);
            match found.iter_mut().find(|(d, ..)| *d == distinct) {
                Some((.., more)) => *more += 1,
                None => {
                    let id = account_id(schema, json)
                        .map_or_else(String::new, |id| format!("account `{id}`: "));
                    let at = record.key_place(&format!("account.{path}"));
                    let what = format!("{id}`account.{path}` is ignored: {message}");
                    found.push((distinct, at, what, 0));
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(_, at, what, more)| match more {
            0 => (at, what),
            n => (at, format!("{what} ({n} more like it)")),
        })
        .collect()
}

/// `dispositions[2].callbackdate` → `dispositions[].callbackdate`.
pub fn without_positions(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
    #[error("`{0}`: unknown account file type; use .yaml, .yml, .json or .jsonl")]
    UnknownFormat(PathBuf),
    #[error("`{0}` is larger than {MAX_ACCOUNTS_FILE_MIB} MiB; split the accounts into several files in a directory")]
    TooLarge(PathBuf),
    #[error("`{0}` is a directory without account files (.yaml, .yml, .json, .jsonl)")]
    NoAccountFiles(PathBuf),
    #[error("{0}; an accounts file is read whole, so it must be a regular file")]
    Read(ReadError),
    #[error("`{0}` is empty; an accounts file holds a list of accounts (write `[]` for none)")]
    Empty(PathBuf),
}

/// Reads every account of a file, or of each account file directly in a directory.
pub fn read_accounts(path: &Path) -> Result<Vec<AccountRecord>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            // Named like an account file but a FIFO or device: refused when read.
            .filter(|p| kind(p).is_some() && !p.is_dir())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(InputError::NoAccountFiles(path.to_path_buf()));
        }
        let mut all = Vec::new();
        for file in files {
            all.extend(read_file(&file)?);
        }
        return Ok(all);
    }
    read_file(path)
}

#[derive(Clone, Copy)]
enum Kind {
    Yaml,
    Json,
    JsonLines,
}

fn kind(path: &Path) -> Option<Kind> {
    match path.extension()?.to_str()? {
        "yaml" | "yml" => Some(Kind::Yaml),
        "json" => Some(Kind::Json),
        "jsonl" | "ndjson" => Some(Kind::JsonLines),
        _ => None,
    }
}

fn read_file(path: &Path) -> Result<Vec<AccountRecord>, InputError> {
    let kind = kind(path).ok_or_else(|| InputError::UnknownFormat(path.to_path_buf()))?;
    let name = path.display().to_string();
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = crate::input::read_regular(path, MAX_ACCOUNTS_FILE_BYTES).map_err(|e| match e {
        ReadError::Io { source, .. } => io(source),
        ReadError::TooLarge { .. } => InputError::TooLarge(path.to_path_buf()),
        not_regular @ ReadError::NotRegular { .. } => InputError::Read(not_regular),
    })?;
    parse_accounts(path, name, kind, bytes)
}

/// Reads the accounts of standard input (`dry-run -`): JSON when it starts
/// with `[`, or with `{` and is one JSON value; JSON Lines when it starts with
/// `{` and is not; YAML otherwise.
pub fn read_stdin() -> Result<Vec<AccountRecord>, InputError> {
    use std::io::Read;
    let path = Path::new("-");
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_ACCOUNTS_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > MAX_ACCOUNTS_FILE_BYTES {
        return Err(InputError::TooLarge(path.to_path_buf()));
    }
    let start = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let kind = match start.trim_ascii_start().first() {
        Some(b'[') => Kind::Json,
        Some(b'{') if serde_json::from_slice::<serde::de::IgnoredAny>(start).is_ok() => Kind::Json,
        Some(b'{') => Kind::JsonLines,
        _ => Kind::Yaml,
    };
    parse_accounts(path, "<stdin>".into(), kind, bytes)
}

fn parse_accounts(
    path: &Path,
    name: String,
    kind: Kind,
    bytes: Vec<u8>,
) -> Result<Vec<AccountRecord>, InputError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..valid];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        InputError::Parse {
            location: format!("{name}:{line}:{col}"),
            message: "not valid UTF-8; save the file as UTF-8".into(),
        }
    })?;
    if text.trim().is_empty() {
        return Err(InputError::Empty(path.to_path_buf()));
    }
    // A byte-order mark, as some Windows tools write, is not part of the JSON
    // (CSV and YAML readers skip it themselves).
    let file = SourceFile::new(name.clone(), text);
    let json_text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
    match kind {
        Kind::JsonLines => {
            let source = &file;
            Ok(json_text
                .lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(i, line)| AccountRecord {
                    json_source: Some((source.clone(), JsonItem::Line(i))),
                    ..AccountRecord::new(
                        format!("{name}:{}", i + 1),
                        serde_json::from_str(line).map_err(|e| {
                            format!(
                                "invalid JSON at column {}: {}",
                                e.column(),
                                json_message(&e)
                            )
                        }),
                    )
                })
                .collect())
        }
        Kind::Json => {
            let json: Json = serde_json::from_str(json_text).map_err(|e| InputError::Parse {
                location: format!("{name}:{}:{}", e.line(), e.column()),
                message: json_message(&e),
            })?;
            let source = &file;
            Ok(match json {
                Json::Array(items) => {
                    // Each record named by where it starts, as its warnings name its keys.
                    let bom = file.text.len() - json_text.len();
                    let starts = array_item_starts(json_text);
                    let all_found = starts.len() == items.len();
                    let origin = |i: usize| match starts.get(i) {
                        Some(&at) if all_found => {
                            let (line, col) = file.line_col(bom + at);
                            format!("{name}:{line}:{col}")
                        }
                        _ => format!("{name}[{i}]"),
                    };
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, json)| AccountRecord {
                            json_source: Some((source.clone(), JsonItem::Item(i))),
                            ..AccountRecord::new(origin(i), Ok(json))
                        })
                        .collect()
                }
                other => vec![AccountRecord {
                    json_source: Some((source.clone(), JsonItem::Whole)),
                    ..AccountRecord::new(name, Ok(other))
                }],
            })
        }
        Kind::Yaml => {
            let parsed: Result<Vec<LocatedJson>, _> = reading(Format::Yaml, &file, || {
                serde_saphyr::from_str_with_options(
                    &file.text,
                    crate::model::load::yaml_options(&file.text),
                )
            });
            match parsed {
                Ok(items) => Ok(items
                    .into_iter()
                    .map(|item| {
                        let line = file.line_col(item.span.start).0;
                        let (json, positions) = item.into_parts(&mut |span| span);
                        AccountRecord {
                            origin: format!("{name}:{line}"),
                            json: Ok(json),
                            written: Some(Written {
                                file: file.clone(),
                                positions,
                            }),
                            json_source: None,
                        }
                    })
                    .collect()),
                Err(e) => {
                    let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                    let (message, help) = crate::model::load::describe_yaml_error(&e);
                    let help = match help {
                        Some(help) if message != "expected a list here" => help,
                        _ => "an accounts file is a YAML list of accounts, each starting with `- id:`"
                            .into(),
                    };
                    Err(InputError::Parse {
                        location: format!("{name}:{line}:{col}"),
                        message: format!("{message} (help: {help})"),
                    })
                }
            }
        }
    }
}

/// The byte offset where each item of the top-level array of `text` (valid
/// JSON) starts.
fn array_item_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut depth, mut in_text, mut escaped, mut expect) = (0usize, false, false, false);
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if in_text {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_text = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expect && !matches!(b, b']' | b',') {
            starts.push(i);
            expect = false;
        }
        match b {
            b'"' => in_text = true,
            b'[' | b'{' => {
                depth += 1;
                expect = depth == 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect = true,
            _ => {}
        }
    }
    starts
}

/// serde_json's message without its trailing "at line L column C" (the
/// location is printed in front), with a hint for the errors users meet.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    match message {
        "recursion limit exceeded" => {
            "JSON nesting is too deep (more than 128 levels); accounts are only a few levels deep"
                .into()
        }
        "trailing comma" => "trailing comma; JSON allows no comma after the last item".into(),
        m if m.starts_with("EOF while parsing") => {
            format!("{m}: the JSON ends early (a missing `]`, `}}` or `\"`?)")
        }
        m => m.to_string(),
    }
}

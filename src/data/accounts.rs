//! Reading account snapshots for `dry-run`: a YAML list, a JSON array or
//! object, JSON Lines, or a directory of such files. A line of JSON Lines that
//! does not parse is that record's error; the other records still run.
//! It reads and splits files into JSON values; decoding them by the schema is
//! `snapshot`'s, and it must not evaluate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use crate::input::ReadError;
use crate::model::spanned::{reading, Format, LocatedJson, Positions};
use crate::source::SourceFile;

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
}

/// A YAML record's file name and the line and column of each value in it.
#[derive(Debug)]
pub struct Written {
    file: Arc<str>,
    positions: Positions<(usize, usize)>,
}

impl AccountRecord {
    fn new(origin: String, json: Result<Json, String>) -> AccountRecord {
        AccountRecord {
            origin,
            json,
            written: None,
        }
    }

    /// Where the account's `field` (`account.service_agreements[1].arrears`,
    /// as decoding names it) is written: `file:line:column` in a YAML file
    /// (its record's, or its nearest enclosing value's when it was not
    /// written), the record's origin otherwise.
    pub fn location_of(&self, field: &str) -> String {
        match &self.written {
            Some(Written { file, positions }) => {
                let (line, col) = positions.of("account", field);
                format!("{file}:{line}:{col}")
            }
            None => self.origin.clone(),
        }
    }
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
    let json_text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match kind {
        Kind::JsonLines => Ok(json_text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                AccountRecord::new(
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
            .collect()),
        Kind::Json => {
            let json: Json = serde_json::from_str(json_text).map_err(|e| InputError::Parse {
                location: format!("{name}:{}:{}", e.line(), e.column()),
                message: json_message(&e),
            })?;
            Ok(match json {
                Json::Array(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, json)| AccountRecord::new(format!("{name}[{i}]"), Ok(json)))
                    .collect(),
                other => vec![AccountRecord::new(name, Ok(other))],
            })
        }
        Kind::Yaml => {
            let file = SourceFile::new(name.clone(), text);
            let parsed: Result<Vec<LocatedJson>, _> = reading(Format::Yaml, &file, || {
                serde_saphyr::from_str_with_options(
                    &file.text,
                    crate::model::load::yaml_options(&file.text),
                )
            });
            match parsed {
                Ok(items) => {
                    let name: Arc<str> = name.into();
                    Ok(items
                        .into_iter()
                        .map(|item| {
                            let line = file.line_col(item.span.start).0;
                            let (json, positions) =
                                item.into_parts(&mut |span| file.line_col(span.start));
                            AccountRecord {
                                origin: format!("{name}:{line}"),
                                json: Ok(json),
                                written: Some(Written {
                                    file: name.clone(),
                                    positions,
                                }),
                            }
                        })
                        .collect())
                }
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

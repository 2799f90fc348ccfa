//! Reads a rules directory into Doc types. Problems inside files become
//! diagnostics; a directory that cannot be read at all is a [`LoadError`].
//! It must not check what the documents mean beyond their kind and shape.
//!
//! This file walks the directory and reads its files within the limits;
//! `documents.rs` tells each file's kind and parses it, `parse.rs` turns
//! YAML/TOML text into Doc types and their errors into diagnostics.

mod documents;
mod parse;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::spanned::Format;
use crate::diagnostic::Diagnostic;
use crate::input::{kind_of, read_regular, ReadError};
use crate::source::{SourceFile, Span};
pub(crate) use documents::has_top_level_key;
pub use documents::{load_text, Broken, RuleDocs, PROMISE_LOCAL, RETREAT_LOCAL};
pub(crate) use parse::parse;
pub use parse::{
    date_cell, date_mistake, not_a_document, parse_document, read_document, read_text,
    unknown_key_at,
};
pub use parse::{describe_yaml_error, yaml_options, MIN_YAML_NODES};

/// Rule files larger than this are rejected unread: no policy is this big.
pub const MAX_RULE_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Rule files per directory (subdirectories included) above which the
/// directory is refused: it is not a rules directory (`arrears lint /`?).
pub const MAX_RULE_FILES: usize = 10_000;
/// Total bytes of rule files read from one directory; the files past it are
/// reported and not read.
pub const MAX_TOTAL_RULE_BYTES: u64 = 64 * 1024 * 1024;

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

/// Whether `dir` itself holds a rule file: a regular `.yaml`, `.yml` or
/// `.toml` file whose top-level keys name one rule document kind (`table:`,
/// `policy:`...). Only its own files are read, not its subdirectories, so a
/// hint that asks it (is the parent of a file the rules directory?) stays cheap.
pub fn holds_rule_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().take(MAX_RULE_FILES).any(|entry| {
        let path = entry.path();
        format_of(&path).is_some()
            && entry.file_type().is_ok_and(|t| t.is_file())
            && read_regular(&path, MAX_RULE_FILE_BYTES)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .is_some_and(|text| documents::guessed_kind(&text).is_some())
    })
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
    let mut fingerprint = Fingerprinter::default();
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
        fingerprint.add(path.strip_prefix(dir).unwrap_or(&path), &bytes);
        match String::from_utf8(bytes) {
            Ok(text) => load_text(&mut docs, SourceFile::new(name, text)),
            Err(err) => {
                let (file, span) = not_utf8(name, &err);
                docs.diagnostics.push(
                    Diagnostic::error("not-utf8", &file, span, "rule file is not valid UTF-8")
                        .with_help("save the file as UTF-8"),
                );
            }
        }
    }
    docs.fingerprint = fingerprint.finish();
    Ok(docs)
}

/// A file that is not UTF-8, as text to show (the bad bytes replaced), and
/// the span of its first bad byte.
pub(crate) fn not_utf8(
    name: String,
    err: &std::string::FromUtf8Error,
) -> (std::sync::Arc<SourceFile>, Span) {
    let valid = err.utf8_error().valid_up_to();
    let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
    (SourceFile::new(name, text), Span::new(valid, valid + 1))
}

/// The rule set's fingerprint: sha256 over each rule file read, in path order,
/// as its path relative to the rules directory (`/`-separated), its length and
/// its bytes. The same files give the same fingerprint on any machine,
/// wherever the directory is; a renamed or edited file changes it.
#[derive(Default)]
struct Fingerprinter(sha2::Sha256);

impl Fingerprinter {
    fn add(&mut self, relative: &Path, bytes: &[u8]) {
        use sha2::Digest;
        let name: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let name = name.join("/");
        // Lengths first, so that no two file lists hash the same bytes.
        self.0.update((name.len() as u64).to_le_bytes());
        self.0.update(name.as_bytes());
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// `sha256:` and 64 hex digits.
    fn finish(self) -> String {
        use sha2::Digest;
        let mut text = String::from("sha256:");
        for byte in self.0.finalize() {
            text.push_str(&format!("{byte:02x}"));
        }
        text
    }
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

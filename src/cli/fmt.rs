//! `arrears fmt [--check] [--diff] [PATHS]`: finds the rule files, prints what
//! `formatter::format` made of each (a list, a diff, notes, the errors of the
//! files that do not parse) and replaces the files that changed, each by a
//! complete file renamed over it (`output::Output`, which keeps the mode and
//! replaces a named symlink's target, never the link). It must not decide
//! what is formatted (the formatter does) nor write a file that did not change,
//! did not parse, or that a directory walk reached through a symlink.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::output::Output;
use super::{error_line, Exit, Out};
use crate::diagnostic::printable;
use crate::input::read_regular;
use crate::model::load::{format_of, MAX_RULE_FILES, MAX_RULE_FILE_BYTES};
use crate::source::SourceFile;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rule files, or directories to search for `.yaml`, `.yml` and `.toml` files (default `rules`).
    paths: Vec<PathBuf>,
    /// Write nothing; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
    /// Write nothing; print a unified diff of what would change and exit 1 if anything would.
    #[arg(long)]
    diff: bool,
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for path in &paths {
        if let Err(message) = find_files(path, true, &mut files) {
            error_line(message);
            return Exit::BadInput;
        }
        if files.len() > MAX_RULE_FILES {
            error_line(format!(
                "`{}` holds more than {MAX_RULE_FILES} rule files; is it really a rules directory?",
                path.display()
            ));
            return Exit::BadInput;
        }
    }
    files.sort();
    files.dedup();
    // One file named twice (`a.yaml ./a.yaml`, a link and its target) is formatted and counted once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|path| path.canonicalize().map_or(true, |real| seen.insert(real)));
    let write = !(args.check || args.diff);
    let (mut changed, mut broken) = (0, 0);
    // Exit 2 says one line: the files that could not be read, at the end.
    let mut unreadable: Vec<String> = Vec::new();
    for path in &files {
        let shown = path.display().to_string();
        let text = match read_regular(path, MAX_RULE_FILE_BYTES).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(err)) => {
                // At its first bad byte, as `lint` reports it, on exit 2's one line.
                let (file, span) = crate::model::load::not_utf8(shown.clone(), &err);
                let d = crate::diagnostic::Diagnostic::error(
                    "not-utf8",
                    &file,
                    span,
                    "rule file is not valid UTF-8",
                );
                unreadable.push(format!(
                    "{}: {}; save the file as UTF-8",
                    d.location(),
                    d.message
                ));
                continue;
            }
            Err(e) => {
                unreadable.push(e.to_string());
                continue;
            }
        };
        let file = SourceFile::new(shown.clone(), text);
        let formatted = match crate::formatter::format(&file) {
            Ok(formatted) => formatted,
            Err(problems) => {
                broken += 1;
                for d in problems {
                    eprintln!("{}", d.render());
                }
                continue;
            }
        };
        for note in &formatted.kept {
            eprintln!(
                "note: {}: {}",
                note.location(),
                printable(&note.message_with_help())
            );
        }
        if formatted.text == file.text {
            continue;
        }
        changed += 1;
        if args.check {
            let _ = writeln!(out, "would reformat {}", printable(&shown));
        }
        if args.diff {
            let diff = similar::TextDiff::from_lines(&file.text, &formatted.text);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        }
        if write {
            if let Err(message) = replace(path, &formatted.text) {
                error_line(message);
                return Exit::BadInput;
            }
            let _ = writeln!(out, "formatted {}", printable(&shown));
        }
    }
    if let Some((first, rest)) = unreadable.split_first() {
        error_line(match rest.len() {
            0 => first.clone(),
            n => format!("{first} (and {n} more file(s) that could not be read)"),
        });
    }
    let formatted_already = files.len() - changed - broken - unreadable.len();
    let _ = writeln!(
        out,
        "{} {} {}, {formatted_already} already formatted{}",
        changed,
        if changed == 1 { "file" } else { "files" },
        if write {
            "reformatted"
        } else {
            "would be reformatted"
        },
        match broken + unreadable.len() {
            0 => String::new(),
            n => format!(", {n} not formatted (errors above)"),
        }
    );
    if !unreadable.is_empty() {
        Exit::BadInput
    } else if broken > 0 {
        Exit::InvalidRules
    } else if changed > 0 && !write {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// The rule files at `path`: the file itself when named, else those below
/// the directory in name order. A symlink met while walking is skipped (it
/// may lead out of the tree or back into it); one named is followed.
fn find_files(path: &Path, named: bool, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = if named {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        entries.sort();
        for entry in entries {
            if files.len() > MAX_RULE_FILES {
                break;
            }
            find_files(&entry, false, files)?;
        }
    } else if meta.is_file() && (named || format_of(path).is_some()) {
        if format_of(path).is_none() {
            return Err(format!(
                "`{}` is not a rule file (`.yaml`, `.yml` or `.toml`)",
                path.display()
            ));
        }
        files.push(path.to_path_buf());
    } else if named {
        return Err(format!(
            "`{}` is {}, not a rule file",
            path.display(),
            crate::input::kind_of(meta.file_type())
        ));
    }
    Ok(())
}

/// Puts `text` in place of the file at `path` by renaming a complete file over it.
fn replace(path: &Path, text: &str) -> Result<(), String> {
    let mut output = Output::open(path)?;
    if !output.is_staged() {
        return Err(format!("`{}` is not a regular file", path.display()));
    }
    output
        .file()
        .write_all(text.as_bytes())
        .and_then(|()| output.file().sync_all())
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    output.commit()
}

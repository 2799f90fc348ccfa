//! `arrears fmt`: one rule file's text → the same file with every condition
//! cell and expression in canonical form (`lang::syntax::canonical_cell`,
//! `canonical_expr`) and trailing blanks trimmed. Only the text of the cells
//! that change is replaced, at the spans the loader reports, so comments, key
//! order, layout and quoting style stay as written; a cell is re-quoted only
//! when its new text cannot be written in its style. Every result is read back
//! and compared with the original (`verify`) before it is returned.
//! It must not write files or print (the CLI does), nor change what any value
//! means.

mod scalar;
mod verify;

use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::lang::syntax::{canonical_cell, canonical_expr, parse_cell, parse_expr, ParseError};
use crate::model::doc::{Probe, TableDoc};
use crate::model::load::{format_of, not_a_document, parse};
use crate::model::spanned::{cell_text_offset, CellText, Format, Spanned};
use crate::source::{SourceFile, Span};

/// What `format` made of a file.
#[derive(Debug)]
pub struct Formatted {
    /// The formatted text (equal to the input when it was formatted already).
    pub text: String,
    /// Cells left as written because they span lines (a block scalar, a
    /// folded expression) and their canonical text differs beyond line breaks:
    /// a note each, with the canonical text.
    pub kept: Vec<Diagnostic>,
}

/// Whether a cell is a condition (tested against its column) or an expression.
#[derive(Clone, Copy)]
enum Kind {
    Cell,
    Expr,
    /// `sa in account.service_agreements`: a binder and an expression.
    ForEach,
}

/// One replacement: the byte range of a scalar and its new text.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Formats one rule file (its name tells YAML from TOML). `Err` holds the
/// problems that stop it being formatted: it does not parse, a cell has a
/// syntax error, or (never expected) the result would read differently.
pub fn format(file: &Arc<SourceFile>) -> Result<Formatted, Vec<Diagnostic>> {
    let format = format_of(std::path::Path::new(&file.name)).unwrap_or(Format::Yaml);
    verify::parses(format, file).map_err(|d| vec![*d])?;
    // Named or found in a directory, an empty file or an accounts list is
    // not "already formatted": it is no rule file at all.
    if let Some((why, span)) = not_a_document(format, file) {
        let code = if span == Span::default() {
            "empty-file"
        } else {
            "unknown-document"
        };
        return Err(vec![Diagnostic::error(
            code,
            file,
            span,
            format!("not a rule file: the file {why}"),
        )
        .with_help("a rule file is a mapping that starts with the key naming its document, e.g. `table: entry`")]);
    }
    // A document that is not a mapping (an accounts list) has no table.
    let probe = parse::<Probe>(format, file).ok();
    let table = match probe.and_then(|p| p.table) {
        Some(_) => Some(parse::<TableDoc>(format, file).map_err(|d| vec![*d])?),
        None => None,
    };
    let mut cells = Vec::new();
    if let Some(table) = &table {
        collect(table, &mut cells);
    }
    let mut edits = Vec::new();
    let mut kept = Vec::new();
    let mut problems = Vec::new();
    for (kind, cell) in &cells {
        match canonical(*kind, &cell.value.0) {
            Ok(None) => {}
            Ok(Some(text)) => {
                match scalar::find(&file.text, cell.span.start, &cell.value.0, format) {
                    Some(written) => edits.push((written, text)),
                    None if same_but_line_breaks(&cell.value.0, &text) => {}
                    // A YAML alias (`*w`, `<<: *row`) is its anchor's value: formatted
                    // where the anchor is written, when that is a cell too.
                    None if file.text[cell.span.start..].starts_with('*') => {
                        let anchored = cells.iter().any(|(_, other)| {
                            other.value.0 == cell.value.0
                                && scalar::find(
                                    &file.text,
                                    other.span.start,
                                    &other.value.0,
                                    format,
                                )
                                .is_some()
                        });
                        if !anchored {
                            kept.push(
                            Diagnostic::info(
                                "fmt-kept",
                                file,
                                cell.span,
                                "kept as written: this cell is a YAML alias, so its text is where its anchor is",
                            )
                            .with_help(format!("its canonical form is `{text}`; write it at the anchor")),
                        );
                        }
                    }
                    None => {
                        let written = file.text.get(cell.span.start..cell.span.end).unwrap_or("");
                        let why = match written.contains('\n') || cell.value.0.contains('\n') {
                        true => "kept as written: this cell spans lines, so `arrears fmt` leaves its layout to you",
                        // Not expected: `scalar::find` reads every one-line style and escape.
                        false => "kept as written: `arrears fmt` cannot read this cell's quoting back exactly, so it leaves the cell to you",
                    };
                        kept.push(
                            Diagnostic::info("fmt-kept", file, cell.span, why)
                                .with_help(format!("its canonical form is `{text}`")),
                        )
                    }
                }
            }
            Err(err) => {
                let at = cell_text_offset(file, cell.span, &cell.value.0)
                    .map_or(cell.span, |o| err.span.shifted(o));
                problems.push(
                    Diagnostic::error("syntax", file, at, err.message).with_help_opt(err.help),
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    edits.sort_by_key(|(w, _)| w.start);
    edits.dedup_by_key(|(w, _)| w.start); // a YAML alias names its anchor's cell again
                                          // Plain text with `,` is safe in a block mapping but not inside `{...}`: a
                                          // line's brackets tell which, and a flow collection over several lines
                                          // is caught by `verify`, which a second try quotes around. Trimmed blanks
                                          // that were part of a multi-line scalar are caught too: then they stay.
    for (trim, in_flow_everywhere) in [(true, false), (true, true), (false, false), (false, true)] {
        let replaced: Vec<Edit> = edits
            .iter()
            .map(|(w, text)| Edit {
                start: w.start,
                end: w.end,
                text: scalar::write(
                    text,
                    w.style,
                    format,
                    in_flow_everywhere || in_flow(&file.text, w.start),
                ),
            })
            .collect();
        let mut text = apply(&file.text, &replaced);
        if trim {
            text = trim_blanks(&text);
        }
        if verify::same_meaning(format, file, &text) {
            return Ok(Formatted { text, kept });
        }
    }
    Err(vec![Diagnostic::error(
        "fmt-unsafe",
        file,
        Span::new(0, 0),
        "`arrears fmt` could not rewrite this file without changing what it reads as; it is left as it is",
    )
    .with_help("please report this file: it is a bug in `arrears fmt`")])
}

/// Every cell and expression of a table, with its kind.
fn collect<'a>(table: &'a TableDoc, cells: &mut Vec<(Kind, &'a Spanned<CellText>)>) {
    cells.extend(table.for_each.iter().map(|c| (Kind::ForEach, c)));
    cells.extend(table.inputs.value.values().map(|c| (Kind::Expr, c)));
    for row in &table.rows {
        cells.extend(row.value.when.values().map(|c| (Kind::Cell, c)));
        cells.extend(row.value.then.value.values().map(|c| (Kind::Expr, c)));
    }
    if let Some(default) = &table.default {
        cells.extend(default.value.values().map(|c| (Kind::Expr, c)));
    }
}

/// The canonical text of a cell when it differs from `text`; an empty cell
/// (matches anything, or an expression the checker reports) and a `for_each`
/// not of the form `item in list` (the checker says so) are left alone. A
/// syntax error's span is relative to `text`.
fn canonical(kind: Kind, text: &str) -> Result<Option<String>, ParseError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let canonical = match kind {
        Kind::Cell => canonical_cell(&parse_cell(text)?),
        Kind::Expr => canonical_expr(&parse_expr(text)?),
        Kind::ForEach => {
            let Some((binder, list)) = text.split_once(" in ") else {
                return Ok(None);
            };
            let shift = |mut e: ParseError| {
                e.span = e.span.shifted(text.len() - list.len());
                e
            };
            format!(
                "{} in {}",
                binder.trim(),
                canonical_expr(&parse_expr(list).map_err(shift)?)
            )
        }
    };
    Ok((canonical != text).then_some(canonical))
}

/// Whether `written` is `canonical` with line breaks (and the indentation
/// after them) put in: an analyst's layout of a long expression, kept.
fn same_but_line_breaks(written: &str, canonical: &str) -> bool {
    let squeeze = |s: &str| {
        let mut out = String::new();
        for word in s.split_whitespace() {
            if !(out.is_empty() || out.ends_with('(') || word.starts_with(')')) {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    };
    written.contains('\n') && squeeze(written) == squeeze(canonical)
}

/// Whether the scalar at `at` sits inside `{...}` or `[...]` opened on its line.
fn in_flow(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut depth = 0i32;
    let mut quote = None;
    for c in text[line_start..at].chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.start]);
        out.push_str(&edit.text);
        at = edit.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Spaces and tabs at line ends removed, and the file ending in exactly one
/// newline (`verify` refuses the result if a multi-line scalar held them).
fn trim_blanks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end_matches([' ', '\t']));
        out.push('\n');
    }
    let kept = out.trim_end_matches('\n').len();
    out.truncate(kept);
    if kept > 0 {
        out.push('\n');
    }
    if mostly_crlf(text) {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// Whether most of `text`'s lines end in CRLF: a file keeps the line ending
/// most of its lines have (a tie keeps LF), so one stray CRLF pasted into an
/// LF file is mended rather than spread to every line.
fn mostly_crlf(text: &str) -> bool {
    let crlf = text.matches("\r\n").count();
    crlf > text.matches('\n').count() - crlf
}

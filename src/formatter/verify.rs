//! The formatter's safety net: a formatted text is kept only when it reads
//! back as the same document, value for value, where a changed value must be
//! a cell or expression with the same tree. It must not accept a text it has
//! not read back.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::lang::syntax::{parse_cell, parse_expr};
use crate::model::load::parse;
use crate::model::spanned::{ExactJson, Format};
use crate::source::SourceFile;

/// The file as a plain tree of values, or why it does not parse.
pub fn parses(format: Format, file: &Arc<SourceFile>) -> Result<Json, Box<Diagnostic>> {
    parse::<ExactJson>(format, file).map(|j| j.0)
}

/// Whether `formatted` reads as the same document as `original`.
pub fn same_meaning(format: Format, original: &Arc<SourceFile>, formatted: &str) -> bool {
    let after = SourceFile::new(original.name.clone(), formatted);
    match (parses(format, original), parses(format, &after)) {
        (Ok(before), Ok(after)) => same_tree(&before, &after),
        _ => false,
    }
}

fn same_tree(before: &Json, after: &Json) -> bool {
    match (before, after) {
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_tree(va, vb))
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_tree(x, y))
        }
        (a, b) if a == b => true,
        (a, b) => match (scalar_text(a), scalar_text(b)) {
            (Some(a), Some(b)) => same_rule_text(&a, &b),
            _ => false,
        },
    }
}

fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Two texts that parse to the same condition cell or the same expression.
fn same_rule_text(a: &str, b: &str) -> bool {
    let cells = parse_cell(a)
        .ok()
        .zip(parse_cell(b).ok())
        .is_some_and(|(x, y)| x.to_string() == y.to_string());
    cells
        || parse_expr(a)
            .ok()
            .zip(parse_expr(b).ok())
            .is_some_and(|(x, y)| x.to_string() == y.to_string())
}

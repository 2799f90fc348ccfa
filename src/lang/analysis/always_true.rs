//! `always-true-cell`: a condition cell whose alternatives together match
//! every value of its column (`>= 5, <= 29`, the SQL `AND` habit: in a cell a
//! comma means OR), decided on the same exact domains as the rest of the
//! analysis, with the range the analyst probably meant. It looks at one cell
//! at a time and must not compare rows.

use super::cell::{folded, is_any, nullable, ordered_region, point_matches, Point};
use super::domain::IntervalSet;
use super::show::range_text;
use crate::data::schema::Schema;
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{TCell, TTest, Table};
use crate::types::{Type, Value};

/// Every cell of `table` with two or more alternatives that together match
/// every non-null value of the column. A single test never is one (`!= null`
/// tests presence), nor a cell the analysis cannot decide.
/// Each with its row's id.
pub(super) fn always_true_cells(schema: &Schema, table: &Table) -> Vec<(String, Diagnostic)> {
    let mut out = Vec::new();
    for row in &table.rows {
        for (input, cell) in table.inputs.iter().zip(&row.cells) {
            if is_any(cell) || cell.negated || cell.tests.len() < 2 {
                continue;
            }
            let tests = folded(cell);
            let ty = &input.expr.ty;
            let Some(mut meant) = meant(schema, ty, &tests) else {
                continue;
            };
            let parts: Vec<String> = cell_parts(cell);
            // `!= 5, != 6`: none of them, as written.
            let unequal: Option<Vec<&str>> = parts
                .iter()
                .map(|p| p.strip_prefix("!=").map(str::trim))
                .collect();
            if let Some(values) = unequal.filter(|_| meant.is_some()) {
                meant = Some(format!("not({})", values.join(", ")));
            }
            // `>= 580, < 670, null` matches null too.
            let matches_null = tests.iter().any(|t| match t {
                TTest::Compare(op, e) => super::cell::constant(e)
                    .is_some_and(|c| crate::lang::semantics::compare(*op, &Value::Null, c)),
                TTest::Range { .. } => false,
            });
            let nullable = nullable(schema, &input.expr) && !matches_null;
            let every = if nullable {
                "every value but null"
            } else {
                "every value"
            };
            let either = parts
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            let help = match meant {
                Some(meant) => format!(
                    "in a cell a comma means OR, not AND: {either} holds for any `{}`; to test both at once write `{meant}`, and to match every value write `-`",
                    input.name
                ),
                None => format!(
                    "in a cell a comma means OR: {either} holds for any `{}`; write `-` to match every value, or list only the values the row is for",
                    input.name
                ),
            };
            out.push((
                row.id.clone(),
                Diagnostic::warning(
                    "always-true-cell",
                    &table.file,
                    cell.span,
                    format!(
                        "row `{}`: cell `{}` of column `{}` matches {every}, so it tests nothing",
                        row.id, cell.text, input.name
                    ),
                )
                .with_help(help),
            ));
        }
    }
    out
}

/// The alternatives as written (the cell's text split at top-level commas).
fn cell_parts(cell: &TCell) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let text = cell.text.as_str();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(text[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim().to_string());
    parts
}

/// `None` when the cell does not match every value (or cannot be decided);
/// else what the analyst probably meant: the alternatives' intersection as a
/// cell (`[5..29]`, `not(5, 6)`), when it is one and not empty.
fn meant(schema: &Schema, ty: &Type, tests: &[TTest]) -> Option<Option<String>> {
    match ty {
        Type::Integer | Type::Days | Type::Date | Type::Decimal | Type::Money => {
            let line = super::space::line_of(ty);
            let all = ordered_region(line, tests, false)?;
            if all != IntervalSet::all(line) {
                return None;
            }
            let mut both = IntervalSet::all(line);
            for t in tests {
                both = both.intersection(&ordered_region(line, std::slice::from_ref(t), false)?);
            }
            let shown = |set: &IntervalSet| -> Vec<String> {
                set.ranges()
                    .iter()
                    .map(|&(a, b)| range_text(ty, line, a, b))
                    .collect()
            };
            Some(match both.ranges().len() {
                0 => None,
                1 => Some(shown(&both).remove(0)),
                _ => Some(format!("not({})", shown(&both.complement()).join(", "))),
            })
        }
        Type::Bool | Type::Enum(_) | Type::Text => {
            let points: Vec<(Point, String)> = match super::space::finite_points(schema, ty) {
                Some(points) => points,
                // Texts: those written in the cell, and one that is none of them.
                None => {
                    let mut points: Vec<(Point, String)> = tests
                        .iter()
                        .filter_map(|t| match t {
                            TTest::Compare(_, e) => match super::cell::constant(e) {
                                Some(Value::Text(t)) => {
                                    Some((Point::Value(Value::Text(t.clone())), format!("{t:?}")))
                                }
                                _ => None,
                            },
                            TTest::Range { .. } => None,
                        })
                        .collect();
                    points.push((Point::OtherText(String::new()), String::new()));
                    points
                }
            };
            for (p, _) in &points {
                if !point_matches(p, tests, false)? {
                    return None;
                }
            }
            // Each alternative alone: the values all of them match.
            let mut kept = Vec::new();
            for (p, shown) in &points {
                let mut every = true;
                for t in tests {
                    every &= point_matches(p, std::slice::from_ref(t), false)?;
                }
                if every && !shown.is_empty() {
                    kept.push(shown.clone());
                }
            }
            let excluded: Vec<&String> = points
                .iter()
                .map(|(_, s)| s)
                .filter(|s| !s.is_empty() && !kept.contains(s))
                .collect();
            let all_ne = tests.iter().all(|t| {
                matches!(
                    t,
                    TTest::Compare(crate::lang::syntax::ast::CompareOp::Ne, _)
                )
            });
            Some((all_ne && !excluded.is_empty()).then(|| {
                format!(
                    "not({})",
                    excluded
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }))
        }
        _ => None,
    }
}

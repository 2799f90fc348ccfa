//! Points and regions written for a message: a point as
//! `dpd = 0, arrears = $4.99`, a region as a row's `when`, a set of pieces as a
//! cell, lists of row ids and of undecided cells. It only writes text and must
//! not decide what is reported.

use rust_decimal::Decimal;

use super::bits::Bits;
use super::cell::show_ordered;
use super::domain::{Line, Pos};
use super::search::Search;
use super::space::{Column, Layout, Space};
use crate::lang::ir::Table;
use crate::types::Type;

impl Search<'_> {
    /// `dpd = 0, arrears = $4.99` (columns where every cell is `-` left out).
    pub(super) fn show(&self, point: &[usize]) -> String {
        let parts: Vec<String> = self
            .space
            .cols
            .iter()
            .zip(point)
            .filter(|(c, _)| !c.whole)
            .map(|(c, &i)| format!("{} = {}", c.name, c.shown[i]))
            .collect();
        if parts.is_empty() {
            "any input".into()
        } else {
            parts.join(", ")
        }
    }

    /// A region as a row's `when`: `{ dpd: "[10..19]", bankrupt: "false" }`
    /// (columns it does not constrain left out).
    pub(super) fn show_region(&self, region: &[Bits]) -> String {
        let parts: Vec<String> = self
            .space
            .cols
            .iter()
            .zip(region)
            .filter_map(|(c, set)| {
                let cell = show_set(c, set)?;
                let quoted = if cell.contains('"') {
                    format!("'{}'", cell.replace('\'', "''"))
                } else {
                    format!("\"{cell}\"")
                };
                Some(format!("{}: {quoted}", c.name))
            })
            .collect();
        if parts.is_empty() {
            "any input".into()
        } else {
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

/// A set of a column's pieces as a cell, or `None` when it holds every value.
fn show_set(col: &Column, set: &Bits) -> Option<String> {
    let n = col.shown.len();
    let values_n = n - usize::from(col.null);
    let null_in = col.null && set.get(n - 1);
    let values: Vec<usize> = (0..values_n).filter(|&i| set.get(i)).collect();
    if col.whole || (values.len() == values_n && (null_in || !col.null)) {
        return None;
    }
    if values.len() == values_n {
        return Some("not(null)".into());
    }
    let mut parts: Vec<String> = Vec::new();
    match &col.layout {
        Layout::Ordered { ty, line, pieces } => {
            let mut i = 0;
            while i < values_n {
                if set.get(i) {
                    let start = i;
                    while i + 1 < values_n && set.get(i + 1) {
                        i += 1;
                    }
                    parts.push(range_text(ty, *line, pieces[start].0, pieces[i].1));
                }
                i += 1;
            }
        }
        Layout::Finite { other_text } => {
            let excluded: Vec<&str> = (0..values_n)
                .filter(|&i| !set.get(i))
                .map(|i| col.shown[i].as_str())
                .collect();
            let other_in = *other_text && set.get(values_n - 1);
            if other_in || (!*other_text && excluded.len() < values.len() && values.len() > 2) {
                parts.push(format!("not({})", excluded.join(", ")));
            } else {
                parts.extend(values.iter().map(|&i| col.shown[i].clone()));
            }
        }
        Layout::Opaque => {}
    }
    if null_in {
        parts.push("null".into());
    }
    Some(parts.join(", "))
}

/// A range of cuts as a cell: `<= 4`, `[10..19]`, `> $5.00`, `2026-12-01`.
pub(super) fn range_text(ty: &Type, line: Line, from: Pos, to: Pos) -> String {
    let show = |x: Decimal| show_ordered(ty, x);
    let discrete = line == Line::Discrete;
    match (from, to) {
        (Pos::NegInf, Pos::At(w, after)) => {
            if after {
                format!("<= {}", show(w))
            } else if discrete {
                format!("<= {}", show(w - Decimal::ONE))
            } else {
                format!("< {}", show(w))
            }
        }
        (Pos::At(v, after), Pos::PosInf) => {
            format!("{} {}", if after { ">" } else { ">=" }, show(v))
        }
        (Pos::At(x, x_after), Pos::At(y, y_after)) => {
            let (hi, hi_inclusive) = if discrete && !y_after {
                (y - Decimal::ONE, true)
            } else {
                (y, y_after)
            };
            if !x_after && hi_inclusive && x == hi {
                show(x)
            } else {
                format!(
                    "{}{}..{}{}",
                    if x_after { '(' } else { '[' },
                    show(x),
                    show(hi),
                    if hi_inclusive { ']' } else { ')' }
                )
            }
        }
        _ => "-".into(),
    }
}

pub(super) fn quoted_list(ids: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

/// Where an unknown cell is written: `row `a`, column `b` (entry.yaml:12:9)`.
pub(super) fn unknown_cells_text(table: &Table, space: &Space) -> String {
    let shown: Vec<String> = space
        .unknown
        .iter()
        .take(3)
        .map(|u| {
            let cell = &table.rows[u.row].cells[u.col];
            let (line, col) = table.file.line_col(cell.span.start);
            format!(
                "row `{}`, column `{}` ({}:{line}:{col})",
                table.rows[u.row].id, space.cols[u.col].name, table.file.name
            )
        })
        .collect();
    let more = space.unknown.len().saturating_sub(shown.len());
    let mut s = shown.join("; ");
    if more > 0 {
        s.push_str(&format!("; and {more} more"));
    }
    s
}

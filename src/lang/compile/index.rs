//! The row index of a large table: when the first column tests a number
//! against constants, the bounds cut the number line into segments, each with
//! the rows whose first cell can match there, found by binary search. The
//! evaluator uses it only when no trace is asked for; it must list exactly the
//! rows whose first cell matches (a proptest checks it), never fewer.

use rust_decimal::Decimal;

use super::{Check, CompiledCell};
use crate::lang::syntax::ast::CompareOp;
use crate::types::{Type, Value};

/// Candidate rows of a table by the value of its first input. The bounds of
/// every first-column cell cut the number line into segments (each bound a
/// point of its own, and the open gaps between); a cell's outcome is the same
/// everywhere inside a segment, so each segment lists the rows whose first
/// cell matches there, in row order. Lookup is a binary search.
#[derive(Clone, Debug)]
pub struct RowIndex {
    bounds: Vec<Decimal>,
    /// Per segment (`2 * bounds.len() + 1` of them), its slice of `rows`.
    starts: Vec<u32>,
    rows: Vec<u32>,
}

/// Tables with fewer rows are scanned.
const INDEX_MIN_ROWS: usize = 16;

impl RowIndex {
    /// The rows (ascending) whose first cell can match `x`; `None` when `x` is
    /// not a number (null): scan every row.
    pub fn candidates(&self, x: &Value) -> Option<&[u32]> {
        let x = match x {
            Value::Int(n) => Decimal::from(*n),
            Value::Dec(d) => *d,
            _ => return None,
        };
        let i = self.bounds.partition_point(|b| *b < x);
        let seg = if self.bounds.get(i) == Some(&x) {
            2 * i + 1
        } else {
            2 * i
        };
        Some(&self.rows[self.starts[seg] as usize..self.starts[seg + 1] as usize])
    }

    pub(super) fn build(rows: &[Vec<CompiledCell>], input: &Type) -> Option<RowIndex> {
        if rows.len() < INDEX_MIN_ROWS
            || !matches!(
                input,
                Type::Integer | Type::Days | Type::Money | Type::Decimal
            )
        {
            return None;
        }
        let num = |v: &Value| match v {
            Value::Int(n) => Some(Decimal::from(*n)),
            Value::Dec(d) => Some(*d),
            _ => None,
        };
        let mut bounds = Vec::new();
        for row in rows {
            let cell = row.first()?;
            if cell.any {
                continue;
            }
            for check in &cell.checks {
                match check {
                    Check::Compare(_, v) => bounds.push(num(v)?),
                    Check::Range { low, high, .. } => {
                        bounds.push(num(low)?);
                        bounds.push(num(high)?);
                    }
                    _ => return None,
                }
            }
        }
        bounds.sort();
        bounds.dedup();
        if bounds.is_empty() {
            return None;
        }
        let last = bounds.len() - 1;
        // Every segment must hold a number of its own (the midpoint of two
        // close 28-digit bounds may round onto one of them).
        for i in 0..=bounds.len() {
            let ok = if i == 0 {
                bounds[0].checked_sub(Decimal::ONE).is_some()
            } else if i > last {
                bounds[last].checked_add(Decimal::ONE).is_some()
            } else {
                let mid = (bounds[i - 1].checked_add(bounds[i])?) / Decimal::TWO;
                mid > bounds[i - 1] && mid < bounds[i]
            };
            if !ok {
                return None;
            }
        }
        // Each row is added to the segments its cell matches, found by binary
        // search: linear in rows plus the index's size, which is capped.
        let segments = 2 * bounds.len() + 1;
        let point = |v: &Value| num(v).map(|v| 2 * bounds.partition_point(|b| *b < v) + 1);
        let mut per_segment: Vec<Vec<u32>> = vec![Vec::new(); segments];
        let mut members = 0usize;
        let limit = 32 * rows.len() + 1024;
        for (r, row) in rows.iter().enumerate() {
            let cell = &row[0];
            let spans = if cell.any {
                vec![(0, segments - 1)]
            } else {
                matched_segments(cell, segments, point)?
            };
            for (from, to) in spans {
                members += to + 1 - from;
                if members > limit {
                    return None;
                }
                for list in &mut per_segment[from..=to] {
                    list.push(r as u32);
                }
            }
        }
        let mut starts = Vec::with_capacity(segments + 1);
        let mut all = Vec::with_capacity(members);
        for list in per_segment {
            starts.push(all.len() as u32);
            all.extend(list);
        }
        starts.push(all.len() as u32);
        Some(RowIndex {
            bounds,
            starts,
            rows: all,
        })
    }
}

/// The segments (inclusive ranges, sorted, disjoint) where a cell of constant
/// checks matches, as [`constant_cell_matches`] decides it; `point(v)` is the
/// segment of bound `v`. `None` if a check is not a numeric comparison.
fn matched_segments(
    cell: &CompiledCell,
    segments: usize,
    point: impl Fn(&Value) -> Option<usize>,
) -> Option<Vec<(usize, usize)>> {
    let last = segments - 1;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for check in &cell.checks {
        match check {
            Check::Compare(op, v) => {
                let p = point(v)?;
                match op {
                    CompareOp::Lt => spans.push((0, p - 1)),
                    CompareOp::Le => spans.push((0, p)),
                    CompareOp::Gt => spans.push((p + 1, last)),
                    CompareOp::Ge => spans.push((p, last)),
                    CompareOp::Eq => spans.push((p, p)),
                    CompareOp::Ne => {
                        spans.push((0, p - 1));
                        spans.push((p + 1, last));
                    }
                }
            }
            Check::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let (lo, hi) = (point(low)?, point(high)?);
                let from = if *low_inclusive { lo } else { lo + 1 };
                let to = if *high_inclusive { hi } else { hi - 1 };
                if from <= to {
                    spans.push((from, to));
                }
            }
            _ => return None,
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (from, to) in spans {
        match merged.last_mut() {
            Some(prev) if from <= prev.1 + 1 => prev.1 = prev.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    if !cell.negated {
        return Some(merged);
    }
    let mut complement = Vec::with_capacity(merged.len() + 1);
    let mut next = 0;
    for (from, to) in merged {
        if from > next {
            complement.push((next, from - 1));
        }
        next = to + 1;
    }
    if next <= last {
        complement.push((next, last));
    }
    Some(complement)
}

/// A cell of constant checks against a non-null number, as the evaluator sees it:
/// what the index must agree with.
#[cfg(test)]
fn constant_cell_matches(cell: &CompiledCell, x: &Value) -> bool {
    if cell.any {
        return true;
    }
    let hit = cell.checks.iter().any(|c| match c {
        Check::Compare(op, v) => crate::lang::semantics::compare(*op, x, v),
        Check::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        } => crate::lang::semantics::in_range(x, low, *low_inclusive, high, *high_inclusive),
        _ => false,
    });
    hit != cell.negated
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check() -> impl Strategy<Value = Check> {
        let op = prop_oneof![
            Just(CompareOp::Lt),
            Just(CompareOp::Le),
            Just(CompareOp::Gt),
            Just(CompareOp::Ge),
            Just(CompareOp::Eq),
            Just(CompareOp::Ne),
        ];
        prop_oneof![
            (op, -5i64..15).prop_map(|(op, v)| Check::Compare(op, Value::Int(v))),
            (-5i64..15, -5i64..15, any::<bool>(), any::<bool>()).prop_map(
                |(lo, hi, li, hi_inc)| {
                    Check::Range {
                        low: Value::Int(lo),
                        low_inclusive: li,
                        high: Value::Int(hi),
                        high_inclusive: hi_inc,
                    }
                }
            ),
        ]
    }

    fn cell() -> impl Strategy<Value = CompiledCell> {
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(check(), 1..3),
        )
            .prop_map(|(any, negated, checks)| CompiledCell {
                any: any && checks.len() == 1,
                negated,
                checks,
            })
    }

    proptest! {
        /// The index lists, for every number, exactly the rows whose first
        /// cell matches it, in row order.
        #[test]
        fn row_index_agrees_with_matching_every_cell(cells in prop::collection::vec(cell(), 16..40)) {
            let rows: Vec<Vec<CompiledCell>> = cells.into_iter().map(|c| vec![c]).collect();
            // Every cell here stays far below the index's size cap.
            let index = RowIndex::build(&rows, &Type::Integer).expect("an index");
            for x in -8i64..18 {
                let x = Value::Int(x);
                let expected: Vec<u32> = (0..rows.len() as u32)
                    .filter(|&r| constant_cell_matches(&rows[r as usize][0], &x))
                    .collect();
                prop_assert_eq!(index.candidates(&x), Some(expected.as_slice()));
            }
        }
    }
}

//! A table turned into boxes: each input column cut into elementary pieces by
//! every boundary its cells draw, and per row and column the pieces the cell
//! may match and, where a cell cannot be decided, the pieces it must match;
//! all within the table's space budget. It must not search the boxes or word
//! a finding (that is `search` and `findings`).

use rust_decimal::Decimal;

use super::bits::Bits;
use super::cell::{
    constant, folded, is_any, matches_null, nullable, ordered_region, ordered_value, point_matches,
    show_ordered, undecided_why, Point,
};
use super::domain::{self, IntervalSet, Line, Pos};
use super::SPACE_WORDS_BUDGET;
use crate::data::schema::Schema;
use crate::lang::ir::{TCell, TTest, Table};
use crate::types::{ShowType, Type, Value};

/// How a column's pieces are laid out, to show a set of them as a cell.
pub(super) enum Layout {
    /// Ordered values: the pieces of the line, in order.
    Ordered {
        ty: Type,
        line: Line,
        pieces: Vec<(Pos, Pos)>,
    },
    /// One piece per boolean, enum variant or text literal; for text the last
    /// non-null piece is "any other text".
    Finite { other_text: bool },
    /// A type the analysis does not model: one piece for every value.
    Opaque,
}

/// One input column cut into pieces; `shown[i]` is a value inside piece `i`.
pub(super) struct Column {
    pub(super) name: String,
    pub(super) shown: Vec<String>,
    /// A value inside piece `i` for counterexample accounts (`None`: any will do, or none can be written).
    pub(super) values: Vec<Option<Value>>,
    /// Every cell is `-`: the column does not matter.
    pub(super) whole: bool,
    pub(super) layout: Layout,
    /// Whether the last piece is a null input.
    pub(super) null: bool,
}

/// A cell whose matches the analysis cannot decide: they depend on the
/// account, or on something it does not model.
pub(super) struct UnknownCell {
    pub(super) row: usize,
    pub(super) col: usize,
    pub(super) why: String,
}

/// A table turned into boxes: per row, per column, a set of pieces.
pub(super) struct Space {
    pub(super) cols: Vec<Column>,
    /// The pieces each cell may match: for an unknown cell, every value.
    pub(super) rows: Vec<Vec<Bits>>,
    /// For a row with unknown cells, the pieces each cell matches for sure:
    /// for an unknown cell, no value (but null, when `null` is written).
    pub(super) certain: Vec<Option<Vec<Bits>>>,
    pub(super) unknown: Vec<UnknownCell>,
}

/// Which side of an unknown cell a question takes. A finding is only
/// reported when it holds either way: a row is hidden only by rows that
/// certainly match, a gap is a point no row may match, and so on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    May,
    Must,
}

impl Space {
    pub(super) fn boxes(&self, bound: Bound, r: usize) -> &[Bits] {
        match bound {
            Bound::Must => self.certain[r].as_deref().unwrap_or(&self.rows[r]),
            Bound::May => &self.rows[r],
        }
    }

    /// The input values of a point, for a counterexample account.
    pub(super) fn point_values(&self, point: &[usize]) -> Vec<(usize, Value)> {
        self.cols
            .iter()
            .zip(point)
            .enumerate()
            .filter(|(_, (c, _))| !c.whole)
            .filter_map(|(i, (c, &p))| c.values[p].clone().map(|v| (i, v)))
            .collect()
    }

    pub(super) fn is_unknown(&self, row: usize, col: usize) -> bool {
        self.certain[row].is_some()
            && self
                .unknown
                .binary_search_by_key(&(row, col), |u| (u.row, u.col))
                .is_ok()
    }
}

/// A table's boxes would take more than [`SPACE_WORDS_BUDGET`].
pub(super) struct TooLarge;

/// Charges `rows` boxes of `pieces` bits to the table's space budget.
/// The number line an ordered column's values lie on: money and decimals
/// dense (to the cent), integers, days and dates discrete.
pub(super) fn line_of(ty: &Type) -> Line {
    if matches!(ty, Type::Decimal | Type::Money) {
        Line::Dense(Decimal::new(1, 2))
    } else {
        Line::Discrete
    }
}

/// Every value of a bool or enum column, with how a cell writes it (`None`
/// for other types).
pub(super) fn finite_points(schema: &Schema, ty: &Type) -> Option<Vec<(Point, String)>> {
    match ty {
        Type::Bool => Some(vec![
            (Point::Value(Value::Bool(false)), "false".into()),
            (Point::Value(Value::Bool(true)), "true".into()),
        ]),
        Type::Enum(id) => Some(
            schema
                .enum_def(*id)
                .variants
                .iter()
                .enumerate()
                .map(|(i, v)| (Point::Value(Value::Enum(i as u32)), v.clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn charge_space(words_left: &mut usize, rows: usize, pieces: usize) -> Result<(), TooLarge> {
    let words = rows.saturating_mul(pieces.div_ceil(64));
    *words_left = words_left.checked_sub(words).ok_or(TooLarge)?;
    Ok(())
}

/// One column: its pieces, what each row's cell may and must match, its unknown cells.
struct BuiltColumn {
    col: Column,
    may: Vec<Bits>,
    must: Vec<Option<Bits>>,
    unknown: Vec<(usize, String)>,
}

fn build_column(
    schema: &Schema,
    table: &Table,
    c: usize,
    words_left: &mut usize,
) -> Result<BuiltColumn, TooLarge> {
    let input = &table.inputs[c];
    let cells: Vec<&TCell> = table.rows.iter().map(|r| &r.cells[c]).collect();
    if cells.iter().all(|cell| is_any(cell)) {
        let col = Column {
            name: input.name.clone(),
            shown: vec!["any".into()],
            values: vec![None],
            whole: true,
            layout: Layout::Opaque,
            null: false,
        };
        return Ok(BuiltColumn {
            col,
            may: vec![Bits::full(1); cells.len()],
            must: vec![None; cells.len()],
            unknown: Vec::new(),
        });
    }
    let tests: Vec<Vec<TTest>> = cells.iter().map(|cell| folded(cell)).collect();
    let mut unknown: Vec<(usize, String)> = Vec::new();
    let ty = &input.expr.ty;
    let null = nullable(schema, &input.expr);
    let mut shown = Vec::new();
    let values: Vec<Option<Value>>;
    let layout;
    // Per cell, the non-null pieces it matches; `None` when unknown.
    let known: Vec<Option<Bits>>;
    let n;
    match ty {
        Type::Integer | Type::Days | Type::Date | Type::Decimal | Type::Money => {
            let line = line_of(ty);
            let mut regions = Vec::new();
            for (r, (cell, ts)) in cells.iter().zip(&tests).enumerate() {
                let region = if is_any(cell) {
                    Some(IntervalSet::all(line))
                } else {
                    ordered_region(line, ts, cell.negated)
                };
                if region.is_none() {
                    unknown.push((r, undecided_why(ts, "it is not a plain comparison")));
                }
                regions.push(region);
            }
            let pieces = domain::pieces(line, regions.iter().flatten().flat_map(|r| r.cuts()));
            let reps: Vec<Decimal> = pieces
                .iter()
                .map(|&p| domain::representative(line, p))
                .collect();
            shown.extend(reps.iter().map(|&x| show_ordered(ty, x)));
            values = reps.iter().map(|&x| ordered_value(ty, x)).collect();
            n = reps.len() + usize::from(null);
            charge_space(words_left, regions.len(), n)?;
            // A region's ranges are unions of whole pieces (the pieces are cut
            // at every region's ends): find them by binary search, not by
            // testing every piece against every row.
            known = regions
                .iter()
                .map(|region| {
                    region.as_ref().map(|region| {
                        let mut b = Bits::new(n);
                        for &(from, to) in region.ranges() {
                            let first = pieces.partition_point(|p| p.0 < from);
                            let end = pieces.partition_point(|p| p.1 <= to);
                            (first..end).for_each(|i| b.set(i));
                        }
                        b
                    })
                })
                .collect();
            layout = Layout::Ordered {
                ty: ty.clone(),
                line,
                pieces,
            };
        }
        Type::Bool | Type::Enum(_) | Type::Text => {
            let points: Vec<(Point, String)> = match finite_points(schema, ty) {
                Some(points) => points,
                None => {
                    let mut literals: Vec<String> = tests
                        .iter()
                        .flatten()
                        .flat_map(|t| match t {
                            TTest::Compare(_, e) => vec![e],
                            TTest::Range { low, high, .. } => vec![low, high],
                        })
                        .filter_map(|e| match constant(e) {
                            Some(Value::Text(t)) => Some(t.to_string()),
                            _ => None,
                        })
                        .collect();
                    literals.sort();
                    literals.dedup();
                    let other = (0..)
                        .map(|i| {
                            if i == 0 {
                                "other".to_string()
                            } else {
                                format!("other{i}")
                            }
                        })
                        .find(|o| !literals.contains(o))
                        .unwrap_or_default();
                    let mut points: Vec<(Point, String)> = literals
                        .into_iter()
                        .map(|t| {
                            let shown = format!("{t:?}");
                            (Point::Value(Value::Text(t.into())), shown)
                        })
                        .collect();
                    points.push((Point::OtherText(other.clone()), format!("{other:?}")));
                    points
                }
            };
            n = points.len() + usize::from(null);
            charge_space(words_left, cells.len(), n)?;
            let mut bits = Vec::new();
            for (r, (cell, ts)) in cells.iter().zip(&tests).enumerate() {
                let mut b = Bits::new(n);
                let mut decided = true;
                for (i, (p, _)) in points.iter().enumerate() {
                    match if is_any(cell) {
                        Some(true)
                    } else {
                        point_matches(p, ts, cell.negated)
                    } {
                        Some(true) => b.set(i),
                        Some(false) => {}
                        None => decided = false,
                    }
                }
                if decided {
                    bits.push(Some(b));
                } else {
                    unknown.push((
                        r,
                        undecided_why(ts, "it orders text, which the analysis does not model"),
                    ));
                    bits.push(None);
                }
            }
            known = bits;
            values = points
                .iter()
                .map(|(p, _)| match p {
                    Point::Value(v) => Some(v.clone()),
                    Point::OtherText(t) => Some(Value::Text(t.as_str().into())),
                })
                .collect();
            shown.extend(points.into_iter().map(|(_, s)| s));
            layout = Layout::Finite {
                other_text: *ty == Type::Text,
            };
        }
        other => {
            n = 1 + usize::from(null);
            charge_space(words_left, cells.len(), n)?;
            let why = format!(
                "column `{}` is a {}, which the analysis does not model",
                input.name,
                ShowType(other, schema)
            );
            known = cells
                .iter()
                .enumerate()
                .map(|(r, cell)| {
                    if is_any(cell) {
                        let mut b = Bits::new(n);
                        b.set(0);
                        Some(b)
                    } else {
                        unknown.push((r, why.clone()));
                        None
                    }
                })
                .collect();
            shown.push("any value".into());
            values = vec![None];
            layout = Layout::Opaque;
        }
    }
    charge_space(words_left, unknown.len(), n)?;
    let values_n = n - usize::from(null);
    let mut may = Vec::with_capacity(cells.len());
    let mut must = Vec::with_capacity(cells.len());
    for ((cell, ts), known) in cells.iter().zip(&tests).zip(known) {
        // A null input matches only `-` and `null`, whatever the other tests read.
        let null_bit = |mut b: Bits| {
            if null && matches_null(cell, ts) {
                b.set(n - 1);
            }
            b
        };
        match known {
            Some(b) => {
                may.push(null_bit(b));
                must.push(None);
            }
            None => {
                let mut all = Bits::new(n);
                (0..values_n).for_each(|i| all.set(i));
                may.push(null_bit(all));
                must.push(Some(null_bit(Bits::new(n))));
            }
        }
    }
    let (mut shown, mut values) = (shown, values);
    if null {
        shown.push("null".into());
        values.push(Some(Value::Null));
    }
    Ok(BuiltColumn {
        col: Column {
            name: input.name.clone(),
            shown,
            values,
            whole: false,
            layout,
            null,
        },
        may,
        must,
        unknown,
    })
}

pub(super) fn build_space(schema: &Schema, table: &Table) -> Result<Space, TooLarge> {
    let n = table.rows.len();
    let mut cols = Vec::new();
    let mut rows: Vec<Vec<Bits>> = vec![Vec::new(); n];
    let mut musts: Vec<Vec<Option<Bits>>> = vec![Vec::new(); n];
    let mut unknown = Vec::new();
    let mut words_left = SPACE_WORDS_BUDGET;
    for c in 0..table.inputs.len() {
        let built = build_column(schema, table, c, &mut words_left)?;
        cols.push(built.col);
        for (r, (b, m)) in built.may.into_iter().zip(built.must).enumerate() {
            rows[r].push(b);
            musts[r].push(m);
        }
        unknown.extend(built.unknown.into_iter().map(|(row, why)| UnknownCell {
            row,
            col: c,
            why,
        }));
    }
    let certain = musts
        .into_iter()
        .zip(&rows)
        .map(|(must, may)| {
            must.iter().any(Option::is_some).then(|| {
                must.into_iter()
                    .zip(may)
                    .map(|(m, may)| m.unwrap_or_else(|| may.clone()))
                    .collect()
            })
        })
        .collect();
    unknown.sort_by_key(|u| (u.row, u.col));
    Ok(Space {
        cols,
        rows,
        certain,
        unknown,
    })
}

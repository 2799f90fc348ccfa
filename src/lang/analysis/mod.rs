//! Decision-table analysis for `arrears lint`: gaps, overlaps, masked and
//! subsumed rows, unused fields and tables, row ids and reasons that quote
//! their row's thresholds ([`quoted`]). Every claim about inputs is exact
//! and comes with a counterexample; what cannot be analysed exactly is said so
//! (`not-analysed`), never guessed.
//!
//! Each column's domain is cut into elementary pieces by every boundary any
//! cell of that column draws (see [`domain`]); a row is then a box: one set of
//! pieces per column. Coverage questions (is every input matched? is this row
//! covered by earlier ones?) are answered by splitting column by column,
//! grouping pieces that the same rows contain, under a work budget.

pub mod codes;
pub mod counterexample;
pub mod domain;
mod quoted;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::data::schema::Schema;
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{HitPolicy, Program, TCell, TExpr, TExprKind, TTest, Table};
use crate::lang::syntax::ast::CompareOp;
use crate::model::doc::{FieldTypeDoc, SchemaDoc};
use crate::source::{SourceFile, Span};
use crate::types::{format_money, RecordId, ShowType, Type, Value};
use domain::{IntervalSet, Line, Pos};

/// Leaf visits allowed per table for the coverage searches.
pub const LEAF_BUDGET: u64 = 200_000;
/// Row pairs compared per table for overlaps and subsumption.
pub const PAIR_BUDGET: u64 = 5_000_000;
/// 64-bit words the rows' boxes of one table may take (8 MiB): a box holds a
/// bit per piece, and pieces grow with rows, so a large table's boxes grow
/// with its rows squared.
pub const SPACE_WORDS_BUDGET: usize = 1 << 20;

/// What the analysis knows beyond the program.
#[derive(Default)]
pub struct Context<'a> {
    /// The schema as written, to point at unused fields.
    pub schema_doc: Option<(&'a Arc<SourceFile>, &'a SchemaDoc)>,
    /// With a policy: what it uses besides the rules.
    pub policy: Option<PolicyUse>,
}

/// The tables a policy plays (any role) and the fields its pipeline reads.
#[derive(Default, Debug, Clone)]
pub struct PolicyUse {
    pub tables: Vec<u32>,
    pub fields: Vec<(RecordId, usize)>,
}

/// Analyses a checked program. Call it only when checking found no errors.
pub fn analyse(program: &Program, ctx: &Context) -> Vec<Diagnostic> {
    analyse_findings(program, ctx)
        .into_iter()
        .map(|f| f.diagnostic)
        .collect()
}

/// [`analyse`], with the input values behind each finding that has some.
pub fn analyse_findings(program: &Program, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for (t, table) in program.tables.iter().enumerate() {
        out.extend(analyse_table(&program.schema, table, t as u32, LEAF_BUDGET));
        out.extend(
            quoted::quoted_thresholds(&program.schema, table)
                .into_iter()
                .map(Finding::plain),
        );
    }
    out.extend(unused(program, ctx).into_iter().map(Finding::plain));
    out
}

/// A diagnostic of the analysis and, when it is about inputs, a point that shows it.
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub counterexample: Option<Counterexample>,
}

impl Finding {
    fn plain(diagnostic: Diagnostic) -> Self {
        Finding {
            diagnostic,
            counterexample: None,
        }
    }
}

/// Input values of one table that show a finding: a gap, two overlapping
/// rows, a hidden or redundant row.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The table's index in the program.
    pub table: u32,
    /// The row the finding is about; `None` for a gap.
    pub row: Option<String>,
    pub code: &'static str,
    /// (input column, value); columns no cell tests, or whose values cannot be written, are left out.
    pub inputs: Vec<(usize, Value)>,
}

// ---------------------------------------------------------------------------
// Bit sets over the pieces of one column.

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn full(n: usize) -> Self {
        let mut b = Bits::new(n);
        (0..n).for_each(|i| b.set(i));
        b
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn intersects(&self, o: &Bits) -> bool {
        self.0.iter().zip(&o.0).any(|(a, b)| a & b != 0)
    }
    fn subset_of(&self, o: &Bits) -> bool {
        self.0.iter().zip(&o.0).all(|(a, b)| a & !b == 0)
    }
    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    fn first_common(&self, o: &Bits) -> Option<usize> {
        self.0
            .iter()
            .zip(&o.0)
            .enumerate()
            .find(|(_, (a, b))| *a & *b != 0)
            .map(|(i, (a, b))| i * 64 + (a & b).trailing_zeros() as usize)
    }
    fn first(&self) -> Option<usize> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }
    fn union_with(&mut self, o: &Bits) {
        self.0.iter_mut().zip(&o.0).for_each(|(a, b)| *a |= b);
    }
    fn ones(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        (0..n).filter(|&i| self.get(i))
    }
}

// ---------------------------------------------------------------------------
// Columns.

/// How a column's pieces are laid out, to show a set of them as a cell.
enum Layout {
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
struct Column {
    name: String,
    shown: Vec<String>,
    /// A value inside piece `i` for counterexample accounts (`None`: any will do, or none can be written).
    values: Vec<Option<Value>>,
    /// Every cell is `-`: the column does not matter.
    whole: bool,
    layout: Layout,
    /// Whether the last piece is a null input.
    null: bool,
}

/// A cell whose matches the analysis cannot decide: they depend on the
/// account, or on something it does not model.
struct UnknownCell {
    row: usize,
    col: usize,
    why: String,
}

/// A table turned into boxes: per row, per column, a set of pieces.
struct Space {
    cols: Vec<Column>,
    /// The pieces each cell may match: for an unknown cell, every value.
    rows: Vec<Vec<Bits>>,
    /// For a row with unknown cells, the pieces each cell matches for sure:
    /// for an unknown cell, no value (but null, when `null` is written).
    certain: Vec<Option<Vec<Bits>>>,
    unknown: Vec<UnknownCell>,
}

/// Which side of an unknown cell a question takes. A finding is only
/// reported when it holds either way: a row is hidden only by rows that
/// certainly match, a gap is a point no row may match, and so on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    May,
    Must,
}

impl Space {
    fn boxes(&self, bound: Bound, r: usize) -> &[Bits] {
        match bound {
            Bound::Must => self.certain[r].as_deref().unwrap_or(&self.rows[r]),
            Bound::May => &self.rows[r],
        }
    }

    /// The input values of a point, for a counterexample account.
    fn point_values(&self, point: &[usize]) -> Vec<(usize, Value)> {
        self.cols
            .iter()
            .zip(point)
            .enumerate()
            .filter(|(_, (c, _))| !c.whole)
            .filter_map(|(i, (c, &p))| c.values[p].clone().map(|v| (i, v)))
            .collect()
    }

    fn is_unknown(&self, row: usize, col: usize) -> bool {
        self.certain[row].is_some()
            && self
                .unknown
                .binary_search_by_key(&(row, col), |u| (u.row, u.col))
                .is_ok()
    }
}

fn constant(e: &TExpr) -> Option<&Value> {
    match &e.kind {
        TExprKind::Const(v) => Some(v),
        _ => None,
    }
}

fn is_any(cell: &TCell) -> bool {
    cell.tests.is_empty() && !cell.negated
}

/// Whether a test compares with a value read from the account.
fn is_dynamic(t: &TTest) -> bool {
    match t {
        TTest::Compare(_, e) => constant(e).is_none(),
        TTest::Range { low, high, .. } => constant(low).is_none() || constant(high).is_none(),
    }
}

/// Why a cell with tests `ts` cannot be decided: an operand read from the
/// account, or else `otherwise` (what the column's type does not model).
fn undecided_why(ts: &[TTest], otherwise: &str) -> String {
    if ts.iter().any(is_dynamic) {
        "it compares with a value that depends on the account".to_string()
    } else {
        otherwise.to_string()
    }
}

/// The cell's tests with constant operands folded.
fn folded(cell: &TCell) -> Vec<TTest> {
    cell.tests
        .iter()
        .map(|t| {
            let mut t = t.clone();
            match &mut t {
                TTest::Compare(_, e) => crate::lang::compile::fold(e),
                TTest::Range { low, high, .. } => {
                    crate::lang::compile::fold(low);
                    crate::lang::compile::fold(high);
                }
            }
            t
        })
        .collect()
}

/// Whether a null input matches the cell: only `-` and `null` do.
fn matches_null(cell: &TCell, tests: &[TTest]) -> bool {
    is_any(cell)
        || (!cell.negated
            && tests.iter().any(|t| {
                matches!(t, TTest::Compare(CompareOp::Eq, e) if matches!(constant(e), Some(Value::Null)))
            }))
}

/// Whether an input expression can be null: a path through an optional field
/// (arithmetic and `min`/`max`/`abs`/`round`/`days_between`/`month_day` pass null on).
fn nullable(schema: &Schema, e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Const(v) => v.is_null(),
        TExprKind::Field(base, slot) => {
            nullable(schema, base)
                || matches!(&base.ty, Type::Record(id)
                    if schema.record(*id).fields.get(*slot as usize).is_some_and(|f| f.optional))
        }
        TExprKind::Unary(_, b) => nullable(schema, b),
        TExprKind::Binary(crate::lang::ir::BinOp::Compare(_), _, _) => false,
        TExprKind::Binary(_, l, r) => nullable(schema, l) || nullable(schema, r),
        TExprKind::Call(f, args) => {
            use crate::lang::ir::Builtin as B;
            matches!(
                f,
                B::Min | B::Max | B::Abs | B::Round | B::DaysBetween | B::MonthDay
            ) && args.iter().any(|a| nullable(schema, a))
        }
        _ => false,
    }
}

fn key(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal::from(*n)),
        Value::Dec(d) => Some(*d),
        Value::Date(d) => Some(Decimal::from(chrono::Datelike::num_days_from_ce(d))),
        _ => None,
    }
}

/// The non-null values an ordered cell's tests match.
fn ordered_region(line: Line, tests: &[TTest], negated: bool) -> Option<IntervalSet> {
    let mut set = IntervalSet::empty(line);
    for t in tests {
        let part = match t {
            TTest::Compare(op, e) => {
                let v = constant(e)?;
                if v.is_null() {
                    if *op == CompareOp::Ne {
                        IntervalSet::all(line)
                    } else {
                        IntervalSet::empty(line)
                    }
                } else {
                    let k = key(v)?;
                    match op {
                        CompareOp::Eq => IntervalSet::point(line, k),
                        CompareOp::Ne => IntervalSet::point(line, k).complement(),
                        CompareOp::Lt => IntervalSet::interval(line, None, Some((k, false))),
                        CompareOp::Le => IntervalSet::interval(line, None, Some((k, true))),
                        CompareOp::Gt => IntervalSet::interval(line, Some((k, false)), None),
                        CompareOp::Ge => IntervalSet::interval(line, Some((k, true)), None),
                    }
                }
            }
            TTest::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let (lo, hi) = (constant(low)?, constant(high)?);
                if lo.is_null() || hi.is_null() {
                    IntervalSet::empty(line)
                } else {
                    IntervalSet::interval(
                        line,
                        Some((key(lo)?, *low_inclusive)),
                        Some((key(hi)?, *high_inclusive)),
                    )
                }
            }
        };
        set = set.union(&part);
    }
    Some(if negated { set.complement() } else { set })
}

fn show_ordered(ty: &Type, x: Decimal) -> String {
    match ty {
        Type::Money if x.is_sign_negative() => format!("-${}", format_money(-x)),
        Type::Money => format!("${}", format_money(x)),
        Type::Days => format!("{x} days"),
        Type::Date => i32::try_from(x.trunc().mantissa())
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map_or_else(|| format!("day {x}"), |d| d.to_string()),
        _ => x.normalize().to_string(),
    }
}

/// A point of a finite domain: a value, or "any text not written in the column" (shown as the given text).
enum Point {
    Value(Value),
    OtherText(String),
}

/// Whether a non-null finite point matches a cell; `None` when that needs an
/// ordering of texts the analysis does not model.
fn point_matches(p: &Point, tests: &[TTest], negated: bool) -> Option<bool> {
    let mut hit = false;
    for t in tests {
        let m = match (p, t) {
            (Point::Value(v), TTest::Compare(op, e)) => {
                crate::lang::semantics::compare(*op, v, constant(e)?)
            }
            (
                Point::Value(v),
                TTest::Range {
                    low,
                    low_inclusive,
                    high,
                    high_inclusive,
                },
            ) => crate::lang::semantics::in_range(
                v,
                constant(low)?,
                *low_inclusive,
                constant(high)?,
                *high_inclusive,
            ),
            (Point::OtherText(_), TTest::Compare(CompareOp::Eq, e)) => {
                constant(e)?;
                false
            }
            (Point::OtherText(_), TTest::Compare(CompareOp::Ne, e)) => {
                constant(e)?;
                true
            }
            (Point::OtherText(_), _) => return None,
        };
        hit |= m;
    }
    Some(hit != negated)
}

/// A table's boxes would take more than [`SPACE_WORDS_BUDGET`].
struct TooLarge;

/// Charges `rows` boxes of `pieces` bits to the table's space budget.
fn charge_space(words_left: &mut usize, rows: usize, pieces: usize) -> Result<(), TooLarge> {
    let words = rows.saturating_mul(pieces.div_ceil(64));
    *words_left = words_left.checked_sub(words).ok_or(TooLarge)?;
    Ok(())
}

/// A value of an ordered type at a point of its line.
fn ordered_value(ty: &Type, x: Decimal) -> Option<Value> {
    use rust_decimal::prelude::ToPrimitive;
    match ty {
        Type::Integer | Type::Days => x.to_i64().map(Value::Int),
        Type::Date => x
            .to_i32()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map(Value::Date),
        _ => Some(Value::Dec(x)),
    }
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
            let line = if matches!(ty, Type::Decimal | Type::Money) {
                Line::Dense(Decimal::new(1, 2))
            } else {
                Line::Discrete
            };
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
            let points: Vec<(Point, String)> = match ty {
                Type::Bool => vec![
                    (Point::Value(Value::Bool(false)), "false".into()),
                    (Point::Value(Value::Bool(true)), "true".into()),
                ],
                Type::Enum(id) => schema
                    .enum_def(*id)
                    .variants
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Point::Value(Value::Enum(i as u32)), v.clone()))
                    .collect(),
                _ => {
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

fn build_space(schema: &Schema, table: &Table) -> Result<Space, TooLarge> {
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

// ---------------------------------------------------------------------------
// Searches.

struct OverBudget;

/// Gap regions collected per table before merging; more are counted as "more".
const GAPS_COLLECTED: usize = 100;
/// Gap regions reported per table.
const GAPS_SHOWN: usize = 10;
/// Unknown cells reported per table.
const UNKNOWN_SHOWN: usize = 10;

struct Search<'a> {
    space: &'a Space,
    leaves: u64,
    pairs: u64,
}

fn intersect(a: &[Bits], b: &[Bits]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.intersects(y))
}

fn contained(inner: &[Bits], outer: &[Bits]) -> bool {
    inner.iter().zip(outer).all(|(x, y)| x.subset_of(y))
}

/// A point of a region: its first piece in every column.
fn first_point(region: &[Bits]) -> Vec<usize> {
    region.iter().map(|b| b.first().unwrap_or(0)).collect()
}

/// A point two regions share.
fn common(a: &[Bits], b: &[Bits]) -> Vec<usize> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.first_common(y).unwrap_or(0))
        .collect()
}

/// Merges regions that differ in one column only, so a gap reads as few, wide regions.
fn merge_regions(regions: &mut Vec<Vec<Bits>>) {
    'again: loop {
        for i in 0..regions.len() {
            for j in i + 1..regions.len() {
                let differing: Vec<usize> = (0..regions[i].len())
                    .filter(|&c| regions[i][c] != regions[j][c])
                    .collect();
                if differing.len() <= 1 {
                    let other = regions.remove(j);
                    for c in differing {
                        regions[i][c].union_with(&other[c]);
                    }
                    continue 'again;
                }
            }
        }
        return;
    }
}

impl Search<'_> {
    fn n(&self, c: usize) -> usize {
        self.space.cols[c].shown.len()
    }

    fn tick_pair(&mut self) -> Result<(), OverBudget> {
        if self.pairs == 0 {
            return Err(OverBudget);
        }
        self.pairs -= 1;
        Ok(())
    }

    /// Appends to `out` the regions of `region` (one set of pieces per column)
    /// that none of `rows` matches, until `out` holds `cap` of them. Pieces of
    /// a column that the same rows contain are taken together, so each region
    /// is as wide as the rows allow.
    fn uncovered(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        bound: Bound,
        cap: usize,
        out: &mut Vec<Vec<Bits>>,
    ) -> Result<(), OverBudget> {
        self.uncovered_from(region, rows, bound, cap, &mut Vec::new(), out)
    }

    fn uncovered_from(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        bound: Bound,
        cap: usize,
        prefix: &mut Vec<Bits>,
        out: &mut Vec<Vec<Bits>>,
    ) -> Result<(), OverBudget> {
        if out.len() >= cap {
            return Ok(());
        }
        if self.leaves == 0 {
            return Err(OverBudget);
        }
        self.leaves -= 1;
        let col = prefix.len();
        let ncols = self.space.cols.len();
        if rows.is_empty() {
            let mut found = prefix.clone();
            found.extend_from_slice(&region[col..]);
            out.push(found);
            return Ok(());
        }
        if col == ncols {
            return Ok(());
        }
        let space = self.space;
        if rows.iter().any(|&r| {
            let b = space.boxes(bound, r);
            (col..ncols).all(|c| region[c].subset_of(&b[c]))
        }) {
            return Ok(());
        }
        let n = self.n(col);
        let mut groups: Vec<(Vec<usize>, Bits)> = Vec::new();
        let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
        for atom in region[col].ones(n) {
            let sub: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| space.boxes(bound, r)[col].get(atom))
                .collect();
            match index.get(&sub) {
                Some(&g) => groups[g].1.set(atom),
                None => {
                    let mut b = Bits::new(n);
                    b.set(atom);
                    index.insert(sub.clone(), groups.len());
                    groups.push((sub, b));
                }
            }
        }
        for (sub, atoms) in groups {
            prefix.push(atoms);
            let found = self.uncovered_from(region, &sub, bound, cap, prefix, out);
            prefix.pop();
            found?;
            if out.len() >= cap {
                break;
            }
        }
        Ok(())
    }

    /// Whether `rows` (by `bound`) match every point of `region`.
    fn covers(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        bound: Bound,
    ) -> Result<bool, OverBudget> {
        let mut out = Vec::new();
        self.uncovered(region, rows, bound, 1, &mut out)?;
        Ok(out.is_empty())
    }

    /// The rows of `rows` a message should name: one that covers `region` on
    /// its own, else those left after dropping each row the others cover
    /// without (for up to 16 rows; more are all named).
    fn fewest(&mut self, region: &[Bits], mut rows: Vec<usize>) -> Result<Vec<usize>, OverBudget> {
        let space = self.space;
        if let Some(&r) = rows
            .iter()
            .find(|&&r| contained(region, space.boxes(Bound::Must, r)))
        {
            return Ok(vec![r]);
        }
        if rows.len() <= 16 {
            let mut k = 0;
            while k < rows.len() {
                let mut rest = rows.clone();
                rest.remove(k);
                if self.covers(region, &rest, Bound::Must)? {
                    rows = rest;
                } else {
                    k += 1;
                }
            }
        }
        Ok(rows)
    }

    /// `dpd = 0, arrears = $4.99` (columns where every cell is `-` left out).
    fn show(&self, point: &[usize]) -> String {
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
    fn show_region(&self, region: &[Bits]) -> String {
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
fn range_text(ty: &Type, line: Line, from: Pos, to: Pos) -> String {
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

/// Outputs as constants, when every output is one.
fn const_outputs(row: &crate::lang::ir::Row) -> Option<Vec<Value>> {
    row.outputs
        .iter()
        .map(|e| {
            let mut e = e.clone();
            crate::lang::compile::fold(&mut e);
            constant(&e).cloned()
        })
        .collect()
}

fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equals(y))
}

fn quoted_list(ids: &[&str]) -> String {
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
fn unknown_cells_text(table: &Table, space: &Space) -> String {
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

/// Gap, overlap, masked, subsumed and duplicate rows of one table, and its unknown cells.
pub(crate) fn analyse_table(
    schema: &Schema,
    table: &Table,
    table_index: u32,
    leaf_budget: u64,
) -> Vec<Finding> {
    let too_large = || {
        Finding::plain(Diagnostic::warning(
            "not-analysed",
            &table.file,
            table.span,
            format!(
                "table `{}` was not checked for gaps and overlaps: the table is too large to analyse exactly (more than {leaf_budget} cases, {PAIR_BUDGET} row pairs or {} MiB of row boxes)",
                table.name,
                SPACE_WORDS_BUDGET >> 17
            ),
        )
        .with_help("the analysis only makes exact claims; this table needs review by hand"))
    };
    let Ok(space) = build_space(schema, table) else {
        return vec![too_large()];
    };
    let mut search = Search {
        space: &space,
        leaves: leaf_budget,
        pairs: PAIR_BUDGET,
    };
    let mut found = match findings(table, table_index, &mut search) {
        Ok(found) => found,
        Err(OverBudget) => vec![too_large()],
    };
    found.extend(unknown_cells(table, &space));
    found
}

/// One `unknown-cell` note per cell the analysis could not decide (at most [`UNKNOWN_SHOWN`]).
fn unknown_cells(table: &Table, space: &Space) -> Vec<Finding> {
    let total = space.unknown.len();
    space
        .unknown
        .iter()
        .take(UNKNOWN_SHOWN)
        .enumerate()
        .map(|(k, u)| {
            let row = &table.rows[u.row];
            let cell = &row.cells[u.col];
            let mut message = format!(
                "row `{}`: cell `{}` of column `{}` is not analysed exactly: {}",
                row.id, cell.text, space.cols[u.col].name, u.why
            );
            if k + 1 == UNKNOWN_SHOWN && total > UNKNOWN_SHOWN {
                message.push_str(&format!(
                    " ({} more such cells in table `{}` are not listed)",
                    total - UNKNOWN_SHOWN,
                    table.name
                ));
            }
            Finding::plain(
                Diagnostic::info("unknown-cell", &table.file, cell.span, message).with_help(format!(
                    "the analysis takes this cell as possibly matching any value and as certainly matching none, and reports a finding only when it holds either way; where this cell decides whether row `{}` is hidden, hides, repeats or overlaps another row, check by hand",
                    row.id
                )),
            )
        })
        .collect()
}

#[allow(clippy::needless_range_loop)]
fn findings(table: &Table, t: u32, s: &mut Search) -> Result<Vec<Finding>, OverBudget> {
    let mut out = Vec::new();
    let n = table.rows.len();
    let space = s.space;
    let hit = table.hit.name();
    let single = matches!(
        table.hit,
        HitPolicy::First | HitPolicy::Unique | HitPolicy::Priority | HitPolicy::Any
    );
    let id = |i: usize| table.rows[i].id.as_str();
    let found = |d: Diagnostic, row: Option<usize>, point: Option<Vec<usize>>| Finding {
        counterexample: point.map(|p| Counterexample {
            table: t,
            row: row.map(|r| table.rows[r].id.clone()),
            code: d.code,
            inputs: space.point_values(&p),
        }),
        diagnostic: d,
    };
    let may = |r: usize| space.boxes(Bound::May, r);
    let must = |r: usize| space.boxes(Bound::Must, r);
    let all: Vec<usize> = (0..n).collect();
    if single && table.default.is_none() {
        let full: Vec<Bits> = space
            .cols
            .iter()
            .map(|c| Bits::full(c.shown.len()))
            .collect();
        // A gap is a point no row may match, whatever its unknown cells do.
        let mut gaps = Vec::new();
        let complete = match s.uncovered(&full, &all, Bound::May, GAPS_COLLECTED, &mut gaps) {
            Ok(()) => gaps.len() < GAPS_COLLECTED,
            Err(OverBudget) if !gaps.is_empty() => false,
            Err(e) => return Err(e),
        };
        merge_regions(&mut gaps);
        let total = gaps.len();
        for (k, gap) in gaps.iter().take(GAPS_SHOWN).enumerate() {
            let which = match (total, complete) {
                (1, true) => String::new(),
                (_, true) => format!(" ({} of {total})", k + 1),
                (_, false) => format!(" ({} of more than {total})", k + 1),
            };
            let region = s.show_region(gap);
            let point = first_point(gap);
            let mut help = format!(
                "under `hit: {hit}` an account no row matches cannot be evaluated; add a row `when: {region}` or a `default`"
            );
            if k + 1 == total.min(GAPS_SHOWN) && (total > GAPS_SHOWN || !complete) {
                help.push_str(&format!(
                    "; table `{}` has {} more gaps, not shown",
                    table.name,
                    if complete {
                        (total - GAPS_SHOWN).to_string()
                    } else {
                        "yet".into()
                    }
                ));
            }
            let d = Diagnostic::error(
                "table-gap",
                &table.file,
                table.span,
                format!(
                    "table `{}` has a gap{which}: no row matches `{region}`, e.g. `{}`",
                    table.name,
                    s.show(&point)
                ),
            )
            .with_help(help);
            out.push(found(d, None, Some(point)));
        }
        if gaps.is_empty() && !space.unknown.is_empty() {
            let mut maybe = Vec::new();
            s.uncovered(&full, &all, Bound::Must, 1, &mut maybe)?;
            if let Some(gap) = maybe.first() {
                out.push(Finding::plain(
                    Diagnostic::warning(
                        "not-analysed",
                        &table.file,
                        table.span,
                        format!(
                            "table `{}` was not fully checked for gaps: whether a row matches `{}`, e.g. `{}`, depends on cells the analysis cannot decide: {}",
                            table.name,
                            s.show_region(gap),
                            s.show(&first_point(gap)),
                            unknown_cells_text(table, space)
                        ),
                    )
                    .with_help("the analysis only makes exact claims; check by hand that some row matches these inputs, or add a `default`"),
                ));
            }
        }
    }
    let outputs: Vec<Option<Vec<Value>>> = table.rows.iter().map(const_outputs).collect();
    let rank = |r: usize| -> Option<u32> {
        let p = table.priority_output? as usize;
        match outputs[r].as_ref()?.get(p)? {
            Value::Enum(i) => Some(*i),
            _ => None,
        }
    };
    let mut possible_overlap: Option<(usize, usize)> = None;
    let mut conditions: HashMap<Vec<(&Bits, Option<&str>)>, Vec<usize>> = HashMap::new();
    for j in 0..n {
        let row = &table.rows[j];
        if may(j).iter().any(Bits::is_empty) {
            out.push(found(
                Diagnostic::warning(
                    "masked-row",
                    &table.file,
                    row.span,
                    format!(
                        "row `{}` can never fire: no input matches all of its cells",
                        row.id
                    ),
                )
                .with_help("a cell excludes every value; fix the cell or delete the row"),
                None,
                None,
            ));
            continue;
        }
        match table.hit {
            HitPolicy::Unique | HitPolicy::Any => {
                for i in 0..j {
                    s.tick_pair()?;
                    let conflict = table.hit == HitPolicy::Unique
                        || match (&outputs[i], &outputs[j]) {
                            (Some(a), Some(b)) => !same_values(a, b),
                            _ => false,
                        };
                    if !conflict {
                        continue;
                    }
                    if !intersect(must(i), must(j)) {
                        if possible_overlap.is_none() && intersect(may(i), may(j)) {
                            possible_overlap = Some((i, j));
                        }
                        continue;
                    }
                    let point = common(must(i), must(j));
                    let shown = s.show(&point);
                    let (message, help) = if table.hit == HitPolicy::Unique {
                        (
                            format!("rows `{}` and `{}` both match `{shown}`", id(i), row.id),
                            "under `hit: unique` at most one row may match; narrow one of them or use `hit: first`".to_string(),
                        )
                    } else {
                        (
                            format!(
                                "rows `{}` and `{}` both match `{shown}` but give different outputs",
                                id(i),
                                row.id
                            ),
                            "under `hit: any` matching rows must agree; narrow one of them, make their outputs equal, or use `hit: first`".to_string(),
                        )
                    };
                    out.push(found(
                        Diagnostic::error("table-overlap", &table.file, row.span, message)
                            .with_help(help),
                        Some(j),
                        Some(point),
                    ));
                    break;
                }
            }
            HitPolicy::First => {
                let mut earlier = Vec::new();
                for i in 0..j {
                    s.tick_pair()?;
                    if intersect(must(i), may(j)) {
                        earlier.push(i);
                    }
                }
                if !earlier.is_empty() && s.covers(may(j), &earlier, Bound::Must)? {
                    let earlier = s.fewest(may(j), earlier)?;
                    let ids: Vec<&str> = earlier.iter().map(|&i| id(i)).collect();
                    out.push(found(
                        Diagnostic::warning(
                            "masked-row",
                            &table.file,
                            row.span,
                            format!(
                                "row `{}` can never fire: earlier {} {} {} every input it matches",
                                row.id,
                                if ids.len() == 1 { "row" } else { "rows" },
                                quoted_list(&ids),
                                if ids.len() == 1 { "matches" } else { "match" }
                            ),
                        )
                        .with_help("under `hit: first` the first matching row wins; move this row up, narrow the earlier rows, or delete it"),
                        Some(j),
                        Some(first_point(may(j))),
                    ));
                    continue;
                }
            }
            HitPolicy::Priority => {
                if let Some(mine) = rank(j) {
                    // Rows that win over this one: a higher rank, or the same rank and earlier.
                    let mut winners = Vec::new();
                    for i in (0..n).filter(|&i| i != j) {
                        s.tick_pair()?;
                        let wins = rank(i).is_some_and(|r| r < mine || (r == mine && i < j));
                        if wins && intersect(must(i), may(j)) {
                            winners.push(i);
                        }
                    }
                    if !winners.is_empty() && s.covers(may(j), &winners, Bound::Must)? {
                        let winners = s.fewest(may(j), winners)?;
                        let ids: Vec<&str> = winners.iter().map(|&i| id(i)).collect();
                        let output =
                            &table.outputs[table.priority_output.unwrap_or(0) as usize].name;
                        out.push(found(
                            Diagnostic::warning(
                                "masked-row",
                                &table.file,
                                row.span,
                                format!(
                                    "row `{}` can never be chosen: {} {} {} every input it matches and {} before it",
                                    row.id,
                                    if ids.len() == 1 { "row" } else { "rows" },
                                    quoted_list(&ids),
                                    if ids.len() == 1 { "matches" } else { "match" },
                                    if ids.len() == 1 { "ranks" } else { "rank" },
                                ),
                            )
                            .with_help(format!("under `hit: priority` the matching row with the highest `{output}` wins (the earlier row on a tie); narrow those rows or delete this one")),
                            Some(j),
                            Some(first_point(may(j))),
                        ));
                        continue;
                    }
                }
            }
            HitPolicy::Collect | HitPolicy::RuleOrder => {
                // Identical conditions: the same pieces in every column, and
                // the same text in every unknown cell.
                let key: Vec<(&Bits, Option<&str>)> = may(j)
                    .iter()
                    .enumerate()
                    .map(|(c, b)| (b, space.is_unknown(j, c).then(|| row.cells[c].text.trim())))
                    .collect();
                let same = conditions.entry(key).or_default();
                let twin = same.iter().copied().find(|&i| {
                    matches!((&outputs[i], &outputs[j]), (Some(a), Some(b)) if same_values(a, b))
                });
                same.push(j);
                if let Some(i) = twin {
                    let effect = match (table.hit, table.aggregate) {
                        (HitPolicy::RuleOrder, _) => {
                            "both fire, so their outputs are listed twice".to_string()
                        }
                        (_, Some(agg)) => format!(
                            "both fire, so `{}` takes the value twice",
                            format!("{agg:?}").to_lowercase()
                        ),
                        (_, None) => "both fire, so every value is collected twice".to_string(),
                    };
                    out.push(found(
                        Diagnostic::warning(
                            "duplicate-row",
                            &table.file,
                            row.span,
                            format!(
                                "row `{}` repeats row `{}`: the same conditions and the same outputs",
                                row.id,
                                id(i)
                            ),
                        )
                        .with_help(format!("under `hit: {hit}` {effect}; delete one of them unless that is meant")),
                        Some(j),
                        Some(first_point(may(j))),
                    ));
                }
                continue;
            }
        }
        // Subsumed: another row matches everything this one does, with the same constant outputs.
        let Some(mine) = &outputs[j] else { continue };
        let candidates: Box<dyn Iterator<Item = usize>> = if table.hit == HitPolicy::First {
            Box::new(j + 1..n)
        } else {
            Box::new((0..n).filter(|&i| i != j))
        };
        for i in candidates {
            s.tick_pair()?;
            let same = outputs[i].as_ref().is_some_and(|o| same_values(o, mine));
            if !same || !contained(may(j), must(i)) {
                continue;
            }
            if table.hit != HitPolicy::First && i > j && contained(may(i), must(j)) {
                // Identical rows: report the later one only.
                continue;
            }
            if table.hit == HitPolicy::First {
                // Removing the row must not hand its inputs to a different row in between.
                let mut safe = true;
                for k in j + 1..i {
                    s.tick_pair()?;
                    if intersect(may(j), may(k))
                        && !outputs[k].as_ref().is_some_and(|o| same_values(o, mine))
                    {
                        safe = false;
                        break;
                    }
                }
                if !safe {
                    continue;
                }
            }
            out.push(found(
                Diagnostic::warning(
                    "subsumed-row",
                    &table.file,
                    row.span,
                    format!(
                        "row `{}` is redundant: row `{}` matches every input it matches and gives the same outputs",
                        row.id, table.rows[i].id
                    ),
                )
                .with_help(format!("under `hit: {hit}` deleting `{}` changes no decision", row.id)),
                Some(j),
                Some(first_point(may(j))),
            ));
            break;
        }
    }
    if let Some((i, j)) = possible_overlap {
        out.push(Finding::plain(
            Diagnostic::warning(
                "not-analysed",
                &table.file,
                table.rows[j].span,
                format!(
                    "rows `{}` and `{}` were not fully checked for overlap: whether both match `{}` depends on cells the analysis cannot decide: {}",
                    id(i),
                    id(j),
                    s.show(&common(may(i), may(j))),
                    unknown_cells_text(table, space)
                ),
            )
            .with_help(format!("the analysis only makes exact claims; check by hand that at most one row matches under `hit: {hit}`")),
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// References: unused fields and tables.

fn walk(e: &TExpr, f: &mut dyn FnMut(&TExpr)) {
    f(e);
    match &e.kind {
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => walk(b, f),
        TExprKind::Binary(_, l, r) => {
            walk(l, f);
            walk(r, f);
        }
        TExprKind::Call(_, args) => args.iter().for_each(|a| walk(a, f)),
        TExprKind::Each(each) => {
            walk(&each.list, f);
            if let Some(x) = &each.filter {
                walk(x, f);
            }
            if let Some(x) = &each.body {
                walk(x, f);
            }
        }
        _ => {}
    }
}

/// Every expression of a table: inputs, cells, outputs, default, `for_each` list.
fn table_exprs(table: &Table) -> Vec<&TExpr> {
    let mut v: Vec<&TExpr> = table.inputs.iter().map(|i| &i.expr).collect();
    for row in &table.rows {
        for cell in &row.cells {
            for t in &cell.tests {
                match t {
                    TTest::Compare(_, e) => v.push(e),
                    TTest::Range { low, high, .. } => {
                        v.push(low);
                        v.push(high);
                    }
                }
            }
        }
        v.extend(&row.outputs);
    }
    if let Some(d) = &table.default {
        v.extend(d);
    }
    if let Some(fe) = &table.for_each {
        v.push(&fe.list);
    }
    v
}

/// A field as declared: its record and slot, the path shown, where its type is written, its parent.
struct DeclaredField {
    record: RecordId,
    slot: usize,
    path: String,
    span: Span,
    parent: Option<(RecordId, usize)>,
}

fn declared_fields(schema: &Schema, doc: &SchemaDoc) -> Vec<DeclaredField> {
    struct W<'a> {
        schema: &'a Schema,
        next: RecordId,
        out: Vec<DeclaredField>,
    }
    impl W<'_> {
        fn record(
            &mut self,
            id: RecordId,
            fields: &indexmap::IndexMap<String, crate::model::spanned::Spanned<FieldTypeDoc>>,
            path: &str,
            parent: Option<(RecordId, usize)>,
        ) {
            for (slot, (name, ty)) in fields.iter().enumerate() {
                let name = name.strip_suffix('?').unwrap_or(name);
                let path = format!("{path}.{name}");
                if self
                    .schema
                    .records
                    .get(id as usize)
                    .and_then(|r| r.fields.get(slot))
                    .map(|f| f.name.as_str())
                    == Some(name)
                {
                    self.out.push(DeclaredField {
                        record: id,
                        slot,
                        path: path.clone(),
                        span: ty.span,
                        parent,
                    });
                }
                self.ty(&ty.value, &path, Some((id, slot)));
            }
        }
        fn ty(&mut self, ty: &FieldTypeDoc, path: &str, parent: Option<(RecordId, usize)>) {
            match ty {
                FieldTypeDoc::Named(_) => {}
                FieldTypeDoc::Record(fields) => {
                    let id = self.next;
                    self.next += 1;
                    self.record(id, fields, path, parent);
                }
                FieldTypeDoc::List(items) => {
                    if let [item] = items.as_slice() {
                        self.ty(&item.value, path, parent);
                    }
                }
            }
        }
    }
    let mut w = W {
        schema,
        next: 1,
        out: Vec::new(),
    };
    if let FieldTypeDoc::Record(fields) = &doc.fields.value {
        w.record(crate::data::schema::ACCOUNT, fields, "account", None);
    }
    w.out
}

fn unused(program: &Program, ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut fields: HashSet<(RecordId, usize)> = HashSet::new();
    let mut referred: HashMap<u32, ()> = HashMap::new();
    for (t, table) in program.tables.iter().enumerate() {
        for e in table_exprs(table) {
            walk(e, &mut |x| match &x.kind {
                TExprKind::Field(b, slot) => {
                    if let Type::Record(id) = &b.ty {
                        fields.insert((*id, *slot as usize));
                    }
                }
                TExprKind::Project(b, slot) => {
                    if let Type::List(inner) = &b.ty {
                        if let Type::Record(id) = inner.as_ref() {
                            fields.insert((*id, *slot as usize));
                        }
                    }
                }
                TExprKind::TableOutput { table: other, .. } if *other as usize != t => {
                    referred.insert(*other, ());
                }
                _ => {}
            });
        }
    }
    let schema = &program.schema;
    fields.insert((crate::data::schema::ACCOUNT, schema.id_slot));
    if let Some(p) = &ctx.policy {
        fields.extend(p.fields.iter().copied());
    }
    if let Some((file, doc)) = ctx.schema_doc {
        for f in declared_fields(schema, doc) {
            let parent_used = f.parent.is_none_or(|p| fields.contains(&p));
            if parent_used && !fields.contains(&(f.record, f.slot)) {
                out.push(
                    Diagnostic::warning(
                        "unused-field",
                        file,
                        f.span,
                        format!("field `{}` is never read by a rule", f.path),
                    )
                    .with_help("remove it from the schema, or use it in a table; accounts may still carry it"),
                );
            }
        }
    }
    if let Some(p) = &ctx.policy {
        for (t, table) in program.tables.iter().enumerate() {
            let t = t as u32;
            if !p.tables.contains(&t) && !referred.contains_key(&t) {
                out.push(
                    Diagnostic::warning(
                        "unused-table",
                        &table.file,
                        table.span,
                        format!(
                            "table `{}` is not used: the policy gives it no role and no other table refers to it",
                            table.name
                        ),
                    )
                    .with_help("wire it into the policy (e.g. `entry: <table>`), refer to it from another table, or delete it"),
                );
            }
        }
    }
    out
}

impl PolicyUse {
    /// The tables a policy plays and the snapshot fields its pipeline reads.
    pub fn of(policy: &crate::policy::Policy) -> PolicyUse {
        let tables = policy.roles.tables();
        let schema = policy.plan.schema();
        let account = crate::data::schema::ACCOUNT;
        let record_of = |slot: usize| -> Option<RecordId> {
            match &schema.account().fields.get(slot)?.ty {
                Type::Record(id) => Some(*id),
                Type::List(inner) => match inner.as_ref() {
                    Type::Record(id) => Some(*id),
                    _ => None,
                },
                _ => None,
            }
        };
        let s = &policy.slots;
        let mut fields = vec![(account, s.arrears)];
        if let Some(c) = &s.case {
            fields.push((account, c.slot));
            if let Some(id) = record_of(c.slot) {
                fields.push((id, c.start_date));
                fields.extend(c.template.map(|t| (id, t)));
            }
        }
        if let Some((slot, sa)) = &s.service_agreements {
            fields.push((account, *slot));
            if let Some(id) = record_of(*slot) {
                fields.push((id, sa.id));
                fields.push((id, sa.arrears));
            }
        }
        if let Some((slot, p)) = &s.promises {
            fields.push((account, *slot));
            if let Some(id) = record_of(*slot) {
                fields.extend([
                    (id, p.id),
                    (id, p.amount),
                    (id, p.due_date),
                    (id, p.payments),
                ]);
                fields.extend(p.plan.map(|x| (id, x)));
                // Payments are a list of records inside a promise.
                let rec = schema.record(id);
                if let Some(Type::List(inner)) = rec.fields.get(p.payments).map(|f| &f.ty) {
                    if let Type::Record(pay) = inner.as_ref() {
                        fields.extend([(*pay, p.payment_amount), (*pay, p.payment_date)]);
                    }
                }
            }
        }
        PolicyUse { tables, fields }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyse_first(p: &Program, budget: u64) -> Vec<Diagnostic> {
        analyse_table(&p.schema, &p.tables[0], 0, budget)
            .into_iter()
            .map(|f| f.diagnostic)
            .collect()
    }

    fn program(schema: &str, table: &str) -> Program {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.yaml"), schema).unwrap();
        std::fs::write(dir.path().join("t.yaml"), table).unwrap();
        let docs = crate::model::load_dir(dir.path()).unwrap();
        let loaded = crate::policy::build(&docs);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.plan.unwrap().program
    }

    const SCHEMA: &str = "schema: t\nfields:\n  id: text\n  n: integer\n  m: integer\n";

    #[test]
    fn over_budget_is_not_analysed_never_partial() {
        let p = program(
            SCHEMA,
            "table: t\nhit: first\ninputs: { n: account.n, m: account.m }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '[0..9]', m: '< 5' }, then: { r: 1 } }\n\
             - { id: b, when: { n: '[10..19]', m: '>= 5' }, then: { r: 2 } }\n\
             - { id: c, when: { n: '>= 0' }, then: { r: 3 } }\n",
        );
        let found = analyse_first(&p, 2);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["not-analysed"]);
        assert!(found[0].message.contains("too large"));
        let found = analyse_first(&p, LEAF_BUDGET);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["table-gap"]);
        assert!(
            found[0].message.contains("`n = -1, m = 4`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn dynamic_cell_of_a_default_table_is_named() {
        let p = program(
            SCHEMA,
            "table: t\nhit: unique\ninputs: { n: account.n }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '> account.m' }, then: { r: 1 } }\ndefault: { r: 0 }\n",
        );
        let found = analyse_first(&p, LEAF_BUDGET);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["unknown-cell"]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Info);
        assert_eq!(found[0].line_col(), (6, 23), "{}", found[0].message);
    }

    #[test]
    fn constant_folded_operands_are_exact() {
        let p = program(
            SCHEMA,
            "table: t\nhit: unique\ninputs: { n: account.n }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '< 2 * 5' }, then: { r: 1 } }\n\
             - { id: b, when: { n: '> 10' }, then: { r: 2 } }\n",
        );
        let found = analyse_first(&p, LEAF_BUDGET);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`n = 10`"),
            "{}",
            found[0].message
        );
    }
}

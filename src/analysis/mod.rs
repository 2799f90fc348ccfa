//! Decision-table analysis for `arrears lint`: gaps, overlaps, masked and
//! subsumed rows, unused fields and tables. Every claim about inputs is exact
//! and comes with a counterexample; what cannot be analysed exactly is said so
//! (`not-analysed`), never guessed.
//!
//! Each column's domain is cut into elementary pieces by every boundary any
//! cell of that column draws (see [`domain`]); a row is then a box: one set of
//! pieces per column. Coverage questions (is every input matched? is this row
//! covered by earlier ones?) are answered by splitting column by column,
//! grouping pieces that the same rows contain, under a work budget.

pub mod codes;
pub mod domain;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::diagnostic::Diagnostic;
use crate::ir::{HitPolicy, Program, TCell, TExpr, TExprKind, TTest, Table};
use crate::model::doc::{FieldTypeDoc, SchemaDoc};
use crate::schema::Schema;
use crate::source::{SourceFile, Span};
use crate::syntax::ast::CompareOp;
use crate::types::{format_money, RecordId, ShowType, Type, Value};
use domain::{IntervalSet, Line};

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
    let mut out = Vec::new();
    for table in &program.tables {
        out.extend(analyse_table(&program.schema, table, LEAF_BUDGET));
    }
    out.extend(unused(program, ctx));
    out
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
    fn ones(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        (0..n).filter(|&i| self.get(i))
    }
}

// ---------------------------------------------------------------------------
// Columns.

/// One input column cut into pieces; `shown[i]` is a value inside piece `i`.
struct Column {
    name: String,
    shown: Vec<String>,
    /// Every cell is `-`: the column does not matter.
    whole: bool,
}

/// A table turned into boxes, or the reason it cannot be.
struct Space {
    cols: Vec<Column>,
    /// Per row, per column, the pieces the cell matches.
    rows: Vec<Vec<Bits>>,
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

/// The cell's tests with constant operands folded.
fn folded(cell: &TCell) -> Vec<TTest> {
    cell.tests
        .iter()
        .map(|t| {
            let mut t = t.clone();
            match &mut t {
                TTest::Compare(_, e) => crate::compile::fold(e),
                TTest::Range { low, high, .. } => {
                    crate::compile::fold(low);
                    crate::compile::fold(high);
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
        TExprKind::Binary(crate::ir::BinOp::Compare(_), _, _) => false,
        TExprKind::Binary(_, l, r) => nullable(schema, l) || nullable(schema, r),
        TExprKind::Call(f, args) => {
            use crate::ir::Builtin as B;
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

/// A point of a finite domain: a value, or "any text not written in the column".
enum Point {
    Value(Value),
    OtherText,
}

/// Whether a non-null finite point matches a cell; `None` when that needs an
/// ordering of texts the analysis does not model.
fn point_matches(p: &Point, tests: &[TTest], negated: bool) -> Option<bool> {
    let mut hit = false;
    for t in tests {
        let m = match (p, t) {
            (Point::Value(v), TTest::Compare(op, e)) => crate::eval::compare(*op, v, constant(e)?),
            (
                Point::Value(v),
                TTest::Range {
                    low,
                    low_inclusive,
                    high,
                    high_inclusive,
                },
            ) => crate::eval::in_range(
                v,
                constant(low)?,
                *low_inclusive,
                constant(high)?,
                *high_inclusive,
            ),
            (Point::OtherText, TTest::Compare(CompareOp::Eq, e)) => {
                constant(e)?;
                false
            }
            (Point::OtherText, TTest::Compare(CompareOp::Ne, e)) => {
                constant(e)?;
                true
            }
            (Point::OtherText, _) => return None,
        };
        hit |= m;
    }
    Some(hit != negated)
}

/// Builds one column: its pieces and each row's cell as a set of them.
/// Why a table's space was not built.
enum Unbuilt {
    /// A cell the analysis does not model.
    Unmodelled(String),
    /// The boxes would take more than [`SPACE_WORDS_BUDGET`].
    TooLarge,
}

impl From<String> for Unbuilt {
    fn from(why: String) -> Self {
        Unbuilt::Unmodelled(why)
    }
}

/// Charges `rows` boxes of `pieces` bits to the table's space budget.
fn charge_space(words_left: &mut usize, rows: usize, pieces: usize) -> Result<(), Unbuilt> {
    let words = rows.saturating_mul(pieces.div_ceil(64));
    *words_left = words_left.checked_sub(words).ok_or(Unbuilt::TooLarge)?;
    Ok(())
}

fn build_column(
    schema: &Schema,
    table: &Table,
    c: usize,
    words_left: &mut usize,
) -> Result<(Column, Vec<Bits>), Unbuilt> {
    let input = &table.inputs[c];
    let cells: Vec<&TCell> = table.rows.iter().map(|r| &r.cells[c]).collect();
    if cells.iter().all(|cell| is_any(cell)) {
        let col = Column {
            name: input.name.clone(),
            shown: vec!["any".into()],
            whole: true,
        };
        return Ok((col, vec![Bits::full(1); cells.len()]));
    }
    let tests: Vec<Vec<TTest>> = cells.iter().map(|cell| folded(cell)).collect();
    for (row, ts) in table.rows.iter().zip(&tests) {
        let dynamic = ts.iter().any(|t| match t {
            TTest::Compare(_, e) => constant(e).is_none(),
            TTest::Range { low, high, .. } => constant(low).is_none() || constant(high).is_none(),
        });
        if dynamic {
            return Err(Unbuilt::Unmodelled(format!(
                "column `{}`: row `{}` compares with a value that depends on the account (`{}`)",
                input.name, row.id, row.cells[c].text
            )));
        }
    }
    let ty = &input.expr.ty;
    let null = nullable(schema, &input.expr);
    let mut shown = Vec::new();
    let mut bits: Vec<Bits>;
    match ty {
        Type::Integer | Type::Days | Type::Date | Type::Decimal | Type::Money => {
            let line = if matches!(ty, Type::Decimal | Type::Money) {
                Line::Dense(Decimal::new(1, 2))
            } else {
                Line::Discrete
            };
            let mut regions = Vec::new();
            for (cell, ts) in cells.iter().zip(&tests) {
                let region = if is_any(cell) {
                    IntervalSet::all(line)
                } else {
                    ordered_region(line, ts, cell.negated).ok_or_else(|| {
                        format!(
                            "column `{}`: cell `{}` is not a plain comparison",
                            input.name, cell.text
                        )
                    })?
                };
                regions.push(region);
            }
            let pieces = domain::pieces(line, regions.iter().flat_map(|r| r.cuts()));
            let reps: Vec<Decimal> = pieces
                .iter()
                .map(|&p| domain::representative(line, p))
                .collect();
            shown.extend(reps.iter().map(|&x| show_ordered(ty, x)));
            let n = reps.len() + usize::from(null);
            charge_space(words_left, regions.len(), n)?;
            // A region's ranges are unions of whole pieces (the pieces are cut
            // at every region's ends): find them by binary search, not by
            // testing every piece against every row.
            bits = regions
                .iter()
                .map(|region| {
                    let mut b = Bits::new(n);
                    for &(from, to) in region.ranges() {
                        let first = pieces.partition_point(|p| p.0 < from);
                        let end = pieces.partition_point(|p| p.1 <= to);
                        (first..end).for_each(|i| b.set(i));
                    }
                    b
                })
                .collect();
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
                    points.push((Point::OtherText, format!("{other:?}")));
                    points
                }
            };
            let n = points.len() + usize::from(null);
            charge_space(words_left, cells.len(), n)?;
            bits = Vec::new();
            for (cell, ts) in cells.iter().zip(&tests) {
                let mut b = Bits::new(n);
                for (i, (p, _)) in points.iter().enumerate() {
                    let m = is_any(cell)
                        || point_matches(p, ts, cell.negated).ok_or_else(|| {
                            format!(
                                "column `{}`: cell `{}` orders text, which the analysis does not model",
                                input.name, cell.text
                            )
                        })?;
                    if m {
                        b.set(i);
                    }
                }
                bits.push(b);
            }
            shown.extend(points.into_iter().map(|(_, s)| s));
        }
        other => {
            return Err(Unbuilt::Unmodelled(format!(
                "column `{}` is a {}, which the analysis does not model",
                input.name,
                ShowType(other, schema)
            )))
        }
    }
    if null {
        let i = shown.len();
        shown.push("null".into());
        for ((b, cell), ts) in bits.iter_mut().zip(&cells).zip(&tests) {
            if matches_null(cell, ts) {
                b.set(i);
            }
        }
    }
    Ok((
        Column {
            name: input.name.clone(),
            shown,
            whole: false,
        },
        bits,
    ))
}

fn build_space(schema: &Schema, table: &Table) -> Result<Space, Unbuilt> {
    let mut cols = Vec::new();
    let mut rows: Vec<Vec<Bits>> = vec![Vec::new(); table.rows.len()];
    let mut words_left = SPACE_WORDS_BUDGET;
    for c in 0..table.inputs.len() {
        let (col, bits) = build_column(schema, table, c, &mut words_left)?;
        cols.push(col);
        for (r, b) in rows.iter_mut().zip(bits) {
            r.push(b);
        }
    }
    Ok(Space { cols, rows })
}

// ---------------------------------------------------------------------------
// Searches.

struct OverBudget;

struct Search<'a> {
    space: &'a Space,
    leaves: u64,
    pairs: u64,
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

    /// A point of `region` (columns `col..`) that none of `rows` matches, as one piece per column.
    fn uncovered(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        col: usize,
    ) -> Result<Option<Vec<usize>>, OverBudget> {
        if self.leaves == 0 {
            return Err(OverBudget);
        }
        self.leaves -= 1;
        let ncols = self.space.cols.len();
        if rows.is_empty() {
            return Ok((col..ncols)
                .map(|c| region[c].ones(self.n(c)).next())
                .collect::<Option<Vec<usize>>>());
        }
        if col == ncols {
            return Ok(None);
        }
        let boxes = &self.space.rows;
        if rows
            .iter()
            .any(|&r| (col..ncols).all(|c| region[c].subset_of(&boxes[r][c])))
        {
            return Ok(None);
        }
        let mut seen: HashSet<Vec<usize>> = HashSet::new();
        for atom in region[col].ones(self.n(col)).collect::<Vec<_>>() {
            let sub: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| boxes[r][col].get(atom))
                .collect();
            if !seen.insert(sub.clone()) {
                continue;
            }
            if let Some(mut point) = self.uncovered(region, &sub, col + 1)? {
                point.insert(0, atom);
                return Ok(Some(point));
            }
        }
        Ok(None)
    }

    fn intersect(&self, a: usize, b: usize) -> bool {
        let rows = &self.space.rows;
        rows[a].iter().zip(&rows[b]).all(|(x, y)| x.intersects(y))
    }

    fn contained(&self, inner: usize, outer: usize) -> bool {
        let rows = &self.space.rows;
        rows[inner]
            .iter()
            .zip(&rows[outer])
            .all(|(x, y)| x.subset_of(y))
    }

    /// A point both rows match.
    fn common(&self, a: usize, b: usize) -> Vec<usize> {
        let rows = &self.space.rows;
        rows[a]
            .iter()
            .zip(&rows[b])
            .map(|(x, y)| x.first_common(y).unwrap_or(0))
            .collect()
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
}

/// Outputs as constants, when every output is one.
fn const_outputs(row: &crate::ir::Row) -> Option<Vec<Value>> {
    row.outputs
        .iter()
        .map(|e| {
            let mut e = e.clone();
            crate::compile::fold(&mut e);
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

/// Gap, overlap, masked and subsumed rows of one table.
pub(crate) fn analyse_table(schema: &Schema, table: &Table, leaf_budget: u64) -> Vec<Diagnostic> {
    let single = matches!(
        table.hit,
        HitPolicy::First | HitPolicy::Unique | HitPolicy::Priority | HitPolicy::Any
    );
    if !single {
        return Vec::new();
    }
    let check_gap = table.default.is_none();
    let not_analysed = |why: String| {
        Diagnostic::warning(
            "not-analysed",
            &table.file,
            table.span,
            format!(
                "table `{}` was not checked for gaps and overlaps: {why}",
                table.name
            ),
        )
        .with_help(
            "the analysis only makes exact claims; this table needs review by hand or a `default`",
        )
    };
    let too_large = || {
        not_analysed(format!(
            "the table is too large to analyse exactly (more than {leaf_budget} cases, {PAIR_BUDGET} row pairs or {} MiB of row boxes)",
            SPACE_WORDS_BUDGET >> 17
        ))
    };
    let space = match build_space(schema, table) {
        Ok(space) => space,
        Err(Unbuilt::TooLarge) => return vec![too_large()],
        Err(Unbuilt::Unmodelled(why)) => {
            return if check_gap {
                vec![not_analysed(why)]
            } else {
                Vec::new()
            }
        }
    };
    let mut search = Search {
        space: &space,
        leaves: leaf_budget,
        pairs: PAIR_BUDGET,
    };
    match findings(table, &mut search, check_gap) {
        Ok(found) => found,
        Err(OverBudget) => vec![too_large()],
    }
}

#[allow(clippy::needless_range_loop)]
fn findings(table: &Table, s: &mut Search, check_gap: bool) -> Result<Vec<Diagnostic>, OverBudget> {
    let mut out = Vec::new();
    let n = table.rows.len();
    let space = s.space;
    let hit = table.hit.name();
    let all: Vec<usize> = (0..n).collect();
    if check_gap {
        let full: Vec<Bits> = space
            .cols
            .iter()
            .map(|c| Bits::full(c.shown.len()))
            .collect();
        if let Some(point) = s.uncovered(&full, &all, 0)? {
            out.push(
                Diagnostic::error(
                    "table-gap",
                    &table.file,
                    table.span,
                    format!("table `{}` has a gap: no row matches `{}`", table.name, s.show(&point)),
                )
                .with_help(format!(
                    "under `hit: {hit}` an account no row matches cannot be evaluated; add a row for it or a `default`"
                )),
            );
        }
    }
    let outputs: Vec<Option<Vec<Value>>> = table.rows.iter().map(const_outputs).collect();
    let mut masked = vec![false; n];
    for j in 0..n {
        let row = &table.rows[j];
        let id = |i: usize| table.rows[i].id.as_str();
        if space.rows[j].iter().any(Bits::is_empty) {
            masked[j] = true;
            out.push(
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
            );
            continue;
        }
        match table.hit {
            HitPolicy::Unique | HitPolicy::Any => {
                for i in 0..j {
                    s.tick_pair()?;
                    if !s.intersect(i, j) {
                        continue;
                    }
                    let conflict = table.hit == HitPolicy::Unique
                        || match (&outputs[i], &outputs[j]) {
                            (Some(a), Some(b)) => !same_values(a, b),
                            _ => false,
                        };
                    if !conflict {
                        continue;
                    }
                    let point = s.show(&s.common(i, j));
                    let (message, help) = if table.hit == HitPolicy::Unique {
                        (
                            format!("rows `{}` and `{}` both match `{point}`", id(i), row.id),
                            "under `hit: unique` at most one row may match; narrow one of them or use `hit: first`".to_string(),
                        )
                    } else {
                        (
                            format!(
                                "rows `{}` and `{}` both match `{point}` but give different outputs",
                                id(i),
                                row.id
                            ),
                            "under `hit: any` matching rows must agree; narrow one of them, make their outputs equal, or use `hit: first`".to_string(),
                        )
                    };
                    out.push(
                        Diagnostic::error("table-overlap", &table.file, row.span, message)
                            .with_help(help),
                    );
                    break;
                }
            }
            HitPolicy::First => {
                let mut earlier = Vec::new();
                for i in 0..j {
                    s.tick_pair()?;
                    if s.intersect(i, j) {
                        earlier.push(i);
                    }
                }
                if !earlier.is_empty() && s.uncovered(&space.rows[j], &earlier, 0)?.is_none() {
                    masked[j] = true;
                    let ids: Vec<&str> = earlier.iter().map(|&i| id(i)).collect();
                    out.push(
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
                    );
                }
            }
            _ => {}
        }
        if masked[j] {
            continue;
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
            if !same || !s.contained(j, i) {
                continue;
            }
            if table.hit != HitPolicy::First && i > j && s.contained(i, j) {
                // Identical rows: report the later one only.
                continue;
            }
            if table.hit == HitPolicy::First {
                // Removing the row must not hand its inputs to a different row in between.
                let mut safe = true;
                for k in j + 1..i {
                    s.tick_pair()?;
                    if s.intersect(j, k)
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
            out.push(
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
            );
            break;
        }
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
        w.record(crate::schema::ACCOUNT, fields, "account", None);
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
    fields.insert((crate::schema::ACCOUNT, schema.id_slot));
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
        let account = crate::schema::ACCOUNT;
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
        let found = analyse_table(&p.schema, &p.tables[0], 2);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["not-analysed"]);
        assert!(found[0].message.contains("too large"));
        let found = analyse_table(&p.schema, &p.tables[0], LEAF_BUDGET);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["table-gap"]);
        assert!(
            found[0].message.contains("`n = -1, m = 4`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn default_and_collect_tables_stay_quiet_when_dynamic() {
        let p = program(
            SCHEMA,
            "table: t\nhit: unique\ninputs: { n: account.n }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '> account.m' }, then: { r: 1 } }\ndefault: { r: 0 }\n",
        );
        assert!(analyse_table(&p.schema, &p.tables[0], LEAF_BUDGET).is_empty());
    }

    #[test]
    fn constant_folded_operands_are_exact() {
        let p = program(
            SCHEMA,
            "table: t\nhit: unique\ninputs: { n: account.n }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '< 2 * 5' }, then: { r: 1 } }\n\
             - { id: b, when: { n: '> 10' }, then: { r: 2 } }\n",
        );
        let found = analyse_table(&p.schema, &p.tables[0], LEAF_BUDGET);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`n = 10`"),
            "{}",
            found[0].message
        );
    }
}

//! A table's typed checks as row bit sets: per input column, the column's
//! values fall into a few classes (an enum's variants, a bool, the segments a
//! number or date line is cut into by the column's constants, and null), and
//! for each class a bit set of the rows whose cell there matches. Matching an
//! account ANDs one set per column; the set bits, lowest first, are the
//! candidate rows (for `first`, the first one that survives is the hit). A
//! cell the sets cannot decide (per-account operands, text) puts its row in
//! `verify`, and such a candidate is matched cell by cell as before; cells
//! after it in the row are left to that check too, so a row the sets exclude
//! has failed on a constant cell before any cell that could raise an error,
//! exactly where the row-by-row evaluator stops. A column that is a field of
//! the account is read in place (no call back into the evaluator); a column
//! is read only when a candidate left (after the columns before it) has a
//! cell there (always, for a computed input: so an input no row can reach is
//! not computed; for any column of a table of up to 64 rows, where that
//! check is one AND), since it would leave every candidate; when computing one
//! fails, the caller matches row by row instead, which raises the error only
//! where a row reaches it. It must decide exactly what
//! matching every cell decides (tests in `eval` compare the two on every
//! account); a class is computed by asking every cell about one representative
//! value of it, through the same `Check` the evaluator runs.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::cell::Matcher;
use super::{Check, InputRead};
use crate::data::schema::Schema;
use crate::decimal::rescaled;
use crate::lang::semantics::{read_fields, NULL};
use crate::types::{Type, Value};

/// The most bit-set words a table may hold (8 MiB); above, the table keeps
/// its row index or is scanned.
const MAX_WORDS: usize = 1 << 20;

/// The most (cell, class) pairs building a table's sets may decide, so that
/// loading stays fast (a few tens of ms); above, the table keeps its row index
/// or is scanned.
const MAX_WORK: usize = 8 << 20;

/// The rows of a table by the class of each indexed column's value.
#[derive(Clone, Debug)]
pub struct RowBits {
    /// 64-bit words per bit set.
    words: usize,
    /// Every row (the starting set, before any column).
    all: Vec<u64>,
    /// Rows with a cell the sets do not decide: a candidate among them is
    /// matched cell by cell.
    verify: Vec<u64>,
    /// No row is in `verify`: the sets decide every row alone.
    alone: bool,
    columns: Vec<ColumnBits>,
}

#[derive(Clone, Debug)]
struct ColumnBits {
    input: u32,
    /// How the sets read the column's value: an account field in place,
    /// anything else through the caller.
    read: Read,
    classes: Classes,
    /// `words` per class: null first, then one per class of `classes`.
    sets: Vec<u64>,
    /// A computed input: read only when a candidate left has a cell here.
    lazy: bool,
    /// The rows with a cell the sets decide in this column (the others are
    /// in every class).
    tested: Vec<u64>,
    /// `tested[0]`, inline: a one-word table's loop reads no other memory
    /// to skip a column.
    tested0: u64,
    /// For a one-word table, the rows with a cell the sets decide in this
    /// column or any after it: a candidate outside it that is the lowest
    /// left is the first row that matches (`RowBits::first_of`).
    tested_from0: u64,
}

/// How the sets read a column's value.
#[derive(Clone, Debug)]
enum Read {
    /// Field `slot` of the account (most columns).
    Field(u32),
    /// Fields of the account, outermost first.
    Path(Box<[u32]>),
    /// From the caller: a computed input, a field of a local.
    Caller,
}

impl Read {
    fn of(read: Option<&InputRead>) -> Read {
        match read {
            Some(InputRead::Path { local: None, slots }) => match slots.as_slice() {
                [slot] => Read::Field(*slot),
                slots => Read::Path(slots.into()),
            },
            _ => Read::Caller,
        }
    }

    /// The column's value: read in place from `account`, or `input(i)`.
    #[inline(always)]
    fn value<'v, E>(
        &self,
        i: u32,
        account: &'v Value,
        input: &mut impl FnMut(u32) -> Result<&'v Value, E>,
    ) -> Result<&'v Value, E> {
        match self {
            Read::Field(slot) => Ok(match account {
                Value::Record(fields) => fields.get(*slot as usize).unwrap_or(&NULL),
                _ => &NULL,
            }),
            Read::Path(slots) => Ok(read_fields(account, slots)),
            Read::Caller => input(i),
        }
    }
}

/// The classes an account's values select, per column ([`RowBits::select`]).
#[derive(Debug)]
pub struct Selection {
    /// The candidates, for a table of one word.
    word: u64,
    /// Per column, the start of its class's set, or [`SKIPPED`].
    starts: smallvec::SmallVec<[u32; 12]>,
}

/// A lazy column no candidate tests: its input was not computed.
const SKIPPED: u32 = u32::MAX;

/// How a column's non-null values fall into classes.
#[derive(Clone, Debug)]
enum Classes {
    /// One class per variant.
    Enum(u32),
    /// `false`, `true`.
    Bool,
    /// The points of the sorted bounds and the open gaps around them:
    /// `2 * i` below bound `i`, `2 * i + 1` on it, `2 * len` above the last.
    Ints(Vec<i64>),
    Decimals(Vec<Decimal>, Option<Scaled>),
    Dates(Vec<NaiveDate>),
}

/// Decimal bounds as integers at one scale (`$5`, `$25.50` at scale 2: 500,
/// 2550; at least scale 8), so that an input of that scale or less is placed by comparing
/// integers, not by rescaling decimals each time. Exact: both sides are
/// the same values at the same scale.
#[derive(Clone, Debug)]
struct Scaled {
    scale: u32,
    bounds: Vec<i128>,
}

impl Scaled {
    fn of(bounds: &[Decimal]) -> Option<Scaled> {
        // At least 8 places, so that amounts (2) and rates times amounts
        // (3 to 6) are placed as integers too.
        let scale = bounds.iter().map(Decimal::scale).max().unwrap_or(0).max(8);
        let bounds = bounds
            .iter()
            .map(|b| rescaled(b, scale))
            .collect::<Option<_>>()?;
        Some(Scaled { scale, bounds })
    }

    #[inline]
    fn segment(&self, x: &Decimal) -> Option<usize> {
        (x.scale() <= self.scale).then_some(())?;
        Some(segment(&self.bounds, &rescaled(x, self.scale)?))
    }
}

#[inline(always)]
fn segment<T: Ord>(bounds: &[T], x: &T) -> usize {
    // A column has few bounds: a scan beats a binary search's branches.
    let i = if bounds.len() <= 8 {
        bounds.iter().take_while(|b| *b < x).count()
    } else {
        bounds.partition_point(|b| b < x)
    };
    if bounds.get(i) == Some(x) {
        2 * i + 1
    } else {
        2 * i
    }
}

impl Classes {
    fn count(&self) -> usize {
        match self {
            Classes::Enum(n) => *n as usize,
            Classes::Bool => 2,
            Classes::Ints(b) => 2 * b.len() + 1,
            Classes::Decimals(b, _) => 2 * b.len() + 1,
            Classes::Dates(b) => 2 * b.len() + 1,
        }
    }

    /// The set of a value: 0 for null, `1 + class` for a value of the
    /// column's kind; `None` for any other (the caller then matches row by
    /// row). One match on both tags.
    #[inline(always)]
    fn set_of(&self, x: &Value) -> Option<usize> {
        Some(match (self, x) {
            (_, Value::Null) => 0,
            (Classes::Enum(n), Value::Enum(i)) if i < n => *i as usize + 1,
            (Classes::Bool, Value::Bool(b)) => *b as usize + 1,
            (Classes::Ints(bounds), Value::Int(n)) => segment(bounds, n) + 1,
            (Classes::Decimals(bounds, scaled), Value::Dec(d)) => {
                scaled
                    .as_ref()
                    .and_then(|s| s.segment(d))
                    .unwrap_or_else(|| segment(bounds, d))
                    + 1
            }
            (Classes::Decimals(bounds, _), Value::Int(n)) => {
                segment(bounds, &Decimal::from(*n)) + 1
            }
            (Classes::Dates(bounds), Value::Date(d)) => segment(bounds, d) + 1,
            _ => return None,
        })
    }

    /// One value of each class (`None`: the class holds no value, as between
    /// two consecutive integers); `None` overall when a class's value cannot
    /// be found (two decimal bounds too close to split).
    fn representatives(&self) -> Option<Vec<Option<Value>>> {
        fn ordered<T: Copy>(
            bounds: &[T],
            below: impl Fn(T) -> Option<T>,
            above: impl Fn(T) -> Option<T>,
            between: impl Fn(T, T) -> Option<Option<T>>,
            wrap: impl Fn(T) -> Value,
        ) -> Option<Vec<Option<Value>>> {
            let mut out = Vec::with_capacity(2 * bounds.len() + 1);
            for (i, &b) in bounds.iter().enumerate() {
                let gap = if i == 0 {
                    below(b)
                } else {
                    between(bounds[i - 1], b)?
                };
                out.push(gap.map(&wrap));
                out.push(Some(wrap(b)));
            }
            out.push(bounds.last().and_then(|&b| above(b)).map(&wrap));
            Some(out)
        }
        match self {
            Classes::Enum(n) => Some((0..*n).map(|i| Some(Value::Enum(i))).collect()),
            Classes::Bool => Some(vec![Some(Value::Bool(false)), Some(Value::Bool(true))]),
            Classes::Ints(b) => ordered(
                b,
                |x| x.checked_sub(1),
                |x| x.checked_add(1),
                |a, b| Some((a.checked_add(1)? < b).then(|| a + 1)),
                Value::Int,
            ),
            Classes::Decimals(b, _) => ordered(
                b,
                |x| x.checked_sub(Decimal::ONE),
                |x| x.checked_add(Decimal::ONE),
                |a, b| {
                    let mid = a.checked_add(b)? / Decimal::TWO;
                    (mid > a && mid < b).then_some(Some(mid))
                },
                Value::Dec,
            ),
            Classes::Dates(b) => ordered(
                b,
                |x| x.pred_opt(),
                |x| x.succ_opt(),
                |a, b| Some(a.succ_opt().filter(|s| *s < b)),
                Value::Date,
            ),
        }
    }
}

/// The bounds a cell's checks compare against, into `out`; `false` when a
/// check is not a constant test of the column's kind.
fn cell_bounds(checks: &[Check], kind: &Classes, out: &mut Vec<Value>) -> bool {
    let mut push = |v: Option<Value>| match v {
        Some(v) => {
            out.push(v);
            true
        }
        None => true,
    };
    checks.iter().all(|check| match (check, kind) {
        (Check::Dynamic(_), _) => false,
        (Check::EnumSet(_), Classes::Enum(_)) | (Check::Bool(_), Classes::Bool) => true,
        (Check::Compare(_, v), Classes::Enum(_)) => matches!(v, Value::Enum(_) | Value::Null),
        (Check::Compare(_, v), Classes::Bool) => matches!(v, Value::Bool(_) | Value::Null),
        (Check::Ints { low, high }, Classes::Ints(_)) => {
            push(low.map(|(v, _)| Value::Int(v))) && push(high.map(|(v, _)| Value::Int(v)))
        }
        (Check::Decimals { low, high }, Classes::Decimals(..)) => {
            push(low.map(|(v, _)| Value::Dec(v))) && push(high.map(|(v, _)| Value::Dec(v)))
        }
        (Check::Dates { low, high }, Classes::Dates(_)) => {
            push(low.map(|(v, _)| Value::Date(v))) && push(high.map(|(v, _)| Value::Date(v)))
        }
        (Check::Compare(_, v), _) => fits(kind, v) && push(Some(v.clone())),
        (Check::Range { low, high, .. }, _) => {
            fits(kind, low)
                && fits(kind, high)
                && push(Some(low.clone()))
                && push(Some(high.clone()))
        }
        _ => false,
    })
}

/// Whether a constant is a bound of an ordered column (null is decided on the
/// null class, and compares with no value).
fn fits(kind: &Classes, v: &Value) -> bool {
    matches!(
        (kind, v),
        (_, Value::Null)
            | (Classes::Ints(_), Value::Int(_))
            | (Classes::Decimals(..), Value::Int(_) | Value::Dec(_))
            | (Classes::Dates(_), Value::Date(_))
    )
}

/// The column's classes from its type and the bounds its cells name; `None`
/// for a column the sets do not index.
fn classes(ty: &Type, bounds: &[Value], schema: &Schema) -> Option<Classes> {
    fn sorted<T: Ord + Copy>(
        bounds: &[Value],
        read: impl Fn(&Value) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::with_capacity(bounds.len());
        for b in bounds {
            match b {
                // `= null` is decided on the null class.
                Value::Null => {}
                b => out.push(read(b)?),
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
    Some(match ty {
        Type::Enum(id) => {
            let n = schema.enum_def(*id).variants.len();
            Classes::Enum(u32::try_from(n).ok()?)
        }
        Type::Bool => Classes::Bool,
        Type::Integer | Type::Days => Classes::Ints(sorted(bounds, |v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })?),
        Type::Money | Type::Decimal => {
            let bounds = sorted(bounds, |v| match v {
                Value::Int(n) => Some(Decimal::from(*n)),
                Value::Dec(d) => Some(*d),
                _ => None,
            })?;
            let scaled = Scaled::of(&bounds);
            Classes::Decimals(bounds, scaled)
        }
        Type::Date => Classes::Dates(sorted(bounds, |v| match v {
            Value::Date(d) => Some(*d),
            _ => None,
        })?),
        _ => return None,
    })
}

impl RowBits {
    /// The sets of a table's matcher; `None` when no column can be indexed
    /// or the sets would be too large.
    pub(super) fn build(
        m: &Matcher,
        rows: usize,
        inputs: &[crate::lang::ir::Input],
        reads: &[InputRead],
        schema: &Schema,
    ) -> Option<RowBits> {
        if rows == 0 {
            return None;
        }
        let words = rows.div_ceil(64);
        // Each column's kind, with placeholder bounds, to read its cells' bounds.
        let kinds: Vec<Option<Classes>> = inputs
            .iter()
            .map(|i| classes(&i.expr.ty, &[], schema))
            .collect();
        // Pass 1: which cells the sets decide (per row, those before its
        // first undecided cell), and every column's bounds.
        let mut decided = vec![false; m.cells.len()];
        let mut verify = vec![0u64; words];
        let mut bounds: Vec<Vec<Value>> = vec![Vec::new(); inputs.len()];
        for r in 0..rows {
            let start = m.row_starts[r] as usize;
            for (k, cell) in m.row(r).iter().enumerate() {
                let col = cell.input as usize;
                let ok = kinds[col].as_ref().is_some_and(|kind| {
                    let before = bounds[col].len();
                    let ok = cell_bounds(m.checks(cell), kind, &mut bounds[col]);
                    if !ok {
                        bounds[col].truncate(before);
                    }
                    ok
                });
                if !ok {
                    verify[r / 64] |= 1 << (r % 64);
                    break;
                }
                decided[start + k] = true;
            }
        }
        // Pass 2: per column, a set per class.
        let mut columns = Vec::new();
        let mut total = 2 * words;
        let mut work = 0usize;
        for (col, input) in inputs.iter().enumerate() {
            let Some(classes) = classes(&input.expr.ty, &bounds[col], schema) else {
                continue;
            };
            let cells: Vec<(usize, usize)> = (0..m.cells.len())
                .filter(|&c| decided[c] && m.cells[c].input as usize == col)
                .map(|c| (c, m.row_starts.partition_point(|&s| s as usize <= c) - 1))
                .collect();
            if cells.is_empty() {
                continue;
            }
            let count = classes.count();
            total += (count + 1) * words;
            work += (count + 1) * cells.len();
            if total > MAX_WORDS || work > MAX_WORK {
                return None;
            }
            let representatives = classes.representatives()?;
            // A row without a decided cell in this column matches every class.
            let mut sets = Vec::with_capacity((count + 1) * words);
            let mut covered = vec![0u64; words];
            for &(_, r) in &cells {
                covered[r / 64] |= 1 << (r % 64);
            }
            let others: Vec<u64> = (0..words)
                .map(|w| all_word(rows, w) & !covered[w])
                .collect();
            for class in 0..=count {
                let mut set = others.clone();
                for &(c, r) in &cells {
                    let cell = &m.cells[c];
                    let hit = match class {
                        0 => cell.null_matches,
                        _ => match &representatives[class - 1] {
                            None => false,
                            Some(x) => {
                                let mut any = false;
                                for check in m.checks(cell) {
                                    any |= check.constant_outcome(x)?;
                                }
                                any != cell.negated
                            }
                        },
                    };
                    if hit {
                        set[r / 64] |= 1 << (r % 64);
                    }
                }
                sets.extend(set);
            }
            columns.push(ColumnBits {
                input: col as u32,
                read: Read::of(reads.get(col)),
                classes,
                sets,
                lazy: matches!(reads.get(col), Some(InputRead::Computed { .. })),
                tested0: covered[0],
                tested_from0: 0,
                tested: covered,
            });
        }
        if columns.is_empty() {
            return None;
        }
        let mut after = 0;
        for column in columns.iter_mut().rev() {
            after |= column.tested0;
            column.tested_from0 = after;
        }
        Some(RowBits {
            words,
            all: (0..words).map(|w| all_word(rows, w)).collect(),
            alone: verify.iter().all(|&w| w == 0),
            verify,
            columns,
        })
    }

    /// The class of each column's value, an account field read in place
    /// from `account`, any other input `i` given by `input(i)`: columns in
    /// order, a computed one read only if a candidate left has a cell there,
    /// none once no candidate is left. `None` when an input is not of its
    /// column's kind, an error when one cannot be computed (then the caller
    /// matches every row as before).
    #[inline]
    pub fn select<'v, E>(
        &self,
        account: &'v Value,
        mut input: impl FnMut(u32) -> Result<&'v Value, E>,
    ) -> Result<Option<Selection>, E> {
        if self.words == 1 {
            // Up to 64 rows (most tables): one word, no slices.
            return Ok(self
                .one_word::<false, _>(account, &mut input)?
                .map(|word| Selection {
                    word,
                    starts: smallvec::SmallVec::new(),
                }));
        }
        let mut selection = Selection {
            word: self.all[0],
            starts: smallvec::SmallVec::new(),
        };
        for column in &self.columns {
            if column.lazy
                && !(0..self.words).any(|w| self.word(&selection, w) & column.tested[w] != 0)
            {
                selection.starts.push(SKIPPED);
                continue;
            }
            let x = column.read.value(column.input, account, &mut input)?;
            let Some(class) = column.class(x) else {
                return Ok(None);
            };
            // Below `MAX_WORDS` words in all.
            selection.starts.push((class * self.words) as u32);
        }
        Ok(Some(selection))
    }

    /// Word `w` of the candidates the columns selected so far leave.
    #[inline(always)]
    fn word(&self, selection: &Selection, w: usize) -> u64 {
        if self.words == 1 {
            return selection.word;
        }
        let mut word = self.all[w];
        for (column, &start) in self.columns.iter().zip(&selection.starts) {
            if start != SKIPPED {
                word &= column.sets[start as usize + w];
            }
        }
        word
    }

    /// Calls `visit` with each candidate row in ascending order and whether
    /// it must be matched cell by cell, until `visit` returns `Ok(true)`.
    #[inline]
    pub fn candidates<E>(
        &self,
        selection: &Selection,
        mut visit: impl FnMut(u32, bool) -> Result<bool, E>,
    ) -> Result<(), E> {
        for w in 0..self.words {
            if self.visit_word(w, self.word(selection, w), &mut visit)? {
                break;
            }
        }
        Ok(())
    }

    /// Visits the rows of word `w` set in `word`; `Ok(true)` when `visit` stopped.
    #[inline(always)]
    fn visit_word<E>(
        &self,
        w: usize,
        mut word: u64,
        visit: &mut impl FnMut(u32, bool) -> Result<bool, E>,
    ) -> Result<bool, E> {
        while word != 0 {
            let bit = word.trailing_zeros();
            word &= word - 1;
            let verify = self.verify[w] & (1 << bit) != 0;
            if visit((w * 64) as u32 + bit, verify)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The first row a `first` table's sets leave, when they decide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum First {
    /// This row matches.
    Row(u32),
    /// No row matches.
    NoRow,
    /// The first candidate has a cell the sets do not decide.
    Undecided,
}

impl RowBits {
    /// Whether the sets decide every row alone (no row has a cell left to a
    /// per-row check), so that [`RowBits::first_of`] never answers
    /// [`First::Undecided`].
    #[inline(always)]
    pub fn decide_alone(&self) -> bool {
        self.alone
    }

    /// The first row that matches, with `input(i)` giving input `i` as for
    /// [`RowBits::select`]; `None` when an input is not of its column's kind.
    /// A table of one word (most) is decided in one pass, with no selection.
    #[inline]
    pub fn first_of<'v, E>(
        &self,
        account: &'v Value,
        mut input: impl FnMut(u32) -> Result<&'v Value, E>,
    ) -> Result<Option<First>, E> {
        if self.words != 1 {
            return Ok(self.select(account, input)?.map(|s| self.first(&s)));
        }
        Ok(self
            .one_word::<true, _>(account, &mut input)?
            .map(|word| self.first_in(0, word)))
    }

    /// The rows of a one-word table (up to 64 rows) left after each column in
    /// turn. A column no row left tests is not read (whatever its value, it
    /// would leave them all): so a lazy column is computed only if a row
    /// left tests it. `None`: an input is not of its column's kind.
    /// `FIRST`: only the lowest row left counts, so the columns stop once no
    /// column from there on tests it (they can only drop rows above it, and
    /// the rows below it are gone): an input only later rows read is not
    /// read, nor computed, as row-by-row matching would not read it.
    #[inline(always)]
    fn one_word<'v, const FIRST: bool, E>(
        &self,
        account: &'v Value,
        input: &mut impl FnMut(u32) -> Result<&'v Value, E>,
    ) -> Result<Option<u64>, E> {
        let mut word = self.all[0];
        for column in &self.columns {
            if FIRST && word & word.wrapping_neg() & column.tested_from0 == 0 {
                break;
            }
            if word & column.tested0 == 0 {
                if word == 0 {
                    break;
                }
                continue;
            }
            let x = column.read.value(column.input, account, input)?;
            let Some(class) = column.class(x) else {
                return Ok(None);
            };
            word &= column.sets[class];
        }
        Ok(Some(word))
    }

    /// The first row the selection leaves.
    #[inline]
    pub fn first(&self, selection: &Selection) -> First {
        for w in 0..self.words {
            let word = self.word(selection, w);
            if word != 0 {
                return self.first_in(w, word);
            }
        }
        First::NoRow
    }

    #[inline(always)]
    fn first_in(&self, w: usize, word: u64) -> First {
        if word == 0 {
            return First::NoRow;
        }
        let bit = word.trailing_zeros();
        match self.verify[w] & (1 << bit) {
            0 => First::Row((w * 64) as u32 + bit),
            _ => First::Undecided,
        }
    }
}

impl ColumnBits {
    /// The class of this column's input `x` (0: null); `None` when it is not
    /// of the column's kind.
    #[inline(always)]
    fn class(&self, x: &Value) -> Option<usize> {
        self.classes.set_of(x)
    }
}

fn all_word(rows: usize, w: usize) -> u64 {
    let left = rows - w * 64;
    if left >= 64 {
        u64::MAX
    } else {
        (1u64 << left) - 1
    }
}

//! The meaning of values and expressions, below both the compiler and the
//! evaluator: comparison with its null rules, ranges, arithmetic with overflow
//! and date errors, built-ins and aggregates over lists, and the evaluation of
//! one typed expression against an environment (the account, `as_of`, inputs,
//! a table's computed inputs computed the first time they are read, earlier
//! tables' results, locals). The compiler folds constants with it
//! (`eval_constant`); the evaluator runs tables with it. It must not know about
//! plans, tables, hit policies or the collections policy, and does no I/O.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::sync::Arc;

use smallvec::SmallVec;

use chrono::{Datelike, Days as ChronoDays, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::lang::ir::{BinOp, Builtin, EachExpr, TExpr, TExprKind};
use crate::lang::syntax::ast::{CompareOp, UnaryOp};
use crate::types::Value;

/// The result of one table for one account.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub table: u32,
    /// For a `for_each` table: the index of the item in its list.
    pub item: Option<u32>,
    /// For a `for_each` table: the item's `id` field, or its position (from 1).
    pub label: Option<Arc<str>>,
    pub outcome: Outcome,
}

/// A decision's output values. A row (or default) whose outputs are all
/// constants leaves them in the plan ([`Constants`]), so deciding it copies
/// nothing and touches no reference count the plan shares between threads.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// The deciding row's (or the default's) constant outputs.
    Constant,
    /// Computed for this account.
    Computed(Arc<[Value]>),
}

impl Values {
    /// The values, for row `row` (`None`: the default) of the table whose constants are `constants`.
    pub fn read<'a>(&'a self, row: Option<u32>, constants: &'a Constants) -> &'a [Value] {
        match self {
            Values::Computed(values) => values,
            Values::Constant => match row {
                Some(r) => constants.rows.get(r as usize).and_then(Option::as_deref),
                None => constants.default.as_deref(),
            }
            .unwrap_or(&[]),
        }
    }
}

/// A table's outputs that are all constants, per row and for its default:
/// what [`Values::Constant`] reads.
#[derive(Clone, Debug, Default)]
pub struct Constants {
    pub rows: Vec<Option<Box<[Value]>>>,
    pub default: Option<Box<[Value]>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// One row decided (first, unique, priority, any); under `any`, `also` lists
    /// the other matching rows, which agreed.
    Row {
        row: u32,
        also: Vec<u32>,
        values: Values,
    },
    /// No row matched; the table's default applied.
    Default { values: Values },
    /// Every matching row, in row order (collect, rule_order).
    Rows(Vec<(u32, Values)>),
    /// `collect` with an aggregate, and the rows that contributed.
    Aggregate { value: Value, rows: Vec<u32> },
}

impl Outcome {
    /// Row `row` decided alone, its outputs the plan's constants.
    pub fn constant_row(row: u32) -> Outcome {
        Outcome::Row {
            row,
            also: Vec::new(),
            values: Values::Constant,
        }
    }

    /// The single result other tables read: a decided row's (or the default's)
    /// values, or the aggregate; nothing for `collect` / `rule_order` rows.
    /// `constants` are the deciding table's.
    pub fn result<'a>(&'a self, constants: &'a Constants) -> &'a [Value] {
        match self {
            Outcome::Row { row, values, .. } => values.read(Some(*row), constants),
            Outcome::Default { values } => values.read(None, constants),
            Outcome::Aggregate { value, .. } => std::slice::from_ref(value),
            Outcome::Rows(_) => &[],
        }
    }

    /// Ids (indices) of the rows that produced this outcome.
    pub fn rows(&self) -> Vec<u32> {
        self.row_ids().collect()
    }

    /// Whether `other` was produced by the same rows, without collecting them.
    pub fn same_rows(&self, other: &Outcome) -> bool {
        self.row_ids().eq(other.row_ids())
    }

    fn row_ids(&self) -> impl Iterator<Item = u32> + '_ {
        let (first, rest, pairs): (Option<u32>, &[u32], &[(u32, Values)]) = match self {
            Outcome::Row { row, also, .. } => (Some(*row), also, &[]),
            Outcome::Default { .. } => (None, &[], &[]),
            Outcome::Rows(rows) => (None, &[], rows),
            Outcome::Aggregate { rows, .. } => (None, rows, &[]),
        };
        first
            .into_iter()
            .chain(rest.iter().copied())
            .chain(pairs.iter().map(|(r, _)| *r))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalErrorKind {
    #[error("no row matches and the table has no default")]
    NoMatch,
    #[error("rows {} all match under `hit: unique`", quoted(.0))]
    NotUnique(Vec<String>),
    #[error("rows {} match under `hit: any` but give different outputs", quoted(.0))]
    AnyConflict(Vec<String>),
    #[error("number overflow in {0}")]
    Overflow(&'static str),
    #[error("division by zero")]
    DivisionByZero,
    #[error("date out of range")]
    DateOutOfRange,
    /// A policy step could not be carried out (e.g. a template name computed at run time that does not exist).
    #[error("{0}")]
    Policy(String),
    /// An account field's value the pipeline cannot use (a time zone that is not IANA's).
    #[error("`{field}`: {message}")]
    Field { field: String, message: String },
    /// Computing the named input failed with the boxed cause. An `EvalError`
    /// lifts the name into its own `input`, so its `kind` is the cause.
    #[error("input `{0}`: {1}")]
    Input(String, Box<EvalErrorKind>),
}

impl EvalErrorKind {
    /// The error as said where input `name` is already named: without the
    /// input that carries it if that is `name`.
    pub fn beside_input(&self, name: &str) -> &EvalErrorKind {
        match self {
            EvalErrorKind::Input(input, cause) if input == name => cause,
            other => other,
        }
    }
}

fn quoted(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) type Result<T> = std::result::Result<T, EvalErrorKind>;
/// What an expression may read.
pub(crate) struct Env<'a> {
    pub(crate) account: &'a Value,
    /// A date value, so that operands can read it by reference.
    pub(crate) as_of: Value,
    /// Per input column, its value read in place; a computed input's is in `lazy`.
    pub(crate) inputs: &'a [&'a Value],
    pub(crate) lazy: Lazy<'a>,
    pub(crate) results: Results<'a>,
    /// Params, the `for_each` item, then comprehension variables: a few,
    /// kept inline.
    pub(crate) locals: SmallVec<[Value; 4]>,
    /// Items a caller adds after one account list's own, for every
    /// comprehension over that list.
    pub(crate) overlay: Overlay<'a>,
}

/// Items read after the account's own in one of its lists (`path`, a field
/// path from the account), by every comprehension over that list: the
/// contacts a run has allowed so far, after the account's contacts, for the
/// guard rails that count them. The account is not copied; a null list
/// with items added is a list of those items.
#[derive(Clone, Copy, Debug)]
pub struct Overlay<'a> {
    path: &'a [u32],
    items: &'a [Value],
}

impl<'a> Overlay<'a> {
    pub const NONE: Overlay<'static> = Overlay {
        path: &[],
        items: &[],
    };

    pub fn new(path: &'a [u32], items: &'a [Value]) -> Overlay<'a> {
        Overlay { path, items }
    }

    /// The items added after the account's list at field path `slots`.
    #[inline(always)]
    pub(crate) fn on(&self, slots: &[u32]) -> &'a [Value] {
        if self.items.is_empty() || slots != self.path {
            return &[];
        }
        self.items
    }

    /// The list a comprehension over `list_expr` reads, given `list`, its
    /// value: with the added items when `list_expr` is the overlaid path.
    pub(crate) fn extended<'v>(&self, list_expr: &TExpr, list: &'v Value) -> Cow<'v, Value> {
        if self.items.is_empty() {
            return Cow::Borrowed(list);
        }
        let mut slots = SmallVec::<[u32; 4]>::new();
        let mut at = list_expr;
        while let TExprKind::Field(base, slot) = &at.kind {
            slots.push(*slot);
            at = base;
        }
        slots.reverse();
        let added = match at.kind {
            TExprKind::Account => self.on(&slots),
            _ => &[],
        };
        match list {
            _ if added.is_empty() => Cow::Borrowed(list),
            Value::List(own) => Cow::Owned(Value::List(own.iter().chain(added).cloned().collect())),
            Value::Null => Cow::Owned(Value::List(added.iter().cloned().collect())),
            _ => Cow::Borrowed(list),
        }
    }
}

/// How an input is computed: input column `i` → its value.
pub(crate) type Fill<'a> = dyn Fn(u32, &mut Env) -> Result<Value> + 'a;

/// A table's computed inputs, each computed the first time something reads
/// it (a cell tested, an output evaluated) and then kept for the rest of the
/// table (of the item, for a `for_each` table): an input nothing reads is
/// never computed, so its error is never raised.
#[derive(Clone, Copy)]
pub(crate) struct Lazy<'a> {
    /// Per input column: the index of its value in `values`, or [`Lazy::IN_PLACE`].
    pub(crate) slots: &'a [u32],
    /// The values computed so far.
    pub(crate) values: &'a [OnceCell<Value>],
    pub(crate) fill: &'a Fill<'a>,
}

fn no_fill(_: u32, _: &mut Env) -> Result<Value> {
    Ok(Value::Null)
}

impl Lazy<'_> {
    /// A slot of an input read in place (`Env::inputs`).
    pub(crate) const IN_PLACE: u32 = u32::MAX;
    /// No computed inputs.
    pub(crate) const NONE: Lazy<'static> = Lazy {
        slots: &[],
        values: &[],
        fill: &no_fill,
    };
}

impl<'a> Env<'a> {
    /// The environment of an expression outside any table: the account,
    /// `as_of` and `locals`, no inputs and no other table's results.
    pub(crate) fn standalone(
        account: &'a Value,
        as_of: NaiveDate,
        locals: SmallVec<[Value; 4]>,
    ) -> Self {
        Env {
            account,
            as_of: Value::Date(as_of),
            inputs: &[],
            lazy: Lazy::NONE,
            results: Results::NONE,
            locals,
            overlay: Overlay::NONE,
        }
    }

    /// Input `i`'s value, computing it first if it is a computed input not
    /// computed yet (then kept).
    #[inline]
    pub(crate) fn input(&mut self, i: u32) -> Result<&'a Value> {
        let lazy = self.lazy;
        let Some(cell) = lazy.cell(i) else {
            return Ok(self.inputs.get(i as usize).copied().unwrap_or(&NULL));
        };
        match cell.get() {
            Some(v) => Ok(v),
            None => self.compute(i, cell),
        }
    }

    /// Computes computed input `i` into `cell`, where it is kept.
    #[inline(never)]
    fn compute(&mut self, i: u32, cell: &'a OnceCell<Value>) -> Result<&'a Value> {
        let v = (self.lazy.fill)(i, self)?;
        Ok(cell.get_or_init(|| v))
    }

    /// Input `i`'s value if it needs no computing (read in place, or computed
    /// already).
    #[inline]
    fn input_ready(&self, i: u32) -> Option<&'a Value> {
        match self.lazy.cell(i) {
            Some(cell) => cell.get(),
            None => self.inputs.get(i as usize).copied(),
        }
    }
}

impl<'a> Lazy<'a> {
    #[inline(always)]
    fn cell(&self, i: u32) -> Option<&'a OnceCell<Value>> {
        let values = self.values;
        match self.slots.get(i as usize) {
            Some(&s) if s != Lazy::IN_PLACE => values.get(s as usize),
            _ => None,
        }
    }
}

/// Computes the input a value-naming expression (a [`lookup`]) reads, if it
/// reads one not computed yet, so that `lookup` finds it.
#[inline]
pub(crate) fn ready(e: &TExpr, env: &mut Env) -> Result<()> {
    let mut at = e;
    loop {
        match &at.kind {
            TExprKind::Field(base, _) => at = base,
            TExprKind::Input(i) => return env.input(*i).map(|_| ()),
            _ => return Ok(()),
        }
    }
}

/// The single results of the tables evaluated so far, read in place from
/// their decisions.
#[derive(Clone, Copy)]
pub(crate) struct Results<'a> {
    pub(crate) decisions: &'a [Decision],
    /// Per table: the index of its single decision, or a marker above any index.
    pub(crate) of: &'a [u32],
    /// Per table: its constant outputs.
    pub(crate) constants: &'a [Constants],
}

impl<'a> Results<'a> {
    pub(crate) const NONE: Results<'static> = Results {
        decisions: &[],
        of: &[],
        constants: &[],
    };

    #[inline]
    pub(crate) fn get(&self, table: u32, output: u32) -> Option<&'a Value> {
        let i = *self.of.get(table as usize)?;
        self.decisions
            .get(i as usize)?
            .outcome
            .result(self.constants.get(table as usize)?)
            .get(output as usize)
    }
}

pub(crate) fn zero_like(ty: &crate::types::Type) -> Value {
    match ty {
        crate::types::Type::Integer | crate::types::Type::Days => Value::Int(0),
        _ => Value::Dec(Decimal::ZERO),
    }
}

pub fn in_range(
    x: &Value,
    low: &Value,
    low_inclusive: bool,
    high: &Value,
    high_inclusive: bool,
) -> bool {
    let above = match x.compare(low) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => low_inclusive,
        _ => false,
    };
    above
        && match x.compare(high) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => high_inclusive,
            _ => false,
        }
}

/// `a op b`; any comparison with null is false, except `= null` / `!= null`.
#[inline]
pub fn compare(op: CompareOp, a: &Value, b: &Value) -> bool {
    // Amounts, counts and variants (most comparisons): what `equals` and
    // `Value::compare` say of them, without their dispatch.
    let order = match (a, b) {
        (Value::Dec(x), Value::Dec(y)) => crate::decimal::compare(x, y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Enum(x), Value::Enum(y)) => x.cmp(y),
        _ => return compare_values(op, a, b),
    };
    ordering_holds(op, order)
}

/// Whether `op` holds of two values in order `order`.
#[inline(always)]
pub(crate) fn ordering_holds(op: CompareOp, order: Ordering) -> bool {
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Ne => order != Ordering::Equal,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
    }
}

/// [`compare`] of any two values.
fn compare_values(op: CompareOp, a: &Value, b: &Value) -> bool {
    match (op, a.is_null() || b.is_null()) {
        (CompareOp::Eq, _) => a.equals(b),
        (CompareOp::Ne, true) => a.is_null() != b.is_null() && b.is_null(),
        (CompareOp::Ne, false) => !a.equals(b),
        (_, true) => false,
        (op, false) => match a.compare(b) {
            Some(o) => match op {
                CompareOp::Lt => o == Ordering::Less,
                CompareOp::Le => o != Ordering::Greater,
                CompareOp::Gt => o == Ordering::Greater,
                CompareOp::Ge => o != Ordering::Less,
                CompareOp::Eq | CompareOp::Ne => false,
            },
            None => false,
        },
    }
}

pub(crate) fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// Whether `e` evaluates to `true` (a condition), reading it in place when it names a value.
pub(crate) fn is_true(e: &TExpr, env: &mut Env) -> Result<bool> {
    if is_lookup(e) {
        ready(e, env)?;
        return Ok(lookup(e, env).is_some_and(truthy));
    }
    Ok(truthy(&eval(e, env)?))
}

/// A value the expression names without computing anything (the account, a
/// local, an input, a table output, or a field path from one of them), by
/// reference: reading `account.pay_plan.active` clones one boolean, not the
/// account record. A computed input not computed yet is `None`: [`ready`]
/// computes it.
pub(crate) fn lookup<'v>(e: &'v TExpr, env: &'v Env) -> Option<&'v Value> {
    match &e.kind {
        TExprKind::Const(v) => Some(v),
        TExprKind::AsOf => Some(&env.as_of),
        TExprKind::Account => Some(env.account),
        TExprKind::Local(i) => env.locals.get(*i as usize),
        TExprKind::Input(i) => env.input_ready(*i),
        TExprKind::TableOutput { table, output } => env.results.get(*table, *output),
        TExprKind::Field(base, slot) => match lookup(base, env)? {
            Value::Record(fields) => fields.get(*slot as usize),
            _ => Some(&NULL),
        },
        _ => None,
    }
}

pub(crate) static NULL: Value = Value::Null;

/// Whether [`lookup`] reads `e` (by reference, computing nothing). Every kind
/// named here must be one `lookup` reads, or its operands would read as null.
pub(crate) fn is_lookup(e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Const(_)
        | TExprKind::AsOf
        | TExprKind::Account
        | TExprKind::Local(_)
        | TExprKind::Input(_)
        | TExprKind::TableOutput { .. } => true,
        TExprKind::Field(base, _) => is_lookup(base),
        _ => false,
    }
}

/// A binary operation's operand: computed into `slot`, or read in place.
fn operand<'v>(e: &'v TExpr, slot: &'v Option<Value>, env: &'v Env) -> &'v Value {
    match slot {
        Some(v) => v,
        None => lookup(e, env).unwrap_or(&NULL),
    }
}

/// Fields `slots` (outermost first) of `at`, in place; null past a null record.
pub(crate) fn read_fields<'v>(mut at: &'v Value, slots: &[u32]) -> &'v Value {
    for &slot in slots {
        at = match at {
            Value::Record(fields) => fields.get(slot as usize).unwrap_or(&NULL),
            _ => return &NULL,
        };
    }
    at
}

pub(crate) fn eval(e: &TExpr, env: &mut Env) -> Result<Value> {
    if let TExprKind::Field(..) = &e.kind {
        if let Some(v) = lookup(e, env) {
            return Ok(v.clone());
        }
    }
    Ok(match &e.kind {
        TExprKind::Const(v) => v.clone(),
        TExprKind::Account => env.account.clone(),
        TExprKind::AsOf => env.as_of.clone(),
        TExprKind::Local(i) => env.locals.get(*i as usize).cloned().unwrap_or_default(),
        TExprKind::Input(i) => env.input(*i)?.clone(),
        TExprKind::TableOutput { table, output } => env
            .results
            .get(*table, *output)
            .cloned()
            .unwrap_or_default(),
        TExprKind::Field(base, slot) => field(&eval(base, env)?, *slot),
        TExprKind::Project(list, slot) => match eval(list, env)? {
            Value::List(items) => {
                Value::List(items.iter().map(|item| field(item, *slot)).collect())
            }
            _ => Value::Null,
        },
        TExprKind::Unary(op, inner) => unary(*op, eval(inner, env)?)?,
        TExprKind::Binary(op, l, r) => {
            match op {
                BinOp::And => {
                    return Ok(Value::Bool(is_true(l, env)? && is_true(r, env)?));
                }
                BinOp::Or => {
                    return Ok(Value::Bool(is_true(l, env)? || is_true(r, env)?));
                }
                _ => {}
            }
            // Operands that name a value are read in place, not copied.
            let la = if is_lookup(l) {
                ready(l, env)?;
                None
            } else {
                Some(eval(l, env)?)
            };
            let lb = if is_lookup(r) {
                ready(r, env)?;
                None
            } else {
                Some(eval(r, env)?)
            };
            let (a, b) = (operand(l, &la, env), operand(r, &lb, env));
            binary(*op, a, b)?
        }
        TExprKind::Call(f, args) => {
            let mut values: SmallVec<[Value; 4]> = SmallVec::with_capacity(args.len());
            for a in args {
                values.push(eval(a, env)?);
            }
            call(*f, &values, &e.ty)?
        }
        TExprKind::Each(each) => eval_each(each, env)?,
    })
}

/// `op value`; null stays null.
pub(crate) fn unary(op: UnaryOp, value: Value) -> Result<Value> {
    Ok(match (op, value) {
        (_, Value::Null) => Value::Null,
        (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnaryOp::Neg, Value::Int(n)) => {
            Value::Int(n.checked_neg().ok_or(EvalErrorKind::Overflow("negation"))?)
        }
        (UnaryOp::Neg, Value::Dec(d)) => Value::Dec(-d),
        _ => Value::Null,
    })
}

/// `a op b` for the operators that evaluate both operands (not `and`, `or`).
#[inline]
pub(crate) fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    Ok(match op {
        BinOp::Compare(c) => Value::Bool(compare(c, a, b)),
        BinOp::Add => add(a, b)?,
        BinOp::Sub => sub(a, b)?,
        BinOp::Mul => mul(a, b)?,
        BinOp::Div => div(a, b)?,
        BinOp::And | BinOp::Or => Value::Null,
    })
}

fn field(record: &Value, slot: u32) -> Value {
    match record {
        Value::Record(fields) => fields.get(slot as usize).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

/// A number as a decimal operand (an integer widened); `None` for anything else.
pub(crate) fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal::from(*n)),
        Value::Dec(d) => Some(*d),
        _ => None,
    }
}

fn add_days(d: NaiveDate, n: i64) -> Result<Value> {
    let moved = if n >= 0 {
        d.checked_add_days(ChronoDays::new(n as u64))
    } else {
        d.checked_sub_days(ChronoDays::new(n.unsigned_abs()))
    };
    // Dates have four-digit years, as rule files and accounts write them: a
    // result past 9999-12-31 could not be written back, so it is out of range.
    moved
        .filter(|d| (0..=9999).contains(&d.year()))
        .map(Value::Date)
        .ok_or(EvalErrorKind::DateOutOfRange)
}

pub fn add(a: &Value, b: &Value) -> Result<Value> {
    Ok(match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::Int(x), Value::Int(y)) => Value::Int(
            x.checked_add(*y)
                .ok_or(EvalErrorKind::Overflow("addition"))?,
        ),
        (Value::Date(d), Value::Int(n)) | (Value::Int(n), Value::Date(d)) => add_days(*d, *n)?,
        (Value::Text(x), Value::Text(y)) => Value::Text(format!("{x}{y}").into()),
        _ => match (dec(a), dec(b)) {
            (Some(x), Some(y)) => Value::Dec(decimal_op(BinOp::Add, x, y)?),
            _ => Value::Null,
        },
    })
}

fn sub(a: &Value, b: &Value) -> Result<Value> {
    Ok(match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::Int(x), Value::Int(y)) => Value::Int(
            x.checked_sub(*y)
                .ok_or(EvalErrorKind::Overflow("subtraction"))?,
        ),
        (Value::Date(d), Value::Int(n)) => {
            add_days(*d, n.checked_neg().ok_or(EvalErrorKind::DateOutOfRange)?)?
        }
        (Value::Date(x), Value::Date(y)) => Value::Int((*x - *y).num_days()),
        _ => match (dec(a), dec(b)) {
            (Some(x), Some(y)) => Value::Dec(decimal_op(BinOp::Sub, x, y)?),
            _ => Value::Null,
        },
    })
}

fn mul(a: &Value, b: &Value) -> Result<Value> {
    Ok(match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::Int(x), Value::Int(y)) => Value::Int(
            x.checked_mul(*y)
                .ok_or(EvalErrorKind::Overflow("multiplication"))?,
        ),
        _ => match (dec(a), dec(b)) {
            (Some(x), Some(y)) => Value::Dec(decimal_op(BinOp::Mul, x, y)?),
            _ => Value::Null,
        },
    })
}

fn div(a: &Value, b: &Value) -> Result<Value> {
    Ok(match (dec(a), dec(b)) {
        (Some(x), Some(y)) => Value::Dec(decimal_op(BinOp::Div, x, y)?),
        _ => Value::Null,
    })
}

/// `x op y` on two decimals, `op` one of `+ - * /`: the checked operation,
/// an overflow or a division by zero an error. The one place decimal
/// arithmetic is written, for the tree walk and compiled code alike.
#[inline]
pub(crate) fn decimal_op(op: BinOp, x: Decimal, y: Decimal) -> Result<Decimal> {
    let (result, name) = match op {
        BinOp::Add => (x.checked_add(y), "addition"),
        BinOp::Sub => (x.checked_sub(y), "subtraction"),
        BinOp::Mul => (x.checked_mul(y), "multiplication"),
        _ if y.is_zero() => return Err(EvalErrorKind::DivisionByZero),
        _ => (x.checked_div(y), "division"),
    };
    result.ok_or(EvalErrorKind::Overflow(name))
}

pub(crate) fn call(f: Builtin, args: &[Value], ty: &crate::types::Type) -> Result<Value> {
    // `max(list)` and `max(a, b, ...)` alike.
    let list_or_args = || match args {
        [Value::List(items)] => &items[..],
        _ => args,
    };
    Ok(match f {
        Builtin::Min | Builtin::Max | Builtin::Any | Builtin::All | Builtin::Sum => {
            over_values(f, list_or_args().iter(), ty)?
        }
        Builtin::Abs => match args.first() {
            Some(Value::Int(n)) => {
                Value::Int(n.checked_abs().ok_or(EvalErrorKind::Overflow("abs"))?)
            }
            Some(Value::Dec(d)) => Value::Dec(d.abs()),
            _ => Value::Null,
        },
        Builtin::Round => {
            let places = match args.get(1) {
                Some(Value::Int(n)) => (*n).clamp(0, 28) as u32,
                _ => 0,
            };
            match args.first() {
                Some(Value::Dec(d)) => Value::Dec(
                    d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero),
                ),
                other => other.cloned().unwrap_or_default(),
            }
        }
        Builtin::DaysBetween => {
            days_between(args.first().unwrap_or(&NULL), args.get(1).unwrap_or(&NULL))
        }
        Builtin::Count => match args.first() {
            Some(Value::List(items)) => Value::Int(items.len() as i64),
            _ => Value::Null,
        },
        Builtin::MonthDay => match args.first() {
            Some(Value::Date(d)) => Value::Int(i64::from(d.month() * 100 + d.day())),
            _ => Value::Null,
        },
        Builtin::NextMonthDay => match (args.first(), args.get(1)) {
            (Some(Value::Date(from)), Some(Value::Int(month_day))) => {
                crate::types::next_month_day(*from, *month_day).map_or(Value::Null, Value::Date)
            }
            _ => Value::Null,
        },
        // A yes/no answer even for a null text, so that it can stand in `and`.
        Builtin::StartsWith => match (args.first(), args.get(1)) {
            (Some(Value::Text(t)), Some(Value::Text(prefix))) => {
                Value::Bool(t.starts_with(&**prefix))
            }
            _ => Value::Bool(false),
        },
    })
}

/// `days_between(a, b)`: the days from date `a` to date `b`; null unless both are dates.
#[inline]
pub(crate) fn days_between(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Date(a), Value::Date(b)) => Value::Int((*b - *a).num_days()),
        _ => Value::Null,
    }
}

/// `f` (`min`, `max`, `any`, `all` or `sum`; null for any other) over the
/// values of a list or of the arguments: [`call`]'s, and compiled code's over
/// a list's fields read in place (`sum(account.items.amount)`).
pub(crate) fn over_values<'v>(
    f: Builtin,
    mut values: impl Iterator<Item = &'v Value>,
    ty: &crate::types::Type,
) -> Result<Value> {
    Ok(match f {
        Builtin::Min | Builtin::Max => extreme(values, extreme_order(f)),
        Builtin::Any => Value::Bool(values.any(truthy)),
        Builtin::All => Value::Bool(values.all(truthy)),
        Builtin::Sum => {
            let mut total = Total::default();
            values.for_each(|v| total.add(v));
            total.finish(zero_like(ty))?
        }
        _ => Value::Null,
    })
}

/// The order `min` (less) or `max` (greater) looks for.
pub(crate) fn extreme_order(f: Builtin) -> Ordering {
    if f == Builtin::Min {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// The non-null value that compares `want` to all others (the first of equals).
pub(crate) fn extreme<'v>(values: impl Iterator<Item = &'v Value>, want: Ordering) -> Value {
    let mut best = Extreme::new(want);
    values.for_each(|v| best.offer(v));
    best.finish()
}

/// A running min or max.
pub(crate) struct Extreme {
    want: Ordering,
    best: Option<Value>,
}

impl Extreme {
    #[inline]
    pub(crate) fn new(want: Ordering) -> Self {
        Extreme { want, best: None }
    }

    #[inline]
    pub(crate) fn offer(&mut self, v: &Value) {
        if v.is_null() {
            return;
        }
        match &self.best {
            Some(best) if v.compare(best) != Some(self.want) => {}
            _ => self.best = Some(v.clone()),
        }
    }

    pub(crate) fn finish(self) -> Value {
        self.best.unwrap_or_default()
    }
}

/// A running sum of the non-null values; an overflow is kept and reported at the end.
#[derive(Default)]
pub(crate) struct Total {
    total: Option<Value>,
    overflow: Option<EvalErrorKind>,
}

impl Total {
    #[inline]
    pub(crate) fn add(&mut self, v: &Value) {
        // Amounts (most sums): `add`'s decimal addition in place.
        match (&mut self.total, v) {
            (Some(Value::Dec(t)), Value::Dec(x)) => {
                match decimal_op(BinOp::Add, *t, *x) {
                    Ok(sum) => *t = sum,
                    Err(e) => {
                        self.overflow = Some(e);
                        self.total = None;
                    }
                }
                return;
            }
            (None, Value::Dec(x)) if self.overflow.is_none() => {
                self.total = Some(Value::Dec(*x));
                return;
            }
            _ => {}
        }
        if v.is_null() || self.overflow.is_some() {
            return;
        }
        self.total = match self.total.take() {
            None => Some(v.clone()),
            Some(t) => match add(&t, v) {
                Ok(sum) => Some(sum),
                Err(e) => {
                    self.overflow = Some(e);
                    None
                }
            },
        };
    }

    pub(crate) fn finish(self, zero: Value) -> Result<Value> {
        match self.overflow {
            Some(e) => Err(e),
            None => Ok(self.total.unwrap_or(zero)),
        }
    }
}

fn eval_each(each: &EachExpr, env: &mut Env) -> Result<Value> {
    let list = eval(&each.list, env)?;
    let list = env.overlay.extended(&each.list, &list);
    fold_each(
        each,
        &list,
        env,
        |env| match &each.filter {
            Some(filter) => is_true(filter, env),
            None => Ok(true),
        },
        |env| match &each.body {
            Some(body) => eval(body, env),
            None => Ok(Value::Bool(true)),
        },
    )
}

/// `f(x in list where filter : body)` over the value of its list, with
/// `filter` and `body` evaluated for the item bound in `env`'s locals: the
/// one place a comprehension's meaning is written (with [`Fold`]), whether
/// its parts are walked as trees or run as compiled code.
pub(crate) fn fold_each(
    each: &EachExpr,
    list: &Value,
    env: &mut Env,
    mut filter: impl FnMut(&mut Env) -> Result<bool>,
    mut body: impl FnMut(&mut Env) -> Result<Value>,
) -> Result<Value> {
    let Value::List(items) = list else {
        return Ok(Value::Null);
    };
    let slot = each.local as usize;
    if env.locals.len() <= slot {
        env.locals.resize(slot + 1, Value::Null);
    }
    // Every item is evaluated (so that an error in any is reported); the
    // result is accumulated on the way.
    let mut fold = Fold::new(each.function);
    for item in items.iter() {
        env.locals[slot] = item.clone();
        if !filter(env)? {
            continue;
        }
        fold.offer(&body(env)?);
    }
    fold.finish(each)
}

/// A comprehension's running result: every item that passes the filter
/// offers its body's value ([`fold_each`], and compiled code that reads the
/// item in place).
pub(crate) struct Fold {
    function: Builtin,
    total: Total,
    extreme: Extreme,
    seen: i64,
    truthy_seen: i64,
}

impl Fold {
    #[inline]
    pub(crate) fn new(function: Builtin) -> Fold {
        Fold {
            function,
            total: Total::default(),
            extreme: Extreme::new(extreme_order(function)),
            seen: 0,
            truthy_seen: 0,
        }
    }

    #[inline]
    pub(crate) fn offer(&mut self, value: &Value) {
        self.seen += 1;
        if truthy(value) {
            self.truthy_seen += 1;
        }
        match self.function {
            Builtin::Sum => self.total.add(value),
            Builtin::Min | Builtin::Max => self.extreme.offer(value),
            _ => {}
        }
    }

    pub(crate) fn finish(self, each: &EachExpr) -> Result<Value> {
        Ok(match self.function {
            Builtin::Any => Value::Bool(self.truthy_seen > 0),
            Builtin::All => Value::Bool(self.truthy_seen == self.seen),
            Builtin::Count => Value::Int(self.truthy_seen),
            Builtin::Sum => {
                let zero = each
                    .body
                    .as_ref()
                    .map_or(Value::Int(0), |b| zero_like(&b.ty));
                self.total.finish(zero)?
            }
            Builtin::Min | Builtin::Max => self.extreme.finish(),
            Builtin::Abs
            | Builtin::Round
            | Builtin::DaysBetween
            | Builtin::MonthDay
            | Builtin::NextMonthDay
            | Builtin::StartsWith => Value::Null,
        })
    }
}

/// Evaluates an expression that reads nothing from an account; used by the
/// compiler to fold constants.
pub(crate) fn eval_constant(e: &TExpr) -> Option<Value> {
    eval_standalone(e, &Value::Null, NaiveDate::MIN, &[]).ok()
}

/// Evaluates an expression that stands outside any table (checked by
/// `check::standalone_expression`): it reads the account, `as_of` and `locals`.
pub fn eval_standalone(
    e: &TExpr,
    account: &Value,
    as_of: NaiveDate,
    locals: &[Value],
) -> std::result::Result<Value, EvalErrorKind> {
    eval(
        e,
        &mut Env::standalone(account, as_of, locals.iter().cloned().collect()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Amounts of several scales (a negative zero among them), the largest
    /// decimals (sums overflow), integers, variants, dates, flags and nulls.
    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => (-100_000i64..100_000, 0u32..5)
                .prop_map(|(m, s)| Value::Dec(Decimal::new(m, s))),
            1 => Just(Value::Dec(Decimal::from_parts(0, 0, 0, true, 2))),
            1 => Just(Value::Dec(Decimal::MAX)),
            1 => Just(Value::Dec(Decimal::MIN)),
            1 => (-5i64..5).prop_map(Value::Int),
            1 => (0u32..3).prop_map(Value::Enum),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => (0u64..3).prop_map(|d| Value::Date(NaiveDate::MIN + ChronoDays::new(d))),
            1 => Just(Value::Null),
        ]
    }

    /// `add`'s sum, value by value, as `Total` was written before its decimal arm.
    fn pairwise(values: &[Value]) -> Result<Value> {
        let mut total: Option<Value> = None;
        for v in values.iter().filter(|v| !v.is_null()) {
            total = Some(match total {
                None => v.clone(),
                Some(t) => add(&t, v)?,
            });
        }
        Ok(total.unwrap_or(Value::Int(0)))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, failure_persistence: None, ..ProptestConfig::default() })]

        /// The fast arms of `compare` (decimals, integers, variants) say what
        /// `equals` and `Value::compare` say.
        #[test]
        fn compare_is_the_general_comparison(a in value(), b in value(), op in 0usize..6) {
            let op = [CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge][op];
            prop_assert_eq!(compare(op, &a, &b), compare_values(op, &a, &b));
        }

        /// `Total` adds amounts in place: the same sum, scale and sign of zero
        /// included, and the same overflow as adding them one by one.
        #[test]
        fn total_is_a_pairwise_sum(values in prop::collection::vec(value(), 0..6)) {
            let mut total = Total::default();
            values.iter().for_each(|v| total.add(v));
            let got = total.finish(Value::Int(0));
            prop_assert_eq!(format!("{got:?}"), format!("{:?}", pairwise(&values)));
        }
    }
}

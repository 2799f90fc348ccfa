//! The evaluator: (compiled plan, account snapshot, as_of) → decisions and,
//! on request, a trace. Pure: no I/O, no clock, no panics; arithmetic that
//! cannot be done (overflow, division by zero, a date out of range) is an
//! [`EvalError`] for that account.

use std::cmp::Ordering;
use std::sync::Arc;

use smallvec::SmallVec;

use chrono::{Datelike, Days as ChronoDays, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::compile::{Bound, CellTest, Check, CompiledTable, InputRead, Matcher, Plan};
use crate::ir::{Aggregate, BinOp, Builtin, EachExpr, HitPolicy, TExpr, TExprKind, TTest};
use crate::syntax::ast::{CompareOp, UnaryOp};
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
/// constants shares them with the plan, so deciding it allocates nothing.
pub type Values = Arc<[Value]>;

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
    /// The single result other tables read: a decided row's (or the default's)
    /// values, or the aggregate; nothing for `collect` / `rule_order` rows.
    pub fn result(&self) -> &[Value] {
        match self {
            Outcome::Row { values, .. } | Outcome::Default { values } => values,
            Outcome::Aggregate { value, .. } => std::slice::from_ref(value),
            Outcome::Rows(_) => &[],
        }
    }

    /// Ids (indices) of the rows that produced this outcome.
    pub fn rows(&self) -> Vec<u32> {
        match self {
            Outcome::Row { row, also, .. } => {
                std::iter::once(*row).chain(also.iter().copied()).collect()
            }
            Outcome::Default { .. } => Vec::new(),
            Outcome::Rows(rows) => rows.iter().map(|(r, _)| *r).collect(),
            Outcome::Aggregate { rows, .. } => rows.clone(),
        }
    }
}

/// Why a table decided what it did: its inputs and, per row tried, the first
/// cell that failed (`None`: the row matched).
#[derive(Clone, Debug, PartialEq)]
pub struct TableTrace {
    pub table: u32,
    pub item: Option<u32>,
    pub inputs: Vec<Value>,
    pub rows: Vec<(u32, Option<u32>)>,
    /// Every cell that did not match in the rows tried, in row then input order.
    pub misses: Vec<CellMiss>,
}

/// A cell that did not match, with the values its per-account operands took.
#[derive(Clone, Debug, PartialEq)]
pub struct CellMiss {
    pub row: u32,
    pub input: u32,
    /// One value per operand of the cell's per-account tests (`Check::Dynamic`),
    /// in order: one for a comparison, low and high for a range. An error when
    /// they cannot be evaluated, which only a cell after its row's first failing
    /// one can meet (evaluation without a trace never tests it).
    pub operands: std::result::Result<Vec<Value>, EvalErrorKind>,
}

/// What `decide` records of the rows it tries when a trace is asked for.
#[derive(Default)]
struct RowsTried {
    rows: Vec<(u32, Option<u32>)>,
    misses: Vec<CellMiss>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub decisions: Vec<Decision>,
    pub trace: Vec<TableTrace>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("table `{table}`{}: {kind}", item.map(|i| format!(" (item {})", i + 1)).unwrap_or_default())]
pub struct EvalError {
    pub table: String,
    pub item: Option<u32>,
    pub kind: EvalErrorKind,
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
}

fn quoted(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

type Result<T> = std::result::Result<T, EvalErrorKind>;

/// What an expression may read.
struct Env<'a> {
    account: &'a Value,
    /// A date value, so that operands can read it by reference.
    as_of: Value,
    inputs: &'a [&'a Value],
    results: Results<'a>,
    /// Params, the `for_each` item, then comprehension variables: a few,
    /// kept inline.
    locals: SmallVec<[Value; 4]>,
}

/// The single results of the tables evaluated so far, read in place from
/// their decisions.
#[derive(Clone, Copy)]
struct Results<'a> {
    decisions: &'a [Decision],
    /// Per table: the index of its single decision, or a marker above any index.
    of: &'a [u32],
}

impl<'a> Results<'a> {
    const NONE: Results<'static> = Results {
        decisions: &[],
        of: &[],
    };

    fn get(&self, table: u32, output: u32) -> Option<&'a Value> {
        let i = *self.of.get(table as usize)?;
        self.decisions
            .get(i as usize)?
            .outcome
            .result()
            .get(output as usize)
    }
}

/// Table state markers in [`Tables`]; any smaller number is a decision index.
const NOT_EVALUATED: u32 = u32::MAX;
const NO_SINGLE_RESULT: u32 = u32::MAX - 1;

/// Evaluates every table of the plan that needs no caller-provided params, in
/// dependency order, for one account.
pub fn evaluate(
    plan: &Plan,
    account: &Value,
    as_of: NaiveDate,
    trace: bool,
) -> std::result::Result<Evaluation, EvalError> {
    let mut tables = Tables::new(plan, account, as_of, trace);
    tables.require_all()?;
    Ok(tables.evaluation)
}

/// One account's tables, evaluated on demand: [`Tables::require`] evaluates a
/// table (after the tables it reads) the first time it is asked for, so a
/// caller that needs only some decisions pays only for those.
pub struct Tables<'a> {
    plan: &'a Plan,
    account: &'a Value,
    as_of: NaiveDate,
    trace: bool,
    /// Per table: [`NOT_EVALUATED`], [`NO_SINGLE_RESULT`] or the index of its
    /// single decision, whose values other tables read.
    state: SmallVec<[u32; 16]>,
    /// Scratch space for a table's computed inputs.
    computed: Vec<Value>,
    /// Scratch space for the decisions of the table being evaluated.
    made: Vec<Decision>,
    pub evaluation: Evaluation,
}

impl<'a> Tables<'a> {
    pub fn new(plan: &'a Plan, account: &'a Value, as_of: NaiveDate, trace: bool) -> Self {
        Tables {
            plan,
            account,
            as_of,
            trace,
            state: smallvec::smallvec![NOT_EVALUATED; plan.tables.len()],
            computed: Vec::with_capacity(plan.max_inputs),
            made: Vec::new(),
            evaluation: Evaluation {
                decisions: Vec::with_capacity(plan.order.len()),
                trace: Vec::new(),
            },
        }
    }

    /// Every table that needs no caller-provided params, in dependency order.
    pub fn require_all(&mut self) -> std::result::Result<(), EvalError> {
        for &t in &self.plan.order {
            self.require(t)?;
        }
        Ok(())
    }

    /// Evaluates table `t` unless it already was, after the tables it reads.
    /// Tables that take params are evaluated only by their caller
    /// ([`Tables::evaluate_with`]).
    pub fn require(&mut self, t: u32) -> std::result::Result<(), EvalError> {
        let plan = self.plan;
        if self.state[t as usize] != NOT_EVALUATED
            || !plan.tables[t as usize].table.params.is_empty()
        {
            return Ok(());
        }
        // Tables form a DAG (checked), so marking before the dependencies is safe.
        self.state[t as usize] = NO_SINGLE_RESULT;
        self.require_deps(t)?;
        let results = Results {
            decisions: &self.evaluation.decisions,
            of: &self.state,
        };
        // Left over only if an earlier table failed part-way.
        self.made.clear();
        evaluate_table_into(
            plan,
            t,
            self.account,
            self.as_of,
            &[],
            results,
            &mut self.computed,
            self.trace.then_some(&mut self.evaluation.trace),
            &mut self.made,
        )?;
        if let [Decision { item: None, .. }] = self.made.as_slice() {
            self.state[t as usize] = self.evaluation.decisions.len() as u32;
        }
        self.evaluation.decisions.append(&mut self.made);
        Ok(())
    }

    fn require_deps(&mut self, t: u32) -> std::result::Result<(), EvalError> {
        for &d in &self.plan.program.deps[t as usize] {
            self.require(d)?;
        }
        Ok(())
    }

    /// Evaluates a table that takes params (once per call, for the caller's
    /// values), after the tables it reads. Its decisions and traces are
    /// returned, not kept.
    pub fn evaluate_with(
        &mut self,
        t: u32,
        params: &[Value],
    ) -> std::result::Result<(Vec<Decision>, Vec<TableTrace>), EvalError> {
        self.require_deps(t)?;
        let mut traces = Vec::new();
        let results = Results {
            decisions: &self.evaluation.decisions,
            of: &self.state,
        };
        let mut made = Vec::new();
        evaluate_table_into(
            self.plan,
            t,
            self.account,
            self.as_of,
            params,
            results,
            &mut self.computed,
            self.trace.then_some(&mut traces),
            &mut made,
        )?;
        Ok((made, traces))
    }
}

/// Evaluates one table for one account: once, or once per item of its
/// `for_each` list, into `made` (empty on entry). `params` are the table's
/// caller-provided values; `computed` is scratch space for the inputs that are
/// expressions (the others are read in place); traces are appended to `trace`
/// when asked for.
#[allow(clippy::too_many_arguments)]
fn evaluate_table_into(
    plan: &Plan,
    t: u32,
    account: &Value,
    as_of: NaiveDate,
    params: &[Value],
    results: Results<'_>,
    computed: &mut Vec<Value>,
    mut trace: Option<&mut Vec<TableTrace>>,
    made: &mut Vec<Decision>,
) -> std::result::Result<(), EvalError> {
    let table = &plan.tables[t as usize];
    let mut env = Env {
        account,
        as_of: Value::Date(as_of),
        inputs: &[],
        results,
        locals: params.iter().cloned().collect(),
    };
    let fail = |item, kind| EvalError {
        table: table.table.name.clone(),
        item,
        kind,
    };
    let items: Option<std::sync::Arc<[Value]>> = match &table.table.for_each {
        None => None,
        Some(each) => match eval(&each.list, &mut env).map_err(|k| fail(None, k))? {
            Value::List(items) => Some(items),
            _ => Some(std::sync::Arc::from(Vec::new())),
        },
    };
    let count = items.as_ref().map_or(1, |items| items.len());
    for k in 0..count {
        let entry = items.as_ref().map(|items| (k as u32, &items[k]));
        let item = entry.map(|(i, _)| i);
        env.locals.truncate(params.len());
        let mut label = None;
        if let Some((i, value)) = entry {
            label = Some(item_label(value).unwrap_or_else(|| (i + 1).to_string().into()));
            env.locals.push(value.clone());
        }
        // Computed inputs first (they read no other input), then every input
        // by reference: a field is read in place, not copied.
        computed.clear();
        for (input, read) in table.table.inputs.iter().zip(&table.input_reads) {
            if let InputRead::Expr = read {
                computed.push(eval(&input.expr, &mut env).map_err(|k| fail(item, k))?);
            }
        }
        let local = |i: u32| -> &Value {
            match params.get(i as usize) {
                Some(param) => param,
                None => entry.map_or(&NULL, |(_, value)| value),
            }
        };
        let mut next_computed = computed.iter();
        let inputs: SmallVec<[&Value; 16]> = table
            .input_reads
            .iter()
            .map(|read| match read {
                InputRead::Path { local: None, slots } => read_fields(account, slots),
                InputRead::Path {
                    local: Some(i),
                    slots,
                } => read_fields(local(*i), slots),
                InputRead::Expr => next_computed.next().unwrap_or(&NULL),
            })
            .collect();
        let mut rows_tried = RowsTried::default();
        let outcome = {
            let mut row_env = Env {
                account,
                as_of: Value::Date(as_of),
                inputs: &inputs,
                results,
                locals: std::mem::take(&mut env.locals),
            };
            let outcome = decide(
                table,
                &mut row_env,
                trace.is_some().then_some(&mut rows_tried),
            );
            env.locals = row_env.locals;
            outcome.map_err(|k| fail(item, k))?
        };
        if let Some(trace) = trace.as_deref_mut() {
            trace.push(TableTrace {
                table: t,
                item,
                inputs: inputs.iter().map(|v| (*v).clone()).collect(),
                rows: rows_tried.rows,
                misses: rows_tried.misses,
            });
        }
        made.push(Decision {
            table: t,
            item,
            label,
            outcome,
        });
    }
    Ok(())
}

/// A per-item table's item is labelled by its first text field (by
/// convention its id).
fn item_label(value: &Value) -> Option<Arc<str>> {
    match value {
        Value::Record(fields) => fields.iter().find_map(|f| match f {
            Value::Text(t) => Some(Arc::clone(t)),
            _ => None,
        }),
        _ => None,
    }
}

fn decide(
    table: &CompiledTable,
    env: &mut Env,
    mut trace: Option<&mut RowsTried>,
) -> Result<Outcome> {
    let t = &table.table;
    let stop_at_first = t.hit == HitPolicy::First;
    let mut matched: SmallVec<[u32; 8]> = SmallVec::new();
    // Without a trace, a large table's index skips rows whose first cell
    // cannot match (they would fail there, before any other cell is tried).
    let candidates = match (&trace, &table.index) {
        (None, Some(index)) => env.inputs.first().and_then(|x| index.candidates(x)),
        _ => None,
    };
    let n = candidates.map_or(t.rows.len(), <[u32]>::len);
    for k in 0..n {
        let r = candidates.map_or(k, |c| c[k] as usize);
        let failed = first_failing_cell(table, r, env)?;
        if let Some(trace) = trace.as_deref_mut() {
            trace.rows.push((r as u32, failed));
            if let Some(first) = failed {
                trace_misses(table, r, first, env, &mut trace.misses);
            }
        }
        if failed.is_none() {
            matched.push(r as u32);
            if stop_at_first {
                break;
            }
        }
    }
    let row_values = |r: u32, env: &mut Env| -> Result<Values> {
        match &table.constant_outputs[r as usize] {
            Some(values) => Ok(Arc::clone(values)),
            None => t.rows[r as usize]
                .outputs
                .iter()
                .map(|e| eval(e, env))
                .collect(),
        }
    };
    let ids = |rows: &[u32]| {
        rows.iter()
            .map(|&r| t.rows[r as usize].id.clone())
            .collect::<Vec<_>>()
    };
    let single = |rows: &[u32], env: &mut Env| -> Result<Outcome> {
        match rows.first() {
            Some(&row) => Ok(Outcome::Row {
                row,
                also: Vec::new(),
                values: row_values(row, env)?,
            }),
            None => match (&table.constant_default, &t.default) {
                (Some(values), _) => Ok(Outcome::Default {
                    values: Arc::clone(values),
                }),
                (None, Some(default)) => Ok(Outcome::Default {
                    values: default
                        .iter()
                        .map(|e| eval(e, env))
                        .collect::<Result<_>>()?,
                }),
                (None, None) => Err(EvalErrorKind::NoMatch),
            },
        }
    };
    match t.hit {
        HitPolicy::First => single(&matched, env),
        HitPolicy::Unique => {
            if matched.len() > 1 {
                return Err(EvalErrorKind::NotUnique(ids(&matched)));
            }
            single(&matched, env)
        }
        HitPolicy::Priority => {
            let Some(p) = t.priority_output else {
                return single(&matched, env);
            };
            let mut best: Option<(u32, Values)> = None;
            for &r in &matched {
                let values = row_values(r, env)?;
                let rank = |v: &[Value]| match &v[p as usize] {
                    Value::Enum(i) => *i,
                    _ => u32::MAX,
                };
                if best.as_ref().is_none_or(|(_, b)| rank(&values) < rank(b)) {
                    best = Some((r, values));
                }
            }
            match best {
                Some((row, values)) => Ok(Outcome::Row {
                    row,
                    also: Vec::new(),
                    values,
                }),
                None => single(&[], env),
            }
        }
        HitPolicy::Any => {
            let mut first: Option<(u32, Values)> = None;
            for &r in &matched {
                let values = row_values(r, env)?;
                match &first {
                    None => first = Some((r, values)),
                    Some((_, f)) if !f.iter().zip(values.iter()).all(|(a, b)| a.equals(b)) => {
                        return Err(EvalErrorKind::AnyConflict(ids(&matched)));
                    }
                    Some(_) => {}
                }
            }
            match first {
                Some((row, values)) => Ok(Outcome::Row {
                    also: matched[1..].to_vec(),
                    row,
                    values,
                }),
                None => single(&[], env),
            }
        }
        HitPolicy::Collect | HitPolicy::RuleOrder => {
            let aggregate = if t.hit == HitPolicy::Collect {
                t.aggregate
            } else {
                None
            };
            match aggregate {
                None => {
                    let rows = matched
                        .iter()
                        .map(|&r| Ok((r, row_values(r, env)?)))
                        .collect::<Result<_>>()?;
                    Ok(Outcome::Rows(rows))
                }
                Some(Aggregate::Count) => Ok(Outcome::Aggregate {
                    value: Value::Int(matched.len() as i64),
                    rows: matched.to_vec(),
                }),
                Some(agg) => {
                    let mut acc: Option<Value> = None;
                    for &r in &matched {
                        let v = eval(&t.rows[r as usize].outputs[0], env)?;
                        if v.is_null() {
                            continue;
                        }
                        acc = Some(match (acc, agg) {
                            (None, _) => v,
                            (Some(a), Aggregate::Sum) => add(&a, &v)?,
                            (Some(a), Aggregate::Min) => {
                                if v.compare(&a) == Some(Ordering::Less) {
                                    v
                                } else {
                                    a
                                }
                            }
                            (Some(a), _) => {
                                if v.compare(&a) == Some(Ordering::Greater) {
                                    v
                                } else {
                                    a
                                }
                            }
                        });
                    }
                    let value = match (acc, agg) {
                        (Some(v), _) => v,
                        (None, Aggregate::Sum) => zero_like(&t.outputs[0].ty),
                        (None, _) => Value::Null,
                    };
                    Ok(Outcome::Aggregate {
                        value,
                        rows: matched.to_vec(),
                    })
                }
            }
        }
    }
}

fn zero_like(ty: &crate::types::Type) -> Value {
    match ty {
        crate::types::Type::Integer | crate::types::Type::Days => Value::Int(0),
        _ => Value::Dec(Decimal::ZERO),
    }
}

/// The input index of row `r`'s first cell that does not match; `None`: the row matches.
fn first_failing_cell(table: &CompiledTable, r: usize, env: &mut Env) -> Result<Option<u32>> {
    let m = &table.matcher;
    for cell in m.row(r) {
        if !cell_matches(m, cell, env)? {
            return Ok(Some(cell.input));
        }
    }
    Ok(None)
}

#[inline(always)]
fn cell_matches(m: &Matcher, cell: &CellTest, env: &mut Env) -> Result<bool> {
    let input = env.inputs[cell.input as usize];
    if input.is_null() {
        // A null input matches only `null` (and `-`, which is not here).
        return Ok(cell.null_matches);
    }
    for check in m.checks(cell) {
        if check_matches(check, input, env)? {
            return Ok(!cell.negated);
        }
    }
    Ok(cell.negated)
}

/// For a trace: row `r`'s cells that do not match, from its first failing
/// one (`first`) on, with their per-account operands' values. A cell after
/// `first` whose test fails to evaluate is recorded with the error, not
/// raised: evaluation without a trace never tests it.
#[inline(never)]
fn trace_misses(
    table: &CompiledTable,
    r: usize,
    first: u32,
    env: &mut Env,
    misses: &mut Vec<CellMiss>,
) {
    let m = &table.matcher;
    for cell in m.row(r).iter().skip_while(|c| c.input != first) {
        let hit = if cell.input == first {
            Ok(false)
        } else {
            cell_matches(m, cell, env)
        };
        let operands = match hit {
            Ok(true) => continue,
            Ok(false) => dynamic_operands(m.checks(cell), env),
            Err(e) => Err(e),
        };
        misses.push(CellMiss {
            row: r as u32,
            input: cell.input,
            operands,
        });
    }
}

/// The values of the per-account operands of `checks`, in order.
fn dynamic_operands(checks: &[Check], env: &mut Env) -> Result<Vec<Value>> {
    let mut values = Vec::new();
    for check in checks {
        match check {
            Check::Dynamic(TTest::Compare(_, e)) => values.push(eval(e, env)?),
            Check::Dynamic(TTest::Range { low, high, .. }) => {
                values.push(eval(low, env)?);
                values.push(eval(high, env)?);
            }
            _ => {}
        }
    }
    Ok(values)
}

/// `x` within the bounds (`None`: unbounded on that side).
fn within<T: PartialOrd>(x: &T, low: &Bound<T>, high: &Bound<T>) -> bool {
    let above = match low {
        None => true,
        Some((b, true)) => x >= b,
        Some((b, false)) => x > b,
    };
    above
        && match high {
            None => true,
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
        }
}

/// A check against constants, which cannot fail, decided without the
/// fallible path; `None` for a check that evaluates an expression.
#[inline(always)]
fn constant_check(check: &Check, input: &Value) -> Option<bool> {
    Some(match check {
        Check::Bool(b) => matches!(input, Value::Bool(x) if x == b),
        Check::EnumSet(bits) => {
            matches!(input, Value::Enum(i) if *i < 64 && bits & (1u64 << i) != 0)
        }
        Check::Ints { low, high } => match input {
            Value::Int(n) => within(n, low, high),
            _ => return None,
        },
        Check::Dates { low, high } => matches!(input, Value::Date(d) if within(d, low, high)),
        Check::Decimals { low, high } => match input {
            Value::Dec(d) => within(d, low, high),
            _ => return None,
        },
        _ => return None,
    })
}

/// Whether `input` passes `check`: a check against constants inline, any
/// other (a widened number, a comparison with an account value) out of line.
#[inline(always)]
fn check_matches(check: &Check, input: &Value, env: &mut Env) -> Result<bool> {
    match constant_check(check, input) {
        Some(hit) => Ok(hit),
        None => other_check(check, input, env),
    }
}

#[inline(never)]
fn other_check(check: &Check, input: &Value, env: &mut Env) -> Result<bool> {
    Ok(match check {
        Check::Ints { low, high } => match input {
            Value::Dec(d) => {
                let widen = |b: &Bound<i64>| b.map(|(v, inclusive)| (Decimal::from(v), inclusive));
                within(d, &widen(low), &widen(high))
            }
            _ => false,
        },
        Check::Decimals { low, high } => match input {
            Value::Int(n) => within(&Decimal::from(*n), low, high),
            _ => false,
        },
        // Decided by `constant_check` whatever the input.
        Check::Bool(_) | Check::EnumSet(_) | Check::Dates { .. } => false,
        Check::Compare(op, v) => compare(*op, input, v),
        Check::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        } => in_range(input, low, *low_inclusive, high, *high_inclusive),
        Check::Dynamic(test) => match test {
            TTest::Compare(op, e) => {
                let v = eval(e, env)?;
                compare(*op, input, &v)
            }
            TTest::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let lo = eval(low, env)?;
                let hi = eval(high, env)?;
                in_range(input, &lo, *low_inclusive, &hi, *high_inclusive)
            }
        },
    })
}

pub(crate) fn in_range(
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
pub fn compare(op: CompareOp, a: &Value, b: &Value) -> bool {
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

fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// Whether `e` evaluates to `true` (a condition), reading it in place when it names a value.
fn is_true(e: &TExpr, env: &mut Env) -> Result<bool> {
    if is_lookup(e) {
        return Ok(lookup(e, env).is_some_and(truthy));
    }
    Ok(truthy(&eval(e, env)?))
}

/// A value the expression names without computing anything (the account, a
/// local, an input, a table output, or a field path from one of them), by
/// reference: reading `account.pay_plan.active` clones one boolean, not the
/// account record.
fn lookup<'v>(e: &'v TExpr, env: &'v Env) -> Option<&'v Value> {
    match &e.kind {
        TExprKind::Const(v) => Some(v),
        TExprKind::AsOf => Some(&env.as_of),
        TExprKind::Account => Some(env.account),
        TExprKind::Local(i) => env.locals.get(*i as usize),
        TExprKind::Input(i) => env.inputs.get(*i as usize).copied(),
        TExprKind::TableOutput { table, output } => env.results.get(*table, *output),
        TExprKind::Field(base, slot) => match lookup(base, env)? {
            Value::Record(fields) => fields.get(*slot as usize),
            _ => Some(&NULL),
        },
        _ => None,
    }
}

static NULL: Value = Value::Null;

/// Whether [`lookup`] reads `e` (by reference, computing nothing). Every kind
/// named here must be one `lookup` reads, or its operands would read as null.
fn is_lookup(e: &TExpr) -> bool {
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
fn read_fields<'v>(mut at: &'v Value, slots: &[u32]) -> &'v Value {
    for &slot in slots {
        at = match at {
            Value::Record(fields) => fields.get(slot as usize).unwrap_or(&NULL),
            _ => return &NULL,
        };
    }
    at
}

fn eval(e: &TExpr, env: &mut Env) -> Result<Value> {
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
        TExprKind::Input(i) => env
            .inputs
            .get(*i as usize)
            .map_or(Value::Null, |v| (*v).clone()),
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
        TExprKind::Unary(op, inner) => match (op, eval(inner, env)?) {
            (_, Value::Null) => Value::Null,
            (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
            (UnaryOp::Neg, Value::Int(n)) => {
                Value::Int(n.checked_neg().ok_or(EvalErrorKind::Overflow("negation"))?)
            }
            (UnaryOp::Neg, Value::Dec(d)) => Value::Dec(-d),
            _ => Value::Null,
        },
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
                None
            } else {
                Some(eval(l, env)?)
            };
            let lb = if is_lookup(r) {
                None
            } else {
                Some(eval(r, env)?)
            };
            let (a, b) = (operand(l, &la, env), operand(r, &lb, env));
            match op {
                BinOp::Compare(c) => Value::Bool(compare(*c, a, b)),
                BinOp::Add => add(a, b)?,
                BinOp::Sub => sub(a, b)?,
                BinOp::Mul => mul(a, b)?,
                BinOp::Div => div(a, b)?,
                BinOp::And | BinOp::Or => Value::Null,
            }
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

fn field(record: &Value, slot: u32) -> Value {
    match record {
        Value::Record(fields) => fields.get(slot as usize).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

fn dec(v: &Value) -> Option<Decimal> {
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
            (Some(x), Some(y)) => Value::Dec(
                x.checked_add(y)
                    .ok_or(EvalErrorKind::Overflow("addition"))?,
            ),
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
            (Some(x), Some(y)) => Value::Dec(
                x.checked_sub(y)
                    .ok_or(EvalErrorKind::Overflow("subtraction"))?,
            ),
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
            (Some(x), Some(y)) => Value::Dec(
                x.checked_mul(y)
                    .ok_or(EvalErrorKind::Overflow("multiplication"))?,
            ),
            _ => Value::Null,
        },
    })
}

fn div(a: &Value, b: &Value) -> Result<Value> {
    Ok(match (dec(a), dec(b)) {
        (Some(_), Some(y)) if y.is_zero() => return Err(EvalErrorKind::DivisionByZero),
        (Some(x), Some(y)) => Value::Dec(
            x.checked_div(y)
                .ok_or(EvalErrorKind::Overflow("division"))?,
        ),
        _ => Value::Null,
    })
}

fn call(f: Builtin, args: &[Value], ty: &crate::types::Type) -> Result<Value> {
    // `max(list)` and `max(a, b, ...)` alike.
    let list_or_args = || match args {
        [Value::List(items)] => &items[..],
        _ => args,
    };
    Ok(match f {
        Builtin::Min => extreme(list_or_args().iter(), Ordering::Less),
        Builtin::Max => extreme(list_or_args().iter(), Ordering::Greater),
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
        Builtin::DaysBetween => match (args.first(), args.get(1)) {
            (Some(Value::Date(a)), Some(Value::Date(b))) => Value::Int((*b - *a).num_days()),
            _ => Value::Null,
        },
        Builtin::Any => Value::Bool(list_or_args().iter().any(truthy)),
        Builtin::All => Value::Bool(list_or_args().iter().all(truthy)),
        Builtin::Count => match args.first() {
            Some(Value::List(items)) => Value::Int(items.len() as i64),
            _ => Value::Null,
        },
        Builtin::Sum => {
            let mut total = Total::default();
            list_or_args().iter().for_each(|v| total.add(v));
            total.finish(zero_like(ty))?
        }
        Builtin::MonthDay => match args.first() {
            Some(Value::Date(d)) => Value::Int(i64::from(d.month() * 100 + d.day())),
            _ => Value::Null,
        },
    })
}

/// The non-null value that compares `want` to all others (the first of equals).
fn extreme<'v>(values: impl Iterator<Item = &'v Value>, want: Ordering) -> Value {
    let mut best = Extreme::new(want);
    values.for_each(|v| best.offer(v));
    best.finish()
}

/// A running min or max.
struct Extreme {
    want: Ordering,
    best: Option<Value>,
}

impl Extreme {
    fn new(want: Ordering) -> Self {
        Extreme { want, best: None }
    }

    fn offer(&mut self, v: &Value) {
        if v.is_null() {
            return;
        }
        match &self.best {
            Some(best) if v.compare(best) != Some(self.want) => {}
            _ => self.best = Some(v.clone()),
        }
    }

    fn finish(self) -> Value {
        self.best.unwrap_or_default()
    }
}

/// A running sum of the non-null values; an overflow is kept and reported at the end.
#[derive(Default)]
struct Total {
    total: Option<Value>,
    overflow: Option<EvalErrorKind>,
}

impl Total {
    fn add(&mut self, v: &Value) {
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

    fn finish(self, zero: Value) -> Result<Value> {
        match self.overflow {
            Some(e) => Err(e),
            None => Ok(self.total.unwrap_or(zero)),
        }
    }
}

fn eval_each(each: &EachExpr, env: &mut Env) -> Result<Value> {
    let Value::List(items) = eval(&each.list, env)? else {
        return Ok(Value::Null);
    };
    let slot = each.local as usize;
    if env.locals.len() <= slot {
        env.locals.resize(slot + 1, Value::Null);
    }
    // Every item is evaluated (so that an error in any is reported); the
    // result is accumulated on the way.
    let mut total = Total::default();
    let mut extreme = Extreme::new(if each.function == Builtin::Min {
        Ordering::Less
    } else {
        Ordering::Greater
    });
    let (mut seen, mut truthy_seen) = (0i64, 0i64);
    for item in items.iter() {
        env.locals[slot] = item.clone();
        if let Some(filter) = &each.filter {
            if !is_true(filter, env)? {
                continue;
            }
        }
        let value = match &each.body {
            Some(body) => eval(body, env)?,
            None => Value::Bool(true),
        };
        seen += 1;
        if truthy(&value) {
            truthy_seen += 1;
        }
        match each.function {
            Builtin::Sum => total.add(&value),
            Builtin::Min | Builtin::Max => extreme.offer(&value),
            _ => {}
        }
    }
    Ok(match each.function {
        Builtin::Any => Value::Bool(truthy_seen > 0),
        Builtin::All => Value::Bool(truthy_seen == seen),
        Builtin::Count => Value::Int(truthy_seen),
        Builtin::Sum => {
            let zero = each
                .body
                .as_ref()
                .map_or(Value::Int(0), |b| zero_like(&b.ty));
            total.finish(zero)?
        }
        Builtin::Min | Builtin::Max => extreme.finish(),
        Builtin::Abs | Builtin::Round | Builtin::DaysBetween | Builtin::MonthDay => Value::Null,
    })
}

/// Evaluates an expression that reads nothing from an account; used by the
/// compiler to fold constants.
pub(crate) fn eval_constant(e: &TExpr) -> Option<Value> {
    let account = Value::Null;
    let mut env = Env {
        account: &account,
        as_of: Value::Date(NaiveDate::MIN),
        inputs: &[],
        results: Results::NONE,
        locals: SmallVec::new(),
    };
    eval(e, &mut env).ok()
}

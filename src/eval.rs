//! The evaluator: (compiled plan, account snapshot, as_of) → decisions and,
//! on request, a trace. Pure: no I/O, no clock, no panics; arithmetic that
//! cannot be done (overflow, division by zero, a date out of range) is an
//! [`EvalError`] for that account.
//! It owns running a plan's tables (hit policies, matching rows, the trace);
//! what a value or expression means is `lang::semantics`, and it must not know
//! the collections policy.

use std::cmp::Ordering;
use std::sync::Arc;

use smallvec::SmallVec;

use chrono::NaiveDate;

use crate::lang::compile::{CellTest, Check, CompiledTable, InputRead, Matcher, Plan};
use crate::lang::ir::{Aggregate, HitPolicy, TTest};
use crate::lang::semantics::{
    add, compare, eval, in_range, read_fields, zero_like, Env, Result, Results, NULL,
};
use crate::types::Value;

pub use crate::lang::semantics::{Decision, EvalErrorKind, Outcome, Values};

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

impl Evaluation {
    /// `(table, row)` of every row that fired (for row coverage).
    pub fn fired_rows(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.decisions
            .iter()
            .flat_map(|d| d.outcome.rows().into_iter().map(move |r| (d.table, r)))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("table `{table}`{}: {kind}", item.map(|i| format!(" (item {})", i + 1)).unwrap_or_default())]
pub struct EvalError {
    pub table: String,
    pub item: Option<u32>,
    pub kind: EvalErrorKind,
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
    /// Match every row cell by cell (the reference interpreter), not through
    /// the typed row sets.
    reference: bool,
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
            reference: false,
            state: smallvec::smallvec![NOT_EVALUATED; plan.tables.len()],
            computed: Vec::with_capacity(plan.max_inputs),
            made: Vec::new(),
            evaluation: Evaluation {
                decisions: Vec::with_capacity(plan.order.len()),
                trace: Vec::new(),
            },
        }
    }

    /// Like [`Tables::new`], but every table is matched row by row, cell by
    /// cell (as with a trace, without building one): the reference
    /// implementation the typed row sets are tested against.
    pub fn reference(plan: &'a Plan, account: &'a Value, as_of: NaiveDate) -> Self {
        Tables {
            reference: true,
            ..Tables::new(plan, account, as_of, false)
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
            self.reference,
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
            self.reference,
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
    reference: bool,
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
                reference,
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

/// The rows that match, through the typed row sets; `None` when the table
/// has none or an input is not of its column's kind.
fn typed_matches(
    table: &CompiledTable,
    env: &mut Env,
    stop_at_first: bool,
    matched: &mut SmallVec<[u32; 8]>,
) -> Option<Result<()>> {
    let bits = table.bits.as_ref()?;
    let inputs = env.inputs;
    bits.candidates(inputs, |r, verify| {
        if verify && first_failing_cell(table, r as usize, env)?.is_some() {
            return Ok(false);
        }
        matched.push(r);
        Ok(stop_at_first)
    })
}

fn decide(
    table: &CompiledTable,
    env: &mut Env,
    mut trace: Option<&mut RowsTried>,
    reference: bool,
) -> Result<Outcome> {
    let t = &table.table;
    let stop_at_first = t.hit == HitPolicy::First;
    let mut matched: SmallVec<[u32; 8]> = SmallVec::new();
    let typed = trace.is_none() && !reference;
    let by_sets = match typed {
        true => typed_matches(table, env, stop_at_first, &mut matched),
        false => None,
    };
    // Without a trace, a large table's index skips rows whose first cell
    // cannot match (they would fail there, before any other cell is tried).
    let candidates = match (typed, &table.index) {
        (true, Some(index)) => env.inputs.first().and_then(|x| index.candidates(x)),
        _ => None,
    };
    let n = match by_sets {
        Some(result) => {
            result?;
            0
        }
        None => candidates.map_or(t.rows.len(), <[u32]>::len),
    };
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

/// Whether `input` passes `check`: a check against constants inline, any
/// other (a widened number, a comparison with an account value) out of line.
#[inline(always)]
fn check_matches(check: &Check, input: &Value, env: &mut Env) -> Result<bool> {
    match check.fast_outcome(input) {
        Some(hit) => Ok(hit),
        None => other_check(check, input, env),
    }
}

#[inline(never)]
fn other_check(check: &Check, input: &Value, env: &mut Env) -> Result<bool> {
    Ok(match check {
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
        constant => constant.constant_outcome(input).unwrap_or(false),
    })
}

//! The evaluator: (compiled plan, account snapshot, as_of) → decisions and,
//! on request, a trace. Pure: no I/O, no clock, no panics; arithmetic that
//! cannot be done (overflow, division by zero, a date out of range) is an
//! [`EvalError`] for that account.
//! It owns running a plan's tables (hit policies, matching rows, the trace);
//! what a value or expression means is `lang::semantics`, and it must not know
//! the collections policy.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::sync::Arc;

use smallvec::SmallVec;

use chrono::NaiveDate;

use crate::lang::compile::{
    CellTest, Check, Code, CompiledTable, First, InputRead, Matcher, Operands, Plan, RowBits,
    Selection,
};
use crate::lang::ir::{Aggregate, HitPolicy, TExpr, TExprKind, TTest, Table};
use crate::lang::semantics::{
    add, compare, eval, in_range, read_fields, zero_like, Env, Lazy, Result, Results, NULL,
};
use crate::types::Value;

pub use crate::lang::semantics::{Constants, Decision, EvalErrorKind, Outcome, Overlay, Values};

/// Why a table decided what it did: its inputs and, per row tried, the first
/// cell that failed (`None`: the row matched).
#[derive(Clone, Debug, PartialEq)]
pub struct TableTrace {
    pub table: u32,
    pub item: Option<u32>,
    /// Per input, its value; `None` for a computed input no cell tried and
    /// no output evaluated read (it was not computed).
    pub inputs: Vec<Option<Value>>,
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

/// An account that could not be evaluated: in a table (`table `t`: ...`),
/// or, for a field whose value the pipeline cannot use, at the field
/// ([`EvalErrorKind::Field`]: `` `account.time_zone`: ... ``).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}{kind}",
    match kind {
        EvalErrorKind::Field { .. } => String::new(),
        _ => format!(
            "table `{table}`{}{}: ",
            item.map(|i| format!(" (item [{i}])")).unwrap_or_default(),
            input.as_ref().map(|name| format!(", input `{name}`")).unwrap_or_default()
        ),
    }
)]
pub struct EvalError {
    /// The table evaluated when it failed (for a field's error, the one that read it).
    pub table: String,
    pub item: Option<u32>,
    /// The computed input whose computing failed, if it was one.
    pub input: Option<String>,
    pub kind: EvalErrorKind,
}

impl EvalError {
    /// The account field at fault (`account.time_zone`), for an error that is the data's.
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            EvalErrorKind::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// As many decisions as fit in 1 KiB.
const DECISIONS_IN_FAST_ALLOC: usize = 1024 / std::mem::size_of::<Decision>();

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
    /// Match every row cell by cell and walk every computed input's
    /// expression (the reference interpreter), not through the typed row sets
    /// and compiled code.
    reference: bool,
    /// Per table: [`NOT_EVALUATED`], [`NO_SINGLE_RESULT`] or the index of its
    /// single decision, whose values other tables read. Inline for up to 32
    /// tables (the shipped policy has 18), so that an account allocates none.
    state: SmallVec<[u32; 32]>,
    /// Scratch space for the decisions of a `for_each` table.
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
            made: Vec::new(),
            evaluation: Evaluation {
                // Room for every table's decision, unless that is more than
                // the allocator serves from its fast path (1 KiB with
                // mimalloc): most accounts need a few tables' decisions.
                decisions: Vec::with_capacity(plan.order.len().min(DECISIONS_IN_FAST_ALLOC)),
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

    /// Whether this evaluation records a trace (`dry-run --explain`, `test`).
    pub fn traced(&self) -> bool {
        self.trace
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
            constants: &self.plan.constants,
        };
        let run = Run {
            plan,
            t,
            account: self.account,
            as_of: self.as_of,
            params: &[],
            results,
            reference: self.reference,
            overlay: Overlay::NONE,
        };
        let trace = self.trace.then_some(&mut self.evaluation.trace);
        // On the stack, not in `Tables`: a few cells, made and dropped per
        // table, and `Tables` stays small to move.
        let mut computed = empty_cells(plan.tables[t as usize].computed_inputs);
        if plan.tables[t as usize].table.for_each.is_none() {
            let decision = run.item(None, &mut computed, trace)?;
            self.state[t as usize] = self.evaluation.decisions.len() as u32;
            self.evaluation.decisions.push(decision);
            return Ok(());
        }
        // Left over only if an earlier table failed part-way.
        self.made.clear();
        run.items(&mut computed, trace, &mut self.made)?;
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
        self.evaluate_overlaid(t, params, Overlay::NONE)
    }

    /// [`Tables::evaluate_with`], its comprehensions over the overlay's
    /// account list reading the overlay's items after the account's (the
    /// tables it reads are evaluated without them).
    pub fn evaluate_overlaid(
        &mut self,
        t: u32,
        params: &[Value],
        overlay: Overlay,
    ) -> std::result::Result<(Vec<Decision>, Vec<TableTrace>), EvalError> {
        self.require_deps(t)?;
        let mut traces = Vec::new();
        let results = Results {
            decisions: &self.evaluation.decisions,
            of: &self.state,
            constants: &self.plan.constants,
        };
        let mut made = Vec::new();
        let run = Run {
            plan: self.plan,
            t,
            account: self.account,
            as_of: self.as_of,
            params,
            results,
            reference: self.reference,
            overlay,
        };
        run.items(
            &mut empty_cells(self.plan.tables[t as usize].computed_inputs),
            self.trace.then_some(&mut traces),
            &mut made,
        )?;
        Ok((made, traces))
    }
}

/// Scratch space for a table's computed inputs, each filled the first time
/// it is read (`semantics::Lazy`): a few, kept inline (treatment_flags
/// computes 10).
type Computed = SmallVec<[OnceCell<Value>; COMPUTED_INLINE]>;

const COMPUTED_INLINE: usize = 12;

/// `n` empty cells for a table's computed inputs, made in one go (inline
/// when they fit), not pushed one by one.
#[inline]
fn empty_cells(n: u32) -> Computed {
    match n as usize {
        // Most tables compute nothing: no cells to write and drop.
        0 => Computed::new(),
        n @ 1..=COMPUTED_INLINE => {
            Computed::from_buf_and_len([const { OnceCell::new() }; COMPUTED_INLINE], n)
        }
        n => (0..n).map(|_| OnceCell::new()).collect(),
    }
}

/// How a table's computed inputs are computed: by their compiled code, or
/// (the reference) by walking their expressions' trees, so that the
/// compiled code is tested against it.
fn filler(table: &CompiledTable, reference: bool) -> impl Fn(u32, &mut Env) -> Result<Value> + '_ {
    move |i, env| match table.input_reads.get(i as usize) {
        Some(InputRead::Computed { code, .. }) => match reference {
            false => code.run(env),
            true => eval(&table.table.inputs[i as usize].expr, env),
        }
        .map_err(|cause| {
            EvalErrorKind::Input(table.table.inputs[i as usize].name.clone(), Box::new(cause))
        }),
        _ => Ok(Value::Null),
    }
}

/// One table to evaluate for one account: the plan, the account, the
/// table's caller-provided `params` and the results of the tables before it.
struct Run<'r> {
    plan: &'r Plan,
    t: u32,
    account: &'r Value,
    as_of: NaiveDate,
    params: &'r [Value],
    results: Results<'r>,
    reference: bool,
    overlay: Overlay<'r>,
}

impl Run<'_> {
    fn fail(&self, item: Option<u32>, kind: EvalErrorKind) -> EvalError {
        let (input, kind) = match kind {
            EvalErrorKind::Input(name, cause) => (Some(name), *cause),
            kind => (None, kind),
        };
        EvalError {
            table: self.plan.tables[self.t as usize].table.name.clone(),
            item,
            input,
            kind,
        }
    }

    /// The table's decisions: once per item of its `for_each` list (once
    /// without one), into `made`; traces are appended to `trace` when asked for.
    fn items(
        &self,
        computed: &mut Computed,
        mut trace: Option<&mut Vec<TableTrace>>,
        made: &mut Vec<Decision>,
    ) -> std::result::Result<(), EvalError> {
        let table = &self.plan.tables[self.t as usize];
        let Some(each) = &table.table.for_each else {
            made.push(self.item(None, computed, trace)?);
            return Ok(());
        };
        // A field of the account (most lists) is read in place.
        let evaluated;
        let list = match &table.each_path {
            Some(slots) => read_fields(self.account, slots),
            None => {
                let mut env = self.env(&[], self.params.iter().cloned().collect(), Lazy::NONE);
                evaluated = eval(&each.list, &mut env).map_err(|k| self.fail(None, k))?;
                &evaluated
            }
        };
        let Value::List(items) = list else {
            return Ok(());
        };
        for (i, value) in items.iter().enumerate() {
            made.push(self.item(Some((i as u32, value)), computed, trace.as_deref_mut())?);
        }
        Ok(())
    }

    fn env<'e>(
        &'e self,
        inputs: &'e [&'e Value],
        locals: SmallVec<[Value; 4]>,
        lazy: Lazy<'e>,
    ) -> Env<'e> {
        Env {
            account: self.account,
            as_of: Value::Date(self.as_of),
            inputs,
            lazy,
            results: self.results,
            locals,
            overlay: self.overlay,
        }
    }

    /// The table's decision for the account, or for one item (its index and
    /// value) of its `for_each` list. `computed` is scratch space for the
    /// inputs that are expressions (the others are read in place), each
    /// computed the first time it is read.
    fn item(
        &self,
        entry: Option<(u32, &Value)>,
        computed: &mut Computed,
        trace: Option<&mut Vec<TableTrace>>,
    ) -> std::result::Result<Decision, EvalError> {
        let table = &self.plan.tables[self.t as usize];
        // `computed` comes empty for each table; for each item of a
        // `for_each` table, the inputs that read the item are emptied, the
        // others hold for every item (but with a trace, which shows the
        // inputs an item computed, and for the reference).
        let n = table.computed_inputs as usize;
        if computed.len() < n {
            computed.resize_with(n, OnceCell::new);
        }
        if entry.is_some() {
            match trace.is_none() && !self.reference {
                true => {
                    for &i in &table.item_computed {
                        if let Some(cell) = computed.get_mut(i as usize) {
                            drop(cell.take());
                        }
                    }
                }
                false => computed.iter_mut().for_each(|cell| drop(cell.take())),
            }
        }
        // Without a text field, its index from 0, as a field path numbers it
        // (`account.dispositions[1]` is `callback[1]`).
        let label =
            entry.map(|(i, value)| item_label(value).unwrap_or_else(|| i.to_string().into()));
        // Without a trace, the row sets first, read without collecting the
        // inputs: they decide most tables alone; else their selection is
        // handed on, so that it is not made twice.
        let mut selection = None;
        if let (None, false, Some(bits)) = (&trace, self.reference, table.bits.as_ref()) {
            // A `first` table the sets decide alone (most): its first
            // candidate, in one pass over the columns.
            if table.table.hit == HitPolicy::First && bits.decide_alone() {
                if let Some(outcome) =
                    self.first_hit(table, bits, entry.map(|(_, v)| v), computed)?
                {
                    return Ok(Decision {
                        table: self.t,
                        item: entry.map(|(i, _)| i),
                        label,
                        outcome,
                    });
                }
            }
            match self.by_sets(table, bits, entry, computed)? {
                BySets::Decided(outcome) => {
                    return Ok(Decision {
                        table: self.t,
                        item: entry.map(|(i, _)| i),
                        label,
                        outcome,
                    })
                }
                BySets::Sets(s) => selection = Some(s),
                BySets::RowByRow => {}
            }
        }
        self.decide_item(table, entry, label, computed, trace, selection)
    }

    /// The locals of a table's expressions: its params, then its item.
    #[inline(always)]
    fn locals(&self, entry: Option<&Value>) -> SmallVec<[Value; 4]> {
        if self.params.is_empty() && entry.is_none() {
            return SmallVec::new();
        }
        self.some_locals(entry)
    }

    #[inline(never)]
    fn some_locals(&self, entry: Option<&Value>) -> SmallVec<[Value; 4]> {
        let mut locals: SmallVec<[Value; 4]> = self.params.iter().cloned().collect();
        locals.extend(entry.cloned());
        locals
    }

    /// The decision: every input read in place collected by reference (a
    /// field is not copied), computed ones left to be computed when read
    /// (into `computed`), the rows matched (from the row sets' `selection`
    /// when `by_sets` made one), the trace recorded when asked for.
    fn decide_item(
        &self,
        table: &CompiledTable,
        entry: Option<(u32, &Value)>,
        label: Option<Arc<str>>,
        computed: &Computed,
        trace: Option<&mut Vec<TableTrace>>,
        selection: Option<Sets>,
    ) -> std::result::Result<Decision, EvalError> {
        let item = entry.map(|(i, _)| i);
        let locals = self.locals(entry.map(|(_, v)| v));
        let params = self.params;
        let local = |i: u32| -> &Value {
            match params.get(i as usize) {
                Some(param) => param,
                None => entry.map_or(&NULL, |(_, value)| value),
            }
        };
        // Room for the inputs of most tables (treatment_flags reads 17).
        let inputs: SmallVec<[&Value; 24]> = table
            .input_reads
            .iter()
            .map(|read| match read {
                InputRead::Path { local: None, slots } => read_fields(self.account, slots),
                InputRead::Path {
                    local: Some(i),
                    slots,
                } => read_fields(local(*i), slots),
                InputRead::Computed { .. } => &NULL,
            })
            .collect();
        let mut rows_tried = trace.is_some().then(RowsTried::default);
        let fill = filler(table, self.reference);
        let lazy = Lazy {
            slots: &table.computed_slots,
            values: computed,
            fill: &fill,
        };
        let mut row_env = self.env(&inputs, locals, lazy);
        let outcome = decide(
            table,
            &self.plan.constants[self.t as usize],
            &mut row_env,
            rows_tried.as_mut(),
            self.reference,
            selection,
        )
        .map_err(|k| self.fail(item, k))?;
        if let (Some(trace), Some(rows_tried)) = (trace, rows_tried) {
            trace.push(TableTrace {
                table: self.t,
                item,
                inputs: table
                    .input_reads
                    .iter()
                    .zip(&inputs)
                    .map(|(read, v)| match read {
                        InputRead::Computed { index, .. } => computed
                            .get(*index as usize)
                            .and_then(OnceCell::get)
                            .cloned(),
                        InputRead::Path { .. } => Some((*v).clone()),
                    })
                    .collect(),
                rows: rows_tried.rows,
                misses: rows_tried.misses,
            });
        }
        Ok(Decision {
            table: self.t,
            item,
            label,
            outcome,
        })
    }
}

impl Run<'_> {
    /// Computes a computed input by its `code` into `cell`, where it is kept
    /// (what `Env::input` does, without its indirections): for `first_hit`.
    /// Computed inputs read no other input. `locals` gives the environment's
    /// locals (an item's or params' table's), built only with it: generic, so
    /// that the account's tables get a copy that builds none.
    #[inline(never)]
    fn compute_into<'c, 'e>(
        &'e self,
        cell: &'c OnceCell<Value>,
        code: &Code,
        env: &mut Option<Env<'e>>,
        locals: impl FnOnce() -> SmallVec<[Value; 4]>,
    ) -> Result<&'c Value> {
        let env = env.get_or_insert_with(|| self.env(&[], locals(), Lazy::NONE));
        let v = code.run(env)?;
        Ok(cell.get_or_init(|| v))
    }

    /// For `first_hit`: a computed input (computed into its cell the first
    /// time), or a field of a local (a param, then the item).
    #[inline(never)]
    fn other_input<'c, 'e>(
        &'e self,
        read: &'e InputRead,
        entry: Option<&'e Value>,
        computed: &'c Computed,
        env: &mut Option<Env<'e>>,
    ) -> Result<&'c Value>
    where
        'e: 'c,
    {
        match read {
            InputRead::Computed { index, code } => match computed.get(*index as usize) {
                Some(cell) => match cell.get() {
                    Some(v) => Ok(v),
                    None if entry.is_none() && self.params.is_empty() => {
                        self.compute_into(cell, code, env, SmallVec::new)
                    }
                    None => self.compute_into(cell, code, env, || self.some_locals(entry)),
                },
                None => Ok(&NULL),
            },
            InputRead::Path { local, slots } => {
                let local = local.map_or(Some(self.account), |l| {
                    self.params.get(l as usize).or(entry)
                });
                Ok(read_fields(local.unwrap_or(&NULL), slots))
            }
        }
    }

    /// Input `i` for `by_sets`: an account field read here (inlined in the
    /// sets' loop), anything else out of line.
    #[inline(always)]
    fn input_at<'c, 'e>(
        &'e self,
        table: &'e CompiledTable,
        i: u32,
        value: Option<&'e Value>,
        computed: &'c Computed,
        env: &mut Option<Env<'e>>,
    ) -> Result<&'c Value>
    where
        'e: 'c,
    {
        match &table.input_reads[i as usize] {
            InputRead::Path { local: None, slots } => Ok(read_fields(self.account, slots)),
            read => self.other_input(read, value, computed, env),
        }
    }

    /// Whether row `r` matches, every cell tested in order, as
    /// `first_failing_cell` tests it, its inputs read by `input_at` and its
    /// per-account operands run in `env` (which holds no inputs: only for a
    /// table whose operands read none).
    #[inline(never)]
    fn row_matches<'e>(
        &'e self,
        table: &'e CompiledTable,
        r: u32,
        value: Option<&'e Value>,
        computed: &'e Computed,
        env: &mut Option<Env<'e>>,
    ) -> Result<bool> {
        let m = &table.matcher;
        for cell in m.row(r as usize) {
            let input = self.input_at(table, cell.input, value, computed, env)?;
            let env = env.get_or_insert_with(|| self.env(&[], self.locals(value), Lazy::NONE));
            if !cell_holds(m, cell, input, env, true)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A `first` table its row sets decide alone, for the account or one
    /// `entry` of its `for_each` list, when the row or default that decides
    /// has constant outputs: no input is collected, and an environment is
    /// built only if the sets need a computed input. `None`: `by_sets`.
    #[inline]
    fn first_hit(
        &self,
        table: &CompiledTable,
        bits: &RowBits,
        entry: Option<&Value>,
        computed: &Computed,
    ) -> std::result::Result<Option<Outcome>, EvalError> {
        let constants = &self.plan.constants[self.t as usize];
        // One environment for the table's computed inputs, built when the first is needed.
        let mut env: Option<Env> = None;
        // An input that cannot be computed: matched row by row, which raises
        // the error only if a row reaches it.
        let Ok(Some(first)) = bits.first_of(self.account, |i| {
            self.input_at(table, i, entry, computed, &mut env)
        }) else {
            return Ok(None);
        };
        Ok(match first {
            First::Row(row) => constants.rows[row as usize]
                .as_ref()
                .map(|_| Outcome::constant_row(row)),
            First::NoRow => constants.default.as_ref().map(|_| Outcome::Default {
                values: Values::Constant,
            }),
            First::Undecided => None,
        })
    }

    /// A table decided by its row sets, for the account or one `entry` of
    /// its `for_each` list, without collecting its inputs: an environment
    /// is built only if a computed input or a per-account operand needs
    /// one. Decided when every candidate is (by the sets, or by its cells
    /// matched here) and the rows (or default) the hit policy reads have
    /// constant outputs; else what `decide` needs: the selection, to match
    /// the candidates with the inputs collected, or the rows matched, to
    /// evaluate their outputs.
    #[inline]
    fn by_sets(
        &self,
        table: &CompiledTable,
        bits: &RowBits,
        entry: Option<(u32, &Value)>,
        computed: &Computed,
    ) -> std::result::Result<BySets, EvalError> {
        let value = entry.map(|(_, v)| v);
        // One environment for the table's computed inputs and its cells'
        // per-account operands, built when the first is needed.
        let mut env: Option<Env> = None;
        // An input that cannot be computed: matched row by row, which raises
        // the error only if a row reaches it.
        let selection = match bits.select(self.account, |i| {
            self.input_at(table, i, value, computed, &mut env)
        }) {
            Ok(Some(selection)) => selection,
            _ => return Ok(BySets::RowByRow),
        };
        let t = &table.table;
        let stop_at_first = t.hit == HitPolicy::First;
        let mut matched: SmallVec<[u32; 8]> = SmallVec::new();
        // A candidate with a cell the sets leave is matched here, cell by
        // cell, unless its operands read the table's inputs (then the
        // environment must hold them) or a cell raises an error (then
        // `decide` raises it, with the input's name when one is computed).
        let verify_here = !table.matcher.operands_read_inputs;
        let mut undecided = false;
        let _ = bits.candidates(&selection, |r, verify| {
            if verify {
                match verify_here.then(|| self.row_matches(table, r, value, computed, &mut env)) {
                    Some(Ok(true)) => {}
                    Some(Ok(false)) => return Ok(false),
                    Some(Err(_)) | None => {
                        undecided = true;
                        return Ok(true);
                    }
                }
            }
            matched.push(r);
            Ok::<bool, ()>(stop_at_first)
        });
        if undecided {
            return Ok(BySets::Sets(Sets::Selection(selection)));
        }
        let constants = &self.plan.constants[self.t as usize];
        // `first` (most tables): its row or default as `resolve` gives it,
        // without going through it.
        if stop_at_first {
            return Ok(match matched.first() {
                Some(&row) if constants.rows[row as usize].is_some() => {
                    BySets::Decided(Outcome::constant_row(row))
                }
                None if constants.default.is_some() => BySets::Decided(Outcome::Default {
                    values: Values::Constant,
                }),
                // Outputs or a default to compute, or no default (`NoMatch`).
                _ => BySets::Sets(Sets::Matched(matched)),
            });
        }
        let mut outputs = ConstantOutputs { missing: false };
        let outcome = resolve(t, constants, &matched, &mut outputs);
        if outputs.missing {
            return Ok(BySets::Sets(Sets::Matched(matched)));
        }
        outcome
            .map(BySets::Decided)
            .map_err(|k| self.fail(entry.map(|(i, _)| i), k))
    }
}

/// What the row sets made of a table before its inputs are collected.
enum BySets {
    Decided(Outcome),
    /// A candidate needs its cells matched with the inputs collected (the
    /// selection), or an output read is not a constant (the rows matched):
    /// for `decide`.
    Sets(Sets),
    /// An input not of its column's kind, or one that cannot be computed:
    /// matched row by row.
    RowByRow,
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

/// What `by_sets` hands on to `decide`: the selection its candidates come
/// from, or the rows that match.
enum Sets {
    Selection(Selection),
    Matched(SmallVec<[u32; 8]>),
}

/// The rows that match, through the typed row sets (from what `by_sets`
/// made already, or selected here); `None` when the table has none or an
/// input is not of its column's kind.
fn typed_matches(
    table: &CompiledTable,
    env: &mut Env,
    stop_at_first: bool,
    matched: &mut SmallVec<[u32; 8]>,
    sets: Option<Sets>,
) -> Option<Result<()>> {
    let bits = table.bits.as_ref()?;
    let selection = match sets {
        Some(Sets::Matched(rows)) => {
            *matched = rows;
            return Some(Ok(()));
        }
        Some(Sets::Selection(selection)) => selection,
        // An input that cannot be computed: matched row by row, which raises
        // the error only if a row reaches it.
        None => match bits.select(env.account, |i| env.input(i)) {
            Ok(selection) => selection?,
            Err(_) => return None,
        },
    };
    Some(bits.candidates(&selection, |r, verify| {
        if verify && first_failing_cell(table, r as usize, env, true)?.is_some() {
            return Ok(false);
        }
        matched.push(r);
        Ok(stop_at_first)
    }))
}

fn decide(
    table: &CompiledTable,
    constants: &Constants,
    env: &mut Env,
    mut trace: Option<&mut RowsTried>,
    reference: bool,
    selection: Option<Sets>,
) -> Result<Outcome> {
    let t = &table.table;
    let stop_at_first = t.hit == HitPolicy::First;
    let mut matched: SmallVec<[u32; 8]> = SmallVec::new();
    let typed = trace.is_none() && !reference;
    let by_sets = match typed {
        true => typed_matches(table, env, stop_at_first, &mut matched, selection),
        false => None,
    };
    // Without a trace, a large table's index skips rows whose first cell
    // cannot match (they would fail there, before any other cell is tried);
    // when the first input cannot be computed, every row is tried, so that
    // the error comes where a row reaches it.
    let candidates = match (typed && by_sets.is_none(), &table.index) {
        (true, Some(index)) => env.input(0).ok().and_then(|x| index.candidates(x)),
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
        let failed = first_failing_cell(table, r, env, !reference)?;
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
    resolve(t, constants, &matched, env)
}

/// Where [`resolve`] reads the outputs that are not constants.
trait Outputs {
    fn eval(&mut self, e: &TExpr) -> Result<Value>;
}

impl Outputs for Env<'_> {
    fn eval(&mut self, e: &TExpr) -> Result<Value> {
        eval(e, self)
    }
}

/// For the row sets' decision, which has no environment: an output that is
/// not a constant is `missing` (and the decision is made again with one).
struct ConstantOutputs {
    missing: bool,
}

impl Outputs for ConstantOutputs {
    fn eval(&mut self, e: &TExpr) -> Result<Value> {
        match &e.kind {
            TExprKind::Const(v) => Ok(v.clone()),
            _ => {
                self.missing = true;
                Ok(Value::Null)
            }
        }
    }
}

/// The outcome of the rows `matched` (in row order; for `first`, the first
/// only) under the table's hit policy.
fn resolve<O: Outputs>(
    t: &Table,
    constants: &Constants,
    matched: &[u32],
    env: &mut O,
) -> Result<Outcome> {
    let row_values = |r: u32, env: &mut O| -> Result<Values> {
        match &constants.rows[r as usize] {
            Some(_) => Ok(Values::Constant),
            None => Ok(Values::Computed(
                t.rows[r as usize]
                    .outputs
                    .iter()
                    .map(|e| env.eval(e))
                    .collect::<Result<_>>()?,
            )),
        }
    };
    let ids = |rows: &[u32]| {
        rows.iter()
            .map(|&r| t.rows[r as usize].id.clone())
            .collect::<Vec<_>>()
    };
    let single = |rows: &[u32], env: &mut O| -> Result<Outcome> {
        match rows.first() {
            Some(&row) => Ok(Outcome::Row {
                row,
                also: Vec::new(),
                values: row_values(row, env)?,
            }),
            None => match (&constants.default, &t.default) {
                (Some(_), _) => Ok(Outcome::Default {
                    values: Values::Constant,
                }),
                (None, Some(default)) => Ok(Outcome::Default {
                    values: Values::Computed(
                        default.iter().map(|e| env.eval(e)).collect::<Result<_>>()?,
                    ),
                }),
                (None, None) => Err(EvalErrorKind::NoMatch),
            },
        }
    };
    match t.hit {
        HitPolicy::First => single(matched, env),
        HitPolicy::Unique => {
            if matched.len() > 1 {
                return Err(EvalErrorKind::NotUnique(ids(matched)));
            }
            single(matched, env)
        }
        HitPolicy::Priority => {
            let Some(p) = t.priority_output else {
                return single(matched, env);
            };
            let mut best: Option<(u32, Values)> = None;
            for &r in matched {
                let values = row_values(r, env)?;
                let rank = |r: u32, v: &Values| match v.read(Some(r), constants).get(p as usize) {
                    Some(Value::Enum(i)) => *i,
                    _ => u32::MAX,
                };
                if best
                    .as_ref()
                    .is_none_or(|(b, bv)| rank(r, &values) < rank(*b, bv))
                {
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
            for &r in matched {
                let values = row_values(r, env)?;
                match &first {
                    None => first = Some((r, values)),
                    Some((f, fv))
                        if !fv
                            .read(Some(*f), constants)
                            .iter()
                            .zip(values.read(Some(r), constants))
                            .all(|(a, b)| a.equals(b)) =>
                    {
                        return Err(EvalErrorKind::AnyConflict(ids(matched)));
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
                    for &r in matched {
                        let v = match &constants.rows[r as usize] {
                            Some(values) => values.first().cloned().unwrap_or_default(),
                            None => env.eval(&t.rows[r as usize].outputs[0])?,
                        };
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

/// The input index of row `r`'s first cell that does not match; `None`: the
/// row matches. `compiled` as for [`cell_matches`].
fn first_failing_cell(
    table: &CompiledTable,
    r: usize,
    env: &mut Env,
    compiled: bool,
) -> Result<Option<u32>> {
    let m = &table.matcher;
    for cell in m.row(r) {
        if !cell_matches(m, cell, env, compiled)? {
            return Ok(Some(cell.input));
        }
    }
    Ok(None)
}

/// Whether `cell` matches; `compiled`: its per-account operands run as
/// compiled code, not (the reference) walked as trees.
#[inline(always)]
fn cell_matches(m: &Matcher, cell: &CellTest, env: &mut Env, compiled: bool) -> Result<bool> {
    let input = env.input(cell.input)?;
    cell_holds(m, cell, input, env, compiled)
}

/// Whether `cell` matches `input`, its column's value.
#[inline(always)]
fn cell_holds(
    m: &Matcher,
    cell: &CellTest,
    input: &Value,
    env: &mut Env,
    compiled: bool,
) -> Result<bool> {
    if input.is_null() {
        // A null input matches only `null` (and `-`, which is not here).
        return Ok(cell.null_matches);
    }
    for (check, operands) in m.checks(cell).iter().zip(m.operands(cell)) {
        let hit = match check.fast_outcome(input) {
            Some(hit) => hit,
            None => other_check(check, operands.as_ref().filter(|_| compiled), input, env)?,
        };
        if hit {
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
            cell_matches(m, cell, env, true)
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

/// Whether `input` passes a check that is not decided inline (a widened
/// number, a comparison with an account value), out of line: a per-account
/// check by its compiled `operands` when given, else by walking its tree.
#[inline(never)]
fn other_check(
    check: &Check,
    operands: Option<&Operands>,
    input: &Value,
    env: &mut Env,
) -> Result<bool> {
    Ok(match (check, operands) {
        (Check::Dynamic(TTest::Compare(op, _)), Some(Operands::Compare(code))) => {
            let v = code.run(env)?;
            compare(*op, input, &v)
        }
        (
            Check::Dynamic(TTest::Range {
                low_inclusive,
                high_inclusive,
                ..
            }),
            Some(Operands::Range { low, high }),
        ) => {
            let lo = low.run(env)?;
            let hi = high.run(env)?;
            in_range(input, &lo, *low_inclusive, &hi, *high_inclusive)
        }
        (Check::Dynamic(test), _) => match test {
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
        (constant, _) => constant.constant_outcome(input).unwrap_or(false),
    })
}

//! One account through the policy: evaluate the tables, then turn their
//! decisions into case actions. Pure, like the evaluator. This file holds the
//! entry points (`run`, `run_needed`) and the order of the steps; `decisions`
//! reads an area's decision, `new_account` opens a case (entry, class, arm,
//! events), `open_case` works an open one (exit, SA removal, payment-plan
//! offer, severance), `promises` evaluates promises and their follow-up,
//! `callback` books the callbacks customers asked for, and
//! `flags_and_hold` adds flags and applies the contact hold, and `guard` applies
//! the guard-rail pack last.

mod callback;
mod decisions;
mod flags_and_hold;
mod guard;
mod new_account;
mod open_case;
mod promises;
mod state;

use chrono::NaiveDate;

use super::action::Action;
use super::calendar::WorkCalendar;
use super::Policy;
use crate::eval::{EvalError, EvalErrorKind, Evaluation, Tables};
use crate::types::Value;
use decisions::field;
pub(crate) use flags_and_hold::constant_flags;
pub(crate) use guard::GuardPlan;
use state::CaseState;

/// The actions for one account, and the decisions (with trace) behind them.
#[derive(Debug, Clone, Default)]
pub struct PolicyRun<'p> {
    pub actions: Vec<Action<'p>>,
    pub evaluation: Evaluation,
}

type Result<T> = std::result::Result<T, EvalError>;

fn policy_error(table: &str, message: String) -> EvalError {
    EvalError {
        table: table.to_string(),
        item: None,
        input: None,
        kind: EvalErrorKind::Policy(message),
    }
}

/// Runs the whole pipeline for one account snapshot as of `as_of`, after
/// evaluating every table (so that all decisions can be shown and tested; an
/// error in any table fails the account).
pub fn run<'p>(
    policy: &'p Policy,
    account: &Value,
    as_of: NaiveDate,
    trace: bool,
) -> Result<PolicyRun<'p>> {
    pipeline(policy, account, as_of, trace, false, Vec::new())
}

/// The same actions as [`run`], evaluating only the tables the pipeline reads
/// for this account (an account without arrears stops at the entry table).
/// The batch runs this; decisions of tables it skipped are absent, and so are
/// their errors.
pub fn run_needed<'p>(
    policy: &'p Policy,
    account: &Value,
    as_of: NaiveDate,
) -> Result<PolicyRun<'p>> {
    run_needed_into(policy, account, as_of, Vec::new())
}

/// [`run_needed`], the actions pushed onto `actions` (emptied first): the
/// batch hands back the same buffer for every account, so that collecting
/// an account's actions allocates nothing.
pub fn run_needed_into<'p>(
    policy: &'p Policy,
    account: &Value,
    as_of: NaiveDate,
    mut actions: Vec<Action<'p>>,
) -> Result<PolicyRun<'p>> {
    actions.clear();
    pipeline(policy, account, as_of, false, true, actions)
}

/// The treatment a case the rules open for `account` on `as_of` starts with,
/// without acting: what a case store holds of a case opened that day. `None`
/// when the account enters no category or no class row decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub category: String,
    pub class: Option<String>,
    /// The class's template, or the one an experiment's arm gives it.
    pub template: String,
}

/// [`Opening`] of `account` on `as_of`: the entry's category and
/// [`Ctx::treatment_today`]'s class and template, the pipeline's own, asked
/// of the account as if it had no case.
pub fn opening(policy: &Policy, account: &Value, as_of: NaiveDate) -> Result<Option<Opening>> {
    let mut ctx = Ctx::new(
        policy,
        account,
        as_of,
        false,
        true,
        CaseState::default(),
        Vec::new(),
    );
    let Some(category) = ctx.decided_category()? else {
        return Ok(None);
    };
    Ok(ctx.treatment_today()?.map(|t| Opening {
        category: category.into_owned(),
        class: t.class.map(|c| c.into_owned()),
        template: t.template.into_owned(),
    }))
}

/// Without `needed_only`, every table is evaluated before the first step.
fn pipeline<'p>(
    policy: &'p Policy,
    account: &Value,
    as_of: NaiveDate,
    trace: bool,
    needed_only: bool,
    actions: Vec<Action<'p>>,
) -> Result<PolicyRun<'p>> {
    let case = policy
        .slots
        .case
        .and_then(|c| match field(account, c.slot) {
            Value::Record(_) => Some(c),
            _ => None,
        });
    let state = case.map_or_else(CaseState::default, |c| {
        CaseState::read(policy.plan.schema(), field(account, c.slot), &c)
    });
    let mut ctx = Ctx::new(policy, account, as_of, trace, needed_only, state, actions);
    if !needed_only {
        ctx.tables.require_all()?;
    }
    match case {
        None => ctx.new_account()?,
        Some(case) => {
            ctx.open_case(case)?;
            // The callbacks customers asked for, on a case still open.
            ctx.callbacks()?;
        }
    }
    if !ctx.actions.is_empty() || case.is_some() {
        ctx.flags()?;
        // Last, so that no strategy can schedule contact around them.
        ctx.contact_hold()?;
        ctx.guard_rails()?;
    }
    Ok(PolicyRun {
        actions: ctx.actions,
        evaluation: ctx.tables.evaluation,
    })
}

/// `'p`: the policy, which the actions borrow; `'a`: this account.
struct Ctx<'p, 'a> {
    policy: &'p Policy,
    account: &'a Value,
    as_of: NaiveDate,
    tables: Tables<'a>,
    /// The account's own calendar (`calendar_by`), which every date of its run moves on;
    /// none: the policy's, and each template's for its events.
    own_calendar: Option<&'p WorkCalendar>,
    /// What the open case's state says of earlier runs (empty without an open case).
    state: CaseState<'a>,
    actions: Vec<Action<'p>>,
    /// Skip what the actions cannot need (`run_needed`): a guard rail that is
    /// quiet for the proposal's kind ([`GuardPlan`]) is not asked.
    needed_only: bool,
    /// What this account's guard rails are known to say, as far as asked
    /// (made when first asked: most accounts meet no guard rail).
    guard_memo: Option<guard::GuardMemo>,
}

impl<'p, 'a> Ctx<'p, 'a> {
    /// A run of `account` on `as_of` from the case `state`, its actions
    /// pushed onto `actions`. Inlined, so that the caller builds `Tables`
    /// (large) in place rather than moving it.
    #[inline(always)]
    fn new(
        policy: &'p Policy,
        account: &'a Value,
        as_of: NaiveDate,
        trace: bool,
        needed_only: bool,
        state: CaseState<'a>,
        actions: Vec<Action<'p>>,
    ) -> Self
    where
        'p: 'a,
    {
        Ctx {
            policy,
            account,
            as_of,
            tables: Tables::new(&policy.plan, account, as_of, trace),
            own_calendar: policy.calendar_by.of(account),
            state,
            actions,
            needed_only,
            guard_memo: Default::default(),
        }
    }

    /// The calendar the run's dates move on (a template's events aside): the account's own, else the policy's.
    fn calendar(&self) -> &'p WorkCalendar {
        self.own_calendar.unwrap_or(&self.policy.calendar)
    }
}

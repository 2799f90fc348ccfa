//! The guard-rail pack, applied after every area to the complete list of what
//! the run proposes (its events, severance nominations and payment-plan
//! offers) and to the events earlier runs left pending in the case state. Each
//! guard-rail table is asked about each proposal (the built-in `action`
//! record); one may withhold it, postpone it to the first permitted date (the
//! tables are asked again for each later day until none objects), replace its
//! channel, or give the local-time window a contact may happen in. Every change
//! names its rule (`guard:reg_f/seven_in_seven`). It must not run a strategy
//! area, and nothing a strategy decides can switch it off.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use smallvec::{smallvec, SmallVec};

use super::decisions::field;
use super::{policy_error, Ctx, Result};
use crate::eval::{Decision, EvalError, Outcome, Overlay};
use crate::lang::compile::{CompiledTable, InputRead};
use crate::lang::ir::HitPolicy;
use crate::lang::semantics::EvalErrorKind;
use crate::lang::syntax::ast::CompareOp;
use crate::policy::action::{Action, ActionKind, Rules, Text, Timing, Window};
use crate::policy::case::{time_of_day, Channel, ContactOutcome};
use crate::policy::{Out, Role};
use crate::types::Value;

/// How many later days a postponement tries before the action is withheld.
const MAX_POSTPONE_DAYS: usize = 400;

/// One action put to the guard rails.
#[derive(Clone)]
struct Proposal<'p> {
    /// A `guarded_action` variant: the event type, `nominate_severance` or `offer_payment_plan`.
    kind: Text<'p>,
    event: Option<Text<'p>>,
    date: NaiveDate,
    time: Option<Text<'p>>,
    /// Scheduled by an earlier run (the case state's pending events).
    pending: bool,
}

impl<'p> Proposal<'p> {
    /// The action that says a guard rail withheld this proposal: an event
    /// this run proposed carries its day, so the case keeps it pending,
    /// unless the rail cancels it (`is_final`).
    fn withheld(
        self,
        until: Option<NaiveDate>,
        reason: Option<String>,
        is_final: bool,
    ) -> ActionKind<'p> {
        let kept = self.event.is_some() && !self.pending && !is_final;
        ActionKind::Withhold {
            action: self.kind,
            event: self.event,
            date: kept.then_some(self.date),
            time: self.time.filter(|_| kept),
            until,
            sas: Vec::new(),
            is_final,
            reason,
        }
    }
}

enum Verdict<'p> {
    Allow {
        /// Where and as what it is allowed, when a rail moved or rechannelled
        /// it (`None`: as proposed).
        proposal: Option<Proposal<'p>>,
        window: Option<Span<'p>>,
        /// The rail's row that gave the window ([`window_rule_of`]).
        window_rule: Option<Text<'p>>,
        changes: Vec<(Text<'p>, ActionKind<'p>)>,
    },
    Withhold {
        rules: Rules<'p>,
        until: Option<NaiveDate>,
        reason: Option<String>,
        /// A pending event is cancelled in the case, not only held back today.
        cancel: bool,
    },
}

/// One proposal as the rails are asked about it: its `guarded_action`
/// variant, the run's contacts a counting rail reads after the account's
/// ([`Overlay`]), and the `action` record, built for the first rail
/// evaluated (most proposals meet none).
struct Question<'a, 'p> {
    kind: u32,
    proposal: &'a Proposal<'p>,
    counted: &'a [Value],
    record: Option<Value>,
}

/// A local-time window's start and end (`"08:00"`), borrowed from the
/// policy when the rail's row gives them as constants.
type Span<'p> = (Text<'p>, Text<'p>);

/// What one guard-rail table said about one proposal; its texts borrowed
/// from the policy (copied only when an action carries them).
#[derive(Debug, PartialEq)]
struct Said<'p> {
    effect: usize,
    /// `guard:table/row`, made once with the policy ([`GuardPlan`]).
    rule: Text<'p>,
    until: Option<NaiveDate>,
    channel: Option<Text<'p>>,
    reason: Option<Text<'p>>,
    window: Option<Span<'p>>,
}

impl Said<'_> {
    fn reason(&self) -> Option<String> {
        self.reason.as_deref().map(str::to_string)
    }
}

/// What the rails said about one proposal: most often nothing, rarely more than two.
type SaidAll<'p> = SmallVec<[Said<'p>; 2]>;

const ALLOW: usize = 0;
const WITHHOLD: usize = 1;
const POSTPONE: usize = 2;
const RECHANNEL: usize = 3;
const CANCEL: usize = 4;

impl<'p> Ctx<'p, '_> {
    /// Applies the pack to this run's proposals and the case's pending events.
    /// Each action is judged in place (the run's buffer is kept); what the
    /// rails add (postponements, rechannels) follows all of them.
    pub(super) fn guard_rails(&mut self) -> Result<()> {
        if self.policy.roles.guards.is_empty() {
            return Ok(());
        }
        let mut after = Vec::new();
        // The contacts allowed so far: each counts for the next proposal's limits.
        let mut allowed = Allowed::new();
        for i in 0..self.actions.len() {
            let Some(proposal) = proposal_of(&self.actions[i], self.as_of) else {
                continue;
            };
            match self.judge_counted(&proposal, &mut allowed)? {
                Verdict::Withhold {
                    rules,
                    until,
                    reason,
                    cancel,
                } => {
                    let mut kind = proposal.withheld(until, reason, cancel);
                    // A withheld nomination names the SAs it would have severed.
                    if let (
                        ActionKind::Withhold { sas, .. },
                        ActionKind::NominateSeverance { sas: nominated },
                    ) = (&mut kind, &mut self.actions[i].kind)
                    {
                        *sas = std::mem::take(nominated);
                    }
                    self.actions[i] = Action { kind, rules }
                }
                Verdict::Allow {
                    proposal: moved,
                    window,
                    window_rule,
                    changes,
                } => {
                    let timing = match self.actions[i].kind {
                        ActionKind::ScheduleEvent { .. } => {
                            self.timing_of(moved.as_ref().unwrap_or(&proposal), window)?
                        }
                        _ => None,
                    };
                    let action = &mut self.actions[i];
                    if let ActionKind::ScheduleEvent {
                        event_type,
                        date,
                        timing: at,
                        ..
                    } = &mut action.kind
                    {
                        if let Some(moved) = moved {
                            *event_type = moved.kind;
                            *date = moved.date;
                        }
                        if let Some(t) = timing {
                            // The window a rail gives names the rail's row.
                            if let Some(rule) = window_rule.filter(|_| t.window.is_some()) {
                                if !action.rules.contains(&rule) {
                                    action.rules.push(rule);
                                }
                            }
                            *at = Some(t);
                        }
                    }
                    for (rule, change) in changes {
                        if !action.rules.contains(&rule) {
                            action.rules.push(rule.clone());
                        }
                        after.push(Action {
                            kind: change,
                            rules: smallvec![rule],
                        });
                    }
                }
            }
        }
        self.actions.append(&mut after);
        self.guard_pending(&mut allowed)
    }

    /// The case's pending events this run neither moved nor cancelled, put to
    /// the guard rails again: what was allowed when scheduled may not be now.
    fn guard_pending(&mut self, allowed: &mut Allowed) -> Result<()> {
        if self
            .actions
            .iter()
            .any(|a| matches!(a.kind, ActionKind::CancelPendingEvents))
        {
            return Ok(());
        }
        let touched = |a: &Action, id: &str| match &a.kind {
            ActionKind::ScheduleEvent { event, .. } => **event == *id,
            ActionKind::CancelEvent { event, .. } => event == id,
            // A withheld proposal of the same id replaces it (`case::apply`).
            ActionKind::Withhold {
                event: Some(event),
                date: Some(_),
                ..
            } => **event == *id,
            ActionKind::HoldContact { cancelled, .. } => cancelled.iter().any(|c| c == id),
            _ => false,
        };
        let policy = self.policy;
        let type_names = policy
            .slots
            .case
            .and_then(|c| c.events)
            .map(|ev| &policy.plan.schema().enum_def(ev.type_enum).variants);
        let pending: Vec<Proposal<'p>> = self
            .state
            .pending()
            .filter(|e| !self.actions.iter().any(|a| touched(a, e.id)))
            .map(|e| Proposal {
                // The policy's own name of the type, borrowed.
                kind: match type_names {
                    Some(names) => Cow::Borrowed(&*names[e.type_variant]),
                    None => Cow::Owned(e.event_type.to_string()),
                },
                event: Some(Cow::Owned(e.id.to_string())),
                // Judged on the day it would go out: the case system carries
                // out an overdue event today, not on the day it was booked for.
                date: e.date.max(self.as_of),
                time: e.time.map(|t| Cow::Owned(t.to_string())),
                pending: true,
            })
            .collect();
        let no_sa = self.severance_without_sa();
        for proposal in pending {
            let verdict = self.judge_counted(&proposal, allowed)?;
            match self.severance_checked(verdict, &proposal, no_sa.as_ref().map(|(r, _)| r)) {
                Verdict::Withhold {
                    rules,
                    reason,
                    cancel: true,
                    ..
                } => self.push(
                    ActionKind::CancelEvent {
                        event: proposal.event.as_deref().unwrap_or_default().to_string(),
                        reason: reason.unwrap_or_else(|| "a guard rail cancels it".into()),
                    },
                    rules,
                ),
                // Not due yet: it keeps its date whatever the rails say today,
                // and is judged again on the day it would go out.
                Verdict::Withhold { cancel: false, .. } if proposal.date > self.as_of => {}
                Verdict::Withhold {
                    rules,
                    until,
                    reason,
                    cancel: false,
                } => {
                    let mut kind = proposal.withheld(until, reason, false);
                    // A severance held back on a day no SA is nominated names
                    // the SAs left out.
                    if let (ActionKind::Withhold { action, sas, .. }, Some((_, left_out))) =
                        (&mut kind, &no_sa)
                    {
                        if **action == *"start_severance" {
                            sas.clone_from(left_out);
                        }
                    }
                    self.push(kind, rules)
                }
                Verdict::Allow {
                    proposal: moved,
                    window,
                    window_rule,
                    changes,
                } if !changes.is_empty() => {
                    let moved = moved.unwrap_or(proposal);
                    // The same event id moves the pending event (`case::apply`).
                    let mut rules: Rules<'p> = changes.iter().map(|(r, _)| r.clone()).collect();
                    if let Some(rule) =
                        window_rule.filter(|r| window.is_some() && !rules.contains(r))
                    {
                        rules.push(rule);
                    }
                    self.push(
                        ActionKind::ScheduleEvent {
                            event: moved.event.clone().expect("a pending event has an id"),
                            event_type: moved.kind.clone(),
                            date: moved.date,
                            // The case system keeps the event's parameters; the move names the event.
                            params: Cow::Owned(Default::default()),
                            timing: self.timing_of(&moved, window)?,
                        },
                        rules,
                    );
                    for (rule, change) in changes {
                        self.push(change, smallvec![rule]);
                    }
                }
                Verdict::Allow { .. } => {}
            }
        }
        Ok(())
    }

    /// The time of day and permitted window an allowed event carries, if any.
    fn timing_of(
        &self,
        moved: &Proposal<'p>,
        window: Option<Span<'p>>,
    ) -> Result<Option<Timing<'p>>> {
        if moved.time.is_none() && window.is_none() {
            return Ok(None);
        }
        let time_zone = self.time_zone()?;
        Ok(Some(Timing {
            time: moved.time.clone(),
            window: window.map(|(start, end)| Window {
                start,
                end,
                time_zone,
            }),
        }))
    }

    /// Asks every guard rail about `proposal`, moving it to later days (and
    /// other channels) until none objects, or withholding it.
    /// `counted`: the contacts this run allowed before it that a rail
    /// counts, read after the case's own ([`Ctx::judge_counted`]).
    fn judge(&mut self, proposed: &Proposal<'p>, counted: &[Value]) -> Result<Verdict<'p>> {
        let mut changes: Vec<(Text<'p>, ActionKind<'p>)> = Vec::new();
        let mut postponed: Option<(Text<'p>, NaiveDate, Option<String>)> = None;
        // The reasons of the later postponements, when they differ from the first's.
        let mut through: Vec<String> = Vec::new();
        let mut said = SaidAll::new();
        // A copy only once a rail moves or rechannels it: most are allowed as proposed.
        let mut moved: Option<Proposal<'p>> = None;
        for _ in 0..MAX_POSTPONE_DAYS {
            let proposal = moved.as_ref().unwrap_or(proposed);
            self.ask(proposal, counted, &mut said)?;
            // No rail says anything (most proposals): allowed as proposed, or
            // where the rails moved it.
            if said.is_empty() && postponed.is_none() {
                return Ok(Verdict::Allow {
                    proposal: moved,
                    window: None,
                    window_rule: None,
                    changes,
                });
            }
            // Cancelling is the stronger stop: it names only the rails that cancel.
            for stop in [CANCEL, WITHHOLD] {
                if let Some(s) = said.iter().find(|s| s.effect == stop) {
                    let rules = said
                        .iter()
                        .filter(|s| s.effect == stop)
                        .map(|s| s.rule.clone())
                        .collect();
                    return Ok(Verdict::Withhold {
                        rules,
                        until: None,
                        reason: s.reason(),
                        cancel: stop == CANCEL,
                    });
                }
            }
            if let Some(s) = said.iter().find(|s| s.effect == RECHANNEL) {
                let to = s.channel.as_deref().map(Channel::event_type_of);
                match to {
                    Some(to) if *to != *proposal.kind => {
                        changes.push((
                            s.rule.clone(),
                            ActionKind::Rechannel {
                                event: proposal.event.clone().unwrap_or_default(),
                                from: proposal.kind.clone(),
                                to: Cow::Owned(to.to_string()),
                                reason: s.reason(),
                            },
                        ));
                        moved.get_or_insert_with(|| proposed.clone()).kind =
                            Cow::Owned(to.to_string());
                        continue;
                    }
                    Some(_) => {}
                    None => {
                        return Err(policy_error(
                            &s.rule,
                            format!("`{}` rechannels but gives no `channel`", s.rule),
                        ))
                    }
                }
            }
            let window = window_of(&said);
            let postpone_to = said
                .iter()
                .filter(|s| s.effect == POSTPONE)
                .map(|s| {
                    let to = s
                        .until
                        .filter(|u| *u > proposal.date)
                        .or_else(|| proposal.date.checked_add_days(Days::new(1)));
                    (s, to)
                })
                .max_by_key(|(_, to)| *to);
            let (rule, reason, to, time) = match postpone_to {
                Some((s, to)) => (s.rule.clone(), s.reason(), to, proposal.time.clone()),
                None => match outside_window(proposal, window.as_ref(), &said) {
                    Some((rule, to, time)) => {
                        let reason = window.as_ref().map(|(start, end)| {
                            format!("outside the {start}-{end} local-time window")
                        });
                        (rule, reason, Some(to), Some(time))
                    }
                    None => {
                        if let Some((rule, from, reason)) = postponed {
                            let reason = match reason {
                                Some(first) if !through.is_empty() => {
                                    Some(format!("{first}, then {}", through.join(", then ")))
                                }
                                // The first rail gave no reason: the later ones still say theirs.
                                None if !through.is_empty() => Some(through.join(", then ")),
                                other => other,
                            };
                            changes.insert(
                                0,
                                (
                                    rule,
                                    ActionKind::Postpone {
                                        event: proposal.event.clone().unwrap_or_default(),
                                        from,
                                        to: proposal.date,
                                        time: proposal.time.clone(),
                                        reason,
                                    },
                                ),
                            );
                        }
                        return Ok(Verdict::Allow {
                            proposal: moved,
                            window,
                            window_rule: window_rule_of(&said),
                            changes,
                        });
                    }
                },
            };
            let Some(to) = to else {
                break;
            };
            // An action that is not an event cannot wait: it is withheld until then.
            if proposal.event.is_none() {
                return Ok(Verdict::Withhold {
                    rules: smallvec![rule],
                    until: Some(to),
                    reason,
                    cancel: false,
                });
            }
            let to = if to == proposal.date {
                to
            } else {
                self.calendar().roll_forward(to).unwrap_or(to)
            };
            match &postponed {
                None => postponed = Some((rule, proposal.date, reason)),
                // Each other protection the date passes through is named, in order.
                Some((_, _, first)) => {
                    if let Some(r) = reason.filter(|r| through.last().or(first.as_ref()) != Some(r))
                    {
                        through.push(r);
                    }
                }
            }
            let moved = moved.get_or_insert_with(|| proposed.clone());
            moved.date = to;
            moved.time = time;
        }
        let (rules, reason) = match postponed {
            Some((rule, _, reason)) => (smallvec![rule], reason),
            None => (Rules::new(), None),
        };
        Ok(Verdict::Withhold {
            rules,
            until: None,
            reason: reason
                .or_else(|| Some(format!("no permitted day within {MAX_POSTPONE_DAYS} days"))),
            cancel: false,
        })
    }

    /// What each guard rail says about one proposal, into `said` (those
    /// that allow without a window say nothing). `run_needed` asks only the
    /// rails that are not quiet for it, and the `action` record is built
    /// only for a rail that is evaluated: most proposals meet none.
    fn ask(
        &mut self,
        proposal: &Proposal,
        counted: &[Value],
        said: &mut SaidAll<'p>,
    ) -> Result<()> {
        said.clear();
        let policy = self.policy;
        let guards = &policy.guard_plan;
        let Some(kind) = guards.kind_of(&proposal.kind) else {
            return Ok(());
        };
        let mut question = Question {
            kind,
            proposal,
            counted,
            record: None,
        };
        // A rail that counts contacts the run added reads more than the
        // account: what the account alone made of it (its walk) does not hold.
        let overlaid = |rail: usize| {
            !counted.is_empty()
                && guards
                    .counted
                    .as_ref()
                    .is_some_and(|c| c.readers[rail] != Reader::No)
        };
        match guards.asked.get(kind as usize) {
            Some(asked) if self.needed_only => {
                // Every rail was quiet for this kind and account: it is for
                // any proposal of the kind (a walk reads only the account).
                let bit = match counted.is_empty() {
                    true => 1u64.checked_shl(kind).unwrap_or(0),
                    false => 0,
                };
                if self
                    .guard_memo
                    .as_ref()
                    .is_some_and(|m| m.quiet_kinds & bit != 0)
                {
                    return Ok(());
                }
                let mut quiet = true;
                for a in asked.iter() {
                    let decided = match &a.open {
                        Some(_) if overlaid(a.rail) && !a.walk_ignores_contacts => None,
                        Some(open) => match self.walk_once(a.walk, a.rail, open) {
                            Walk::Quiet => continue,
                            Walk::Row(row) => Some(row),
                            Walk::Evaluate => None,
                        },
                        None => None,
                    };
                    quiet = false;
                    if let Some(row) = decided {
                        if let Some(answer) = guards.answer(a.rail, row) {
                            self.answered(a.rail, row, answer, said);
                            continue;
                        }
                    }
                    self.ask_rail(a.rail, &mut question, said, decided)?;
                }
                if quiet && bit != 0 {
                    self.guard_memo
                        .get_or_insert_with(Default::default)
                        .quiet_kinds |= bit;
                }
            }
            _ => {
                for g in 0..policy.roles.guards.len() {
                    self.ask_rail(g, &mut question, said, None)?;
                }
            }
        }
        Ok(())
    }

    /// Evaluates rail `g` for the `question`'s proposal (its record built if
    /// it was not yet; its `counted` contacts after the case's), unless row
    /// `decided` is known to decide it, and adds what it says to `said`.
    fn ask_rail(
        &mut self,
        g: usize,
        question: &mut Question,
        said: &mut SaidAll<'p>,
        decided: Option<u32>,
    ) -> Result<()> {
        let policy = self.policy;
        let guards = &policy.guard_plan;
        let role = &policy.roles.guards[g];
        let (d, traces) = match decided {
            // What evaluating the `first` table gives when that row matches.
            Some(row) => (
                Decision {
                    table: role.table,
                    item: None,
                    label: None,
                    outcome: Outcome::constant_row(row),
                },
                Vec::new(),
            ),
            None => {
                let Question {
                    kind,
                    proposal,
                    counted,
                    record,
                } = question;
                let record = record.get_or_insert_with(|| guards.record(*kind, proposal));
                let overlay = match &guards.counted {
                    Some(c) => Overlay::new(&c.path, counted),
                    None => Overlay::NONE,
                };
                let (decisions, traces) = self.tables.evaluate_overlaid(
                    role.table,
                    std::slice::from_ref(record),
                    overlay,
                )?;
                let Some(d) = decisions.into_iter().next() else {
                    return Ok(());
                };
                (d, traces)
            }
        };
        let Some(s) = self.said_of(g, &d)? else {
            return Ok(());
        };
        said.push(s);
        // One trace per decision kept: a rail asked again with the same rows adds neither.
        if self.record_decision(d) {
            self.tables.evaluation.trace.extend(traces);
        }
        Ok(())
    }

    /// What rail `g`'s decision `d` says (`None`: it allows without a window).
    fn said_of(&self, g: usize, d: &Decision) -> Result<Option<Said<'p>>> {
        let policy = self.policy;
        let role = &policy.roles.guards[g];
        let effect = self.need_variant(role, d, Out::Effect)?;
        let window = self.window_out(role, d);
        if effect == ALLOW && window.is_none() {
            return Ok(None);
        }
        let refs = &policy.guard_plan.refs[g];
        let rule = match &d.outcome {
            Outcome::Row { row, .. } => &refs.rows[*row as usize],
            _ => &refs.default,
        };
        Ok(Some(Said {
            effect,
            rule: Cow::Borrowed(rule),
            until: match self.out(role, d, Out::Until) {
                Value::Date(u) => Some(u),
                _ => None,
            },
            channel: self.out_borrowed(role, d, Out::Channel),
            reason: self.out_borrowed(role, d, Out::Reason),
            window,
        }))
    }

    /// Keeps a rail's decision with the account's, unless the same rows of
    /// the same rail are there already; whether it was kept.
    fn record_decision(&mut self, d: Decision) -> bool {
        let seen = self
            .tables
            .evaluation
            .decisions
            .iter()
            .any(|x| x.table == d.table && x.item.is_none() && x.outcome.same_rows(&d.outcome));
        if !seen {
            self.tables.evaluation.decisions.push(d);
        }
        !seen
    }

    /// Rail `g` decided by its row `row`, whose answer the plan made
    /// ([`GuardPlan::answer`]): what evaluating it would add to `said` and
    /// to the account's decisions, without building the decision again.
    fn answered(&mut self, g: usize, row: u32, answer: &'p Answer, said: &mut SaidAll<'p>) {
        let Some(a) = &answer.said else {
            return;
        };
        said.push(Said {
            effect: a.effect,
            rule: Cow::Borrowed(&self.policy.guard_plan.refs[g].rows[row as usize]),
            until: a.until,
            channel: a.channel.as_deref().map(Cow::Borrowed),
            reason: a.reason.as_deref().map(Cow::Borrowed),
            window: a
                .window
                .as_ref()
                .map(|(start, end)| (Cow::Borrowed(&**start), Cow::Borrowed(&**end))),
        });
        // The decision is kept once per account: later proposals find it there.
        let memo = self.guard_memo.get_or_insert_with(Default::default);
        if memo.recorded & answer.bit != 0 {
            return;
        }
        memo.recorded |= answer.bit;
        self.record_decision(Decision {
            table: self.policy.roles.guards[g].table,
            item: None,
            label: None,
            outcome: Outcome::constant_row(row),
        });
    }

    fn window_out(&self, role: &Role, d: &crate::eval::Decision) -> Option<Span<'p>> {
        let start = self.out_borrowed(role, d, Out::WindowStart)?;
        let end = self.out_borrowed(role, d, Out::WindowEnd)?;
        Some((start, end))
    }

    /// The account's time zone (an IANA name), checked; `None` without one.
    fn time_zone(&self) -> Result<Option<Arc<str>>> {
        let Some(slot) = self.policy.slots.time_zone else {
            return Ok(None);
        };
        let Value::Text(zone) = field(self.account, slot) else {
            return Ok(None);
        };
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(EvalError {
                table: String::new(),
                item: None,
                input: None,
                kind: EvalErrorKind::Field {
                    field: "account.time_zone".into(),
                    message: format!(
                        "`{}` is not an IANA time zone (such as `America/Los_Angeles`)",
                        crate::diagnostic::echoed(zone)
                    ),
                },
            });
        }
        Ok(Some(zone.clone()))
    }
}

/// What the rails are asked about `action`, if anything: an event, a
/// severance nomination or a payment-plan offer (these two today).
fn proposal_of<'p>(action: &Action<'p>, as_of: NaiveDate) -> Option<Proposal<'p>> {
    let today = |kind: &'static str| Proposal {
        kind: Cow::Borrowed(kind),
        event: None,
        date: as_of,
        time: None,
        pending: false,
    };
    match &action.kind {
        ActionKind::ScheduleEvent {
            event,
            event_type,
            date,
            timing,
            ..
        } => Some(Proposal {
            kind: event_type.clone(),
            event: Some(event.clone()),
            date: *date,
            time: timing.as_ref().and_then(|t| t.time.clone()),
            pending: false,
        }),
        ActionKind::NominateSeverance { .. } => Some(today("nominate_severance")),
        ActionKind::OfferPaymentPlan { .. } => Some(today("offer_payment_plan")),
        _ => None,
    }
}

/// `reg_f:seven_in_seven` → `guard:reg_f/seven_in_seven`.
fn guard_ref(row_ref: &str) -> String {
    format!("guard:{}", row_ref.replacen(':', "/", 1))
}

/// The narrowest window the rails give (latest start, earliest end).
fn window_of<'p>(said: &[Said<'p>]) -> Option<Span<'p>> {
    said.iter()
        .filter_map(|s| s.window.clone())
        .reduce(|(s1, e1), (s2, e2)| (s1.max(s2), e1.min(e2)))
}

/// The rail's row that gave the narrowest window (the first, when several
/// give the same), which the event carrying it names.
fn window_rule_of<'p>(said: &[Said<'p>]) -> Option<Text<'p>> {
    let (start, end) = window_of(said)?;
    said.iter()
        .find(|s| {
            s.window
                .as_ref()
                .is_some_and(|(s0, e0)| *s0 == start && *e0 == end)
        })
        .or_else(|| said.iter().find(|s| s.window.is_some()))
        .map(|s| s.rule.clone())
}

/// A proposal set at a time outside its window moves to the window's next
/// start: today's if it is still ahead, else tomorrow's.
fn outside_window<'p>(
    proposal: &Proposal,
    window: Option<&Span<'p>>,
    said: &[Said<'p>],
) -> Option<(Text<'p>, NaiveDate, Text<'p>)> {
    let (start, end) = window?;
    let time = time_of_day(proposal.time.as_deref()?)?;
    let (start_t, end_t) = (time_of_day(start)?, time_of_day(end)?);
    let rule = said.iter().find(|s| s.window.is_some())?.rule.clone();
    if time < start_t {
        Some((rule, proposal.date, start.clone()))
    } else if time > end_t {
        let next = proposal.date.checked_add_days(Days::new(1))?;
        Some((rule, next, start.clone()))
    } else {
        None
    }
}

/// What the pipeline knows before any account about asking the guard rails:
/// the built-in enums a proposal is put in, and per rail which of its inputs
/// are fixed by the proposal's kind alone (they read only `action.type` and
/// `action.channel`: computed here, per `guarded_action` variant) or by the
/// account alone (read in place or computed by the table's compiled code,
/// once per account, when first needed), and which of its cells are
/// constant tests. A rail whose default is a constant `allow` without a
/// window is quiet for a kind and an account when those inputs rule out
/// every row: its answer is then that default whatever the rest of the
/// proposal (its date). `run_needed` does not evaluate a quiet rail, as it
/// evaluates no other table the actions do not need (nor meets its errors);
/// nor a `first` rail whose first row those inputs leave surely matches
/// (its other cells are `-`): that row's constant outputs are its answer.
/// `run` asks every rail, so that every decision can be shown.
#[derive(Debug, Default)]
pub(crate) struct GuardPlan {
    /// Per name length, the `guarded_action` variants of that length (a
    /// proposal's kind is found without comparing it with every variant).
    kinds_by_len: Vec<Vec<(Box<str>, u32)>>,
    /// Per `guarded_action` variant: the `contact_channel` of its event type
    /// (null for one that is not a contact), the record's second field.
    channels: Vec<Value>,
    /// Per rail (in `roles.guards` order); `None` for a rail that is always asked.
    rails: Vec<Option<Rail>>,
    /// Per `guarded_action` variant, in `roles.guards` order: the rails
    /// `run_needed` asks about a proposal of that kind (not those quiet for
    /// the kind whatever the account).
    asked: Vec<Box<[Asked]>>,
    /// Per rail (in `roles.guards` order): its rows' and default's rule refs.
    refs: Vec<GuardRefs>,
    /// Per quiet rail, per row: what the row says when it decides the rail
    /// without evaluating it (`None`: not made, the row's decision is read).
    answers: Vec<Box<[Option<Answer>]>>,
    /// How a contact this run allows is counted among the account's contacts
    /// (`None`: no rail reads them).
    counted: Option<Counted>,
}

/// What a row with constant outputs says as the rail's answer, made once
/// with the policy, as [`Ctx::said_of`] reads it from the row's decision.
#[derive(Debug)]
struct Answer {
    /// `None`: it allows, without a window.
    said: Option<ConstSaid>,
    /// The row's bit in [`GuardMemo::recorded`] (0: not kept).
    bit: u64,
}

#[derive(Debug, PartialEq)]
struct ConstSaid {
    effect: usize,
    until: Option<NaiveDate>,
    channel: Option<Box<str>>,
    reason: Option<Box<str>>,
    window: Option<(Box<str>, Box<str>)>,
}

/// A rail `run_needed` asks about a kind of proposal.
#[derive(Debug)]
struct Asked {
    rail: usize,
    /// In order, the rows a constant cell on an input fixed by the kind
    /// does not rule out: the rail is quiet for an account that rules out
    /// all of them, and decided by the first the account does not rule out
    /// when that row surely matches. `None`: the rail cannot be quiet: it is
    /// evaluated.
    open: Option<Box<[OpenRow]>>,
    /// Its walk's number: the same for every kind that leaves the rail the
    /// same `open` rows (an account walks them once, [`GuardMemo::walks`]).
    walk: usize,
    /// No cell its walk reads is on an input that reads the account's
    /// contacts, so the walk holds as well with the contacts this run allowed
    /// counted among them ([`Ctx::judge_counted`]): a letter or an email
    /// judged after a call meets only the rows a call's count cannot change.
    walk_ignores_contacts: bool,
}

#[derive(Debug, Clone, Copy)]
struct OpenRow {
    row: u32,
    /// The row matches every proposal of the kind whose account passes its
    /// constant cells on account-only inputs: every other cell is `-` or a
    /// constant test the kind passes, its outputs are constants, and the
    /// rail is a `first` table that reads no other table. Such a row, first
    /// among those the account leaves, decides the rail without evaluating it.
    sure: bool,
}

/// What the account makes of a rail's rows for a proposal ([`Ctx::walk`]).
enum Walk {
    /// The account rules out every row the kind leaves: the default.
    Quiet,
    /// This row decides.
    Row(u32),
    /// The rail must be evaluated.
    Evaluate,
}

/// A rail's rule refs as its actions name them (`guard:table/row`).
#[derive(Debug)]
struct GuardRefs {
    rows: Vec<String>,
    default: String,
}

#[derive(Debug)]
struct Rail {
    /// Per row: its constant cells on account-only inputs.
    by_account: Vec<Vec<AccountCell>>,
    /// Where its rows start in the account's row memo ([`GuardMemo`]).
    first_row: usize,
}

/// A constant cell on an account-only input, and that input's index.
#[derive(Debug)]
struct AccountCell {
    input: usize,
    read: AccountInput,
    cell: ConstCell,
}

/// How an account-only input is read: as the evaluator reads it
/// (`CompiledTable::input_reads`), not by walking its expression.
#[derive(Debug)]
enum AccountInput {
    /// A field path of the account, read in place.
    Path(Box<[u32]>),
    /// Computed by its compiled code; when cells of several rows test it,
    /// its value is kept in slot `memo` of the account's value memo
    /// ([`GuardMemo::values`]). An input that reads the proposal only in
    /// comprehensions over account lists (`count(c in account.contacts
    /// where c.date > action.date - 7 days)`) is known only for an account
    /// whose lists `empty` (field paths) are all empty or null: a
    /// comprehension over nothing runs neither its filter nor its body.
    Computed {
        memo: Option<usize>,
        empty: Box<[Box<[u32]>]>,
    },
}

impl AccountCell {
    /// Whether the account rules the cell out: its input's value fails it
    /// (an input that cannot be known rules nothing out).
    #[cfg(test)]
    fn rules_out(
        &self,
        table: &CompiledTable,
        account: &Value,
        as_of: NaiveDate,
        values: &mut [Option<Option<Value>>],
    ) -> bool {
        self.value(table, account, as_of, values)
            .is_some_and(|v| self.cell.fails(&v))
    }

    /// Its input's value for `account` as of `as_of` (`None`: it could not
    /// be computed). A computed input several rows test is computed once
    /// per account, into `values`.
    fn value<'v>(
        &self,
        table: &CompiledTable,
        account: &'v Value,
        as_of: NaiveDate,
        values: &'v mut [Option<Option<Value>>],
    ) -> Option<Cow<'v, Value>> {
        match &self.read {
            AccountInput::Path(slots) => Some(Cow::Borrowed(crate::lang::semantics::read_fields(
                account, slots,
            ))),
            AccountInput::Computed { memo, empty } => {
                let known = || {
                    let nothing =
                        |list: &[u32]| match crate::lang::semantics::read_fields(account, list) {
                            Value::List(items) => items.is_empty(),
                            _ => true,
                        };
                    match empty.iter().all(|list| nothing(list)) {
                        true => compute(table, self.input, account, as_of),
                        false => None,
                    }
                };
                match memo {
                    Some(m) => values
                        .get_mut(*m)?
                        .get_or_insert_with(known)
                        .as_ref()
                        .map(Cow::Borrowed),
                    None => known().map(Cow::Owned),
                }
            }
        }
    }
}

/// Computed input `i` of a rail that reads only the account and `as_of`, by
/// the code the plan compiled for it (`None`: it could not be computed).
fn compute(table: &CompiledTable, i: usize, account: &Value, as_of: NaiveDate) -> Option<Value> {
    let Some(InputRead::Computed { code, .. }) = table.input_reads.get(i) else {
        return None;
    };
    // The param's slot is there (null), so comprehension locals keep their index.
    let mut env = crate::lang::semantics::Env::standalone(account, as_of, smallvec![Value::Null]);
    code.run(&mut env).ok()
}

/// When a rail's input is known without evaluating the rail.
#[derive(Debug)]
enum Known {
    /// Its value per `guarded_action` variant (`None`: it could not be computed).
    ByKind(Vec<Option<Value>>),
    /// It reads only the account and `as_of`, or reads anything else only
    /// in comprehensions over these account lists (field paths).
    ByAccount(Vec<Vec<u32>>),
    /// It reads the rest of the proposal (its date...), another input or another table.
    No,
}

/// A cell whose tests are constants.
#[derive(Debug)]
struct ConstCell {
    negated: bool,
    /// It has a `= null` test (a null input matches only that, not negated).
    null_test: bool,
    tests: Vec<ConstTest>,
    /// The flags or variants it accepts when every test is `= true`,
    /// `= false` or `= variant` (most rail cells): a flag or a variant is
    /// then matched by a bit, not by `compare`.
    equals: Option<Equals>,
}

/// What a cell of equality tests on flags or variants accepts.
#[derive(Debug, Clone, Copy)]
enum Equals {
    Flags {
        yes: bool,
        no: bool,
    },
    /// Bit `v`: variant `v` (variants below 64).
    Variants(u64),
}

impl Equals {
    fn of(tests: &[ConstTest]) -> Option<Equals> {
        let mut equals: Option<Equals> = None;
        for t in tests {
            let ConstTest::Compare(CompareOp::Eq, c) = t else {
                return None;
            };
            equals = Some(match (equals, c) {
                (None | Some(Equals::Flags { .. }), Value::Bool(b)) => {
                    let (yes, no) = match equals {
                        Some(Equals::Flags { yes, no }) => (yes, no),
                        _ => (false, false),
                    };
                    Equals::Flags {
                        yes: yes || *b,
                        no: no || !*b,
                    }
                }
                (None | Some(Equals::Variants(_)), Value::Enum(v)) if *v < 64 => {
                    let mask = match equals {
                        Some(Equals::Variants(m)) => m,
                        _ => 0,
                    };
                    Equals::Variants(mask | (1 << v))
                }
                _ => return None,
            });
        }
        equals
    }

    /// Whether a test accepts `v`; `None` for a value of another kind.
    #[inline]
    fn accepts(self, v: &Value) -> Option<bool> {
        match (self, v) {
            (Equals::Flags { yes, no }, Value::Bool(b)) => Some(if *b { yes } else { no }),
            (Equals::Variants(mask), Value::Enum(x)) if *x < 64 => Some((mask >> x) & 1 != 0),
            _ => None,
        }
    }
}

#[derive(Debug)]
enum ConstTest {
    Compare(CompareOp, Value),
    Range(Value, bool, Value, bool),
}

impl ConstCell {
    fn of(cell: &crate::lang::ir::TCell) -> Option<ConstCell> {
        use crate::lang::ir::TTest;
        if cell.tests.is_empty() {
            return None;
        }
        let tests = cell
            .tests
            .iter()
            .map(|test| match test {
                TTest::Compare(op, e) => Some(ConstTest::Compare(*op, constant(e)?)),
                TTest::Range {
                    low,
                    low_inclusive,
                    high,
                    high_inclusive,
                } => Some(ConstTest::Range(
                    constant(low)?,
                    *low_inclusive,
                    constant(high)?,
                    *high_inclusive,
                )),
            })
            .collect::<Option<Vec<_>>>()?;
        let null_test = tests
            .iter()
            .any(|t| matches!(t, ConstTest::Compare(CompareOp::Eq, c) if c.is_null()));
        Some(ConstCell::new(cell.negated, null_test, tests))
    }

    fn new(negated: bool, null_test: bool, tests: Vec<ConstTest>) -> ConstCell {
        ConstCell {
            negated,
            null_test,
            equals: Equals::of(&tests),
            tests,
        }
    }

    /// Whether the cell fails for the input `v`, as the evaluator matches.
    #[inline(always)]
    fn fails(&self, v: &Value) -> bool {
        if v.is_null() {
            return self.negated || !self.null_test;
        }
        if let Some(any) = self.equals.and_then(|e| e.accepts(v)) {
            return any == self.negated;
        }
        self.fails_by_tests(v)
    }

    /// [`ConstCell::fails`] for a value that is not null, test by test.
    #[inline(never)]
    fn fails_by_tests(&self, v: &Value) -> bool {
        use crate::lang::semantics::{compare, in_range};
        let any = self.tests.iter().any(|t| match t {
            ConstTest::Compare(op, c) => compare(*op, v, c),
            ConstTest::Range(lo, lo_in, hi, hi_in) => in_range(v, lo, *lo_in, hi, *hi_in),
        });
        any == self.negated
    }
}

impl GuardPlan {
    pub(crate) fn new(plan: &crate::lang::compile::Plan, guards: &[Role]) -> GuardPlan {
        let schema = plan.schema();
        let guarded_action = schema.enum_by_name("guarded_action");
        let contact_channel = schema.enum_by_name("contact_channel");
        let channels: Vec<Value> = guarded_action.map_or_else(Vec::new, |e| {
            schema
                .enum_def(e)
                .variants
                .iter()
                .map(|variant| {
                    Channel::of_event(variant)
                        .and_then(|c| contact_channel.and_then(|e| schema.variant(e, c.name())))
                        .map_or(Value::Null, Value::Enum)
                })
                .collect()
        });
        let kinds: Vec<Value> = channels
            .iter()
            .enumerate()
            .map(|(k, channel)| {
                let fields = [Value::Enum(k as u32), channel.clone()];
                let unknown = [Value::Null, Value::Null, Value::Null, Value::Null];
                Value::Record(fields.into_iter().chain(unknown).collect())
            })
            .collect();
        let counted = Counted::new(plan, guards);
        let (mut rows, mut computed) = (0, 0);
        // Per rail, per kind: the rows the kind leaves open (`None`: always asked).
        let mut open_by_kind: Vec<Vec<Box<[OpenRow]>>> = Vec::new();
        let rails = guards
            .iter()
            .map(|role| {
                let compiled = &plan.tables[role.table as usize];
                let table = &compiled.table;
                quiet_by_default(table, role).then(|| {
                    // An account-only input is read as the evaluator reads it.
                    let known: Vec<(Known, Option<AccountRead>)> = table
                        .inputs
                        .iter()
                        .zip(&compiled.input_reads)
                        .map(|(input, read)| match known(&input.expr, &kinds) {
                            Known::ByAccount(empty) => match read {
                                InputRead::Path { local: None, slots } if empty.is_empty() => {
                                    (Known::No, Some(AccountRead::Path(slots)))
                                }
                                InputRead::Computed { .. } => {
                                    (Known::No, Some(AccountRead::Computed(empty)))
                                }
                                // Not an account field after all: not known.
                                InputRead::Path { .. } => (Known::No, None),
                            },
                            other => (other, None),
                        })
                        .collect();
                    let cells: Vec<Vec<(usize, ConstCell)>> = table
                        .rows
                        .iter()
                        .map(|row| {
                            row.cells
                                .iter()
                                .enumerate()
                                .filter_map(|(i, c)| Some((i, ConstCell::of(c)?)))
                                .collect()
                        })
                        .collect();
                    // Only a `first` rail that reads no other table is decided by a row.
                    let decidable = table.hit == HitPolicy::First
                        && plan.program.deps[role.table as usize].is_empty();
                    let open: Vec<Box<[OpenRow]>> = (0..kinds.len())
                        .map(|k| {
                            let by_kind = |i: usize| match &known[i].0 {
                                Known::ByKind(values) => values[k].as_ref(),
                                _ => None,
                            };
                            let ruled_out = |row: &[(usize, ConstCell)]| {
                                row.iter()
                                    .any(|(i, cell)| by_kind(*i).is_some_and(|v| cell.fails(v)))
                            };
                            let sure = |r: usize| {
                                decidable
                                    && plan.constants[role.table as usize].rows[r].is_some()
                                    && table.rows[r].cells.iter().enumerate().all(|(i, c)| {
                                        let any = c.tests.is_empty() && !c.negated;
                                        any || ConstCell::of(c).is_some_and(|cell| {
                                            known[i].1.is_some()
                                                || by_kind(i).is_some_and(|v| !cell.fails(v))
                                        })
                                    })
                            };
                            (0..cells.len())
                                .filter(|r| !ruled_out(&cells[*r]))
                                .map(|r| OpenRow {
                                    row: r as u32,
                                    sure: sure(r),
                                })
                                .collect()
                        })
                        .collect();
                    open_by_kind.push(open);
                    // A computed input that cells of several rows test is kept once computed.
                    let mut memo: Vec<Option<usize>> = vec![None; known.len()];
                    for (i, (_, read)) in known.iter().enumerate() {
                        let rows_testing = cells
                            .iter()
                            .filter(|row| row.iter().any(|(j, _)| *j == i))
                            .count();
                        if matches!(read, Some(AccountRead::Computed(_)))
                            && rows_testing > 1
                            && computed < KEPT_VALUES
                        {
                            memo[i] = Some(computed);
                            computed += 1;
                        }
                    }
                    let by_account: Vec<Vec<AccountCell>> = cells
                        .into_iter()
                        .map(|row| {
                            row.into_iter()
                                .filter_map(|(i, cell)| {
                                    let read = match known[i].1.as_ref()? {
                                        AccountRead::Path(slots) => {
                                            AccountInput::Path(slots.as_slice().into())
                                        }
                                        AccountRead::Computed(empty) => AccountInput::Computed {
                                            memo: memo[i],
                                            empty: empty
                                                .iter()
                                                .map(|list| list.as_slice().into())
                                                .collect(),
                                        },
                                    };
                                    Some(AccountCell {
                                        input: i,
                                        read,
                                        cell,
                                    })
                                })
                                .collect()
                        })
                        .collect();
                    let first_row = rows;
                    rows += by_account.len();
                    Rail {
                        by_account,
                        first_row,
                    }
                })
            })
            .collect::<Vec<_>>();
        let mut asked: Vec<Box<[Asked]>> = (0..kinds.len())
            .map(|k| {
                let mut quiet = open_by_kind.iter();
                rails
                    .iter()
                    .enumerate()
                    .filter_map(|(g, rail)| {
                        let open = match rail {
                            Some(_) => quiet.next().map(|open| open[k].clone()),
                            None => None,
                        };
                        match open {
                            // Quiet for the kind whatever the account.
                            Some(open) if open.is_empty() => None,
                            open => Some(Asked {
                                walk_ignores_contacts: match (&open, rail, &counted) {
                                    (Some(open), Some(rail), Some(counted)) => {
                                        let table = &plan.tables[guards[g].table as usize].table;
                                        open.iter().all(|o| {
                                            rail.by_account[o.row as usize].iter().all(|c| {
                                                list_reader(
                                                    &table.inputs[c.input].expr,
                                                    &counted.path,
                                                    counted.channel as u32,
                                                    &counted.channels,
                                                ) == Reader::No
                                            })
                                        })
                                    }
                                    _ => false,
                                },
                                rail: g,
                                open,
                                walk: 0,
                            }),
                        }
                    })
                    .collect()
            })
            .collect();
        let refs = guards
            .iter()
            .map(|role| {
                let compiled = &plan.tables[role.table as usize];
                GuardRefs {
                    rows: compiled.row_refs.iter().map(|r| guard_ref(r)).collect(),
                    default: guard_ref(&compiled.default_ref),
                }
            })
            .collect();
        // Kinds that leave a rail the same rows share its walk (a letter, an
        // email and an SMS meet the same rows of most rails).
        let mut walks: Vec<(usize, Vec<(u32, bool)>)> = Vec::new();
        for a in asked.iter_mut().flat_map(|a| a.iter_mut()) {
            let Some(open) = &a.open else { continue };
            let key = (a.rail, open.iter().map(|o| (o.row, o.sure)).collect());
            a.walk = match walks.iter().position(|w| *w == key) {
                Some(w) => w,
                None => {
                    walks.push(key);
                    walks.len() - 1
                }
            };
        }
        let answers = guards
            .iter()
            .zip(&rails)
            .map(|(role, rail)| {
                let Some(rail) = rail else {
                    return Box::default();
                };
                let constants = &plan.constants[role.table as usize];
                (0..rail.by_account.len())
                    .map(|r| {
                        let values = constants.rows.get(r)?.as_deref()?;
                        let at = rail.first_row + r;
                        Some(Answer {
                            said: const_said(plan, role, values)?,
                            bit: 1u64.checked_shl(at as u32).unwrap_or(0),
                        })
                    })
                    .collect()
            })
            .collect();
        let mut kinds_by_len: Vec<Vec<(Box<str>, u32)>> = Vec::new();
        if let Some(e) = guarded_action {
            for (k, name) in schema.enum_def(e).variants.iter().enumerate() {
                if kinds_by_len.len() <= name.len() {
                    kinds_by_len.resize_with(name.len() + 1, Vec::new);
                }
                kinds_by_len[name.len()].push((name.as_str().into(), k as u32));
            }
        }
        GuardPlan {
            kinds_by_len,
            channels,
            rails,
            asked,
            refs,
            answers,
            counted,
        }
    }

    /// The answer of rail `g`'s row `row` when it decides the rail, if made.
    fn answer(&self, g: usize, row: u32) -> Option<&Answer> {
        self.answers.get(g)?.get(row as usize)?.as_ref()
    }

    /// The `guarded_action` variant named `name` (the first, as
    /// `Schema::variant` finds it).
    fn kind_of(&self, name: &str) -> Option<u32> {
        let same_len = self.kinds_by_len.get(name.len())?;
        same_len.iter().find(|(n, _)| **n == *name).map(|(_, k)| *k)
    }

    /// The built-in `action` record the rails are asked about `proposal`
    /// (of variant `kind`) with.
    fn record(&self, kind: u32, proposal: &Proposal) -> Value {
        let channel = self
            .channels
            .get(kind as usize)
            .cloned()
            .unwrap_or_default();
        Value::Record(Arc::from([
            Value::Enum(kind),
            channel,
            proposal
                .event
                .as_deref()
                .map_or(Value::Null, |e| Value::Text(e.into())),
            Value::Date(proposal.date),
            // A copy: the template's time is the policy's, shared by every thread.
            proposal
                .time
                .as_deref()
                .map_or(Value::Null, |t| Value::Text(t.into())),
            Value::Bool(proposal.pending),
        ]))
    }

    /// Whether rail `g` is quiet for proposals of `kind`: every row has a
    /// constant cell that fails on an input fixed by the kind, or is one that
    /// `by_account(cells)` says is ruled out by the account (asked only for
    /// rows the kind leaves open). `run_needed` asks the same through
    /// [`GuardPlan::asked`] and [`Ctx::walk`].
    #[cfg(test)]
    fn quiet(
        &self,
        g: usize,
        kind: u32,
        mut by_account: impl FnMut(&[AccountCell]) -> bool,
    ) -> bool {
        let Some(asked) = self.asked.get(kind as usize) else {
            return false;
        };
        match asked.iter().find(|a| a.rail == g) {
            None => true,
            Some(Asked { open: None, .. }) => false,
            Some(Asked {
                open: Some(open), ..
            }) => {
                let Some(Some(rail)) = self.rails.get(g) else {
                    return false;
                };
                open.iter()
                    .all(|o| by_account(&rail.by_account[o.row as usize]))
            }
        }
    }
}

/// How an account-only input is read, while the plan is built.
enum AccountRead<'a> {
    Path(&'a Vec<u32>),
    /// Computed, known when these account lists are empty (or always).
    Computed(Vec<Vec<u32>>),
}

impl<'p> Ctx<'p, '_> {
    /// [`Ctx::walk`], done once per account for walk number `at`
    /// ([`Asked::walk`]): a proposal of any kind that leaves the rail the
    /// same rows, or the same one on a later day, reads it.
    fn walk_once(&mut self, at: usize, g: usize, open: &[OpenRow]) -> Walk {
        const QUIET: u8 = 1;
        const EVALUATE: u8 = 2;
        // Then a row: its index in `open`, plus ROW.
        const ROW: u8 = 3;
        let known = self
            .guard_memo
            .as_ref()
            .and_then(|m| m.walks.get(at).copied())
            .unwrap_or(0);
        match known {
            0 => {}
            QUIET => return Walk::Quiet,
            EVALUATE => return Walk::Evaluate,
            i => {
                if let Some(o) = open.get(usize::from(i - ROW)) {
                    return Walk::Row(o.row);
                }
            }
        }
        let walk = self.walk(g, open);
        let code = match walk {
            Walk::Quiet => QUIET,
            Walk::Evaluate => EVALUATE,
            Walk::Row(row) => open
                .iter()
                .position(|o| o.row == row)
                .and_then(|i| u8::try_from(i).ok()?.checked_add(ROW))
                .unwrap_or(0),
        };
        let memo = self.guard_memo.get_or_insert_with(Default::default);
        if let Some(w) = memo.walks.get_mut(at) {
            *w = code;
        }
        walk
    }

    /// What the account makes of rail `g`'s rows `open` (those the
    /// proposal's kind leaves), in order: each one it rules out is passed,
    /// and the first it does not decides the rail if it surely matches.
    fn walk(&mut self, g: usize, open: &[OpenRow]) -> Walk {
        let policy = self.policy;
        let plan = &policy.guard_plan;
        let (Some(Some(rail)), Some(role)) = (plan.rails.get(g), policy.roles.guards.get(g)) else {
            return Walk::Evaluate;
        };
        let table = &policy.plan.tables[role.table as usize];
        let (account, as_of) = (self.account, self.as_of);
        let memo = self.guard_memo.get_or_insert_with(Default::default);
        for o in open {
            let at = rail.first_row + o.row as usize;
            let row = match memo.row(at) {
                Some(row) => row,
                None => {
                    let mut row = Row::Passes;
                    for c in &rail.by_account[o.row as usize] {
                        // An account field (most cells) is read in place.
                        let fails = match &c.read {
                            AccountInput::Path(slots) => Some(
                                c.cell
                                    .fails(crate::lang::semantics::read_fields(account, slots)),
                            ),
                            AccountInput::Computed { .. } => c
                                .value(table, account, as_of, &mut memo.values)
                                .map(|v| c.cell.fails(&v)),
                        };
                        match fails {
                            Some(true) => {
                                row = Row::RuledOut;
                                break;
                            }
                            Some(false) => {}
                            None => row = Row::Unknown,
                        }
                    }
                    memo.set_row(at, row);
                    row
                }
            };
            match row {
                Row::RuledOut => continue,
                Row::Passes if o.sure => return Walk::Row(o.row),
                _ => return Walk::Evaluate,
            }
        }
        Walk::Quiet
    }
}

/// What the account makes of one row's constant cells on account-only inputs.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Row {
    /// One fails.
    RuledOut,
    /// Each passes.
    Passes,
    /// None fails, and one could not be known.
    Unknown,
}

/// How many computed inputs an account keeps ([`GuardMemo::values`]); any
/// more are computed each time a row needs them.
const KEPT_VALUES: usize = 2;

/// One account's answers from the [`GuardPlan`], filled as proposals are
/// asked about; inline, so that an account allocates nothing for them.
pub(super) struct GuardMemo {
    /// Per row of the quiet rails (the first 64; later ones are not kept):
    /// whether the account was asked about it, and what it makes of it.
    known: u64,
    ruled_out: u64,
    passes: u64,
    /// Per computed account-only input that cells of several rows test,
    /// once needed: its value (`Some(None)`: it could not be known).
    values: [Option<Option<Value>>; KEPT_VALUES],
    /// Per walk (the first [`KEPT_WALKS`], [`Asked::walk`]), once walked:
    /// what the account makes of it ([`Ctx::walk_once`]; 0: not yet walked).
    walks: [u8; KEPT_WALKS],
    /// Per row of the quiet rails (as `known`): its decision, taken from its
    /// [`Answer`], is with the account's.
    recorded: u64,
    /// Per `guarded_action` variant (the first 64): every rail `run_needed`
    /// asks about it was walked quiet for this account.
    quiet_kinds: u64,
}

/// How many walks an account keeps; later ones are walked each time.
const KEPT_WALKS: usize = 64;

impl Default for GuardMemo {
    fn default() -> GuardMemo {
        GuardMemo {
            known: 0,
            ruled_out: 0,
            passes: 0,
            values: Default::default(),
            walks: [0; KEPT_WALKS],
            recorded: 0,
            quiet_kinds: 0,
        }
    }
}

impl GuardMemo {
    fn row(&self, at: usize) -> Option<Row> {
        let bit = 1u64.checked_shl(at as u32)?;
        (self.known & bit != 0).then_some(match (self.ruled_out & bit, self.passes & bit) {
            (0, 0) => Row::Unknown,
            (0, _) => Row::Passes,
            _ => Row::RuledOut,
        })
    }

    fn set_row(&mut self, at: usize, row: Row) {
        if let Some(bit) = 1u64.checked_shl(at as u32) {
            self.known |= bit;
            match row {
                Row::RuledOut => self.ruled_out |= bit,
                Row::Passes => self.passes |= bit,
                Row::Unknown => {}
            }
        }
    }
}

/// What a rail's row with the constant outputs `values` says, as
/// [`Ctx::said_of`] reads its decision: `Some(None)` when it allows
/// without a window, `None` when that reading fails (a null effect) and
/// the row's decision must be read each time.
fn const_said(
    plan: &crate::lang::compile::Plan,
    role: &Role,
    values: &[Value],
) -> Option<Option<ConstSaid>> {
    let table = &plan.tables[role.table as usize].table;
    let value = |o: Out| role.col(o).and_then(|i| Some((i, values.get(i)?)));
    // As `Ctx::out_borrowed`: text as is, an enum as its variant's name.
    let text = |o: Out| -> Option<Box<str>> {
        let (i, v) = value(o)?;
        match v {
            Value::Text(t) => Some((**t).into()),
            Value::Enum(v) => match &table.outputs[i].ty {
                crate::types::Type::Enum(e) => Some(
                    plan.schema().enum_def(*e).variants[*v as usize]
                        .as_str()
                        .into(),
                ),
                _ => None,
            },
            _ => None,
        }
    };
    let effect = match value(Out::Effect)? {
        (_, Value::Null) => return None,
        (_, Value::Enum(v)) => *v as usize,
        _ => ALLOW,
    };
    let window = text(Out::WindowStart).and_then(|start| Some((start, text(Out::WindowEnd)?)));
    if effect == ALLOW && window.is_none() {
        return Some(None);
    }
    Some(Some(ConstSaid {
        effect,
        until: match value(Out::Until) {
            Some((_, Value::Date(u))) => Some(*u),
            _ => None,
        },
        channel: text(Out::Channel),
        reason: text(Out::Reason),
        window,
    }))
}

/// Whether `table` can be a quiet rail at all: one param (`action`), one
/// result, and a default that is a constant `allow` without a window.
fn quiet_by_default(table: &crate::lang::ir::Table, role: &Role) -> bool {
    use crate::lang::ir::HitPolicy;
    if table.for_each.is_some()
        || table.params.len() != 1
        || matches!(table.hit, HitPolicy::Collect | HitPolicy::RuleOrder)
    {
        return false;
    }
    let Some(default) = table.default.as_ref() else {
        return false;
    };
    // `None`: the table has no such column; `Some(None)`: not a constant.
    let out = |o: Out| role.col(o).and_then(|i| default.get(i)).map(constant);
    let is_null = |o: Out| matches!(out(o), None | Some(Some(Value::Null)));
    out(Out::Effect) == Some(Some(Value::Enum(ALLOW as u32)))
        && (is_null(Out::WindowStart) || is_null(Out::WindowEnd))
}

/// What is known of an input before the rail is evaluated (`kinds`: the
/// `action` record of each `guarded_action` variant, its other fields null).
fn known(e: &crate::lang::ir::TExpr, kinds: &[Value]) -> Known {
    let (mut reads_kind, mut reads_account, mut other) = (false, false, false);
    reads(e, &mut reads_kind, &mut reads_account, &mut other);
    if other || (reads_kind && reads_account) {
        empty_lists(e).map_or(Known::No, Known::ByAccount)
    } else if reads_account {
        Known::ByAccount(Vec::new())
    } else {
        Known::ByKind(
            kinds
                .iter()
                .map(|record| {
                    crate::lang::semantics::eval_standalone(
                        e,
                        &Value::Null,
                        NaiveDate::MIN,
                        std::slice::from_ref(record),
                    )
                    .ok()
                })
                .collect(),
        )
    }
}

/// The account lists (field paths) whose comprehensions hold every read of
/// `e` that is not of the account or `as_of`: `e` has the same value for
/// every proposal when each of them is empty (or null). `None` when `e`
/// reads the proposal, an input or a table outside such a comprehension.
fn empty_lists(e: &crate::lang::ir::TExpr) -> Option<Vec<Vec<u32>>> {
    use crate::lang::ir::{TExpr, TExprKind};
    fn account_path(mut e: &TExpr) -> Option<Vec<u32>> {
        let mut slots = Vec::new();
        while let TExprKind::Field(base, slot) = &e.kind {
            slots.push(*slot);
            e = base;
        }
        slots.reverse();
        (matches!(e.kind, TExprKind::Account) && !slots.is_empty()).then_some(slots)
    }
    fn walk(e: &TExpr, lists: &mut Vec<Vec<u32>>) -> bool {
        match &e.kind {
            TExprKind::Each(each) => match account_path(&each.list) {
                Some(path) => {
                    lists.push(path);
                    true
                }
                None => {
                    walk(&each.list, lists)
                        && [&each.filter, &each.body]
                            .into_iter()
                            .flatten()
                            .all(|x| walk(x, lists))
                }
            },
            TExprKind::Const(_) | TExprKind::Account | TExprKind::AsOf => true,
            // The param is local 0; others are comprehension variables.
            TExprKind::Local(n) => *n != 0,
            TExprKind::Input(_) | TExprKind::TableOutput { .. } => false,
            TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => {
                walk(b, lists)
            }
            TExprKind::Binary(_, a, b) => walk(a, lists) && walk(b, lists),
            TExprKind::Call(_, args) => args.iter().all(|a| walk(a, lists)),
        }
    }
    let mut lists = Vec::new();
    (walk(e, &mut lists) && !lists.is_empty()).then_some(lists)
}

/// `e`'s value when it reads nothing (no account, `as_of`, param, input or
/// table): only such an expression is folded here.
fn constant(e: &crate::lang::ir::TExpr) -> Option<Value> {
    let (mut kind, mut account, mut other) = (false, false, false);
    reads(e, &mut kind, &mut account, &mut other);
    if kind || account || other {
        return None;
    }
    crate::lang::semantics::eval_constant(e)
}

/// What `e` reads: `action.type` or `action.channel` (fields 0 and 1 of the
/// only param), the account or `as_of`, or anything else.
fn reads(e: &crate::lang::ir::TExpr, kind: &mut bool, account: &mut bool, other: &mut bool) {
    use crate::lang::ir::TExprKind;
    match &e.kind {
        TExprKind::Const(_) => {}
        TExprKind::Account | TExprKind::AsOf => *account = true,
        // A comprehension's own variable (the param is local 0).
        TExprKind::Local(n) => *other |= *n == 0,
        TExprKind::Field(base, slot) if matches!(base.kind, TExprKind::Local(0)) => {
            if *slot <= 1 {
                *kind = true;
            } else {
                *other = true;
            }
        }
        TExprKind::Input(_) | TExprKind::TableOutput { .. } => *other = true,
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => {
            reads(b, kind, account, other)
        }
        TExprKind::Binary(_, a, b) => {
            reads(a, kind, account, other);
            reads(b, kind, account, other);
        }
        TExprKind::Call(_, args) => args.iter().for_each(|a| reads(a, kind, account, other)),
        TExprKind::Each(each) => {
            reads(&each.list, kind, account, other);
            for x in [&each.filter, &each.body].into_iter().flatten() {
                reads(x, kind, account, other);
            }
        }
    }
}

impl<'p> Ctx<'p, '_> {
    /// The rules that left this run, on or after the severance day, without
    /// a service agreement to sever: every SA excluded (`exclude_severance`)
    /// or the nomination withheld by a rail, and none nominated; and those
    /// SAs. A `start_severance` event due then is withheld with them: a
    /// severance with no eligible SA must not start. `None` when an SA is
    /// nominated or the run decided nothing about severance.
    fn severance_without_sa(&self) -> Option<(Rules<'p>, Vec<String>)> {
        let mut rules = Rules::new();
        let mut left_out: Vec<String> = Vec::new();
        for a in &self.actions {
            let sas = match &a.kind {
                ActionKind::NominateSeverance { .. } => return None,
                ActionKind::ExcludeSeverance { sa, .. } => std::slice::from_ref(sa),
                ActionKind::Withhold { action, sas, .. } if **action == *"nominate_severance" => {
                    sas.as_slice()
                }
                _ => continue,
            };
            for sa in sas {
                if !left_out.contains(sa) {
                    left_out.push(sa.clone());
                }
            }
            for r in &a.rules {
                if !rules.contains(r) {
                    rules.push(r.clone());
                }
            }
        }
        (!rules.is_empty()).then_some((rules, left_out))
    }

    /// `verdict` on a pending `start_severance` event, unless the rails
    /// allow it today when no SA is nominated (`no_sa`, the rules that left
    /// none): then it is withheld with those rules.
    fn severance_checked(
        &self,
        verdict: Verdict<'p>,
        proposal: &Proposal<'p>,
        no_sa: Option<&Rules<'p>>,
    ) -> Verdict<'p> {
        match (&verdict, no_sa) {
            (
                Verdict::Allow {
                    proposal: moved, ..
                },
                Some(rules),
            ) if *proposal.kind == *"start_severance"
                && moved.as_ref().unwrap_or(proposal).date <= self.as_of =>
            {
                Verdict::Withhold {
                    rules: rules.clone(),
                    until: None,
                    reason: Some("no service agreement is nominated for severance".into()),
                    cancel: false,
                }
            }
            _ => verdict,
        }
    }
}

/// A contact a run allows, as the case system will record it once carried
/// out ([`case::execute_due`](crate::policy::case::execute_due)).
struct AllowedContact {
    channel: Channel,
    /// The contact as a record of `contact`, as the case will hold it.
    record: Value,
}

/// The contacts allowed so far in one run (a run schedules a few).
type Allowed = SmallVec<[AllowedContact; 4]>;

impl<'p> Ctx<'p, '_> {
    /// [`Ctx::judge`], with the contacts this run allowed before `proposal`
    /// counted among the account's contacts (`account.contacts`), so that
    /// a per-period limit (Reg F's 7 in 7) counts the other calls of the same
    /// run, not only those already made. A rail that reads the contacts only
    /// in comprehensions over them reads those of the channels it counts
    /// after the account's ([`Overlay`]); one that reads them otherwise is asked
    /// on a copy of the account with them. A contact it allows is added to
    /// `allowed`.
    fn judge_counted(
        &mut self,
        proposal: &Proposal<'p>,
        allowed: &mut Allowed,
    ) -> Result<Verdict<'p>> {
        let policy = self.policy;
        let plan = &policy.guard_plan;
        let Some(counted) = plan.counted.as_ref() else {
            return self.judge(proposal, &[]);
        };
        let reading = match plan.kind_of(&proposal.kind) {
            Some(kind) if !allowed.is_empty() => counted.reading(plan, kind),
            _ => Reader::No,
        };
        let verdict = match reading {
            Reader::No => self.judge(proposal, &[])?,
            Reader::Overlay { channels } => {
                let added: SmallVec<[Value; 4]> = allowed
                    .iter()
                    .filter(|c| channels & channel_bit(c.channel) != 0)
                    .map(|c| c.record.clone())
                    .collect();
                self.judge(proposal, &added)?
            }
            Reader::Copy => match counted.account_with(self.account, allowed) {
                Some(account) => self.judge_on(&account, proposal)?,
                None => self.judge(proposal, &[])?,
            },
        };
        if let Verdict::Allow {
            proposal: moved, ..
        } = &verdict
        {
            let p = moved.as_ref().unwrap_or(proposal);
            if let (Some(_), Some(channel)) = (&p.event, Channel::of_event(&p.kind)) {
                allowed.push(AllowedContact {
                    channel,
                    record: counted.contact(p.date, p.time.as_deref(), channel),
                });
            }
        }
        Ok(verdict)
    }

    /// [`Ctx::judge`] as if the account were `account`; the rails' decisions
    /// are kept with this account's.
    fn judge_on(&mut self, account: &Value, proposal: &Proposal<'p>) -> Result<Verdict<'p>> {
        let policy = self.policy;
        let trace = self.tables.traced();
        let mut ctx = Ctx::new(
            policy,
            account,
            self.as_of,
            trace,
            self.needed_only,
            Default::default(),
            Vec::new(),
        );
        let verdict = ctx.judge(proposal, &[])?;
        let evaluation = ctx.tables.evaluation;
        let rail = |table: u32| policy.roles.guards.iter().any(|r| r.table == table);
        // One trace per decision kept, as in `ask_rail`.
        let mut kept: SmallVec<[u32; 4]> = SmallVec::new();
        for d in evaluation.decisions {
            if rail(d.table) {
                let table = d.table;
                if self.record_decision(d) {
                    kept.push(table);
                }
            }
        }
        let traces = evaluation
            .trace
            .into_iter()
            .filter(|t| kept.contains(&t.table));
        self.tables.evaluation.trace.extend(traces);
        Ok(verdict)
    }
}

/// A channel's bit in [`Reader::Overlay`]'s `channels`.
fn channel_bit(channel: Channel) -> u8 {
    1 << channel as u8
}

/// How a rail reads the account's contacts (`account.contacts`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reader {
    /// Not at all.
    No,
    /// Only as the list of comprehensions, which count contacts of these
    /// channels only (a bit per [`Channel`]; a comprehension whose filter
    /// has `c.channel = <variant>`, or an `or` of such tests, among its
    /// top-level `and`s skips the others, and what it tests of them before
    /// can fail on none): the run's contacts are an [`Overlay`].
    Overlay { channels: u8 },
    /// Otherwise (the whole case or account, the list as a value, another
    /// table): asked on a copy of the account with the run's contacts.
    Copy,
}

impl Reader {
    /// What a pack of rails, each reading as `self` or `other`, reads.
    fn and(self, other: Reader) -> Reader {
        match (self, other) {
            (Reader::Copy, _) | (_, Reader::Copy) => Reader::Copy,
            (Reader::No, r) | (r, Reader::No) => r,
            (Reader::Overlay { channels: a }, Reader::Overlay { channels: b }) => {
                Reader::Overlay { channels: a | b }
            }
        }
    }
}

/// Where a contact the run allows goes among the account's contacts (its
/// history across cases, `policy::case::CONTACTS_FIELD`), for the rails that
/// read them ([`Ctx::judge_counted`]).
#[derive(Debug)]
struct Counted {
    contacts: usize,
    /// `[contacts]`: the field path of the account's contacts.
    path: [u32; 1],
    contact_fields: usize,
    date: usize,
    time: Option<usize>,
    channel: usize,
    outcome: usize,
    /// Per [`Channel`] (letter, call, email, SMS): its `contact_channel` variant.
    channels: [u32; 4],
    /// The `contact_outcome` variants a carried-out call and other contact record.
    attempted: u32,
    sent: u32,
    /// Per rail: how it reads `account.contacts`.
    readers: Vec<Reader>,
}

impl Counted {
    fn new(plan: &crate::lang::compile::Plan, guards: &[Role]) -> Option<Counted> {
        let schema = plan.schema();
        let account = schema.account();
        let contacts = account.slot(crate::policy::case::CONTACTS_FIELD)?;
        let contact_def = schema.record(crate::data::schema::record_of(
            &account.fields[contacts].ty,
        )?);
        let enum_of = |slot: usize| match contact_def.fields[slot].ty {
            crate::types::Type::Enum(e) => Some(e),
            _ => None,
        };
        let channel = contact_def.slot("channel")?;
        let outcome = contact_def.slot("outcome")?;
        let (channel_enum, outcome_enum) = (enum_of(channel)?, enum_of(outcome)?);
        let variant = |name: &str| schema.variant(channel_enum, name);
        let path = [contacts as u32];
        let channels = [
            variant(Channel::Letter.name())?,
            variant(Channel::Call.name())?,
            variant(Channel::Email.name())?,
            variant(Channel::Sms.name())?,
        ];
        let readers: Vec<Reader> = guards
            .iter()
            .map(|role| {
                let table = &plan.tables[role.table as usize].table;
                contact_reader(table, &path, channel as u32, &channels)
            })
            .collect();
        if readers.iter().all(|r| *r == Reader::No) {
            return None;
        }
        Some(Counted {
            contacts,
            path,
            contact_fields: contact_def.fields.len(),
            date: contact_def.slot("date")?,
            time: contact_def.slot("time"),
            channel,
            outcome,
            channels,
            attempted: schema.variant(outcome_enum, ContactOutcome::Attempted.name())?,
            sent: schema.variant(outcome_enum, ContactOutcome::Sent.name())?,
            readers,
        })
    }

    /// How the rails asked about proposals of `kind` read the account's contacts.
    fn reading(&self, plan: &GuardPlan, kind: u32) -> Reader {
        let readers = &self.readers;
        match plan.asked.get(kind as usize) {
            Some(asked) => asked
                .iter()
                .map(|a| readers[a.rail])
                .fold(Reader::No, Reader::and),
            None => readers.iter().copied().fold(Reader::No, Reader::and),
        }
    }

    /// `account` with the `allowed` contacts added to its contacts; `None`
    /// when it is not a record.
    fn account_with(&self, account: &Value, allowed: &[AllowedContact]) -> Option<Value> {
        let Value::Record(fields) = account else {
            return None;
        };
        let mut fields = fields.to_vec();
        let contacts = fields.get_mut(self.contacts)?;
        let mut list = match contacts {
            Value::List(l) => l.to_vec(),
            Value::Null => Vec::new(),
            _ => return None,
        };
        list.extend(allowed.iter().map(|c| c.record.clone()));
        *contacts = Value::List(list.into());
        Some(Value::Record(fields.into()))
    }

    /// The record of a contact on `date` (at `time`) on `channel`, carried out.
    fn contact(&self, date: NaiveDate, time: Option<&str>, channel: Channel) -> Value {
        let mut f = vec![Value::Null; self.contact_fields];
        f[self.date] = Value::Date(date);
        if let (Some(slot), Some(t)) = (self.time, time) {
            f[slot] = Value::Text(t.into());
        }
        f[self.channel] = Value::Enum(self.channels[channel as usize]);
        f[self.outcome] = Value::Enum(match channel.outcome_when_carried_out() {
            ContactOutcome::Attempted => self.attempted,
            _ => self.sent,
        });
        Value::Record(f.into())
    }
}

/// How `table` reads the account list at `path` (the account's contacts,
/// whose `channel` field is slot `channel` and whose `contact_channel`
/// variants per [`Channel`] are `variants`).
fn contact_reader(
    table: &crate::lang::ir::Table,
    path: &[u32],
    channel: u32,
    variants: &[u32; 4],
) -> Reader {
    use crate::lang::ir::TTest;
    let cells = table
        .rows
        .iter()
        .flat_map(|r| &r.cells)
        .flat_map(|c| &c.tests);
    let tested = cells.flat_map(|t| match t {
        TTest::Compare(_, e) => vec![e],
        TTest::Range { low, high, .. } => vec![low, high],
    });
    table
        .inputs
        .iter()
        .map(|i| &i.expr)
        .chain(tested)
        .chain(table.rows.iter().flat_map(|r| &r.outputs))
        .chain(table.default.iter().flatten())
        .chain(table.for_each.iter().map(|f| &f.list))
        .map(|e| list_reader(e, path, channel, variants))
        .fold(Reader::No, Reader::and)
}

/// How `e` reads the account list at `path` (the contacts, as
/// [`contact_reader`] reads a rail's): not at all, in comprehensions over it
/// (of the channels their filters let through), or otherwise. An input read
/// is not followed: a rail's inputs are read each in turn.
fn list_reader(
    e: &crate::lang::ir::TExpr,
    path: &[u32],
    channel: u32,
    variants: &[u32; 4],
) -> Reader {
    use crate::lang::ir::{BinOp, TExpr, TExprKind};
    /// The account field path `e` names (`None`: it is not one).
    fn account_path(e: &TExpr) -> Option<Vec<u32>> {
        let mut slots = Vec::new();
        let mut at = e;
        while let TExprKind::Field(base, slot) = &at.kind {
            slots.push(*slot);
            at = base;
        }
        slots.reverse();
        matches!(at.kind, TExprKind::Account).then_some(slots)
    }
    /// The channels a comprehension over the list with item `local` and
    /// this filter counts: those its tests `c.channel = <variant>` let
    /// through, each a conjunct of the filter's top-level `and`s, in any
    /// place (all: no such conjunct; a test under `or` or `not` says
    /// nothing). A test after a conjunct that could fail on an item of
    /// another channel (arithmetic on the item) is not read: the copy
    /// would raise that error, the overlay skips the item.
    fn counted_channels(
        filter: Option<&TExpr>,
        local: u32,
        channel: u32,
        variants: &[u32; 4],
    ) -> u8 {
        fn conjuncts<'e>(e: &'e TExpr, out: &mut Vec<&'e TExpr>) {
            match &e.kind {
                TExprKind::Binary(BinOp::And, l, r) => {
                    conjuncts(l, out);
                    conjuncts(r, out);
                }
                _ => out.push(e),
            }
        }
        let is_channel = |e: &TExpr| {
            matches!(&e.kind, TExprKind::Field(b, s)
                if *s == channel && matches!(b.kind, TExprKind::Local(i) if i == local))
        };
        let variant = |e: &TExpr| match &e.kind {
            TExprKind::Const(Value::Enum(v)) => Some(*v),
            _ => None,
        };
        let mut tests = Vec::new();
        if let Some(filter) = filter {
            conjuncts(filter, &mut tests);
        }
        // The channels `c.channel = <variant>`, or an `or` of such tests, lets through.
        fn channels_of(
            e: &TExpr,
            is_channel: &dyn Fn(&TExpr) -> bool,
            variant: &dyn Fn(&TExpr) -> Option<u32>,
            variants: &[u32; 4],
        ) -> Option<u8> {
            match &e.kind {
                TExprKind::Binary(BinOp::Compare(CompareOp::Eq), l, r) => {
                    let v = match (is_channel(l), is_channel(r)) {
                        (true, _) => variant(r),
                        (_, true) => variant(l),
                        _ => None,
                    }?;
                    // A variant no run contact has lets none of them through.
                    Some(variants.iter().position(|x| *x == v).map_or(0, |c| 1 << c))
                }
                TExprKind::Binary(BinOp::Or, a, b) => Some(
                    channels_of(a, is_channel, variant, variants)?
                        | channels_of(b, is_channel, variant, variants)?,
                ),
                _ => None,
            }
        }
        let mut counted = u8::MAX;
        for test in tests {
            counted &= match channels_of(test, &is_channel, &variant, variants) {
                Some(bits) => bits,
                None if item_safe(test, local) => u8::MAX,
                None => return counted,
            };
        }
        counted
    }
    /// Whether evaluating `e` on an item can fail only as it would on any
    /// other item: what it reads of the item is only compared, never
    /// computed with.
    fn item_safe(e: &TExpr, local: u32) -> bool {
        if !crate::lang::compile::mentions_local(e, local) {
            return true;
        }
        match &e.kind {
            TExprKind::Local(_) => true,
            TExprKind::Field(b, _) => item_safe(b, local),
            TExprKind::Unary(crate::lang::syntax::ast::UnaryOp::Not, b) => item_safe(b, local),
            TExprKind::Binary(BinOp::And | BinOp::Or | BinOp::Compare(_), a, b) => {
                item_safe(a, local) && item_safe(b, local)
            }
            _ => false,
        }
    }
    if let Some(slots) = account_path(e) {
        let overlaps = slots.starts_with(path) || path.starts_with(&slots);
        return match overlaps {
            true => Reader::Copy,
            false => Reader::No,
        };
    }
    let all = |es: &mut dyn Iterator<Item = &TExpr>| {
        es.map(|x| list_reader(x, path, channel, variants))
            .fold(Reader::No, Reader::and)
    };
    match &e.kind {
        TExprKind::Const(_) | TExprKind::AsOf | TExprKind::Local(_) | TExprKind::Input(_) => {
            Reader::No
        }
        TExprKind::Account | TExprKind::TableOutput { .. } => Reader::Copy,
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => {
            list_reader(b, path, channel, variants)
        }
        TExprKind::Binary(_, a, b) => all(&mut [&**a, &**b].into_iter()),
        TExprKind::Call(_, args) => all(&mut args.iter()),
        TExprKind::Each(each) => {
            let parts = all(&mut [&each.filter, &each.body].into_iter().flatten());
            let list = match account_path(&each.list) {
                Some(slots) if slots == path => Reader::Overlay {
                    channels: counted_channels(each.filter.as_ref(), each.local, channel, variants),
                },
                _ => list_reader(&each.list, path, channel, variants),
            };
            list.and(parts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Values;

    /// Only an expression that reads nothing is folded: a cell or default
    /// reading the account, `as_of` or an input would fold to a wrong
    /// constant (null) without an account.
    #[test]
    fn only_expressions_that_read_nothing_are_constants() {
        use crate::lang::ir::{TExpr, TExprKind};
        use crate::types::Type;
        let e = |kind| TExpr {
            kind,
            ty: Type::Integer,
        };
        let field = |base| e(TExprKind::Field(Box::new(base), 0));
        assert_eq!(
            constant(&e(TExprKind::Const(Value::Int(7)))),
            Some(Value::Int(7))
        );
        assert_eq!(constant(&field(e(TExprKind::Account))), None);
        assert_eq!(constant(&e(TExprKind::AsOf)), None);
        assert_eq!(constant(&e(TExprKind::Input(0))), None);
        assert_eq!(constant(&field(e(TExprKind::Local(0)))), None);
    }

    /// The shipped rails. Whatever the account: the call-frequency rail says
    /// nothing about a letter and the disconnection rail nothing about a call,
    /// while both are asked about what they govern, and so is a rail whose
    /// rows read the account. For an account: the bankruptcy-and-death rail
    /// is quiet unless the account is bankrupt (or deceased).
    #[test]
    fn a_rail_is_quiet_only_where_none_of_its_rows_can_match() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let loaded = crate::policy::load(&root).expect("rules load");
        let policy = loaded.policy.as_ref().expect("shipped policy");
        let schema = policy.plan.schema();
        let plan = &policy.guard_plan;
        let rail = |name: &str| {
            let g = rail_index(policy, name);
            (
                g,
                &policy.plan.tables[policy.roles.guards[g].table as usize].table,
            )
        };
        let kind = |name: &str| {
            let e = schema.enum_by_name("guarded_action").expect("enum");
            schema.variant(e, name).expect("kind")
        };
        let quiet = |name: &str, k: &str| plan.quiet(rail(name).0, kind(k), |_| false);
        let e = schema.enum_by_name("guarded_action").expect("enum");
        for name in schema
            .enum_def(e)
            .variants
            .iter()
            .map(String::as_str)
            .chain(["", "cal", "callx", "letter"])
        {
            assert_eq!(plan.kind_of(name), schema.variant(e, name), "{name}");
        }
        for k in ["send_letter", "nominate_severance", "offer_payment_plan"] {
            assert!(quiet("reg_f", k), "reg_f / {k}");
        }
        // Every timed contact carries the 8 a.m.-9 p.m. window (1006.6(b)(1)(i)).
        for k in ["call", "sms", "email"] {
            assert!(!quiet("reg_f", k), "reg_f / {k}");
        }
        for k in ["send_letter", "call", "offer_payment_plan"] {
            assert!(
                quiet("utility_disconnection", k),
                "utility_disconnection / {k}"
            );
            assert!(!quiet("stay_and_deceased", k), "stay_and_deceased / {k}");
        }
        assert!(!quiet("utility_disconnection", "nominate_severance"));
        assert!(!quiet("utility_disconnection", "start_severance"));
        // An account with nothing set, then the same account bankrupt.
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let record = schema.account();
        let unset = Value::Record(vec![Value::Null; record.fields.len()].into());
        let bankrupt = {
            let mut fields = vec![Value::Null; record.fields.len()];
            fields[record.slot("bankruptcy").expect("slot")] = Value::Bool(true);
            Value::Record(fields.into())
        };
        let (g, _) = rail("stay_and_deceased");
        let table = &policy.plan.tables[policy.roles.guards[g].table as usize];
        let quiet_for = |account: &Value, k: &str| {
            let mut values: [Option<Option<Value>>; KEPT_VALUES] = Default::default();
            plan.quiet(g, kind(k), |cells| {
                cells
                    .iter()
                    .any(|c| c.rules_out(table, account, as_of, &mut values))
            })
        };
        assert!(quiet_for(&bankrupt, "affect_credit_rating"));
        assert!(!quiet_for(&bankrupt, "send_letter"));
        assert!(quiet_for(&unset, "send_letter"));
    }

    /// The sample accounts, varied in every field a shipped rail reads.
    fn varied_accounts(schema: &crate::data::schema::Schema) -> Vec<Value> {
        use serde_json::{json, Value as Json};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let samples =
            std::fs::read_to_string(root.join("samples/accounts.jsonl")).expect("samples");
        // Each variation sets fields of the account, or of each service agreement (`sa.`).
        let variations: Vec<Vec<(&str, Json)>> = vec![
            vec![],
            vec![("jurisdiction", json!("GB")), ("hardship", json!(true))],
            vec![
                ("jurisdiction", json!("MA")),
                ("contact_invalid", json!(true)),
            ],
            vec![("bankruptcy", json!(true)), ("deceased", json!(true))],
            vec![
                ("written_dispute_date", json!("2026-10-01")),
                ("validation_notice_date", json!("2026-09-01")),
            ],
            vec![
                ("written_dispute_date", json!("2026-10-01")),
                ("validation_notice_date", json!("2026-08-01")),
            ],
            vec![
                ("written_dispute_date", json!("2026-10-01")),
                ("validation_notice_date", json!("2026-08-23")),
                ("dispute_verified_date", json!("2026-11-30")),
            ],
            vec![("written_dispute_date", json!("2026-10-01"))],
            vec![
                ("sa.life_support", json!(true)),
                ("sa.space_heating", json!(true)),
            ],
            vec![
                ("sa.space_heating", json!(false)),
                ("sa.medical_certificate_until", json!("2026-12-01")),
            ],
            vec![
                ("forecast_low_f", json!("31.5")),
                ("forecast_high_f", json!("90")),
                ("jurisdiction", json!("IL")),
            ],
        ];
        let mut accounts = Vec::new();
        for line in samples.lines() {
            let base: Json = serde_json::from_str(line).expect("json");
            for variation in &variations {
                let mut json = base.clone();
                for (field, value) in variation {
                    match field.strip_prefix("sa.") {
                        Some(field) => {
                            for sa in json["service_agreements"].as_array_mut().expect("sas") {
                                sa[field] = value.clone();
                            }
                        }
                        None => json[*field] = value.clone(),
                    }
                }
                accounts
                    .push(crate::data::snapshot::decode_account(schema, &json).expect("decodes"));
            }
        }
        accounts
    }

    /// The shipped rules in a temporary copy, with `file` (under `rules/`)
    /// edited: each `(from, to)` replaced once.
    /// The index among the policy's guard rails of the rail table `name`.
    fn rail_index(policy: &crate::policy::Policy, name: &str) -> usize {
        policy
            .roles
            .guards
            .iter()
            .position(|r| policy.plan.tables[r.table as usize].table.name == name)
            .expect("rail")
    }

    fn rules_edited(file: &str, edits: &[(&str, &str)]) -> tempfile::TempDir {
        fn copy(from: &std::path::Path, to: &std::path::Path) {
            std::fs::create_dir_all(to).expect("mkdir");
            for entry in std::fs::read_dir(from).expect("read dir") {
                let entry = entry.expect("entry");
                let target = to.join(entry.file_name());
                if entry.file_type().expect("type").is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), target).expect("copy");
                }
            }
        }
        let dir = tempfile::tempdir().expect("temp dir");
        copy(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
            dir.path(),
        );
        let file = dir.path().join(file);
        let mut text = std::fs::read_to_string(&file).expect("rule file");
        for (from, to) in edits {
            assert!(text.contains(from), "`{from}` not found");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(&file, text).expect("write");
        dir
    }

    /// The shipped rules, in a temporary copy whose disputes rail tests its
    /// computed `disputed` in two rows (so that it is kept per account).
    fn rules_with_a_shared_computed_input() -> tempfile::TempDir {
        let row = "\n  - id: disputed_severance\n    description: A second row on the same computed input.\n    when: { disputed: \"true\", collects: \"false\" }\n    then: { effect: withhold, reason: '\"disputed\"' }\n";
        rules_edited(
            "guardrails/disputes.yaml",
            &[("\ndefault:", &format!("{row}\ndefault:"))],
        )
    }

    /// How reg_f reads the account's contacts with its two counts' filters
    /// written `first` and `second` (`{}` the conversation count's extra test).
    fn reg_f_reader(first: &str, second: &str) -> Reader {
        let calls = "c.channel = call and c.date > action.date - 7 days and c.date <= action.date";
        let talks = "c.channel = call and c.outcome = reached and c.date > action.date - 7 days and c.date <= action.date";
        let calls_and_texts = "(c.channel = call or c.channel = sms) and c.date > action.date - 7 days and c.date <= action.date";
        let dir = rules_edited(
            "guardrails/reg_f.yaml",
            &[
                (calls, first),
                (calls_and_texts, first),
                (talks, &second.replace("{}", "c.outcome = reached")),
            ],
        );
        let loaded = crate::policy::load(dir.path()).expect("rules load");
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let policy = loaded.policy.as_ref().expect("policy");
        let reg_f = rail_index(policy, "reg_f");
        let counted = policy.guard_plan.counted.as_ref().expect("reg_f counts");
        counted.readers[reg_f]
    }

    /// A count's channel test is read from any conjunct of its filter's
    /// top-level `and`, first or last, an `or` of channel tests as each of
    /// its channels; not under `not`, nor after a conjunct that computes
    /// with the item (it could fail on a contact of another channel, which
    /// the overlay leaves out).
    #[test]
    fn the_counted_channel_is_read_from_any_top_level_conjunct() {
        let calls = Reader::Overlay {
            channels: channel_bit(Channel::Call),
        };
        let all = Reader::Overlay { channels: u8::MAX };
        let first = "c.channel = call and c.date > action.date - 7 days and c.date <= action.date";
        let last = "c.date > action.date - 7 days and c.date <= action.date and c.channel = call";
        let middle = "c.date > action.date - 7 days and c.channel = call and c.date <= action.date";
        let talks_last =
            "{} and c.date > action.date - 7 days and c.date <= action.date and c.channel = call";
        let talks_first =
            "c.channel = call and {} and c.date > action.date - 7 days and c.date <= action.date";
        assert_eq!(reg_f_reader(first, talks_first), calls);
        assert_eq!(reg_f_reader(last, talks_last), calls);
        assert_eq!(reg_f_reader(middle, talks_first), calls);
        // An `or` of channel tests counts each of its channels.
        let either = "(c.channel = call or c.channel = sms) and c.date > action.date - 7 days and c.date <= action.date";
        let calls_and_texts = Reader::Overlay {
            channels: channel_bit(Channel::Call) | channel_bit(Channel::Sms),
        };
        assert_eq!(reg_f_reader(either, talks_first), calls_and_texts);
        // An `or` with another test does not restrict what is counted, nor does `not`.
        let or_other = "(c.channel = call or c.outcome = reached) and c.date <= action.date";
        assert_eq!(reg_f_reader(or_other, talks_first), all);
        let negated =
            "not(c.channel != call) and c.date > action.date - 7 days and c.date <= action.date";
        assert_eq!(reg_f_reader(negated, talks_last), all);
        // After arithmetic on the item: every channel, as before.
        let computed =
            "c.date + 1 days > action.date - 6 days and c.date <= action.date and c.channel = call";
        assert_eq!(reg_f_reader(computed, talks_first), all);
        // Two tests that no contact passes both of: none is added.
        let none = "c.channel = call and c.channel = sms and c.date <= action.date";
        let talks_none = "c.channel = sms and {} and c.channel = call";
        assert_eq!(
            reg_f_reader(none, talks_none),
            Reader::Overlay { channels: 0 }
        );
    }

    /// The quiet rails read their account-only inputs as the evaluator does
    /// (a field in place, a computed one by its compiled code, kept per
    /// account when several rows test it): on accounts varied in every
    /// field a rail reads, every such input has the value the tree-walking
    /// interpreter gives it, and `run_needed` (which skips quiet rails) gives
    /// the actions of `run` (which evaluates every rail).
    #[test]
    fn account_inputs_read_as_the_interpreter_computes_them() {
        let edited = rules_with_a_shared_computed_input();
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        // Kept (two rows test each; at most `KEPT_VALUES` per account): reg_f's
        // `calls_in_7_days` and utility_disconnection's `in_il`; with the edit, the disputes
        // input takes the second place.
        for (rules, kept) in [(shipped.as_path(), 2), (edited.path(), 2)] {
            let loaded = crate::policy::load(rules).expect("rules load");
            assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
            let policy = loaded.policy.as_ref().expect("policy");
            let plan = &policy.guard_plan;
            let kept_here = plan
                .rails
                .iter()
                .flatten()
                .flat_map(|rail| rail.by_account.iter().flatten())
                .filter(|c| matches!(c.read, AccountInput::Computed { memo: Some(_), .. }))
                .count();
            // Each kept input is counted once per row that tests it.
            assert_eq!(kept_here, 2 * kept);
            let (mut computed, mut computed_true, mut paths, mut same) = (0, 0, 0, 0);
            let mut unknown = 0;
            for account in varied_accounts(policy.plan.schema()) {
                let mut values: [Option<Option<Value>>; KEPT_VALUES] = Default::default();
                for (g, rail) in plan.rails.iter().enumerate() {
                    let Some(rail) = rail else { continue };
                    let table = &policy.plan.tables[policy.roles.guards[g].table as usize];
                    for c in rail.by_account.iter().flatten() {
                        let reference = crate::lang::semantics::eval_standalone(
                            &table.table.inputs[c.input].expr,
                            &account,
                            as_of,
                            &[Value::Null],
                        )
                        .ok();
                        let read = c
                            .value(table, &account, as_of, &mut values)
                            .map(Cow::into_owned);
                        // Unknown only when computing fails, or the account's lists are not empty.
                        match (&read, &c.read) {
                            (None, AccountInput::Computed { empty, .. }) if !empty.is_empty() => {
                                unknown += 1
                            }
                            _ => assert_eq!(read, reference, "{} input {}", table.name, c.input),
                        }
                        match c.read {
                            AccountInput::Computed { .. } => {
                                computed += 1;
                                computed_true += usize::from(read == Some(Value::Bool(true)));
                            }
                            AccountInput::Path(_) => paths += 1,
                        }
                    }
                }
                for date in ["2026-01-15", "2026-11-22"] {
                    let as_of = date.parse().expect("date");
                    let all = crate::policy::run(policy, &account, as_of, false);
                    let needed = crate::policy::run_needed(policy, &account, as_of);
                    if let (Ok(all), Ok(needed)) = (all, needed) {
                        assert_eq!(all.actions, needed.actions, "{date}");
                        same += 1;
                    }
                }
            }
            // Both ways of reading were compared, and computed inputs took both values.
            assert!(paths > 100 && computed > 50, "{paths} {computed}");
            assert!(
                computed_true > 10 && computed_true < computed,
                "{computed_true}"
            );
            assert!(same > 50, "{same}");
            assert!(unknown > 0, "{unknown}");
        }
    }

    /// A cell's equality tests on flags or variants (one or two of them,
    /// matched by [`Equals`] when they are all of one kind) say what
    /// `semantics::compare` says, whatever the values' kinds; so does a
    /// cell mixing them with another test.
    #[test]
    fn equality_on_flags_and_variants_is_compare() {
        use crate::lang::semantics::compare;
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Enum(0),
            Value::Enum(3),
            Value::Enum(63),
            Value::Enum(64),
            Value::Int(0),
            Value::Int(1),
        ];
        let mut sets: Vec<Vec<&Value>> = values.iter().map(|c| vec![c]).collect();
        for (i, a) in values.iter().enumerate() {
            sets.extend(values[i + 1..].iter().map(|b| vec![a, b]));
        }
        let mut by_bits = 0;
        for set in &sets {
            for negated in [false, true] {
                let tests = set
                    .iter()
                    .map(|c| ConstTest::Compare(CompareOp::Eq, (*c).clone()))
                    .collect();
                let cell = ConstCell::new(negated, set.iter().any(|c| c.is_null()), tests);
                by_bits += usize::from(cell.equals.is_some());
                for v in values.iter().filter(|v| !v.is_null()) {
                    let any = set.iter().any(|c| compare(CompareOp::Eq, v, c));
                    assert_eq!(
                        cell.fails(v),
                        any == negated,
                        "{v:?} in {set:?}, negated {negated}"
                    );
                }
            }
        }
        // Flags, variants below 64, and pairs of one kind.
        assert_eq!(by_bits, 2 * (2 + 3 + 1 + 3), "{by_bits}");
    }

    /// A rail `run_needed` finds quiet for an account gives the default when
    /// evaluated, and one decided by a row without evaluating it gives the
    /// decision evaluating it gives, for every kind of proposal, at any date.
    #[test]
    fn a_rail_decided_without_evaluating_it_decides_as_evaluated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let loaded = crate::policy::load(&root).expect("rules load");
        let policy = loaded.policy.as_ref().expect("shipped policy");
        let plan = &policy.guard_plan;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let (mut decided, mut quiet) = (0, 0);
        for account in varied_accounts(policy.plan.schema()) {
            let mut ctx = Ctx {
                policy,
                account: &account,
                as_of,
                tables: crate::eval::Tables::new(&policy.plan, &account, as_of, false),
                own_calendar: policy.calendar_by.of(&account),
                state: Default::default(),
                actions: Vec::new(),
                needed_only: true,
                guard_memo: Default::default(),
            };
            for (k, asked) in plan.asked.iter().enumerate() {
                for a in asked.iter() {
                    let Some(open) = &a.open else { continue };
                    let walk = ctx.walk(a.rail, open);
                    for (days, time) in [(0, None), (3, Some("07:30")), (40, Some("12:00"))] {
                        let proposal = Proposal {
                            kind: Cow::Borrowed(""),
                            event: Some(Cow::Borrowed("probe")),
                            date: as_of + Days::new(days),
                            time: time.map(Cow::Borrowed),
                            pending: days == 3,
                        };
                        let record = plan.record(k as u32, &proposal);
                        let table = policy.roles.guards[a.rail].table;
                        let (decisions, _) =
                            crate::eval::Tables::new(&policy.plan, &account, as_of, false)
                                .evaluate_with(table, std::slice::from_ref(&record))
                                .expect("evaluates");
                        match walk {
                            Walk::Row(row) => {
                                decided += 1;
                                assert_eq!(
                                    decisions[0].outcome,
                                    Outcome::Row {
                                        row,
                                        also: Vec::new(),
                                        values: Values::Constant
                                    }
                                );
                                assert_eq!((decisions[0].item, &decisions[0].label), (None, &None));
                            }
                            Walk::Quiet => {
                                quiet += 1;
                                assert!(matches!(decisions[0].outcome, Outcome::Default { .. }));
                            }
                            Walk::Evaluate => {}
                        }
                    }
                }
            }
        }
        assert!(decided > 20 && quiet > 20, "{decided} {quiet}");
    }
    /// `run_needed` asks the rails through each kind's open rows, walked
    /// once per account and kind, and a row that decides a rail gives the
    /// answer the plan made for it: on accounts varied in every field a
    /// rail reads, for every kind of proposal at several dates and times,
    /// asked twice (the second time from what the account kept), the rails
    /// say what evaluating every one of them says; and each answer is what
    /// its row's decision reads as.
    #[test]
    fn asking_through_kept_walks_and_answers_says_what_evaluating_says() {
        for rules in [
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
            rules_with_a_shared_computed_input().keep(),
        ] {
            let loaded = crate::policy::load(&rules).expect("rules load");
            let policy = loaded.policy.as_ref().expect("policy");
            let plan = &policy.guard_plan;
            let schema = policy.plan.schema();
            let e = schema.enum_by_name("guarded_action").expect("enum");
            let kinds = &schema.enum_def(e).variants;
            let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
            let (mut said, mut answered, mut evaluated) = (0, 0, 0);
            let accounts = varied_accounts(schema);
            for account in &accounts {
                let ctx = |needed_only| Ctx {
                    policy,
                    account,
                    as_of,
                    tables: crate::eval::Tables::new(&policy.plan, account, as_of, false),
                    own_calendar: policy.calendar_by.of(account),
                    state: Default::default(),
                    actions: Vec::new(),
                    needed_only,
                    guard_memo: Default::default(),
                };
                let (mut needed, mut every) = (ctx(true), ctx(false));
                // Asked with and without contacts the run added (between
                // asks of the account alone, whose memo they must not use or fill).
                let contacts = run_contacts(plan, as_of);
                for kind in kinds {
                    for (days, time) in [(0, None), (3, Some("07:30")), (40, Some("22:00"))] {
                        let proposal = Proposal {
                            kind: Cow::Borrowed(kind.as_str()),
                            event: Some(Cow::Borrowed("probe")),
                            date: as_of + Days::new(days),
                            time: time.map(Cow::Borrowed),
                            pending: days == 3,
                        };
                        for counted in [&[][..], &contacts[..], &[]] {
                            let mut all = SaidAll::new();
                            let asked_all = every.ask(&proposal, counted, &mut all);
                            for _ in 0..2 {
                                let mut some = SaidAll::new();
                                let asked_some = needed.ask(&proposal, counted, &mut some);
                                assert_eq!(asked_some.is_ok(), asked_all.is_ok(), "{kind}");
                                assert_eq!(some, all, "{kind} +{days} days");
                                said += usize::from(!all.is_empty());
                            }
                        }
                    }
                }
                // The same decisions are kept with the account's, in the same order.
                let decisions = |c: &Ctx| format!("{:?}", c.tables.evaluation.decisions);
                assert_eq!(decisions(&needed), decisions(&every));
                evaluated += every.tables.evaluation.decisions.len();
                answered += needed.tables.evaluation.decisions.len();
            }
            // The answers are what their rows' decisions read as.
            let fresh = || Ctx {
                policy,
                account: &accounts[0],
                as_of,
                tables: crate::eval::Tables::new(&policy.plan, &accounts[0], as_of, false),
                own_calendar: policy.calendar_by.of(&accounts[0]),
                state: Default::default(),
                actions: Vec::new(),
                needed_only: true,
                guard_memo: Default::default(),
            };
            let ctx = fresh();
            let mut made = 0;
            for (g, role) in policy.roles.guards.iter().enumerate() {
                for row in 0..policy.plan.tables[role.table as usize].row_refs.len() as u32 {
                    let Some(answer) = plan.answer(g, row) else {
                        continue;
                    };
                    made += 1;
                    let d = Decision {
                        table: role.table,
                        item: None,
                        label: None,
                        outcome: Outcome::constant_row(row),
                    };
                    let read = ctx.said_of(g, &d).expect("reads");
                    let mut from_answer = SaidAll::new();
                    let mut c = fresh();
                    c.answered(g, row, answer, &mut from_answer);
                    assert_eq!(from_answer.into_iter().next(), read, "rail {g} row {row}");
                    assert_eq!(
                        c.tables.evaluation.decisions.len(),
                        usize::from(answer.said.is_some())
                    );
                }
            }
            assert!(made >= 5, "{made}");
            assert!(said > 100 && answered > 20, "{said} {answered} {evaluated}");
        }
    }

    /// Contacts a run may have allowed, as [`Ctx::judge_counted`] records
    /// them: a letter, an SMS and two calls on `as_of` (none: no rail counts).
    fn run_contacts(plan: &GuardPlan, as_of: NaiveDate) -> Vec<Value> {
        let Some(counted) = &plan.counted else {
            return Vec::new();
        };
        let channels = [Channel::Letter, Channel::Sms, Channel::Call, Channel::Call];
        let times = [None, Some("09:00"), None, Some("18:30")];
        channels
            .iter()
            .zip(times)
            .map(|(c, t)| counted.contact(as_of, t, *c))
            .collect()
    }

    /// A rail that counts the account's contacts reads the run's as an overlay
    /// exactly as it would read them added to a copy of the account: the
    /// compiled comprehensions and the reference interpreter alike, with
    /// every run contact or only those of the channels it counts (Reg F
    /// counts calls, and Massachusetts calls and texts: a letter the run
    /// allowed is not read).
    #[test]
    fn a_rail_reads_the_run_contacts_overlay_as_a_copied_account() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let loaded = crate::policy::load(&root).expect("rules load");
        let policy = loaded.policy.as_ref().expect("shipped policy");
        let plan = &policy.guard_plan;
        let counted = plan.counted.as_ref().expect("reg_f counts contacts");
        let schema = policy.plan.schema();
        let reg_f = rail_index(policy, "reg_f");
        assert_eq!(
            counted.readers[reg_f],
            Reader::Overlay {
                channels: channel_bit(Channel::Call) | channel_bit(Channel::Sms)
            }
        );
        let e = schema.enum_by_name("guarded_action").expect("enum");
        let kinds = &schema.enum_def(e).variants;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let contacts = run_contacts(plan, as_of);
        let (mut compared, mut moved) = (0, 0);
        for account in varied_accounts(schema) {
            for n in 0..=contacts.len() {
                let allowed: Vec<AllowedContact> = contacts[..n]
                    .iter()
                    .zip([Channel::Letter, Channel::Sms, Channel::Call, Channel::Call])
                    .map(|(record, channel)| AllowedContact {
                        channel,
                        record: record.clone(),
                    })
                    .collect();
                let copy = counted.account_with(&account, &allowed).expect("a record");
                // All but the letter (the first).
                let calls_and_texts = &contacts[n.min(1)..n];
                for (g, role) in policy.roles.guards.iter().enumerate() {
                    if counted.readers[g] == Reader::No {
                        continue;
                    }
                    for (k, _) in kinds.iter().enumerate() {
                        for days in [0, 3, 9] {
                            let proposal = Proposal {
                                kind: Cow::Borrowed(""),
                                event: Some(Cow::Borrowed("probe")),
                                date: as_of + Days::new(days),
                                time: None,
                                pending: false,
                            };
                            let record = plan.record(k as u32, &proposal);
                            let params = std::slice::from_ref(&record);
                            let on_copy =
                                crate::eval::Tables::new(&policy.plan, &copy, as_of, false)
                                    .evaluate_with(role.table, params);
                            let base =
                                crate::eval::Tables::new(&policy.plan, &account, as_of, false)
                                    .evaluate_with(role.table, params);
                            moved += usize::from(on_copy != base);
                            for added in [&contacts[..n], calls_and_texts] {
                                let overlay = Overlay::new(&counted.path, added);
                                let fast =
                                    crate::eval::Tables::new(&policy.plan, &account, as_of, false)
                                        .evaluate_overlaid(role.table, params, overlay);
                                let reference =
                                    crate::eval::Tables::reference(&policy.plan, &account, as_of)
                                        .evaluate_overlaid(role.table, params, overlay);
                                assert_eq!(fast, on_copy, "rail {g} kind {k} {n} contacts +{days}");
                                assert_eq!(
                                    reference, on_copy,
                                    "rail {g} kind {k} {n} contacts +{days}"
                                );
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
        // The run's calls change what the rail decides for some proposals.
        assert!(compared > 100 && moved > 5, "{compared} {moved}");
    }
}

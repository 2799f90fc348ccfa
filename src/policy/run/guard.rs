//! The guard-rail pack, applied after every area to the complete list of what
//! the run proposes (its events, severance nominations and payment-plan
//! offers) and to the events earlier runs left pending in the case state. Each
//! guard-rail table is asked about each proposal (the built-in `action`
//! record); one may withhold it, postpone it to the first permitted date (the
//! tables are asked again for each later day until none objects), replace its
//! channel, or give the local-time window a contact may happen in. Every change
//! names its rule (`guard:reg_f/seven_in_seven`). It must not run a strategy
//! area, and nothing a strategy decides can switch it off.

use std::sync::Arc;

use chrono::{Days, NaiveDate};

use super::decisions::{field, text};
use super::{policy_error, Ctx, Result};
use crate::eval::Outcome;
use crate::lang::compile::RuleRef;
use crate::policy::action::{Action, ActionKind, Params, Timing, Window};
use crate::policy::case::{time_of_day, Channel};
use crate::policy::{Out, Role};
use crate::types::Value;

/// How many later days a postponement tries before the action is withheld.
const MAX_POSTPONE_DAYS: usize = 400;

/// One action put to the guard rails.
#[derive(Clone)]
struct Proposal {
    /// A `guarded_action` variant: the event type, `nominate_severance` or `offer_payment_plan`.
    kind: Arc<str>,
    event: Option<Arc<str>>,
    date: NaiveDate,
    time: Option<Arc<str>>,
    /// Scheduled by an earlier run (the case state's pending events).
    pending: bool,
}

enum Verdict {
    Allow {
        proposal: Proposal,
        window: Option<(Arc<str>, Arc<str>)>,
        changes: Vec<(RuleRef, ActionKind)>,
    },
    Withhold {
        rules: Vec<RuleRef>,
        until: Option<NaiveDate>,
        reason: Option<String>,
        /// A pending event is cancelled in the case, not only held back today.
        cancel: bool,
    },
}

/// What one guard-rail table said about one proposal.
struct Said {
    effect: usize,
    rule: RuleRef,
    until: Option<NaiveDate>,
    channel: Option<String>,
    reason: Option<String>,
    window: Option<(Arc<str>, Arc<str>)>,
}

const ALLOW: usize = 0;
const WITHHOLD: usize = 1;
const POSTPONE: usize = 2;
const RECHANNEL: usize = 3;
const CANCEL: usize = 4;

impl Ctx<'_> {
    /// Applies the pack to this run's proposals and the case's pending events.
    pub(super) fn guard_rails(&mut self) -> Result<()> {
        if self.policy.roles.guards.is_empty() {
            return Ok(());
        }
        let actions = std::mem::take(&mut self.actions);
        let mut kept = Vec::with_capacity(actions.len());
        let mut after = Vec::new();
        for mut action in actions {
            let Some(proposal) = self.proposal_of(&action) else {
                kept.push(action);
                continue;
            };
            match self.judge(proposal.clone())? {
                Verdict::Withhold {
                    rules,
                    until,
                    reason,
                    ..
                } => kept.push(Action {
                    kind: ActionKind::Withhold {
                        action: proposal.kind,
                        event: proposal.event,
                        until,
                        reason,
                    },
                    rules,
                }),
                Verdict::Allow {
                    proposal: moved,
                    window,
                    changes,
                } => {
                    if let ActionKind::ScheduleEvent {
                        event_type,
                        date,
                        timing,
                        ..
                    } = &mut action.kind
                    {
                        *event_type = moved.kind.clone();
                        *date = moved.date;
                        if let Some(t) = self.timing_of(&moved, window)? {
                            *timing = Some(t);
                        }
                    }
                    for (rule, change) in changes {
                        if !action.rules.contains(&rule) {
                            action.rules.push(rule.clone());
                        }
                        after.push(Action {
                            kind: change,
                            rules: vec![rule],
                        });
                    }
                    kept.push(action);
                }
            }
        }
        kept.append(&mut after);
        self.actions = kept;
        self.guard_pending()
    }

    /// The case's pending events this run neither moved nor cancelled, put to
    /// the guard rails again: what was allowed when scheduled may not be now.
    fn guard_pending(&mut self) -> Result<()> {
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
            ActionKind::HoldContact { cancelled, .. } => cancelled.iter().any(|c| c == id),
            _ => false,
        };
        let pending: Vec<Proposal> = self
            .state
            .pending()
            .filter(|e| !self.actions.iter().any(|a| touched(a, &e.id)))
            .map(|e| Proposal {
                kind: e.event_type.as_str().into(),
                event: Some(e.id.as_str().into()),
                date: e.date,
                time: e.time.as_deref().map(Arc::from),
                pending: true,
            })
            .collect();
        for proposal in pending {
            match self.judge(proposal.clone())? {
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
                Verdict::Withhold {
                    rules,
                    until,
                    reason,
                    cancel: false,
                } => self.push(
                    ActionKind::Withhold {
                        action: proposal.kind,
                        event: proposal.event,
                        until,
                        reason,
                    },
                    rules,
                ),
                Verdict::Allow {
                    proposal: moved,
                    window,
                    changes,
                } if !changes.is_empty() => {
                    // The same event id moves the pending event (`case::apply`).
                    let rules: Vec<RuleRef> = changes.iter().map(|(r, _)| r.clone()).collect();
                    self.push(
                        ActionKind::ScheduleEvent {
                            event: moved.event.clone().expect("a pending event has an id"),
                            event_type: moved.kind.clone(),
                            date: moved.date,
                            // The case system keeps the event's parameters; the move names the event.
                            params: Params::default(),
                            timing: self.timing_of(&moved, window)?,
                        },
                        rules,
                    );
                    for (rule, change) in changes {
                        self.push(change, vec![rule]);
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
        moved: &Proposal,
        window: Option<(Arc<str>, Arc<str>)>,
    ) -> Result<Option<Arc<Timing>>> {
        if moved.time.is_none() && window.is_none() {
            return Ok(None);
        }
        let time_zone = self.time_zone()?;
        Ok(Some(Arc::new(Timing {
            time: moved.time.clone(),
            window: window.map(|(start, end)| Window {
                start,
                end,
                time_zone,
            }),
        })))
    }

    fn proposal_of(&self, action: &Action) -> Option<Proposal> {
        let today = |kind: &str| Proposal {
            kind: kind.into(),
            event: None,
            date: self.as_of,
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

    /// Asks every guard rail about `proposal`, moving it to later days (and
    /// other channels) until none objects, or withholding it.
    fn judge(&mut self, mut proposal: Proposal) -> Result<Verdict> {
        let mut changes: Vec<(RuleRef, ActionKind)> = Vec::new();
        let mut postponed: Option<(RuleRef, NaiveDate, Option<String>)> = None;
        for _ in 0..MAX_POSTPONE_DAYS {
            let said = self.ask(&proposal)?;
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
                        reason: s.reason.clone(),
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
                                event: proposal.event.clone().unwrap_or_else(|| "".into()),
                                from: proposal.kind.clone(),
                                to: to.into(),
                                reason: s.reason.clone(),
                            },
                        ));
                        proposal.kind = to.into();
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
                Some((s, to)) => (s.rule.clone(), s.reason.clone(), to, proposal.time.clone()),
                None => match outside_window(&proposal, window.as_ref(), &said) {
                    Some((rule, to, time)) => {
                        let reason = window.as_ref().map(|(start, end)| {
                            format!("outside the {start}-{end} local-time window")
                        });
                        (rule, reason, Some(to), Some(time))
                    }
                    None => {
                        if let Some((rule, from, reason)) = postponed {
                            changes.insert(
                                0,
                                (
                                    rule,
                                    ActionKind::Postpone {
                                        event: proposal.event.clone().unwrap_or_else(|| "".into()),
                                        from,
                                        to: proposal.date,
                                        time: proposal.time.clone(),
                                        reason,
                                    },
                                ),
                            );
                        }
                        return Ok(Verdict::Allow {
                            proposal,
                            window,
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
                    rules: vec![rule],
                    until: Some(to),
                    reason,
                    cancel: false,
                });
            }
            let to = if to == proposal.date {
                to
            } else {
                self.policy.calendar.roll_forward(to).unwrap_or(to)
            };
            if postponed.is_none() {
                postponed = Some((rule, proposal.date, reason));
            }
            proposal.date = to;
            proposal.time = time;
        }
        let (rules, reason) = match postponed {
            Some((rule, _, reason)) => (vec![rule], reason),
            None => (Vec::new(), None),
        };
        Ok(Verdict::Withhold {
            rules,
            until: None,
            reason: reason
                .or_else(|| Some(format!("no permitted day within {MAX_POSTPONE_DAYS} days"))),
            cancel: false,
        })
    }

    /// What each guard rail says about one proposal (those that allow without a window say nothing).
    fn ask(&mut self, proposal: &Proposal) -> Result<Vec<Said>> {
        let policy = self.policy;
        let schema = policy.plan.schema();
        let variant = |enum_name: &str, name: &str| {
            schema
                .enum_by_name(enum_name)
                .and_then(|e| schema.variant(e, name))
        };
        let Some(kind) = variant("guarded_action", &proposal.kind) else {
            return Ok(Vec::new());
        };
        let channel = Channel::of_event(&proposal.kind)
            .and_then(|c| variant("contact_channel", c.name()))
            .map_or(Value::Null, Value::Enum);
        let record = Value::Record(
            vec![
                Value::Enum(kind),
                channel,
                proposal
                    .event
                    .as_deref()
                    .map_or(Value::Null, |e| Value::Text(e.into())),
                Value::Date(proposal.date),
                proposal
                    .time
                    .as_deref()
                    .map_or(Value::Null, |t| Value::Text(t.into())),
                Value::Bool(proposal.pending),
            ]
            .into(),
        );
        let mut said = Vec::new();
        for role in &policy.roles.guards {
            let (decisions, traces) = self
                .tables
                .evaluate_with(role.table, std::slice::from_ref(&record))?;
            let Some(d) = decisions.into_iter().next() else {
                continue;
            };
            let effect = self.need_variant(role, &d, Out::Effect)?;
            let window = self.window_out(role, &d);
            if effect == ALLOW && window.is_none() {
                continue;
            }
            let compiled = &policy.plan.tables[role.table as usize];
            let row_ref = match &d.outcome {
                Outcome::Row { row, .. } => compiled.row_refs[*row as usize].clone(),
                _ => compiled.default_ref.clone(),
            };
            said.push(Said {
                effect,
                rule: guard_ref(&row_ref),
                until: match self.out(role, &d, Out::Until) {
                    Value::Date(u) => Some(u),
                    _ => None,
                },
                channel: self.out_text(role, &d, Out::Channel),
                reason: self.out_text(role, &d, Out::Reason),
                window,
            });
            self.tables.evaluation.trace.extend(traces);
            let seen = self.tables.evaluation.decisions.iter().any(|x| {
                x.table == d.table && x.item.is_none() && x.outcome.rows() == d.outcome.rows()
            });
            if !seen {
                self.tables.evaluation.decisions.push(d);
            }
        }
        Ok(said)
    }

    fn window_out(&self, role: &Role, d: &crate::eval::Decision) -> Option<(Arc<str>, Arc<str>)> {
        let start = self.out_text(role, d, Out::WindowStart)?;
        let end = self.out_text(role, d, Out::WindowEnd)?;
        Some((start.into(), end.into()))
    }

    /// The account's time zone (an IANA name), checked; `None` without one.
    fn time_zone(&self) -> Result<Option<Arc<str>>> {
        let Some(slot) = self.policy.slots.time_zone else {
            return Ok(None);
        };
        let Some(zone) = text(&field(self.account, slot)) else {
            return Ok(None);
        };
        if zone.parse::<chrono_tz::Tz>().is_err() {
            let field = "account.time_zone";
            return Err(policy_error(
                field,
                format!("account.time_zone `{zone}` is not an IANA time zone (such as `America/Los_Angeles`)"),
            ));
        }
        Ok(Some(zone.into()))
    }
}

/// `reg_f:seven_in_seven` → `guard:reg_f/seven_in_seven`.
fn guard_ref(row_ref: &str) -> RuleRef {
    format!("guard:{}", row_ref.replacen(':', "/", 1)).into()
}

/// The narrowest window the rails give (latest start, earliest end).
fn window_of(said: &[Said]) -> Option<(Arc<str>, Arc<str>)> {
    said.iter()
        .filter_map(|s| s.window.clone())
        .reduce(|(s1, e1), (s2, e2)| (s1.max(s2), e1.min(e2)))
}

/// A proposal set at a time outside its window moves to the window's next
/// start: today's if it is still ahead, else tomorrow's.
fn outside_window(
    proposal: &Proposal,
    window: Option<&(Arc<str>, Arc<str>)>,
    said: &[Said],
) -> Option<(RuleRef, NaiveDate, Arc<str>)> {
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

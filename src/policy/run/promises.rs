//! An open case's promises: grouped into plans, each evaluated under the terms
//! its promise-terms row gives (`promise::evaluate`) and reported as a
//! `promise_outcome`; a kept promise with arrears paid in full closes the case,
//! otherwise the follow-up table decides what happens next. It must not decide
//! whether a promise is kept itself (that is `policy::promise`).

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use smallvec::{smallvec, SmallVec};

use super::decisions::{field, list, money, text};
use super::{policy_error, Ctx, Result};
use crate::eval::Decision;
use crate::policy::action::Text;
use crate::policy::action::{ActionKind, Money};
use crate::policy::case::{
    follow_up_event_id, promise_outcome_event_id, OutcomeFigures, RecordedOutcome,
    RECORDED_OUTCOME_RULE,
};
use crate::policy::promise::{self, Payment, PlanTolerance, Status, Terms};
use crate::policy::{FollowUp, Out, Role};
use crate::types::Value;

/// A plan's key (its plan id, or the promise's own), whether it is a
/// multi-part plan, and its promises' positions in the account's list.
type PlanGroup<'a> = (Cow<'a, str>, bool, SmallVec<[usize; 4]>);

impl<'p> Ctx<'p, '_> {
    /// Evaluates every promise (a plan's instalments together). Returns whether
    /// the case was closed and whether a promise is still pending.
    pub(super) fn promises(&mut self, manual_only: bool) -> Result<(bool, bool)> {
        let (Some(terms_role), Some((slot, ps))) = (
            self.policy.roles.promise_terms.as_ref(),
            self.policy.slots.promises,
        ) else {
            return Ok((false, false));
        };
        let promises = list(field(self.account, slot));
        let decisions = self.item_decisions(terms_role)?;
        // Group by plan id; a promise without one is a plan of its own. First appearance order.
        let mut groups: SmallVec<[PlanGroup; 4]> = SmallVec::new();
        for (i, p) in promises.iter().enumerate() {
            let plan = ps.plan.and_then(|s| text(field(p, s)));
            let is_plan = plan.is_some();
            let key = plan
                .or_else(|| text(field(p, ps.id)))
                .map_or_else(|| Cow::Owned(format!("#{}", i + 1)), Cow::Borrowed);
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, members)) => members.push(i),
                None => groups.push((key, is_plan, smallvec![i])),
            }
        }
        let arrears_paid_in_full =
            money(field(self.account, self.policy.slots.arrears)) <= Decimal::ZERO;
        let mut pending = false;
        for (key, is_plan, members) in groups {
            let Some(&at) = decisions
                .iter()
                .find(|&&at| self.decision_at(at).item == Some(members[0] as u32))
            else {
                continue;
            };
            let d = self.decision_at(at);
            let mut rules = self.rules(d);
            let mut instalments: SmallVec<[promise::Instalment; 4]> = SmallVec::new();
            let mut payments: SmallVec<[Payment; 8]> = SmallVec::new();
            for &m in &members {
                let p = &promises[m];
                let (&Value::Date(due), amount) =
                    (field(p, ps.due_date), money(field(p, ps.amount)))
                else {
                    continue;
                };
                instalments.push(promise::Instalment {
                    id: text(field(p, ps.id)).unwrap_or_default().to_string(),
                    amount,
                    due,
                });
                for pay in list(field(p, ps.payments)) {
                    if let &Value::Date(date) = field(pay, ps.payment_date) {
                        payments.push(Payment {
                            amount: money(field(pay, ps.payment_amount)),
                            date,
                        });
                    }
                }
            }
            // Kept or broken once decided, under the terms of that day (recorded by the case with
            // the figures that decided it): a later tolerance or grace does not judge the
            // promise again, nor move its report or its follow-up, so it is not evaluated. A
            // record that cannot be trusted is an error (`CaseState::recorded_outcome`); one
            // recorded without the figures (older histories) reports today's.
            let held = self.state.recorded_outcome(
                &key,
                is_plan.then_some(&instalments[..]),
                self.as_of,
            )?;
            // An outcome the case recorded was decided by the terms of its day, not by today's
            // row: its report names the record, so a terms edit moves nothing of it (`diff`).
            match &held.read {
                Some(RecordedOutcome {
                    figures: Some(_), ..
                }) => rules = smallvec![Cow::Borrowed(RECORDED_OUTCOME_RULE)],
                // Recorded without its figures (older cases): those are today's terms'.
                Some(_) => rules.insert(0, Cow::Borrowed(RECORDED_OUTCOME_RULE)),
                None => {}
            }
            let decided = match held.read {
                Some(RecordedOutcome {
                    status,
                    figures: Some(f),
                }) => (
                    status,
                    f.paid,
                    f.required,
                    f.deadline,
                    f.instalment.map(str::to_string),
                ),
                recorded => {
                    let terms = self.terms(terms_role, d)?;
                    let result = promise::evaluate(
                        &instalments,
                        &payments,
                        &terms,
                        self.as_of,
                        self.calendar(),
                    )
                    .map_err(|e| {
                        policy_error(self.table_name(terms_role), format!("promise `{key}`: {e}"))
                    })?;
                    // The figures are those of the instalment that decided the plan: the one
                    // that broke, the next one due, or the last one of a kept plan.
                    let deciding = result.deciding();
                    let status = recorded.map_or(result.status, |r| r.status);
                    let (paid, required, deadline) =
                        (deciding.paid, deciding.required, deciding.deadline);
                    (status, paid, required, deadline, Some(deciding.id.clone()))
                }
            };
            let (status, paid, required, deadline, instalment) = decided;
            let instalment = instalment.filter(|_| is_plan);
            // What the case system records today: the first outcome decided, once.
            let record = match held.held {
                true => None,
                false => promise_outcome_event_id(
                    &key,
                    status,
                    &OutcomeFigures {
                        deadline,
                        required,
                        paid,
                        instalment: instalment.as_deref(),
                    },
                ),
            };
            self.push(
                ActionKind::PromiseOutcome {
                    promise: key.to_string(),
                    instalment,
                    status,
                    paid: Money(paid),
                    required: Money(required),
                    deadline,
                    arrears_paid_in_full,
                    record,
                },
                rules.clone(),
            );
            match status {
                Status::Kept if arrears_paid_in_full && manual_only => {
                    self.cancel_promise_events(&key, status, &rules, |_| true);
                }
                Status::Kept if arrears_paid_in_full => {
                    self.close(Some("promise kept and arrears paid in full".into()), rules);
                    return Ok((true, pending));
                }
                status => {
                    // A pending promise is asked about too: a callback on its deadline.
                    pending |= status == Status::Pending;
                    let total: Decimal = instalments.iter().map(|i| i.amount).sum();
                    let facts = PromiseFacts {
                        key: &key,
                        status,
                        total,
                        paid,
                        required,
                        deadline,
                        instalments: instalments.len(),
                        arrears_paid_in_full,
                    };
                    let closed = self.follow_up(&facts, manual_only, &rules)?;
                    if closed {
                        return Ok((true, pending));
                    }
                }
            }
        }
        Ok((false, pending))
    }

    /// A callback made while the promise was pending is moot once it is decided
    /// (closing the case cancels everything anyway); `keep` is the follow-up
    /// the promise's status asks for now, pending since a guard rail withheld
    /// it: cancelling it would make the next run propose it again.
    fn cancel_promise_events(
        &mut self,
        key: &str,
        status: Status,
        rules: &[Text<'p>],
        cancelled: impl Fn(&String) -> bool,
    ) {
        let reason = match status {
            Status::Pending => return,
            Status::Kept => "the promise was kept",
            Status::Broken => "the promise was broken",
        };
        for event in self.state.pending_of_promise(key) {
            if !cancelled(&event) {
                continue;
            }
            self.push(
                ActionKind::CancelEvent {
                    event,
                    reason: reason.into(),
                },
                rules.iter().cloned().collect(),
            );
        }
    }

    fn terms(&self, role: &Role, d: &Decision) -> Result<Terms> {
        let rule =
            self.policy.variants.tolerance_rule[self.need_variant(role, d, Out::ToleranceRule)?];
        let grace = self.need_int(role, d, Out::GraceDays)?;
        // Without the optional output, a plan's tolerance is cumulative, as before it existed;
        // with it, a null is an error naming the row like any other needed output.
        let plan_tolerance = match role.col(Out::PlanTolerance) {
            Some(_) => {
                self.policy.variants.plan_tolerance
                    [self.need_variant(role, d, Out::PlanTolerance)?]
            }
            None => PlanTolerance::default(),
        };
        Ok(Terms {
            tolerance_amount: self.need_money(role, d, Out::ToleranceAmount)?,
            tolerance_percent: self.need_money(role, d, Out::TolerancePercent)?,
            rule,
            plan_tolerance,
            grace_days: u32::try_from(grace.max(0)).unwrap_or(u32::MAX),
            grace_in_business_days: self.need_bool(role, d, Out::GraceBusinessDays)?,
        })
    }

    /// Kept with arrears remaining, or broken: the follow-up table decides,
    /// after the follow-ups made for an earlier status (`terms_rules`: the
    /// promise's terms row, which decided the status) are cancelled.
    fn follow_up(
        &mut self,
        facts: &PromiseFacts,
        manual_only: bool,
        terms_rules: &[Text<'p>],
    ) -> Result<bool> {
        let &PromiseFacts {
            key,
            status,
            total,
            paid,
            required,
            deadline,
            instalments,
            arrears_paid_in_full,
        } = facts;
        let Some(role) = self.policy.roles.promise_follow_up.as_ref() else {
            self.cancel_promise_events(key, status, terms_rules, |_| true);
            return Ok(false);
        };
        let [pending, kept, broken] = self.policy.variants.promise_status;
        let status_variant = match status {
            Status::Pending => pending,
            Status::Kept => kept,
            Status::Broken => broken,
        };
        let promise_record = Value::Record(
            vec![
                Value::Text(key.into()),
                Value::Enum(status_variant),
                Value::Dec(total),
                Value::Dec(paid),
                Value::Dec(required),
                Value::Date(deadline),
                Value::Int(instalments as i64),
                Value::Bool(arrears_paid_in_full),
            ]
            .into(),
        );
        let (decisions, traces) = self.tables.evaluate_with(role.table, &[promise_record])?;
        self.tables.evaluation.trace.extend(traces);
        let Some(d) = decisions.into_iter().next() else {
            self.cancel_promise_events(key, status, terms_rules, |_| true);
            return Ok(false);
        };
        let rules = self.rules(&d);
        let decided = self.policy.variants.follow_up[self.need_variant(role, &d, Out::FollowUp)?];
        let follow_up = self.out_text(role, &d, Out::FollowUp).unwrap_or_default();
        let detail = self.out_text(role, &d, Out::Detail);
        // Optional: without the column, or null, the event is dated today.
        let wanted_date = match self.out(role, &d, Out::EventDate) {
            Value::Date(date) => date.max(self.as_of),
            _ => self.as_of,
        };
        self.tables.evaluation.decisions.push(d);
        let event = follow_up_event_id(key, status, &follow_up);
        match decided {
            FollowUp::None => {
                // The callback made while it was pending is moot now that it is decided.
                let pending_status = follow_up_event_id(key, Status::Pending, "");
                self.cancel_promise_events(key, status, terms_rules, |e| {
                    e.starts_with(&pending_status)
                });
                // Nothing asked for now (a promise decided too long ago): the follow-up of its
                // outcome still pending (held back by a guard rail until it would be history)
                // is withdrawn too, and the row that declined it gives the reason, not the
                // outcome, which asked for it.
                let reason = detail
                    .clone()
                    .unwrap_or_else(|| "the promise's follow-up asks for none now".into());
                // Only a decided promise has an outcome's follow-up to withdraw:
                // a pending one's callback (old id or new) stays.
                let decided_events = match status {
                    Status::Pending => Vec::new(),
                    Status::Kept | Status::Broken => self.state.pending_of_promise(key),
                };
                for event in decided_events {
                    if !event.starts_with(&pending_status) {
                        self.push(
                            ActionKind::CancelEvent {
                                event,
                                reason: reason.clone(),
                            },
                            rules.clone(),
                        );
                    }
                }
            }
            _ => self.cancel_promise_events(key, status, terms_rules, |e| *e != event),
        }
        // A pending promise's callback booked before it had an id of its own
        // (`promise-P1-call`, a case store's history) is that callback: not booked twice.
        let made_before_own_id = status == Status::Pending
            && self
                .state
                .has_event(&follow_up_event_id(key, Status::Broken, &follow_up));
        if decided != FollowUp::None && (self.state.has_event(&event) || made_before_own_id) {
            // An earlier run made this follow-up (the case keeps it as an event):
            // a letter is sent once, a re-treatment happens once.
            return Ok(false);
        }
        let event_type = match decided {
            FollowUp::None => return Ok(false),
            // A manual-only case (special circumstances) is never closed by a rule,
            // and no follow-up says close: a case system acting on follow-ups would
            // close it. The exit's to-do already asks a person to decide.
            FollowUp::CloseCase if manual_only => return Ok(false),
            FollowUp::CloseCase => {
                self.close(
                    Some(detail.unwrap_or_else(|| "promise follow-up".into())),
                    rules,
                );
                return Ok(true);
            }
            FollowUp::SendLetter => Some("send_letter"),
            FollowUp::SendEmail => Some("email"),
            FollowUp::SendSms => Some("sms"),
            FollowUp::Call => Some("call"),
            FollowUp::PreviousTreatment => {
                let case_template = self
                    .policy
                    .slots
                    .case
                    .and_then(|c| c.template.map(|t| (c.slot, t)))
                    .and_then(|(slot, t)| text(field(field(self.account, slot), t)))
                    .map(str::to_string);
                self.push(
                    ActionKind::ResumeTreatment {
                        template: case_template.clone(),
                    },
                    rules.clone(),
                );
                self.resume(case_template.as_deref(), &rules)?;
                None
            }
            FollowUp::Retreat => {
                self.push(
                    ActionKind::FollowUp {
                        promise: key.to_string(),
                        follow_up,
                        detail: detail.clone(),
                        event,
                    },
                    rules.clone(),
                );
                // One re-treatment per run, whichever promise asked first.
                if !self.retreated() {
                    self.retreat(detail.map(Cow::Owned), rules)?;
                }
                return Ok(false);
            }
            FollowUp::PartPaymentPath => None,
        };
        if let Some(event_type) = event_type {
            // Dated by the table's `date` (a callback on the promise's deadline),
            // today for a date already past; on a business day.
            let date = self
                .calendar()
                .roll_forward(wanted_date)
                .unwrap_or(wanted_date);
            let params = Cow::Owned(
                detail
                    .iter()
                    .map(|d| ("detail".to_string(), d.clone()))
                    .collect(),
            );
            self.push(
                ActionKind::ScheduleEvent {
                    event: event.clone().into(),
                    event_type: event_type.to_string().into(),
                    date,
                    params,
                    timing: None,
                },
                rules.clone(),
            );
        }
        self.push(
            ActionKind::FollowUp {
                promise: key.to_string(),
                follow_up,
                detail,
                event,
            },
            rules,
        );
        Ok(false)
    }
}

/// What the follow-up table's `promise` record says about one evaluated promise or plan.
struct PromiseFacts<'k> {
    key: &'k str,
    status: Status,
    total: Decimal,
    paid: Decimal,
    required: Decimal,
    deadline: NaiveDate,
    instalments: usize,
    arrears_paid_in_full: bool,
}

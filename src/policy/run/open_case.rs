//! An account with an open case: the exit table (close, or a to-do that makes
//! the case manual-only), service agreements leaving the case, then promises
//! (`promises`), a payment-plan offer while no promise is pending, and
//! severance once the template reaches its severance event. It must not open a
//! case.

use std::borrow::Cow;

use chrono::Days;
use rust_decimal::Decimal;

use super::decisions::{field, list, money, text};
use super::state::Booked;
use super::{policy_error, Ctx, Result};
use crate::policy::action::{ActionKind, Instalment as OfferInstalment, Money};
use crate::policy::action::{Rules, Text};
use crate::policy::case::todo_event_id;
use crate::policy::promise;
use crate::policy::{CaseSlots, Nomination, Out, MAX_PLAN_INSTALMENTS};
use crate::types::Value;

impl<'p> Ctx<'p, '_> {
    /// An open case: exit, SA removal, promises, payment-plan offer, severance.
    pub(super) fn open_case(&mut self, case: CaseSlots) -> Result<()> {
        let policy = self.policy;
        let roles = &policy.roles;
        let mut manual_only = false;
        if let Some(exit) = &roles.exit {
            self.require(exit)?;
            if let Some(d) = self.decision(exit) {
                let rules = self.rules(d);
                if let Some(todo) = self.out_text(exit, d, Out::Todo) {
                    // A person decides this case (special circumstances): nothing closes it automatically.
                    manual_only = true;
                    // The same rows asked for this to-do in an earlier run: it exists.
                    if !self.state.has_event(&todo_event_id(&rules)) {
                        self.push(ActionKind::CreateTodo { reason: todo }, rules);
                    }
                } else if self.need_bool(exit, d, Out::Close)? {
                    let reason = self.out_text(exit, d, Out::Reason);
                    self.close(reason, rules);
                    return Ok(());
                }
            }
        }
        // Service agreements out of the case: those an earlier run removed, then this run's.
        let mut removed = Vec::new();
        if let Some((sas_slot, sa)) = self.policy.slots.service_agreements {
            let sas = list(field(self.account, sas_slot));
            let sa_id = |i: usize| sas.get(i).and_then(|r| text(field(r, sa.id)));
            removed.extend(
                (0..sas.len())
                    .filter(|&i| sa_id(i).is_some_and(|id| self.state.removed(id)))
                    .map(|i| i as u32),
            );
            let mut removing = Vec::new();
            if let Some(sa_exit) = &roles.sa_exit {
                for at in self.item_decisions(sa_exit)? {
                    let d = self.decision_at(at);
                    let Some(i) = d.item.filter(|i| !removed.contains(i)) else {
                        continue;
                    };
                    if self.need_bool(sa_exit, d, Out::Remove)? {
                        removing.push(i);
                        let reason = self.out_text(sa_exit, d, Out::Reason);
                        let rules = self.rules(d);
                        let sa = sa_id(i as usize).unwrap_or_default().to_string();
                        self.push(ActionKind::RemoveSa { sa, reason }, rules);
                    }
                }
            }
            removed.extend(&removing);
            // CC&B: removing the last SA ends the collection process. A case a
            // person decides (manual-only) still waits for that person.
            if !removing.is_empty() && removed.len() == sas.len() && !manual_only {
                let mut rules = Rules::new();
                for a in &self.actions {
                    if matches!(a.kind, ActionKind::RemoveSa { .. }) {
                        for r in &a.rules {
                            if !rules.contains(r) {
                                rules.push(r.clone());
                            }
                        }
                    }
                }
                self.close(Some("every service agreement left the case".into()), rules);
                return Ok(());
            }
        }
        let (closed, pending_promise) = self.promises(manual_only)?;
        if closed {
            return Ok(());
        }
        // A re-treated case (by a follow-up, or by the retreat table) starts its
        // new treatment today: no offer or severance from the old one.
        if self.retreated() || self.retreatment(pending_promise)? {
            return Ok(());
        }
        if !pending_promise {
            self.payment_plan_offer()?;
        }
        self.severance(case, &removed)
    }

    pub(super) fn retreated(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a.kind, ActionKind::RetreatCase { .. }))
    }

    /// Back to the case's treatment: its template's events still ahead (dated
    /// from the case start, today or later) that the case does not hold
    /// pending or done (a hold cancelled them, or the extract carries no
    /// events) are scheduled again.
    pub(super) fn resume(&mut self, template: Option<&str>, rules: &[Text<'p>]) -> Result<()> {
        let (Some(template), Some(case)) = (
            template.and_then(|t| self.policy.templates.get(t)),
            self.policy.slots.case,
        ) else {
            return Ok(());
        };
        let &Value::Date(start) = field(field(self.account, case.slot), case.start_date) else {
            return Ok(());
        };
        for event in &template.events {
            let Some(date) = self.event_date(template, event, start)? else {
                continue;
            };
            if date < self.as_of || self.state.has_event(&event.id) {
                continue;
            }
            let mut event_rules: Rules<'p> = rules.iter().cloned().collect();
            event_rules.push(Cow::Borrowed(&event.rule_ref));
            self.push(
                ActionKind::ScheduleEvent {
                    event: Cow::Borrowed(&event.id),
                    event_type: Cow::Borrowed(&event.kind),
                    date,
                    params: Cow::Borrowed(&event.params),
                    timing: event.timing(),
                },
                event_rules,
            );
        }
        Ok(())
    }

    /// The retreat table, given what the pipeline knows of the case (the
    /// `retreat` record: `promise_pending`, `same_treatment`), decides: keep
    /// the case's treatment (`retreat` false), re-treat it from today
    /// (`restart` true), or only reassign its class (`restart` false: the
    /// case keeps its events, arms and start date). The waits and the
    /// same-treatment rule are the table's rows, not code. Returns whether
    /// it re-treated.
    fn retreatment(&mut self, promise_pending: bool) -> Result<bool> {
        let Some(role) = self.policy.roles.retreat.as_ref() else {
            return Ok(false);
        };
        let same_treatment = self.same_treatment()?;
        let facts =
            Value::Record(vec![Value::Bool(promise_pending), Value::Bool(same_treatment)].into());
        let (decisions, traces) = self.tables.evaluate_with(role.table, &[facts])?;
        self.tables.evaluation.trace.extend(traces);
        let Some(d) = decisions.into_iter().next() else {
            return Ok(false);
        };
        // `restart` is needed only when the row re-treats: a keeping row may leave it null.
        let restart = match self.need_bool(role, &d, Out::Retreat)? {
            false => None,
            true if role.col(Out::Restart).is_some() => {
                Some(self.need_bool(role, &d, Out::Restart)?)
            }
            // A table written before `restart` (lint warns): the pipeline's
            // rules of then. Into the same treatment only the class moves; a
            // class change in the same category waits for a pending promise.
            true if same_treatment => Some(false),
            true if promise_pending && self.same_category_as_case()? => None,
            true => Some(true),
        };
        let reason = self.out_borrowed(role, &d, Out::Reason);
        let rules = self.rules(&d);
        self.tables.evaluation.decisions.push(d);
        match restart {
            None => Ok(false),
            Some(true) => self.retreat(reason, rules),
            Some(false) => {
                self.reclassify(rules)?;
                Ok(false)
            }
        }
    }

    /// `retreat.same_treatment`: the treatment the rules give the account
    /// today is the case's (the entry's category is the case's, the class's
    /// template after its arms is the case's `template`, and the class is in
    /// the same experiments as the case's class: utility_res ↔
    /// utility_res_high), whatever the class. False when the case does not
    /// say its category, class or template.
    fn same_treatment(&mut self) -> Result<bool> {
        let Some(case) = self.policy.slots.case else {
            return Ok(false);
        };
        let case_record = field(self.account, case.slot);
        let case_template = case.template.and_then(|t| text(field(case_record, t)));
        let case_class = case.class.and_then(|c| text(field(case_record, c)));
        let (Some(case_template), Some(case_class)) = (case_template, case_class) else {
            return Ok(false);
        };
        if !self.same_category_as_case()? {
            return Ok(false);
        }
        let Some(treatment) = self.treatment_today()? else {
            return Ok(false);
        };
        let class = treatment.class.as_deref();
        let same_experiments = self.policy.experiments.iter().all(|ce| {
            ce.experiment.arms.is_empty()
                || ce.classes.iter().any(|k| k == case_class)
                    == class.is_some_and(|c| ce.classes.iter().any(|k| k == c))
        });
        Ok(same_experiments && treatment.template == case_template)
    }

    /// The entry table gives the account today the category its case is in.
    fn same_category_as_case(&mut self) -> Result<bool> {
        let Some(case) = self.policy.slots.case else {
            return Ok(false);
        };
        let case_category = match case
            .category
            .map(|c| field(field(self.account, case.slot), c))
        {
            Some(Value::Enum(v)) => *v,
            _ => return Ok(false),
        };
        let entry = &self.policy.roles.entry;
        self.require(entry)?;
        Ok(self.decision(entry).is_some_and(
            |d| matches!(self.out(entry, d, Out::Category), Value::Enum(v) if v == case_category),
        ))
    }

    /// The retreat table's re-treatment that restarts nothing: the class the
    /// rules give the account today is assigned (for reporting and routing,
    /// naming the retreat row and the class row), with the template it has
    /// after its arms; events, arms and start date stay. Nothing when the
    /// class is the case's already.
    fn reclassify(&mut self, retreat_rules: Rules<'p>) -> Result<()> {
        let Some(treatment) = self.treatment_today()? else {
            return Ok(());
        };
        let case_class = self.policy.slots.case.and_then(|case| {
            case.class
                .and_then(|c| text(field(field(self.account, case.slot), c)))
        });
        if treatment.class.is_some() && treatment.class.as_deref() == case_class {
            return Ok(());
        }
        let mut rules = retreat_rules;
        rules.extend(treatment.class_rules.iter().cloned());
        // The case's template: an arm's, when an arm gave it one (no `assign_arm` follows).
        self.push(
            ActionKind::AssignClass {
                class: treatment.class,
                template: treatment.template,
            },
            rules,
        );
        Ok(())
    }

    /// Re-treats the open case from today: its pending events are cancelled and
    /// it takes the category, class, arm and template the rules give it now.
    /// The events this run proposed before (an old treatment's follow-up
    /// letter) are dropped with them. Nothing happens when the entry table
    /// opens no case for the account today (closing is the exit's call).
    /// Returns whether it re-treated.
    pub(super) fn retreat(&mut self, reason: Option<Text<'p>>, rules: Rules<'p>) -> Result<bool> {
        let Some(category) = self.decided_category()? else {
            return Ok(false);
        };
        self.drop_proposed_events();
        self.push(ActionKind::CancelPendingEvents, rules.clone());
        self.push(ActionKind::RetreatCase { category, reason }, rules);
        self.treat()?;
        Ok(true)
    }

    /// Closes the case: the events this run proposed before are dropped, the
    /// pending ones cancelled.
    pub(super) fn close(&mut self, reason: Option<String>, rules: Rules<'p>) {
        self.drop_proposed_events();
        self.push(ActionKind::CancelPendingEvents, rules.clone());
        self.push(ActionKind::CloseCase { reason }, rules);
    }

    /// Takes this run's `schedule_event`s out of its actions, so that
    /// `cancel_pending_events` after them cancels every event the case holds
    /// pending (docs/batch.md, the case system's contract) and no event of
    /// this run outlives the treatment it was proposed in. A to-do stays: a
    /// person's work on the case whatever its treatment, which the cancel
    /// leaves pending.
    fn drop_proposed_events(&mut self) {
        self.actions
            .retain(|a| !matches!(a.kind, ActionKind::ScheduleEvent { .. }));
    }

    fn payment_plan_offer(&mut self) -> Result<()> {
        let Some(role) = self.policy.roles.payment_plan.as_ref() else {
            return Ok(());
        };
        self.require(role)?;
        let Some(d) = self.decision(role) else {
            return Ok(());
        };
        let n = self.need_int(role, d, Out::Instalments)?;
        if n == 0 {
            return Ok(());
        }
        if !(1..=MAX_PLAN_INSTALMENTS).contains(&n) {
            return Err(policy_error(
                self.table_name(role),
                format!(
                    "`{}` offers {n} instalments; an offer has 1 to {MAX_PLAN_INSTALMENTS} (0 = no offer)",
                    self.rules(d).join(", ")
                ),
            ));
        }
        let n = n as u32;
        let total = self.need_money(role, d, Out::Amount)?;
        if total <= Decimal::ZERO {
            return Ok(());
        }
        let first_in = u64::try_from(self.need_int(role, d, Out::FirstDueIn)?.max(0)).unwrap_or(0);
        let first = self
            .as_of
            .checked_add_days(Days::new(first_in))
            .ok_or_else(|| {
                policy_error(self.table_name(role), "first due date out of range".into())
            })?;
        let plan = promise::split_amounts(total, n, first, self.calendar())
            .map_err(|e| policy_error(self.table_name(role), format!("payment plan: {e}")))?;
        // Amounts are written as text by the writer, not here.
        let instalments = plan
            .into_iter()
            .map(|(amount, due)| OfferInstalment {
                due,
                amount: Money(amount),
            })
            .collect();
        let rules = self.rules(d);
        self.push(
            ActionKind::OfferPaymentPlan {
                total: Money(total),
                instalments,
            },
            rules,
        );
        Ok(())
    }

    /// Once the case's template reaches its severance event: per-SA eligibility and nomination.
    /// SAs in `removed` have left the case and are not considered.
    fn severance(&mut self, case: CaseSlots, removed: &[u32]) -> Result<()> {
        let (Some(role), Some((sas_slot, sa))) = (
            self.policy.roles.severance.as_ref(),
            self.policy.slots.service_agreements,
        ) else {
            return Ok(());
        };
        let case_value = field(self.account, case.slot);
        let &Value::Date(start) = field(case_value, case.start_date) else {
            return Ok(());
        };
        let Some(template) = case
            .template
            .and_then(|t| text(field(case_value, t)))
            .and_then(|t| self.policy.templates.get(t))
        else {
            return Ok(());
        };
        let Some(event) = template
            .events
            .iter()
            .find(|e| &*e.kind == "start_severance")
        else {
            return Ok(());
        };
        // The case's own event: pending where a guard rail postponed it (a
        // medical certificate), so no SA is nominated before the severance
        // it starts is due; cancelled (a rail's final stop) or never given
        // (opened under a template version without it), no severance. Only a
        // case that holds no event at all (a store without history) is
        // nominated from the template's day.
        let due = match self.state.event_state(&event.id) {
            Booked::Pending(date) | Booked::Done(date) => Some(date),
            Booked::Cancelled | Booked::Never => None,
            Booked::NoHistory => self.event_date(template, event, start)?,
        };
        let Some(due) = due else {
            return Ok(());
        };
        if due > self.as_of {
            return Ok(());
        }
        let sas = list(field(self.account, sas_slot));
        let mut eligible: Vec<(usize, Rules<'p>)> = Vec::new();
        for at in self.item_decisions(role)? {
            let d = self.decision_at(at);
            let Some(i) = d.item.map(|i| i as usize) else {
                continue;
            };
            if removed.contains(&(i as u32)) {
                continue;
            }
            let rules = self.rules(d);
            if self.need_bool(role, d, Out::Eligible)? {
                eligible.push((i, rules));
            } else {
                let id = sas
                    .get(i)
                    .and_then(|r| text(field(r, sa.id)))
                    .unwrap_or_default()
                    .to_string();
                let reason = self.out_text(role, d, Out::Reason);
                let until = match self.out(role, d, Out::PostponeUntil) {
                    Value::Date(u) => Some(u),
                    _ => None,
                };
                self.push(
                    ActionKind::ExcludeSeverance {
                        sa: id,
                        reason,
                        until,
                    },
                    rules,
                );
            }
        }
        if eligible.is_empty() {
            return Ok(());
        }
        if self.policy.nominate == Nomination::HighestArrears {
            // Highest arrears; the first listed wins a tie.
            let best = eligible
                .iter()
                .enumerate()
                .max_by(|(ai, (a, _)), (bi, (b, _))| {
                    let (x, y) = (
                        money(field(&sas[*a], sa.arrears)),
                        money(field(&sas[*b], sa.arrears)),
                    );
                    x.cmp(&y).then(bi.cmp(ai))
                })
                .map(|(i, _)| i)
                .unwrap_or(0);
            eligible = vec![eligible.swap_remove(best)];
        }
        let ids = eligible
            .iter()
            .filter_map(|(i, _)| text(field(&sas[*i], sa.id)))
            .map(str::to_string)
            .collect();
        let mut rules: Rules<'p> = eligible.into_iter().flat_map(|(_, r)| r).collect();
        rules.push(Cow::Borrowed(&event.rule_ref));
        self.push(ActionKind::NominateSeverance { sas: ids }, rules);
        Ok(())
    }
}

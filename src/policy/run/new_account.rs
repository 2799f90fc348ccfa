//! An account without an open case: the entry table decides whether a case
//! opens, the class table assigns a class and template, experiments assign an
//! arm (which may change the template), and the template's events are
//! scheduled on its calendar. It must not read an open case.

use chrono::NaiveDate;

use super::decisions::{field, text};
use super::{policy_error, Ctx, Result};
use crate::lang::compile::RuleRef;
use crate::lang::semantics::eval_standalone;
use crate::policy::action::{Action, ActionKind};
use crate::policy::{Event, EventDate, Out, Template};
use crate::types::Value;

impl Ctx<'_> {
    /// No open case: entry, and for a new case its class, arm and events.
    pub(super) fn new_account(&mut self) -> Result<()> {
        let Some(category) = self.decided_category()? else {
            return Ok(());
        };
        let roles = &self.policy.roles;
        let Some(entry) = self.decision(&roles.entry) else {
            return Ok(());
        };
        let open = ActionKind::OpenCase {
            category,
            reason: self.out_text(&roles.entry, entry, Out::Reason),
        };
        let entry_rules = self.rules(entry);
        self.push(open, entry_rules);
        self.treat()
    }

    /// The category the entry table gives the account today; `None` when it
    /// opens no case (`none` or null).
    pub(super) fn decided_category(&mut self) -> Result<Option<String>> {
        let policy = self.policy;
        let roles = &policy.roles;
        self.require(&roles.entry)?;
        let Some(entry) = self.decision(&roles.entry) else {
            return Ok(None);
        };
        let category = match self.out(&roles.entry, entry, Out::Category) {
            Value::Enum(v) if Some(v) != policy.variants.no_case => v,
            _ => return Ok(None),
        };
        Ok(Some(
            self.out_text(&roles.entry, entry, Out::Category)
                .unwrap_or_else(|| category.to_string()),
        ))
    }

    /// A case's treatment from today: the class table's class and template,
    /// the experiments' arms (which may change the template), and the
    /// template's events. Opening a case and re-treating one both end here.
    pub(super) fn treat(&mut self) -> Result<()> {
        let policy = self.policy;
        let roles = &policy.roles;
        self.require(&roles.class)?;
        let Some(class) = self.decision(&roles.class) else {
            return Ok(());
        };
        let class_rules = self.rules(class);
        let class_name = self.out_text(&roles.class, class, Out::Class);
        let mut template = self.need_text(&roles.class, class, Out::Template)?;
        self.push(
            ActionKind::AssignClass {
                class: class_name.clone(),
                template: template.clone(),
            },
            class_rules.clone(),
        );
        let mut rules = class_rules;
        let id = text(&field(self.account, self.plan().schema().id_slot)).unwrap_or_default();
        for ce in &self.policy.experiments {
            if !class_name.as_ref().is_some_and(|c| ce.classes.contains(c))
                || ce.experiment.arms.is_empty()
            {
                continue;
            }
            let arm = ce.experiment.assign(&id);
            self.actions.push(Action {
                kind: ActionKind::AssignArm {
                    experiment: ce.experiment.name.clone(),
                    arm: arm.name.clone(),
                    template: arm.template.clone(),
                    holdout: arm.holdout,
                },
                rules: vec![arm.rule_ref.clone()],
            });
            if let Some(t) = &arm.template {
                template = t.clone();
                rules.push(arm.rule_ref.clone());
            }
        }
        let Some(template) = self.policy.templates.get(&template) else {
            return Err(policy_error(
                self.table_name(&roles.class),
                format!("template `{template}` is not defined"),
            ));
        };
        self.schedule(template, self.as_of, &rules)
    }

    /// Every event of the template, dated from `start` on the template's calendar.
    fn schedule(&mut self, template: &Template, start: NaiveDate, rules: &[RuleRef]) -> Result<()> {
        for event in &template.events {
            let Some(date) = self.event_date(template, event, start)? else {
                continue;
            };
            let mut event_rules = Vec::with_capacity(rules.len() + 1);
            event_rules.extend_from_slice(rules);
            event_rules.push(event.rule_ref.clone());
            self.push(
                ActionKind::ScheduleEvent {
                    event: event.id.clone(),
                    event_type: event.kind.clone(),
                    date,
                    params: event.params.clone(),
                    timing: event.timing(),
                },
                event_rules,
            );
        }
        Ok(())
    }

    /// When `event` of `template` falls for a treatment started on `start`:
    /// its day after the start, or its date expression (never before the
    /// start), moved to a business day; `None` when the expression is null.
    pub(super) fn event_date(
        &self,
        template: &Template,
        event: &Event,
        start: NaiveDate,
    ) -> Result<Option<NaiveDate>> {
        let out_of_range = |what: String| {
            policy_error(
                &template.name,
                format!("event `{}`: date out of range ({what})", event.id),
            )
        };
        let due = match &event.date {
            EventDate::Day(day) => {
                return template
                    .event_date(*day, start)
                    .map(Some)
                    .ok_or_else(|| out_of_range(format!("day {day} from {start}")))
            }
            EventDate::Expr { expr, text } => {
                match eval_standalone(expr, self.account, self.as_of, &[Value::Date(start)]) {
                    Ok(Value::Date(d)) => d.max(start),
                    Ok(_) => return Ok(None),
                    Err(kind) => {
                        return Err(policy_error(
                            &template.name,
                            format!("event `{}`: `{text}`: {kind}", event.id),
                        ))
                    }
                }
            }
        };
        template
            .calendar
            .roll_forward(due)
            .map(Some)
            .ok_or_else(|| out_of_range(format!("no business day from {due}")))
    }
}

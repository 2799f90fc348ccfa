//! An account without an open case: the entry table decides whether a case
//! opens, the class table assigns a class and template, experiments assign an
//! arm (which may change the template), and the template's events are
//! scheduled on its calendar. It must not read an open case.

use std::borrow::Cow;

use chrono::NaiveDate;
use smallvec::smallvec;

use super::decisions::{field, text};
use super::{policy_error, Ctx, Result};
use crate::lang::semantics::eval_standalone;
use crate::policy::action::{Action, ActionKind};
use crate::policy::action::{Rules, Text};
use crate::policy::{Event, EventDate, Out, Template};
use crate::types::Value;

impl<'p> Ctx<'p, '_> {
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
            reason: self.out_borrowed(&roles.entry, entry, Out::Reason),
        };
        let entry_rules = self.rules(entry);
        self.push(open, entry_rules);
        self.treat()
    }

    /// The category the entry table gives the account today; `None` when it
    /// opens no case (`none` or null).
    pub(super) fn decided_category(&mut self) -> Result<Option<Text<'p>>> {
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
            self.out_borrowed(&roles.entry, entry, Out::Category)
                .unwrap_or_else(|| category.to_string().into()),
        ))
    }

    /// A case's treatment from today: the class table's class and template,
    /// the experiments' arms (which may change the template), and the
    /// template's events. Opening a case and re-treating one both end here.
    pub(super) fn treat(&mut self) -> Result<()> {
        let Some(treatment) = self.treatment_today()? else {
            return Ok(());
        };
        self.push(
            ActionKind::AssignClass {
                class: treatment.class,
                template: treatment.class_template,
            },
            treatment.class_rules,
        );
        self.actions.extend(treatment.arms);
        let template = treatment.template;
        let Some(template) = self.policy.templates.get(&*template) else {
            return Err(policy_error(
                self.table_name(&self.policy.roles.class),
                format!("template `{template}` is not defined"),
            ));
        };
        self.schedule(template, self.as_of, &treatment.rules)
    }

    /// The treatment the rules give the account today: the class table's
    /// class and template, and the experiments' arms (`assign_arm` actions,
    /// not pushed) with the template they leave. `None` when no class row decides.
    pub(super) fn treatment_today(&mut self) -> Result<Option<Treatment<'p>>> {
        let policy = self.policy;
        let roles = &policy.roles;
        self.require(&roles.class)?;
        let Some(class) = self.decision(&roles.class) else {
            return Ok(None);
        };
        let class_rules = self.rules(class);
        let class_name = self.out_borrowed(&roles.class, class, Out::Class);
        let class_template = self.need_text(&roles.class, class, Out::Template)?;
        let mut template = class_template.clone();
        let mut rules = class_rules.clone();
        let mut arms = Vec::new();
        // The account id picks the arm; read only when an experiment asks.
        let mut id = None;
        for ce in &policy.experiments {
            if !class_name
                .as_deref()
                .is_some_and(|c| ce.classes.iter().any(|k| k == c))
                || ce.experiment.arms.is_empty()
            {
                continue;
            }
            let id = id.get_or_insert_with(|| {
                text(field(self.account, self.plan().schema().id_slot)).unwrap_or_default()
            });
            let arm = ce.experiment.assign(id);
            arms.push(Action {
                kind: ActionKind::AssignArm {
                    experiment: Cow::Borrowed(&ce.experiment.name),
                    arm: Cow::Borrowed(&arm.name),
                    template: arm.template.as_deref().map(Cow::Borrowed),
                    holdout: arm.holdout,
                },
                rules: smallvec![Cow::Borrowed(&*arm.rule_ref)],
            });
            if let Some(t) = &arm.template {
                template = Cow::Borrowed(t);
                rules.push(Cow::Borrowed(&arm.rule_ref));
            }
        }
        Ok(Some(Treatment {
            class: class_name,
            class_template,
            class_rules,
            arms,
            template,
            rules,
        }))
    }

    /// Every event of the template, dated from `start` on the account's calendar, else the template's.
    fn schedule(
        &mut self,
        template: &'p Template,
        start: NaiveDate,
        rules: &[Text<'p>],
    ) -> Result<()> {
        for event in &template.events {
            let Some(date) = self.event_date(template, event, start)? else {
                continue;
            };
            let event_rule = Cow::Borrowed(&*event.rule_ref);
            // Mostly the class's row and the event: inline, without `extend`.
            let event_rules: Rules<'p> = match rules {
                [one] => smallvec![one.clone(), event_rule],
                _ => rules.iter().cloned().chain([event_rule]).collect(),
            };
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
                // A new treatment starts today: its dates are the same for every account.
                let date = match (self.own_calendar, start == self.as_of) {
                    (Some(calendar), _) => template.event_date_on(calendar, *day, start),
                    (None, true) => template.event_date_from_today(*day, start),
                    (None, false) => template.event_date(*day, start),
                };
                return date
                    .map(Some)
                    .ok_or_else(|| out_of_range(format!("day {day} from {start}")));
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
        self.own_calendar
            .unwrap_or(&template.calendar)
            .roll_forward(due)
            .map(Some)
            .ok_or_else(|| out_of_range(format!("no business day from {due}")))
    }
}

/// What [`Ctx::treatment_today`] finds: the class row's class, template and
/// rules, the arms' actions, and the template they leave with its rules.
pub(super) struct Treatment<'p> {
    pub(super) class: Option<Text<'p>>,
    pub(super) class_template: Text<'p>,
    pub(super) class_rules: Rules<'p>,
    arms: Vec<Action<'p>>,
    pub(super) template: Text<'p>,
    rules: Rules<'p>,
}

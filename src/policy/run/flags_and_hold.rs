//! The steps after the areas, for an account with a case or new actions: every
//! row that fired in a flag table becomes a `flag` action, then the contact-hold
//! guard rail withholds contact events (last, so that no area can schedule
//! contact around it). It must not run an area.

use std::borrow::Cow;

use smallvec::smallvec;

use super::decisions::{rules_of, single_decision};
use super::{Ctx, Result};
use crate::eval::{Outcome, Values};
use crate::lang::compile::Plan;
use crate::policy::action::{Action, ActionKind, ConstantFlag, FlagValue, FlagValues};
use crate::policy::case::Channel;
use crate::policy::{Out, Role};
use crate::types::Value;

/// A flag row's outputs by name, as its `flag` action holds them; `row`: the
/// row that gave them (none for an aggregate), whose percents are written so.
fn flag_values(plan: &Plan, t: u32, row: Option<u32>, values: &[Value]) -> Vec<FlagValue> {
    let table = &plan.tables[t as usize].table;
    plan.named_outputs(t, values)
        .zip(&plan.tables[t as usize].results)
        .enumerate()
        .map(|(o, ((name, value), (_, ty)))| FlagValue {
            name: name.clone(),
            value,
            text: *ty == crate::types::Type::Text,
            percent: row.is_some_and(|r| table.written_percent(r as usize, o).is_some()),
        })
        .collect()
}

/// Per flag table (in `roles.flags`' order), per row: its `flag` action's
/// values when the row's outputs are all constants, made once with the policy
/// so that an account's flag borrows them.
pub(crate) fn constant_flags(plan: &Plan, flags: &[Role]) -> Vec<Box<[Option<ConstantFlag>]>> {
    flags
        .iter()
        .map(|role| {
            let compiled = &plan.tables[role.table as usize];
            plan.constants[role.table as usize]
                .rows
                .iter()
                .zip(&compiled.row_refs)
                .enumerate()
                .map(|(r, (row, rule))| {
                    let values = flag_values(plan, role.table, Some(r as u32), row.as_deref()?);
                    Some(ConstantFlag::new(&compiled.name, rule, values))
                })
                .collect()
        })
        .collect()
}

impl<'p> Ctx<'p, '_> {
    /// Every row that fired in a flag table becomes a `flag` action.
    pub(super) fn flags(&mut self) -> Result<()> {
        // A copy of the `&Policy`, so the roles are read in place, not cloned per account.
        let policy = self.policy;
        let plan = &policy.plan;
        for (role, constant) in policy.roles.flags.iter().zip(&policy.constant_flags) {
            self.require(role)?;
            let compiled = &plan.tables[role.table as usize];
            // The decision is read in place while actions are pushed (disjoint fields).
            let Some(d) = single_decision(&self.tables, role) else {
                continue;
            };
            let actions = &mut self.actions;
            let flag = |row: u32, values: &Values, read: &[Value]| ActionKind::Flag {
                table: Cow::Borrowed(&compiled.name),
                values: match (values, constant.get(row as usize)) {
                    (Values::Constant, Some(Some(c))) => FlagValues::Constant(c),
                    _ => FlagValues::Computed(flag_values(plan, role.table, Some(row), read)),
                },
            };
            match &d.outcome {
                Outcome::Default { .. } => {}
                Outcome::Aggregate { rows, .. } if rows.is_empty() => {}
                Outcome::Row { row, values, .. } => actions.push(Action {
                    kind: flag(*row, values, plan.result(d)),
                    rules: rules_of(compiled, d),
                }),
                Outcome::Aggregate { .. } => actions.push(Action {
                    kind: ActionKind::Flag {
                        table: Cow::Borrowed(&compiled.name),
                        values: FlagValues::Computed(flag_values(
                            plan,
                            role.table,
                            None,
                            plan.result(d),
                        )),
                    },
                    rules: rules_of(compiled, d),
                }),
                Outcome::Rows(rows) => {
                    for (r, values) in rows {
                        actions.push(Action {
                            kind: flag(*r, values, plan.row_values(role.table, *r, values)),
                            rules: smallvec![Cow::Borrowed(&*compiled.row_refs[*r as usize])],
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// While the contact-hold table holds, contact events are withheld and one
    /// `hold_contact` action says so.
    pub(super) fn contact_hold(&mut self) -> Result<()> {
        let policy = self.policy;
        let Some(role) = &policy.roles.contact_hold else {
            return Ok(());
        };
        self.require(role)?;
        let Some(d) = self.decision(role) else {
            return Ok(());
        };
        if !self.need_bool(role, d, Out::Hold)? {
            return Ok(());
        }
        let rules = self.rules(d);
        let reason = self
            .out_text(role, d, Out::Reason)
            .unwrap_or_else(|| rules.join(", "));
        let is_contact = |a: &Action| matches!(&a.kind, ActionKind::ScheduleEvent { event_type, .. } if Channel::of_event(event_type).is_some());
        let withheld: Vec<String> = self
            .actions
            .iter()
            .filter(|a| is_contact(a))
            .filter_map(|a| match &a.kind {
                ActionKind::ScheduleEvent { event, .. } => Some(event.to_string()),
                _ => None,
            })
            .collect();
        self.actions.retain(|a| !is_contact(a));
        // A run that cancels every pending event (a re-treatment) leaves none to name.
        let cancels_all = self
            .actions
            .iter()
            .any(|a| matches!(a.kind, ActionKind::CancelPendingEvents));
        let cancelled = if cancels_all {
            Vec::new()
        } else {
            self.state.pending_contacts()
        };
        self.push(
            ActionKind::HoldContact {
                reason,
                withheld,
                cancelled,
            },
            rules,
        );
        Ok(())
    }
}

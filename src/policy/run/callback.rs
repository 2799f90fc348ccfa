//! Dated callbacks: the `callback` table, run once per disposition, decides
//! whether the callback a customer asked for (`call_back`, on its
//! `callback_date`) is booked, on which channel and day. A booked callback is
//! the case event `callback-<disposition date>`, scheduled once (the case
//! state holds it pending or done, so the next night does not book it
//! again); a pending one the table no longer books (a newer disposition
//! supersedes it) is cancelled. It must not decide the day itself beyond the
//! table's: the customer's day, today if that is past, on a business day; a
//! day other than the one asked for is said by a `postpone` naming the row.

use std::borrow::Cow;

use chrono::NaiveDate;
use smallvec::SmallVec;

use super::decisions::{field, list};
use super::{Ctx, Result};
use crate::policy::action::{ActionKind, IsoDate};
use crate::policy::case::CALLBACK_PREFIX;
use crate::policy::Out;
use crate::types::Value;

/// The case event a disposition's callback is kept as.
fn callback_event_id(disposition_date: NaiveDate) -> String {
    match IsoDate::of(disposition_date) {
        Some(date) => [CALLBACK_PREFIX, date.as_str()].concat(),
        None => format!("{CALLBACK_PREFIX}{disposition_date}"),
    }
}

impl<'p> Ctx<'p, '_> {
    /// Books, keeps or cancels each disposition's callback; nothing on a case this run closed.
    pub(super) fn callbacks(&mut self) -> Result<()> {
        let (Some(role), Some((slot, ds))) = (
            self.policy.roles.callback.as_ref(),
            self.policy.slots.dispositions,
        ) else {
            return Ok(());
        };
        if self
            .actions
            .iter()
            .any(|a| matches!(a.kind, ActionKind::CloseCase { .. }))
        {
            return Ok(());
        }
        let dispositions = list(field(self.account, slot));
        let mut decisions = self.item_decisions(role)?;
        // Newest first (dispositions are kept newest last): the last disposition of a day
        // decides that day's callback.
        decisions.sort_by_key(|&at| std::cmp::Reverse(self.decision_at(at).item));
        let mut seen: SmallVec<[NaiveDate; 4]> = SmallVec::new();
        for at in decisions {
            let d = self.decision_at(at);
            let Some(disposition) = d.item.and_then(|i| dispositions.get(i as usize)) else {
                continue;
            };
            let &Value::Date(on) = field(disposition, ds.date) else {
                continue;
            };
            if seen.contains(&on) {
                continue;
            }
            seen.push(on);
            let event = callback_event_id(on);
            let rules = self.rules(d);
            let detail = self.out_text(role, d, Out::Detail);
            if !self.need_bool(role, d, Out::Book)? {
                // Booked by an earlier run and no longer wanted: the newer disposition wins.
                if self.state.pending().any(|e| e.id == event) {
                    let reason =
                        detail.unwrap_or_else(|| "the callback is no longer booked".into());
                    self.push(ActionKind::CancelEvent { event, reason }, rules);
                }
                continue;
            }
            if self.state.ever_had_event(&event) {
                continue;
            }
            let channel = self.need_variant(role, d, Out::Channel)?;
            let event_type =
                crate::policy::case::Channel::event_type_of(self.channel_name(role, channel));
            // The table's date, else the customer's; a day already past is today.
            let asked = match (
                self.out(role, d, Out::EventDate),
                field(disposition, ds.callback_date),
            ) {
                (Value::Date(date), _) | (_, &Value::Date(date)) => Some(date),
                _ => None,
            };
            let wanted = asked.map_or(self.as_of, |a| a.max(self.as_of));
            let date = self.calendar().roll_forward(wanted).unwrap_or(wanted);
            // A day other than the one asked for is said, as a rail's move is.
            let moved = asked.filter(|a| *a != date).map(|from| {
                let why = if from < self.as_of {
                    format!("the day asked for, {from}, is past")
                } else {
                    format!("{from} is not a business day")
                };
                ActionKind::Postpone {
                    event: Cow::Owned(event.clone()),
                    from,
                    to: date,
                    time: None,
                    reason: Some(why),
                }
            });
            let params = Cow::Owned(
                detail
                    .into_iter()
                    .map(|d| ("detail".to_string(), d))
                    .collect(),
            );
            self.push(
                ActionKind::ScheduleEvent {
                    event: event.into(),
                    event_type: Cow::Borrowed(event_type),
                    date,
                    params,
                    timing: None,
                },
                rules.clone(),
            );
            if let Some(postpone) = moved {
                self.push(postpone, rules);
            }
        }
        Ok(())
    }

    /// The name of the `contact_channel` variant `v` the `channel` output gave.
    fn channel_name(&self, role: &crate::policy::Role, v: usize) -> &'p str {
        let plan = &self.policy.plan;
        let Some(i) = role.col(Out::Channel) else {
            return "";
        };
        match &plan.tables[role.table as usize].table.outputs[i].ty {
            crate::types::Type::Enum(e) => plan
                .schema()
                .enum_def(*e)
                .variants
                .get(v)
                .map_or("", |s| s.as_str()),
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id is the date as chrono writes it, whatever the year.
    #[test]
    fn callback_ids_write_the_date_as_chrono_does() {
        for (y, m, d) in [
            (2026, 11, 22),
            (7, 1, 9),
            (9999, 12, 31),
            (-3, 2, 1),
            (10000, 6, 15),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
            assert_eq!(callback_event_id(date), format!("callback-{date}"));
        }
    }
}

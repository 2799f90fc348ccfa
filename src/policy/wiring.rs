//! The policy document's wiring: `Builder::policy` reads the `policy`
//! document, names the table of each area with the outputs that area reads,
//! the calendar, templates, experiments and nomination, runs the cross-checks,
//! and collects the `Parts`. It must not check a table's columns itself (that is
//! `contracts`) nor resolve a companion document (`documents`).

use super::areas::{Nomination, Out, Roles};
use super::contracts::Want;
use super::{Builder, Parts};
use crate::model::doc::PolicyDoc;
use crate::model::RuleDocs;

impl Builder<'_> {
    pub(super) fn policy(&mut self, docs: &RuleDocs, doc: &PolicyDoc) -> Option<Parts> {
        let calendars = self.calendars(docs);
        let calendar = self.named(&calendars, &doc.calendar, "calendar");
        let calendar_by = self.calendar_by(doc, &calendars);
        let templates = self.templates(docs, &calendars, calendar.as_ref());
        self.invariants(docs);
        let entry = self.role(
            &doc.entry,
            "entry",
            false,
            &[
                (Out::Category, Want::Enum, true),
                (Out::Reason, Want::Text, true),
            ],
        );
        let exit = doc.exit.as_ref().and_then(|n| {
            self.role(
                n,
                "exit",
                false,
                &[
                    (Out::Close, Want::Bool, true),
                    (Out::Reason, Want::Text, true),
                    (Out::Todo, Want::Text, false),
                ],
            )
        });
        let sa_exit = doc.sa_exit.as_ref().and_then(|n| {
            self.role(
                n,
                "sa_exit",
                true,
                &[
                    (Out::Remove, Want::Bool, true),
                    (Out::Reason, Want::Text, true),
                ],
            )
        });
        let class = self.role(
            &doc.class,
            "class",
            false,
            &[
                (Out::Class, Want::TextOrEnum, true),
                (Out::Template, Want::Text, true),
            ],
        );
        if let Some(class) = &class {
            self.check_template_outputs(class, &templates, &doc.class);
        }
        let promise_terms = doc.promise_terms.as_ref().and_then(|n| {
            self.role(
                n,
                "promise_terms",
                true,
                &[
                    (Out::ToleranceAmount, Want::Money, true),
                    (Out::TolerancePercent, Want::Decimal, true),
                    (Out::ToleranceRule, Want::Named("tolerance_rule"), true),
                    (Out::PlanTolerance, Want::Named("plan_tolerance"), false),
                    (Out::GraceDays, Want::Integer, true),
                    (Out::GraceBusinessDays, Want::Bool, true),
                ],
            )
        });
        let promise_follow_up = doc.promise_follow_up.as_ref().and_then(|n| {
            self.role(
                n,
                "promise_follow_up",
                false,
                &[
                    (Out::FollowUp, Want::Named("follow_up"), true),
                    (Out::Detail, Want::Text, false),
                    (Out::EventDate, Want::Date, false),
                ],
            )
        });
        let callback = doc.callback.as_ref().and_then(|n| {
            self.role(
                n,
                "callback",
                true,
                &[
                    (Out::Book, Want::Bool, true),
                    (Out::Channel, Want::Named("contact_channel"), true),
                    (Out::EventDate, Want::Date, false),
                    (Out::Detail, Want::Text, false),
                ],
            )
        });
        let payment_plan = doc.payment_plan.as_ref().and_then(|n| {
            self.role(
                n,
                "payment_plan",
                false,
                &[
                    (Out::Instalments, Want::Integer, true),
                    (Out::Amount, Want::Money, true),
                    (Out::FirstDueIn, Want::DaysOrInteger, true),
                ],
            )
        });
        if let Some(role) = &payment_plan {
            self.check_instalment_counts(role);
        }
        let severance = doc.severance.as_ref().and_then(|n| {
            self.role(
                n,
                "severance",
                true,
                &[
                    (Out::Eligible, Want::Bool, true),
                    (Out::Reason, Want::Text, true),
                    (Out::PostponeUntil, Want::Date, false),
                ],
            )
        });
        let retreat = doc.retreat.as_ref().and_then(|n| {
            self.role(
                n,
                "retreat",
                false,
                &[
                    (Out::Retreat, Want::Bool, true),
                    (Out::Restart, Want::Bool, false),
                    (Out::Reason, Want::Text, false),
                ],
            )
        });
        let contact_hold = doc.contact_hold.as_ref().and_then(|n| {
            self.role(
                n,
                "contact_hold",
                false,
                &[
                    (Out::Hold, Want::Bool, true),
                    (Out::Reason, Want::Text, false),
                ],
            )
        });
        let flags = doc.flags.iter().filter_map(|n| self.flag_role(n)).collect();
        let guards = self.guard_roles(doc);
        let named = doc.nominate.as_ref().map(|n| {
            Nomination::ALL
                .iter()
                .find(|(name, _)| *name == n.value)
                .map(|(_, nomination)| *nomination)
                .ok_or(n.value.as_str())
        });
        let nominate = match named {
            None => Nomination::All,
            Some(Ok(nomination)) => nomination,
            Some(Err(other)) => {
                let span = doc.nominate.as_ref().map(|n| n.span).unwrap_or_default();
                self.error("policy", span, format!("unknown nomination `{other}`")).help =
                    Some("nominate `all` eligible service agreements or the one with the `highest_arrears`".into());
                Nomination::All
            }
        };
        let experiments = self.experiments(docs, doc, &templates);
        if let Some(class) = &class {
            self.check_unassigned(docs, doc, class);
        }
        if let Some(role) = &promise_follow_up {
            self.check_follow_up_rows(role);
        }
        if let Some(role) = &retreat {
            self.check_retreat_rows(role);
        }
        let slots = self.slots(doc);
        if let (Some(role), Some(n), Some(slots)) = (&callback, &doc.callback, &slots) {
            self.check_callback_list(role, n, slots);
        }
        let variants = self.variants(entry.as_ref(), doc.policy.span);
        Some(Parts {
            name: doc.policy.value.clone(),
            calendar: calendar?,
            calendar_by,
            templates,
            experiments,
            roles: Roles {
                entry: entry?,
                exit,
                sa_exit,
                class: class?,
                promise_terms,
                promise_follow_up,
                callback,
                payment_plan,
                severance,
                retreat,
                contact_hold,
                guards,
                flags,
            },
            nominate,
            slots: slots?,
            variants,
        })
    }
}

//! An account's own work calendar (`calendar_by` in the policy document): the
//! calendar the value of one of its enum fields names (`jurisdiction: GB` →
//! `england_and_wales`), checked against the schema and the calendars when the
//! policy is built, and read per account by the variant's index, no text matched.

use std::collections::HashMap;

use super::calendar::WorkCalendar;
use super::Builder;
use crate::diagnostic::did_you_mean;
use crate::model::doc::PolicyDoc;
use crate::types::{ShowType, Type, Value};

/// The calendars accounts are dated on besides the policy's.
#[derive(Debug, Clone, Default)]
pub struct AccountCalendars {
    /// The account field whose value picks the calendar; none: every account uses the policy's.
    slot: Option<usize>,
    /// Per variant of the field's enum, its calendar in `calendars`.
    by_variant: Box<[Option<usize>]>,
    /// Each calendar `calendar_by` names, once.
    pub calendars: Vec<WorkCalendar>,
    /// The field's name and, in the policy's order, each value with its calendar in
    /// `calendars` (for readers: `arrears doc`).
    pub field: String,
    pub listed: Vec<(String, usize)>,
}

impl AccountCalendars {
    /// The account's own calendar, if its field's value has one.
    pub fn of(&self, account: &Value) -> Option<&WorkCalendar> {
        let Value::Record(fields) = account else {
            return None;
        };
        match fields.get(self.slot?)? {
            Value::Enum(v) => {
                let index = (*self.by_variant.get(*v as usize)?)?;
                self.calendars.get(index)
            }
            _ => None,
        }
    }
}

impl Builder<'_> {
    /// Checks `calendar_by`: an enum field of the account, each key one of its values, each
    /// value a declared calendar; every mistake reported at its place.
    pub(super) fn calendar_by(
        &mut self,
        doc: &PolicyDoc,
        declared: &HashMap<String, WorkCalendar>,
    ) -> AccountCalendars {
        let Some(by) = &doc.calendar_by else {
            return AccountCalendars::default();
        };
        let schema = self.program.schema.clone();
        let account = schema.account();
        let field = &by.field;
        let enum_id = match account.slot(&field.value) {
            None => {
                let help =
                    did_you_mean(&field.value, account.fields.iter().map(|f| f.name.as_str()))
                        .unwrap_or_else(|| {
                            "name an enum field of the account, such as `jurisdiction`".into()
                        });
                self.error(
                    "unknown-reference",
                    field.span,
                    format!("unknown account field `{}`", field.value),
                )
                .help = Some(help);
                None
            }
            Some(slot) => match account.fields[slot].ty {
                Type::Enum(id) => Some((slot, id)),
                ref other => {
                    let shown = ShowType(other, &*schema).to_string();
                    self.error(
                        "policy",
                        field.span,
                        format!(
                            "`calendar_by` needs an enum field: `{}` is a {shown}",
                            field.value
                        ),
                    )
                    .help = Some(
                        "pick the calendar by an enum field such as `jurisdiction`, whose values the calendars are listed for"
                            .into(),
                    );
                    None
                }
            },
        };
        let mut out = AccountCalendars::default();
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut by_variant = enum_id.map_or_else(Vec::new, |(_, id)| {
            vec![None; schema.enum_def(id).variants.len()]
        });
        for (value, name) in &by.calendars {
            let variant = enum_id.and_then(|(_, id)| {
                let variant = schema.variant(id, value);
                if variant.is_none() {
                    let def = schema.enum_def(id);
                    let help = did_you_mean(value, def.variants.iter().map(String::as_str))
                        .unwrap_or_else(|| {
                            format!(
                                "the values of `{}` are {}",
                                field.value,
                                def.variants.join(", ")
                            )
                        });
                    self.error(
                        "unknown-reference",
                        name.span,
                        match field.value == def.name {
                            true => format!("`{value}` is not a value of `{}`", field.value),
                            false => format!(
                                "`{value}` is not a value of `{}` (`{}`)",
                                field.value, def.name
                            ),
                        },
                    )
                    .help = Some(help);
                }
                variant
            });
            let Some(calendar) = self.named(declared, name, "calendar") else {
                continue;
            };
            let index = *names.entry(name.value.as_str()).or_insert_with(|| {
                out.calendars.push(calendar);
                out.calendars.len() - 1
            });
            if let Some(v) = variant {
                by_variant[v as usize] = Some(index);
                out.listed.push((value.clone(), index));
            }
        }
        out.slot = enum_id.map(|(slot, _)| slot);
        out.field = field.value.clone();
        out.by_variant = by_variant.into();
        out
    }
}

//! The rule files as written: plain serde types, cells kept as spanned text.
//! Nothing here is interpreted; the checker does that.

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

use super::spanned::{CellText, Spanned};

/// A map of cells keyed by column name, in file order.
pub type CellMap = IndexMap<String, Spanned<CellText>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDoc {
    pub schema: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub currency: Option<Spanned<String>>,
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub enums: IndexMap<String, Spanned<Vec<Spanned<String>>>>,
    pub fields: Spanned<FieldTypeDoc>,
    /// Record path (`account.dispositions`) → the combinations of its enum fields that may occur.
    #[serde(default)]
    pub valid_combinations: KeyedList<Vec<Spanned<KeyedList<VariantsDoc>>>>,
}

/// A mapping read in file order with each key's span (`IndexMap` keys have none).
#[derive(Debug)]
pub struct KeyedList<V>(pub Vec<(Spanned<String>, Spanned<V>)>);

impl<V> Default for KeyedList<V> {
    fn default() -> Self {
        KeyedList(Vec::new())
    }
}

impl<'de, V: Deserialize<'de> + 'static> Deserialize<'de> for KeyedList<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyedVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de> + 'static> Visitor<'de> for KeyedVisitor<V> {
            type Value = KeyedList<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyedList<V>, A::Error> {
                let mut entries: Vec<(Spanned<String>, Spanned<V>)> = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    if entries.iter().any(|(k, _)| k.value == key.value) {
                        return Err(de::Error::custom(format!("`{}` is given twice", key.value)));
                    }
                    entries.push((key, map.next_value()?));
                }
                Ok(KeyedList(entries))
            }
        }
        deserializer.deserialize_map(KeyedVisitor(std::marker::PhantomData))
    }
}

/// One enum variant, or a list of them (any of which matches).
#[derive(Debug)]
pub struct VariantsDoc(pub Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for VariantsDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VariantsVisitor;
        impl<'de> Visitor<'de> for VariantsVisitor {
            type Value = VariantsDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an enum variant or a list of variants")
            }
            // A single variant has the span of the whole value, set by the enclosing `Spanned`.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VariantsDoc, E> {
                Ok(VariantsDoc(vec![Spanned::new(
                    v.to_string(),
                    Default::default(),
                )]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VariantsDoc, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(VariantsDoc(items))
            }
        }
        deserializer.deserialize_any(VariantsVisitor)
    }
}

/// A field's declared type: `money?`, a nested record, or a list.
#[derive(Debug)]
pub enum FieldTypeDoc {
    Named(String),
    Record(IndexMap<String, Spanned<FieldTypeDoc>>),
    List(Vec<Spanned<FieldTypeDoc>>),
}

impl<'de> Deserialize<'de> for FieldTypeDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TypeVisitor;
        impl<'de> Visitor<'de> for TypeVisitor {
            type Value = FieldTypeDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type name such as `money`, a mapping (record) or a one-element list")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldTypeDoc, E> {
                Ok(FieldTypeDoc::Named(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldTypeDoc, A::Error> {
                let mut fields = IndexMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Spanned<FieldTypeDoc>>()?;
                    if fields.insert(key.clone(), value).is_some() {
                        return Err(de::Error::custom(format!(
                            "field `{key}` is declared twice"
                        )));
                    }
                }
                Ok(FieldTypeDoc::Record(fields))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldTypeDoc, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<FieldTypeDoc>>()? {
                    items.push(item);
                }
                Ok(FieldTypeDoc::List(items))
            }
        }
        deserializer.deserialize_any(TypeVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDoc {
    pub table: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `sa in account.service_agreements`: evaluate the table once per item.
    #[serde(default)]
    pub for_each: Option<Spanned<CellText>>,
    pub hit: Spanned<String>,
    #[serde(default)]
    pub aggregate: Option<Spanned<String>>,
    pub inputs: Spanned<CellMap>,
    pub outputs: Spanned<IndexMap<String, Spanned<String>>>,
    pub rows: Vec<Spanned<RowDoc>>,
    #[serde(default)]
    pub default: Option<Spanned<CellMap>>,
}

/// A guard rail (docs/guardrails.md): a table whose top-level key is
/// `guardrails`, asked about every action the policy proposes (it reads the
/// built-in record `action`). Read as a [`TableDoc`] named by that key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardDoc {
    pub guardrails: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub hit: Spanned<String>,
    pub inputs: Spanned<CellMap>,
    pub outputs: Spanned<IndexMap<String, Spanned<String>>>,
    pub rows: Vec<Spanned<RowDoc>>,
    #[serde(default)]
    pub default: Option<Spanned<CellMap>>,
}

impl GuardDoc {
    /// The guard rail as the table the checker checks.
    pub fn into_table(self) -> TableDoc {
        TableDoc {
            table: self.guardrails,
            description: self.description,
            for_each: None,
            hit: self.hit,
            aggregate: None,
            inputs: self.inputs,
            outputs: self.outputs,
            rows: self.rows,
            default: self.default,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowDoc {
    pub id: Spanned<CellText>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub when: CellMap,
    /// Spanned: a missing output is shown at `then`.
    #[serde(default)]
    pub then: Spanned<CellMap>,
}

/// A work calendar: which days events may fall on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDoc {
    pub calendar: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Weekday names that are never business days; default Saturday and Sunday.
    #[serde(default)]
    pub weekend: Option<Vec<Spanned<String>>>,
    /// How a holiday on a Saturday or Sunday is observed, for every holiday that does not say (default `none`).
    #[serde(default)]
    pub observance: Option<Spanned<String>>,
    #[serde(default)]
    pub holidays: Vec<Spanned<HolidayDoc>>,
}

/// One holiday: a bare date text (`2026-11-26`, `12-25`, `fourth thursday of november`) or a mapping
/// with that text under `on` and optional name, observance and years.
#[derive(Debug)]
pub enum HolidayDoc {
    On(String),
    Rule(HolidayRuleDoc),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayRuleDoc {
    #[serde(default)]
    pub name: Option<String>,
    pub on: Spanned<CellText>,
    #[serde(default)]
    pub observance: Option<Spanned<String>>,
    /// First and last year a yearly holiday is kept (inclusive).
    #[serde(default)]
    pub from: Option<Spanned<CellText>>,
    #[serde(default)]
    pub until: Option<Spanned<CellText>>,
}

impl<'de> Deserialize<'de> for HolidayDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HolidayVisitor;
        impl<'de> Visitor<'de> for HolidayVisitor {
            type Value = HolidayDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a holiday: a date such as `2026-12-25`, `12-25` or `fourth thursday of november`, or a mapping with `on`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HolidayDoc, E> {
                Ok(HolidayDoc::On(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<HolidayDoc, E> {
                Ok(HolidayDoc::On(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HolidayDoc, E> {
                Ok(HolidayDoc::On(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HolidayDoc, E> {
                Ok(HolidayDoc::On(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HolidayDoc, A::Error> {
                // The real map access, so the fields keep their spans.
                HolidayRuleDoc::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(HolidayDoc::Rule)
            }
        }
        deserializer.deserialize_any(HolidayVisitor)
    }
}

/// A collection process template: events with day offsets from the case start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDoc {
    pub template: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub calendar: Option<Spanned<String>>,
    pub events: Vec<Spanned<EventDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDoc {
    pub id: Spanned<CellText>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Calendar days after the case start; a date that is not a business day moves to the next one.
    #[serde(default)]
    pub day: Option<Spanned<i64>>,
    /// Instead of `day`: a date expression over the account, `as_of` and
    /// `start_date` (the treatment's start), moved to a business day likewise.
    #[serde(default)]
    pub date: Option<Spanned<CellText>>,
    /// Local time of day (`HH:MM`, the consumer's time zone) for a call or message at a set time.
    #[serde(default)]
    pub time: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// Event parameters passed through to the action (letter code, to-do type, rating points ...).
    #[serde(default)]
    pub params: IndexMap<String, Spanned<CellText>>,
}

/// A champion/challenger experiment over one or more collection classes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentDoc {
    pub experiment: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Part of the assignment hash: change it to re-draw every account.
    pub salt: Spanned<String>,
    /// The collection classes whose new cases enter the experiment.
    pub classes: Vec<Spanned<String>>,
    pub arms: Vec<Spanned<ArmDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmDoc {
    pub name: Spanned<String>,
    /// A percentage: `80%` or `80`.
    pub share: Spanned<CellText>,
    #[serde(default)]
    pub template: Option<Spanned<String>>,
    #[serde(default)]
    pub holdout: bool,
}

/// Wires tables, templates, experiments and calendars into the pipeline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    pub policy: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub calendar: Spanned<String>,
    pub entry: Spanned<String>,
    #[serde(default)]
    pub exit: Option<Spanned<String>>,
    #[serde(default)]
    pub sa_exit: Option<Spanned<String>>,
    pub class: Spanned<String>,
    /// An open case whose category or class no longer fits: keep it, or re-treat it from today.
    #[serde(default)]
    pub retreat: Option<Spanned<String>>,
    #[serde(default)]
    pub experiments: Vec<Spanned<String>>,
    #[serde(default)]
    pub promise_terms: Option<Spanned<String>>,
    #[serde(default)]
    pub promise_follow_up: Option<Spanned<String>>,
    #[serde(default)]
    pub payment_plan: Option<Spanned<String>>,
    #[serde(default)]
    pub severance: Option<Spanned<String>>,
    /// `all` eligible service agreements, or the one with the `highest_arrears`.
    #[serde(default)]
    pub nominate: Option<Spanned<String>>,
    /// A guard rail applied after every other area: while it holds, no contact is scheduled.
    #[serde(default)]
    pub contact_hold: Option<Spanned<String>>,
    /// Tables whose matching rows become `flag` actions on the case (for the case-management system).
    #[serde(default)]
    pub flags: Vec<Spanned<String>>,
}

/// Which kind of document a file holds, read from its top-level keys.
#[derive(Debug, Deserialize)]
pub struct Probe {
    #[serde(default)]
    pub schema: Option<de::IgnoredAny>,
    #[serde(default)]
    pub table: Option<de::IgnoredAny>,
    #[serde(default)]
    pub guardrails: Option<de::IgnoredAny>,
    #[serde(default)]
    pub calendar: Option<de::IgnoredAny>,
    #[serde(default)]
    pub template: Option<de::IgnoredAny>,
    #[serde(default)]
    pub experiment: Option<de::IgnoredAny>,
    #[serde(default)]
    pub policy: Option<de::IgnoredAny>,
    /// A test document (`arrears test`), not a rule: the rule loader skips it.
    #[serde(default)]
    pub tests: Option<de::IgnoredAny>,
    /// A column mapping for `arrears batch` (docs/batch.md).
    #[serde(default)]
    pub mapping: Option<de::IgnoredAny>,
}

/// How the columns of a flat extract (CSV) map onto the account schema
/// (`arrears batch`, docs/batch.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingDoc {
    pub mapping: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Extract column → schema field path (`days_past_due`, `pay_plan.scheduled_due`, `case.start_date`).
    pub columns: IndexMap<String, Spanned<String>>,
    /// Lists (`service_agreements`, `promises.payments`) read from companion files keyed by account id.
    #[serde(default)]
    pub lists: IndexMap<String, ListMappingDoc>,
}

/// One list field read from a companion file: one row per item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMappingDoc {
    /// The companion file, relative to the input; `{stem}` is the input's file name without extensions.
    pub file: String,
    /// The column holding the account id.
    pub key: String,
    /// For a list inside a list item (`promises.payments`): the column holding the parent item's `id`.
    #[serde(default)]
    pub parent: Option<String>,
    /// Companion column → field of the list item.
    pub columns: IndexMap<String, Spanned<String>>,
}

/// Whether `s` can name a field, enum, variant, table or binder: a letter or
/// `_`, then letters, digits and `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

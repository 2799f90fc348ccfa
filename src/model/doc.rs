//! The rule files as written: plain serde types, cells kept as spanned text.
//! Nothing here is interpreted; the checker does that.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

use super::spanned::{CellText, NameText, Spanned};

/// A map of cells keyed by column name, in file order.
pub type CellMap = IndexMap<String, Spanned<CellText>>;

/// The account schema: every field an account snapshot has, its type, and the enums.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaDoc {
    /// The schema's name; a rules directory has exactly one schema.
    pub schema: Spanned<String>,
    /// What the accounts are, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// The ISO 4217 code of every `money` amount (`USD`); money literals in other currencies are errors.
    #[serde(default)]
    pub currency: Option<Spanned<String>>,
    /// The account field that holds the account id (default `id`).
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// Enum name → its variants (`customer_class: [residential, commercial]`); a field or output of that type takes one of them.
    #[serde(default)]
    pub enums: IndexMap<String, Spanned<Vec<Spanned<String>>>>,
    /// The account's fields: name → type (`money`, `integer?` for an optional one, an enum name, a nested record, or a one-element list `[record]`).
    pub fields: Spanned<FieldTypeDoc>,
    /// Record path (`account.dispositions`) → the combinations of its enum fields that may occur.
    #[serde(default)]
    pub valid_combinations: KeyedList<Vec<Spanned<KeyedList<VariantsDoc>>>>,
}

/// A mapping read in file order with each key's span (`IndexMap` keys have none).
#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
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

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// A decision table: inputs, outputs and rows of cells, evaluated under a hit policy.
pub struct TableDoc {
    /// The table's name, used in references (`entry.category`) and rule refs (`entry:row-id`).
    pub table: Spanned<String>,
    /// What the table decides, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// `sa in account.service_agreements`: evaluate the table once per item.
    #[serde(default)]
    pub for_each: Option<Spanned<CellText>>,
    /// Which matching rows give the result: `first`, `unique`, `priority`, `any`, `collect` or `rule_order`.
    pub hit: Spanned<NameText>,
    /// Under `hit: collect`, folds the collected outputs into one value: `sum`, `min`, `max` or `count`.
    #[serde(default)]
    pub aggregate: Option<Spanned<NameText>>,
    /// Input name → the expression it reads (`account.days_past_due`, `account.arrears - account.pay_plan.scheduled_due`).
    pub inputs: Spanned<CellMap>,
    /// Output name → its type (`text`, `money`, `bool`, an enum name, `text?` when it may be null).
    pub outputs: Spanned<IndexMap<String, Spanned<String>>>,
    /// The rules, in order: each row's `when` cells test the inputs, its `then` gives every output.
    pub rows: Vec<Spanned<RowDoc>>,
    /// The outputs when no row matches (not under `collect` or `rule_order`).
    #[serde(default)]
    pub default: Option<Spanned<CellMap>>,
    /// The dates this version of the table is in force (`model::effective`).
    #[serde(default)]
    pub effective: Option<Spanned<EffectiveDoc>>,
}

/// A guard rail (docs/guardrails.md): a table whose top-level key is
/// `guardrails`, asked about every action the policy proposes (it reads the
/// built-in record `action`). Read as a [`TableDoc`] named by that key.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardDoc {
    /// The guard rail's name; its changes name it (`guard:NAME/row-id`).
    pub guardrails: Spanned<String>,
    /// What the guard rail enforces, for readers (cite the regulation).
    #[serde(default)]
    pub description: Option<String>,
    /// Which matching rows give the result (usually `first`).
    pub hit: Spanned<NameText>,
    /// Input name → an expression over the account and the proposed `action`.
    pub inputs: Spanned<CellMap>,
    /// Output name → type: `effect` and the optional `until`, `channel`, `reason`, `window_start`, `window_end`.
    pub outputs: Spanned<IndexMap<String, Spanned<String>>>,
    /// The guard rail's rules, in order.
    pub rows: Vec<Spanned<RowDoc>>,
    /// The outputs when no row matches (usually `effect: allow`).
    #[serde(default)]
    pub default: Option<Spanned<CellMap>>,
    /// What the pack guarantees whatever the strategy proposes; `arrears lint` proves each one.
    #[serde(default)]
    pub invariants: Vec<Spanned<InvariantDoc>>,
}

/// A guarantee of a guard-rail pack (docs/guardrails.md, "Invariants").
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvariantDoc {
    /// While `when` holds, the run never proposes any of `action`.
    pub never: Spanned<NeverDoc>,
}

/// The circumstance and the actions an invariant forbids in it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeverDoc {
    /// A yes/no expression over the account and the proposed `action`: conditions joined by `and`, each one a guard-rail input's expression (or `not(...)` of one).
    pub when: Spanned<CellText>,
    /// The `guarded_action` variants (`call`, `send_letter`, `sms`, `email`, `offer_payment_plan`, `nominate_severance`, ...) never proposed while `when` holds.
    pub action: Vec<Spanned<String>>,
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
            effective: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// One rule of a table.
pub struct RowDoc {
    /// Unique in its table; names the rule's intent (`consumer-in-arrears`), not its thresholds.
    pub id: Spanned<CellText>,
    /// What the rule means, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// Input name → a cell tested against it (`">= 5"`, `"[1..29]"`, `'"CA", "TX"'`, `-` for any); a missing input matches anything.
    #[serde(default)]
    pub when: CellMap,
    /// Output name → an expression giving its value.
    // Spanned: a missing output is shown at `then`.
    #[serde(default)]
    pub then: Spanned<CellMap>,
    /// The dates this version of the row is in force (`model::effective`).
    #[serde(default)]
    pub effective: Option<Spanned<EffectiveDoc>>,
}

/// `effective: { from: DATE, until: DATE }`: the first and the last day a
/// version is in force, both inclusive (as a calendar holiday's `from` and
/// `until` years); either may be left out (no start, no end).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectiveDoc {
    /// The first day in force (`2027-01-01`); none: in force from the start.
    #[serde(default)]
    pub from: Option<Spanned<CellText>>,
    /// The last day in force, inclusive; none: no end.
    #[serde(default)]
    pub until: Option<Spanned<CellText>>,
}

/// A work calendar: which days events may fall on.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDoc {
    /// The calendar's name, which a policy or template names in its `calendar`.
    pub calendar: Spanned<String>,
    /// Whose business days these are, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// Weekday names that are never business days; default Saturday and Sunday.
    #[serde(default)]
    pub weekend: Option<Vec<Spanned<String>>>,
    /// How a holiday on a weekend day is observed, for every holiday that does not say (default `none`).
    #[serde(default)]
    pub observance: Option<Spanned<String>>,
    /// Holidays: a date (`2026-11-26`), a yearly date (`12-25`), a yearly rule (`fourth thursday of november`, `easter - 2`), or a mapping with `on`.
    #[serde(default)]
    pub holidays: Vec<Spanned<HolidayDoc>>,
}

/// One holiday: a bare date text (`2026-11-26`, `12-25`, `fourth thursday of november`) or a mapping
/// with that text under `on` and optional name, observance and years.
#[derive(Clone, Debug)]
pub enum HolidayDoc {
    On(String),
    Rule(HolidayRuleDoc),
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// A holiday with a name, its own observance, or the years it is kept.
pub struct HolidayRuleDoc {
    /// The holiday's name, for readers.
    #[serde(default)]
    pub name: Option<String>,
    /// The date: `2026-11-26`, `12-25` (every year), or a rule such as `fourth thursday of november`, `last monday of may` or `easter + 1` (days from Easter Sunday).
    pub on: Spanned<CellText>,
    /// How this holiday is observed when it falls on a weekend (overrides the calendar's).
    #[serde(default)]
    pub observance: Option<Spanned<String>>,
    /// First and last year a yearly holiday is kept (inclusive).
    #[serde(default)]
    pub from: Option<Spanned<CellText>>,
    #[serde(default)]
    pub until: Option<Spanned<CellText>>,
    /// Years a yearly holiday is not kept (it moved: list that year's date as a one-off).
    #[serde(default)]
    pub except: Vec<Spanned<CellText>>,
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
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateDoc {
    /// The template's name, which class-table rows and experiment arms name.
    pub template: Spanned<String>,
    /// The treatment, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// The calendar its event dates move on (default: the policy's).
    #[serde(default)]
    pub calendar: Option<Spanned<String>>,
    /// The events scheduled when a case starts on this template.
    pub events: Vec<Spanned<EventDoc>>,
    /// The dates this version of the template is in force (`model::effective`).
    #[serde(default)]
    pub effective: Option<Spanned<EffectiveDoc>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// One event of a template.
pub struct EventDoc {
    /// Unique in its template; the rule ref `template:<name>/<id>` names it.
    pub id: Spanned<CellText>,
    /// What the case system does: one of the built-in `event_type` variants.
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
    /// What the event is for, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// Event parameters passed through to the action (letter code, to-do type, rating points ...).
    #[serde(default)]
    pub params: IndexMap<String, Spanned<CellText>>,
}

/// A champion/challenger experiment over one or more collection classes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentDoc {
    /// The experiment's name, which the policy's `experiments` lists.
    pub experiment: Spanned<String>,
    /// What is being tried, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// Part of the assignment hash: change it to re-draw every account.
    pub salt: Spanned<String>,
    /// The collection classes whose new cases enter the experiment.
    pub classes: Vec<Spanned<String>>,
    /// The arms; their shares total 100%.
    pub arms: Vec<Spanned<ArmDoc>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// One arm of an experiment.
pub struct ArmDoc {
    /// The arm's name (`champion`, `soft_letter`).
    pub name: Spanned<String>,
    /// A percentage: `80%` or `80`. Alone in every arm: consecutive ranges in order (the
    /// layout before buckets); with `take_from`: how much to take; with `buckets`: checked against them.
    #[serde(default)]
    pub share: Option<Spanned<CellText>>,
    /// The buckets (0 to 9999) the arm owns: `0-7999, 9500-9999`.
    #[serde(default)]
    pub buckets: Option<Spanned<CellText>>,
    /// A new arm takes its `share` from this arm's highest buckets.
    #[serde(default)]
    pub take_from: Option<Spanned<String>>,
    /// The template the arm's cases get instead of their class's.
    #[serde(default)]
    pub template: Option<Spanned<String>>,
    /// A hold-out arm: its cases get no treatment events.
    #[serde(default)]
    pub holdout: bool,
}

/// Wires tables, templates, experiments and calendars into the pipeline.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    /// The policy's name; a rules directory has at most one policy.
    pub policy: Spanned<String>,
    /// What the policy covers, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// The calendar event dates move on (for accounts `calendar_by` gives none of their own).
    pub calendar: Spanned<String>,
    /// Per account, the calendar of its own jurisdiction (or another enum field's value).
    #[serde(default)]
    pub calendar_by: Option<CalendarByDoc>,
    /// The table that decides whether an account without an open case opens one (its category and reason).
    pub entry: Spanned<String>,
    /// The table that decides whether an open case closes.
    #[serde(default)]
    pub exit: Option<Spanned<String>>,
    /// The per-service-agreement table that removes an SA from an open case.
    #[serde(default)]
    pub sa_exit: Option<Spanned<String>>,
    /// The table that gives a new case its collection class and template.
    pub class: Spanned<String>,
    /// An open case whose category or class no longer fits: keep it, or re-treat it from today.
    #[serde(default)]
    pub retreat: Option<Spanned<String>>,
    /// The champion/challenger experiments new cases enter.
    #[serde(default)]
    pub experiments: Vec<Spanned<String>>,
    /// The table that gives a promise to pay its tolerance and grace.
    #[serde(default)]
    pub promise_terms: Option<Spanned<String>>,
    /// The table that decides what follows a kept, broken or pending promise.
    #[serde(default)]
    pub promise_follow_up: Option<Spanned<String>>,
    /// The per-disposition table that books the callback a customer asked for (a `call_back` disposition).
    #[serde(default)]
    pub callback: Option<Spanned<String>>,
    /// The table that decides payment-plan offers.
    #[serde(default)]
    pub payment_plan: Option<Spanned<String>>,
    /// The per-service-agreement table that decides severance eligibility.
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

/// An account's own calendar, picked by the value of one of its enum fields.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarByDoc {
    /// The account field (an enum, such as `jurisdiction`) whose value picks the calendar.
    pub field: Spanned<String>,
    /// Per value of the field, the calendar its accounts are dated on (`GB: england_and_wales`); a value not listed, or null, uses the policy's `calendar`.
    pub calendars: IndexMap<String, Spanned<String>>,
}

/// Which kind of document a file holds, read from its top-level keys.
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingDoc {
    /// The mapping's name (`batch --mapping NAME`).
    pub mapping: Spanned<String>,
    /// Which extract it reads, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// Extract column → schema field path (`days_past_due`, `pay_plan.scheduled_due`, `case.start_date`).
    pub columns: IndexMap<String, Spanned<String>>,
    /// Lists (`service_agreements`, `promises.payments`) read from companion files keyed by account id.
    #[serde(default)]
    pub lists: IndexMap<String, ListMappingDoc>,
}

/// One list field read from a companion file: one row per item.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
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

// Editor schemas (`arrears schema`) of the types that read themselves: each
// says what its `Deserialize` takes.

impl<V: JsonSchema> JsonSchema for KeyedList<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("KeyedList_{}", V::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = generator.subschema_for::<V>();
        schemars::json_schema!({ "type": "object", "additionalProperties": value })
    }
}

impl JsonSchema for VariantsDoc {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Variants".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An enum variant, or a list of variants any of which may occur.",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } },
            ],
        })
    }
}

impl JsonSchema for FieldTypeDoc {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldType".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let nested = generator.subschema_for::<FieldTypeDoc>();
        schemars::json_schema!({
            "description": "A field's type: a type name (`text`, `integer`, `decimal`, `money`, `date`, `bool`, an enum name; `?` after it when the field may be missing or null), a record (field name → type), or a list of records written as a one-element list.",
            "anyOf": [
                { "type": "string" },
                { "type": "object", "additionalProperties": nested },
                { "type": "array", "minItems": 1, "maxItems": 1, "items": nested },
            ],
        })
    }
}

impl JsonSchema for HolidayDoc {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Holiday".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let rule = generator.subschema_for::<HolidayRuleDoc>();
        schemars::json_schema!({
            "description": "A holiday: a date (`2026-11-26`), a yearly date (`12-25`), a yearly rule (`fourth thursday of november`), or a mapping with `on`.",
            "anyOf": [
                { "type": ["string", "integer"] },
                rule,
            ],
        })
    }
}

/// Whether `s` can name a field, enum, variant, table or binder: a letter or
/// `_`, then letters, digits and `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

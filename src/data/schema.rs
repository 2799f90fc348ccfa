//! The account schema: which fields a snapshot has and their types. Every
//! field path in every rule is resolved against it.
//! It must not read files or know about tables and rules beyond the names they
//! may use.

use std::sync::Arc;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::doc::{is_identifier, FieldTypeDoc, KeyedList, SchemaDoc, VariantsDoc};
use crate::model::spanned::Spanned;
use crate::source::{SourceFile, Span};
use crate::types::{EnumId, RecordId, Type, TypeNames, Value};

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    /// Declared `time`: a text that is a time of day, `HH:MM`, checked when an account is read.
    pub time_of_day: bool,
}

/// `HH:MM` (24-hour, zero-padded) as a time of day; anything else is `None`.
/// The one reading of the schema's `time` fields and of templates' event times.
pub fn time_of_day(text: &str) -> Option<chrono::NaiveTime> {
    if text.len() != 5 {
        return None;
    }
    chrono::NaiveTime::parse_from_str(text, "%H:%M").ok()
}

/// Why `text` is not a value of a `time` field, if it is not.
pub fn time_of_day_error(text: &str) -> Option<String> {
    time_of_day(text).is_none().then(|| {
        format!(
            "expected a time of day HH:MM (00:00 to 23:59), found `{}`",
            crate::diagnostic::echoed(text)
        )
    })
}

#[derive(Debug, Clone, Default)]
pub struct RecordDef {
    pub fields: Vec<FieldDef>,
    /// The schema's `valid_combinations` for this record: a record is valid when one of them
    /// matches it. Empty: every combination is valid.
    pub valid_combinations: Vec<Combination>,
    /// This record, or one inside it, has valid combinations (the decoder looks no further otherwise).
    pub checks_combinations: bool,
}

/// One allowed combination: for each field it names (a slot holding an enum), the variants it may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combination(pub Vec<(usize, Vec<u32>)>);

impl Combination {
    pub fn matches(&self, fields: &[Value]) -> bool {
        self.0.iter().all(|(slot, variants)| {
            matches!(fields.get(*slot), Some(Value::Enum(v)) if variants.contains(v))
        })
    }
}

impl RecordDef {
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub name: String,
    pub currency: String,
    pub enums: Vec<EnumDef>,
    /// `records[ACCOUNT]` is the account itself.
    pub records: Vec<RecordDef>,
    /// Slot of the account id field in the account record.
    pub id_slot: usize,
    /// The built-in `promise` record a promise follow-up table reads (see [`PROMISE_FIELDS`]).
    pub promise_record: RecordId,
    /// The built-in record a guard-rail table reads as `action` (see [`GUARD_ACTION_FIELDS`]).
    pub guard_action_record: RecordId,
    /// The built-in `retreat` record the re-treatment table reads (see [`RETREAT_FIELDS`]).
    pub retreat_record: RecordId,
}

/// The types of a template's or a follow-up's events.
pub(crate) const EVENT_TYPES: [&str; 11] = [
    "send_letter",
    "call",
    "email",
    "sms",
    "affect_credit_rating",
    "cash_only",
    "create_todo",
    "cancel_budget_plan",
    "cancel_pay_plan",
    "custom",
    "start_severance",
];

/// What a guard rail is asked about: every event type (so a new one is
/// guardable too), then the two actions that are not events.
const GUARDED_ACTIONS: [&str; EVENT_TYPES.len() + 2] = {
    let mut out = [""; EVENT_TYPES.len() + 2];
    let mut i = 0;
    while i < EVENT_TYPES.len() {
        out[i] = EVENT_TYPES[i];
        i += 1;
    }
    out[i] = "nominate_severance";
    out[i + 1] = "offer_payment_plan";
    out
};

/// Enums every schema has, because the policy pipeline speaks them. Rules use
/// them as output types (`tolerance_rule`) and variants (`larger`).
pub const BUILTIN_ENUMS: [(&str, &[&str]); 10] = [
    (
        "tolerance_rule",
        &["amount", "percent", "larger", "smaller"],
    ),
    // How a payment plan's tolerance applies (`policy::promise::PlanTolerance`).
    ("plan_tolerance", &["cumulative", "per_instalment"]),
    ("promise_status", &["pending", "kept", "broken"]),
    (
        "follow_up",
        &[
            "none",
            "close_case",
            "retreat",
            "part_payment_path",
            "send_letter",
            "send_email",
            "call",
            "send_sms",
            "previous_treatment",
        ],
    ),
    ("event_type", &EVENT_TYPES),
    // A case's state (`policy::case`): its events' status and its contact attempts.
    ("event_status", &["pending", "done", "cancelled"]),
    ("contact_channel", &["letter", "call", "email", "sms"]),
    (
        "contact_outcome",
        &[
            "sent",
            "attempted",
            "reached",
            "no_answer",
            "voicemail",
            "wrong_party",
            "returned",
            "failed",
        ],
    ),
    // What a guard rail does to a proposed action (`policy::run::guard`).
    (
        "guard_effect",
        &["allow", "withhold", "postpone", "rechannel", "cancel"],
    ),
    // The actions a guard rail is asked about: every event type, and the two
    // actions that are not events but a guard rail may stop.
    ("guarded_action", &GUARDED_ACTIONS),
];

/// What a built-in record's field says, where the schema has a note for
/// it (the `retreat` record's).
pub fn builtin_field_note(schema: &Schema, record: RecordId, field: &str) -> Option<&'static str> {
    (record == schema.retreat_record)
        .then(|| RETREAT_FIELDS.iter().find(|(name, _, _)| *name == field))
        .flatten()
        .map(|(_, _, note)| *note)
}

/// The fields of the built-in `promise` record: one evaluated promise or payment plan.
pub const PROMISE_FIELDS: [(&str, &str); 8] = [
    ("id", "text"),
    ("status", "promise_status"),
    ("amount", "money"),
    ("paid", "money"),
    ("required", "money"),
    ("deadline", "date"),
    ("instalments", "integer"),
    ("arrears_paid_in_full", "bool"),
];

/// The fields of the built-in `retreat` record the re-treatment table reads:
/// what the pipeline knows of an open case that no account field says (name,
/// type, what it says: shown by `arrears doc` on the table's page).
pub const RETREAT_FIELDS: [(&str, &str, &str); 2] = [
    (
        "promise_pending",
        "bool",
        "a promise or payment plan of the case is pending today",
    ),
    (
        "same_treatment",
        "bool",
        "the treatment the rules give the account today is the case's: the same category, \
         the class's template after its arms, and the same experiments (the class may differ)",
    ),
];

/// The fields of the built-in record a guard-rail table reads as `action`: one
/// proposed action (name, type, optional).
pub const GUARD_ACTION_FIELDS: [(&str, &str, bool); 6] = [
    // What is proposed: an event type, or `nominate_severance` / `offer_payment_plan`.
    ("type", "guarded_action", false),
    // The contact channel of a letter, call, email or SMS; null for anything else.
    ("channel", "contact_channel", true),
    // The event's id; null for an action that is not an event.
    ("event", "text", true),
    // The day it would happen (today for an action that is not an event).
    ("date", "date", false),
    // Its local time of day (`HH:MM`, the consumer's time zone), when it has one.
    ("time", TIME_TYPE, true),
    // Scheduled by an earlier run and still pending in the case state.
    ("pending", "bool", false),
];

/// The account record's id in [`Schema::records`].
pub const ACCOUNT: RecordId = 0;

const SCALAR_TYPES: [&str; 8] = [
    "money", "decimal", "integer", "date", "days", "bool", "text", TIME_TYPE,
];

/// A field type that is a text holding a time of day, `HH:MM`: rules compare
/// it as text (in order, since it is zero-padded), and reading an account
/// refuses any other form.
pub const TIME_TYPE: &str = "time";

impl Schema {
    /// A record the pipeline gives the rules (`promise`, `action`, `retreat`): its
    /// fields `(name, type, optional)`, a `time` field a text held to `HH:MM`.
    fn push_builtin_record<'f>(
        &mut self,
        fields: impl Iterator<Item = (&'f str, &'f str, bool)>,
    ) -> RecordId {
        let fields = fields
            .map(|(name, ty, optional)| FieldDef {
                name: name.to_string(),
                ty: (self.named_type(ty))
                    .or((ty == TIME_TYPE).then_some(Type::Text))
                    .unwrap_or(Type::Error),
                optional,
                time_of_day: ty == TIME_TYPE,
            })
            .collect();
        self.records.push(RecordDef {
            fields,
            ..RecordDef::default()
        });
        (self.records.len() - 1) as RecordId
    }

    /// A type written by name: a scalar type or a declared enum.
    pub fn named_type(&self, name: &str) -> Option<Type> {
        Some(match name {
            "money" => Type::Money,
            "decimal" => Type::Decimal,
            "integer" => Type::Integer,
            "date" => Type::Date,
            "days" => Type::Days,
            "bool" => Type::Bool,
            "text" => Type::Text,
            other => Type::Enum(self.enum_by_name(other)?),
        })
    }

    pub fn account(&self) -> &RecordDef {
        &self.records[ACCOUNT as usize]
    }

    pub fn record(&self, id: RecordId) -> &RecordDef {
        &self.records[id as usize]
    }

    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id as usize]
    }

    pub fn variant(&self, id: EnumId, name: &str) -> Option<u32> {
        self.enum_def(id)
            .variants
            .iter()
            .position(|v| v == name)
            .map(|i| i as u32)
    }

    pub fn enum_by_name(&self, name: &str) -> Option<EnumId> {
        self.enums
            .iter()
            .position(|e| e.name == name)
            .map(|i| i as EnumId)
    }

    /// Builds the schema, reporting every problem in it.
    pub fn build(file: &Arc<SourceFile>, doc: &SchemaDoc) -> (Option<Schema>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut schema = Schema {
            name: doc.schema.value.clone(),
            currency: doc
                .currency
                .as_ref()
                .map_or_else(|| "USD".to_string(), |c| c.value.clone()),
            enums: Vec::new(),
            records: vec![RecordDef::default()],
            id_slot: 0,
            promise_record: 0,
            guard_action_record: 0,
            retreat_record: 0,
        };
        for (name, variants) in BUILTIN_ENUMS {
            schema.enums.push(EnumDef {
                name: name.to_string(),
                variants: variants.iter().map(|v| v.to_string()).collect(),
            });
        }
        if let Some(currency) = &doc.currency {
            if currency.value.len() != 3 || !currency.value.chars().all(|c| c.is_ascii_uppercase())
            {
                diags.push(
                    Diagnostic::error(
                        "schema",
                        file,
                        currency.span,
                        format!("`{}` is not a currency code", currency.value),
                    )
                    .with_help("use a three-letter ISO 4217 code such as `USD`, `GBP` or `EUR`"),
                );
            }
        }
        for (name, variants) in &doc.enums {
            if BUILTIN_ENUMS.iter().any(|(b, _)| b == name) {
                diags.push(
                    Diagnostic::error(
                        "schema",
                        file,
                        variants.span,
                        format!("`{name}` is a built-in enum and cannot be redeclared"),
                    )
                    .with_help("rename your enum; the built-in one is always available"),
                );
                continue;
            }
            if SCALAR_TYPES.contains(&name.as_str()) || !is_identifier(name) {
                diags.push(Diagnostic::error(
                    "schema",
                    file,
                    variants.span,
                    format!(
                        "`{name}` cannot name an enum: it is a built-in type or not an identifier"
                    ),
                ));
            }
            let mut seen: Vec<String> = Vec::new();
            for variant in &variants.value {
                if !is_identifier(&variant.value) {
                    diags.push(
                        Diagnostic::error("schema", file, variant.span, format!("enum variant `{}` is not an identifier", variant.value))
                            .with_help("variants are written bare in rules, so use letters, digits and `_`, starting with a letter"),
                    );
                } else if seen.contains(&variant.value) {
                    diags.push(Diagnostic::error(
                        "schema",
                        file,
                        variant.span,
                        format!("enum variant `{}` is declared twice", variant.value),
                    ).with_help("list each variant once; the order of the first occurrences is the enum's order"));
                }
                seen.push(variant.value.clone());
            }
            if seen.is_empty() {
                diags.push(Diagnostic::error(
                    "schema",
                    file,
                    variants.span,
                    format!("enum `{name}` has no variants"),
                ));
            }
            schema.enums.push(EnumDef {
                name: name.clone(),
                variants: seen,
            });
        }
        match &doc.fields.value {
            FieldTypeDoc::Record(fields) => {
                let account = build_record(&mut schema, file, fields, &mut diags);
                schema.records[ACCOUNT as usize] = account;
            }
            _ => diags.push(Diagnostic::error(
                "schema",
                file,
                doc.fields.span,
                "`fields` must be a mapping of field names to types",
            )),
        }
        let id_name = doc.id.as_ref().map_or("id", |s| s.value.as_str());
        match schema.account().slot(id_name) {
            Some(slot)
                if schema.account().fields[slot].ty == Type::Text
                    && !schema.account().fields[slot].optional =>
            {
                schema.id_slot = slot;
            }
            Some(_) => diags.push(Diagnostic::error(
                "schema",
                file,
                doc.id.as_ref().map_or(doc.schema.span, |s| s.span),
                format!("the account id field `{id_name}` must be a required `text` field"),
            )),
            None => diags.push(
                Diagnostic::error(
                    "schema",
                    file,
                    doc.id.as_ref().map_or(doc.schema.span, |s| s.span),
                    format!("the account id field `{id_name}` is not declared in `fields`"),
                )
                .with_help("declare it (`id: text`) or name the id field with `id: <field>`"),
            ),
        }
        if !doc.valid_combinations.0.is_empty() && diags.is_empty() {
            valid_combinations(&mut schema, file, &doc.valid_combinations, &mut diags);
        }
        schema.promise_record =
            schema.push_builtin_record(PROMISE_FIELDS.iter().map(|(name, ty)| (*name, *ty, false)));
        schema.guard_action_record =
            schema.push_builtin_record(GUARD_ACTION_FIELDS.iter().copied());
        schema.retreat_record = schema.push_builtin_record(
            RETREAT_FIELDS
                .iter()
                .map(|(name, ty, _)| (*name, *ty, false)),
        );
        let ok = diags.is_empty();
        (ok.then_some(schema), diags)
    }
}

/// Reads `valid_combinations` into the records it names, and marks the records that hold them.
fn valid_combinations(
    schema: &mut Schema,
    file: &Arc<SourceFile>,
    doc: &KeyedList<Vec<Spanned<KeyedList<VariantsDoc>>>>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut error = |span: Span, message: String, help: Option<String>| {
        diags.push(Diagnostic::error("schema", file, span, message).with_help_opt(help));
    };
    for (path, entries) in &doc.0 {
        let Some(record) = record_at(schema, &path.value)
            .map_err(|(message, help)| error(path.span, message, help))
            .ok()
        else {
            continue;
        };
        if entries.value.is_empty() {
            error(
                entries.span,
                format!("`{}` lists no combination, so it constrains nothing", path.value),
                Some("list the combinations a record may hold, e.g. `- { status: contacted, reason: [dispute, call_back] }`, or remove the key".into()),
            );
            continue;
        }
        let mut combinations = Vec::new();
        for entry in &entries.value {
            if entry.value.0.is_empty() {
                error(entry.span, "this combination names no field, so it allows every record".into(), Some("name the enum fields it allows, e.g. `{ status: contacted, reason: [dispute, call_back] }`".into()));
                continue;
            }
            let mut fields = Vec::new();
            for (name, variants) in &entry.value.0 {
                let def = schema.record(record);
                let Some(slot) = def.slot(&name.value) else {
                    let help =
                        did_you_mean(&name.value, def.fields.iter().map(|f| f.name.as_str()));
                    error(
                        name.span,
                        format!("`{}` has no field `{}`", path.value, name.value),
                        help,
                    );
                    continue;
                };
                let field = &def.fields[slot];
                let Type::Enum(e) = field.ty else {
                    error(
                        name.span,
                        format!(
                            "`{}` is not an enum field: combinations list enum variants",
                            name.value
                        ),
                        None,
                    );
                    continue;
                };
                if field.optional {
                    error(
                        name.span,
                        format!(
                            "`{}` is optional: combinations constrain required enum fields",
                            name.value
                        ),
                        Some("make the field required, or leave it out of the combinations".into()),
                    );
                    continue;
                }
                if variants.value.0.is_empty() {
                    error(
                        variants.span,
                        format!("`{}` lists no variant", name.value),
                        Some("list the variants it may have".into()),
                    );
                    continue;
                }
                let mut allowed = Vec::new();
                for variant in &variants.value.0 {
                    // A lone variant carries no span of its own: its value's.
                    let span = if variant.span == Span::default() {
                        variants.span
                    } else {
                        variant.span
                    };
                    match schema.variant(e, &variant.value) {
                        Some(v) => allowed.push(v),
                        None => {
                            let def = schema.enum_def(e);
                            let help = did_you_mean(
                                &variant.value,
                                def.variants.iter().map(|v| v.as_str()),
                            )
                            .unwrap_or_else(|| {
                                format!(
                                    "`{}` has {}",
                                    def.name,
                                    def.variants
                                        .iter()
                                        .map(|v| format!("`{v}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            });
                            error(
                                span,
                                format!("`{}` is not a variant of `{}`", variant.value, def.name),
                                Some(help),
                            );
                        }
                    }
                }
                fields.push((slot, allowed));
            }
            combinations.push(Combination(fields));
        }
        schema.records[record as usize].valid_combinations = combinations;
    }
    // A record's nested records have larger ids (they are added after it): mark from the leaves up.
    for id in (0..schema.records.len()).rev() {
        let record = &schema.records[id];
        let inside = record.fields.iter().any(|f| match record_of(&f.ty) {
            Some(r) => schema.records[r as usize].checks_combinations,
            None => false,
        });
        let checks = inside || !record.valid_combinations.is_empty();
        schema.records[id].checks_combinations = checks;
    }
}

/// The record a field of this type holds: itself, or a list's items.
pub fn record_of(ty: &Type) -> Option<RecordId> {
    match ty {
        Type::Record(r) => Some(*r),
        Type::List(inner) => match **inner {
            Type::Record(r) => Some(r),
            _ => None,
        },
        _ => None,
    }
}

/// The record at a path such as `account.dispositions` (a list's items for a list of records).
fn record_at(schema: &Schema, path: &str) -> Result<RecordId, (String, Option<String>)> {
    let mut parts = path.split('.');
    if parts.next() != Some("account") {
        return Err((
            format!("`{path}` is not a record path"),
            Some("write it as in rules: `account` or `account.dispositions`".into()),
        ));
    }
    let mut record = ACCOUNT;
    for part in parts {
        let def = schema.record(record);
        let Some(slot) = def.slot(part) else {
            return Err((
                format!("`{path}`: no field `{part}`"),
                did_you_mean(part, def.fields.iter().map(|f| f.name.as_str())),
            ));
        };
        record = record_of(&def.fields[slot].ty).ok_or_else(|| {
            (
                format!("`{path}` is not a record or a list of records"),
                Some("combinations are declared for records, e.g. `account.dispositions`".into()),
            )
        })?;
    }
    Ok(record)
}

fn build_record(
    schema: &mut Schema,
    file: &Arc<SourceFile>,
    fields: &indexmap::IndexMap<String, Spanned<FieldTypeDoc>>,
    diags: &mut Vec<Diagnostic>,
) -> RecordDef {
    let mut record = RecordDef::default();
    for (written, ty) in fields {
        // `case?:` marks a record or list field optional, where no `?` suffix on the type fits.
        let (name, optional_name) = match written.strip_suffix('?') {
            Some(name) => (name.to_string(), true),
            None => (written.clone(), false),
        };
        if !is_identifier(&name) {
            diags.push(Diagnostic::error(
                "schema",
                file,
                ty.span,
                format!("field name `{name}` is not an identifier"),
            ));
        }
        if record.slot(&name).is_some() {
            diags.push(
                Diagnostic::error(
                    "schema",
                    file,
                    ty.span,
                    format!("field `{name}` is declared twice"),
                )
                .with_help("declare each field once"),
            );
        }
        let time_of_day = matches!(&ty.value, FieldTypeDoc::Named(n)
            if n.trim().trim_end_matches('?').trim_end() == TIME_TYPE);
        let (ty, optional) = build_type(schema, file, ty, diags);
        record.fields.push(FieldDef {
            name,
            ty,
            optional: optional || optional_name,
            time_of_day,
        });
    }
    record
}

fn build_type(
    schema: &mut Schema,
    file: &Arc<SourceFile>,
    doc: &Spanned<FieldTypeDoc>,
    diags: &mut Vec<Diagnostic>,
) -> (Type, bool) {
    match &doc.value {
        FieldTypeDoc::Named(name) => {
            let (base, optional) = match name.trim().strip_suffix('?') {
                Some(base) => (base.trim(), true),
                None => (name.trim(), false),
            };
            let ty = match schema.named_type(base) {
                Some(ty) => ty,
                None if base == TIME_TYPE => Type::Text,
                None => {
                    let other = base;
                    {
                        let names = SCALAR_TYPES
                            .iter()
                            .copied()
                            .chain(schema.enums.iter().map(|e| e.name.as_str()));
                        diags.push(
                            Diagnostic::error("schema", file, doc.span, format!("unknown type `{other}`"))
                                .with_help(did_you_mean(other, names).unwrap_or_else(|| {
                                    "types are money, decimal, integer, date, days, bool, text, time or a declared enum".into()
                                })),
                        );
                        Type::Error
                    }
                }
            };
            (ty, optional)
        }
        FieldTypeDoc::Record(fields) => {
            let id = schema.records.len() as RecordId;
            schema.records.push(RecordDef::default());
            let record = build_record(schema, file, fields, diags);
            schema.records[id as usize] = record;
            (Type::Record(id), false)
        }
        FieldTypeDoc::List(items) => match items.as_slice() {
            [item] => {
                let (inner, _) = build_type(schema, file, item, diags);
                (Type::List(Box::new(inner)), false)
            }
            _ => {
                diags.push(
                    Diagnostic::error("schema", file, doc.span, "a list type holds exactly one element: the item's type")
                        .with_help("write `[money]` for a list of money, or a one-element sequence holding a mapping for a list of records"),
                );
                (Type::Error, false)
            }
        },
    }
}

impl TypeNames for Schema {
    fn enum_name(&self, id: EnumId) -> &str {
        &self.enum_def(id).name
    }
    fn variant_name(&self, id: EnumId, variant: u32) -> &str {
        self.enum_def(id)
            .variants
            .get(variant as usize)
            .map_or("?", |s| s.as_str())
    }
    fn record_fields(&self, id: RecordId) -> Vec<(&str, &Type)> {
        self.record(id)
            .fields
            .iter()
            .map(|f| (f.name.as_str(), &f.ty))
            .collect()
    }
    fn currency(&self) -> &str {
        &self.currency
    }
}

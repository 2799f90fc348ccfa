//! Account snapshots: JSON-like values decoded into typed records against the
//! schema. Every problem names the account and the field; all of an account's
//! problems are reported at once.
//! It must not read files or evaluate: it turns values already read into typed
//! records.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value as Json;

use crate::data::schema::{record_of, FieldDef, Schema, ACCOUNT};
use crate::decimal::{read_decimal, NumberError};
use crate::types::{EnumId, RecordId, ShowType, Type, TypeNames, Value};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// `account.service_agreements[1].arrears`
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A required field the record does not write; the record's path (`account.pay_plan`).
    pub fn missing_from(&self) -> Option<&str> {
        (self.message == MISSING)
            .then(|| self.field.rsplit_once('.').map(|(record, _)| record))
            .flatten()
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// A required field the account does not write.
const MISSING: &str = "missing required field";

/// `errors` with the required fields one record leaves out said once, at the
/// record (`account`: missing required fields `balance`, `bankruptcy`): an
/// account written by hand for a test or a timeline often leaves out many,
/// and one line each would bury the other problems.
pub fn missing_fields_together(errors: &[FieldError]) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::new();
    // Per record, the index in `out` of its line of missing fields, and their names.
    let mut missing: Vec<(String, usize, Vec<String>)> = Vec::new();
    for e in errors {
        let Some(record) = e.missing_from() else {
            out.push(e.clone());
            continue;
        };
        let name = &e.field[record.len() + 1..];
        match missing.iter_mut().find(|(r, ..)| r == record) {
            Some((.., names)) => names.push(name.to_string()),
            None => {
                missing.push((record.to_string(), out.len(), vec![name.to_string()]));
                out.push(e.clone());
            }
        }
    }
    for (record, at, names) in missing {
        if names.len() > 1 {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            out[at] = FieldError {
                field: record,
                message: format!("missing required fields {}", names.join(", ")),
            };
        }
    }
    out
}

/// Where a value sits in the account (`account.pay_plan`, `account.promises[2]`),
/// spelled out only when an error names it.
#[derive(Clone, Copy)]
pub(crate) enum FieldPath<'a> {
    Root(&'a str),
    Field(&'a FieldPath<'a>, &'a str),
    Item(&'a FieldPath<'a>, usize),
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldPath::Root(name) => f.write_str(name),
            FieldPath::Field(parent, name) => write!(f, "{parent}.{name}"),
            FieldPath::Item(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A number or a string as the text it was written as (serde_json keeps a
/// number's text: arbitrary precision), so amounts are read from it exactly,
/// never through a float; `None` for anything else.
pub fn number_text(json: &Json) -> Option<&str> {
    match json {
        Json::Number(n) => Some(n.as_str()),
        Json::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// The account id as written, if it can be read at all.
pub fn account_id(schema: &Schema, account: &Json) -> Option<String> {
    let name = &schema.account().fields[schema.id_slot].name;
    number_text(account.get(name)?).map(str::to_string)
}

/// Keys of an account that no field of the schema has, as `(path, message)`
/// with a `did you mean`: decoding ignores them (an extract carries columns no
/// rule reads), but in an account written by hand one is a typo. `skip` is a
/// top-level key checked elsewhere.
pub fn unknown_fields(
    schema: &Schema,
    account: &Json,
    skip: Option<&str>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Json::Object(object) = account {
        for (key, value) in object {
            if Some(key.as_str()) != skip {
                unknown_in_field(schema, ACCOUNT, key, value, key.clone(), &mut out);
            }
        }
    }
    out
}

/// [`unknown_fields`] of a value of type `ty` (a record, or a list of them) at `path`.
pub fn unknown_fields_in(
    schema: &Schema,
    ty: &Type,
    json: &Json,
    path: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    unknown_in_value(schema, ty, json, path.to_string(), &mut out);
    out
}

fn unknown_in_field(
    schema: &Schema,
    record: RecordId,
    key: &str,
    value: &Json,
    path: String,
    out: &mut Vec<(String, String)>,
) {
    let fields = &schema.record(record).fields;
    match fields.iter().find(|f| f.name == key) {
        Some(field) => unknown_in_value(schema, &field.ty, value, path, out),
        None => {
            if let Some(list) = list_elsewhere(schema, key) {
                // With items, an error of decoding (`misplaced_lists`): not said twice.
                if !holds_items(value) {
                    out.push((path, misplaced_list_message(key, &list, Misplaced::Empty)));
                }
                return;
            }
            let hint = crate::diagnostic::did_you_mean(key, fields.iter().map(|f| f.name.as_str()))
                .or_else(|| {
                    belongs_elsewhere(schema, record, key)
                        .map(|place| format!("did you mean `{}`?", place.in_account()))
                })
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            out.push((path, format!("the schema has no field `{key}`{hint}")));
        }
    }
}

/// The lists of an account written where the schema has no such field but
/// has a list of that name elsewhere (`case.contacts`, the contacts' place
/// before they became the account's `contacts`), as errors at their path:
/// ignored as unknown fields, their items would be lost unseen (the contact
/// limits would count none), so the account is not evaluated
/// ([`decode_account`] reports them). One that holds nothing (`[]`, null)
/// loses nothing: it is an unknown field ([`unknown_fields`]), warned of.
pub fn misplaced_lists(schema: &Schema, account: &Json) -> Vec<FieldError> {
    /// A step of the path to a value: an object's key or a list's index,
    /// after its parent's steps. Kept on the stack and written out only for
    /// a misplaced list: every JSON record of a batch is walked, and nearly
    /// none has one.
    enum Step<'j, 'p> {
        Root,
        Key(&'j str, &'p Step<'j, 'p>),
        Item(usize, &'p Step<'j, 'p>),
    }
    fn written(step: &Step, text: &mut String) {
        match step {
            Step::Root => text.push_str("account"),
            Step::Key(key, parent) => {
                written(parent, text);
                text.push('.');
                text.push_str(key);
            }
            Step::Item(i, parent) => {
                written(parent, text);
                text.push_str(&format!("[{i}]"));
            }
        }
    }
    fn walk(schema: &Schema, ty: &Type, json: &Json, at: &Step, out: &mut Vec<FieldError>) {
        match (ty, json) {
            (Type::Record(record), Json::Object(object)) => {
                let fields = &schema.record(*record).fields;
                for (key, value) in object {
                    let here = Step::Key(key, at);
                    match fields.iter().find(|f| f.name == *key) {
                        Some(field) => walk(schema, &field.ty, value, &here, out),
                        None if holds_items(value) => {
                            if let Some(list) = list_elsewhere(schema, key) {
                                let mut field = String::new();
                                written(&here, &mut field);
                                let message = misplaced_list_message(key, &list, Misplaced::Items);
                                out.push(FieldError { field, message });
                            }
                        }
                        None => {}
                    }
                }
            }
            (Type::List(item), Json::Array(items)) => {
                for (i, value) in items.iter().enumerate() {
                    walk(schema, item, value, &Step::Item(i, at), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        schema,
        &Type::Record(ACCOUNT),
        account,
        &Step::Root,
        &mut out,
    );
    out
}

/// A list written at `key` of `record` (`simulate`'s case state, read as the
/// case system's own record, not by the schema), when the record has no such
/// field and the schema has a list of that name elsewhere: why it cannot be
/// read there.
/// Any value is refused, as every field such a record does not have is; the
/// message says what `value` would lose.
pub fn misplaced_list(
    schema: &Schema,
    record: RecordId,
    key: &str,
    value: &Json,
) -> Option<String> {
    let how = Misplaced::CaseState {
        holds_items: holds_items(value),
    };
    list_place(schema, record, key).map(|list| misplaced_list_message(key, &list, how))
}

/// Where the schema has the list `key` (`account.contacts`) when `record`
/// has no field of that name: a list written in its old place.
pub fn list_place(schema: &Schema, record: RecordId, key: &str) -> Option<String> {
    if schema.record(record).fields.iter().any(|f| f.name == key) {
        return None;
    }
    list_elsewhere(schema, key)
}

/// What a list written in its old place is told, by every reader and the
/// checker alike: it is not read there, and where the list is (`account.contacts`).
pub fn not_read_here(list: &str) -> String {
    format!("not read here: the list is `{list}`")
}

/// Whether a value holds something: `[]` and null, written where the schema
/// has no such field, lose nothing ignored.
fn holds_items(json: &Json) -> bool {
    match json {
        Json::Null => false,
        Json::Array(items) => !items.is_empty(),
        _ => true,
    }
}

/// Where a list the schema has elsewhere was written, and what it held.
#[derive(Clone, Copy)]
enum Misplaced {
    /// In an account, with items: an error, the record is not evaluated.
    Items,
    /// In an account, empty or null: ignored, with a warning.
    Empty,
    /// In a timeline's case state, which takes only the case's own fields.
    CaseState { holds_items: bool },
}

/// What a list written at `key` where the schema has it as `list`
/// (`account.contacts`) is told: that it is not read there, not a spelling
/// (`key` is the list's own name), and what its items would do.
fn misplaced_list_message(key: &str, list: &str, how: Misplaced) -> String {
    let lost = format!(
        "its items would be ignored and the rules that read `{key}` would see none of them{}",
        if key == "contacts" {
            " (the contact limits count them)"
        } else {
            ""
        }
    );
    match how {
        Misplaced::Items => format!(
            "{} (an extract written for an older schema kept it here), so {lost}; the record is not evaluated; write the list as `{list}` (docs/batch.md, \"Input\")",
            not_read_here(list)
        ),
        Misplaced::Empty => format!(
            "{} (an extract written for an older schema kept it here); this one is empty, so nothing is lost and the record is evaluated, but one with items here is refused; write the list as `{list}` (docs/batch.md, \"Input\")",
            not_read_here(list)
        ),
        Misplaced::CaseState { holds_items: true } => format!(
            "{} (a case state written for an older schema kept it here), so {lost}; write the list as `{list}`",
            not_read_here(list)
        ),
        Misplaced::CaseState { holds_items: false } => format!(
            "{} (a case state written for an older schema kept it here); a timeline's case state takes only the case's own fields, so an empty one is refused too: write the list as `{list}`, or leave it out",
            not_read_here(list)
        ),
    }
}

/// Where the schema has a list field named `key` (`account.contacts`,
/// `account.case.events`): the one place, breadth first from the account.
fn list_elsewhere(schema: &Schema, key: &str) -> Option<String> {
    let is_list = |f: &FieldDef| f.name == key && matches!(f.ty, Type::List(_));
    // An extract's own extra fields are unknown in every record: most are no
    // list of the schema, told without building a path.
    if !schema.records.iter().any(|r| r.fields.iter().any(is_list)) {
        return None;
    }
    let place = place_of(schema, |_, f| match is_list(f) {
        true => Fit::Exact,
        false => Fit::No,
    });
    place.map(|place| place.in_account())
}

/// Where a field is in the account: each step a field's name, and whether
/// the path goes on into the items of that list. Each caller writes it the way
/// its own input names a field ([`FieldPlace::in_account`], [`FieldPlace::as_path`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPlace(Vec<(String, bool)>);

impl FieldPlace {
    /// `account.dispositions[].callback_date`: the place in an account's
    /// record, as an account file's unknown-field warnings name it.
    pub fn in_account(&self) -> String {
        self.written("account.", "[]")
    }

    /// `dispositions[ID].callback_date`: a timeline's `set` / `add` path,
    /// which starts at the account's fields and picks a list's item by id.
    pub fn as_path(&self) -> String {
        self.written("", "[ID]")
    }

    fn written(&self, root: &str, item: &str) -> String {
        let mut text = String::from(root);
        for (i, (name, into_items)) in self.0.iter().enumerate() {
            if i > 0 {
                text.push('.');
            }
            text.push_str(name);
            if *into_items {
                text.push_str(item);
            }
        }
        text
    }
}

/// Where in the account a field named `key` (or one spelt nearly so) is, when
/// it is not a field of `record`: a field written in the wrong record
/// (`callback_date` at the top level, or in a promise, is a disposition's;
/// the case's `contacts` are the account's).
pub fn belongs_elsewhere(schema: &Schema, record: RecordId, key: &str) -> Option<FieldPlace> {
    place_of(schema, |id, field| {
        if id == record {
            Fit::No
        } else if field.name == key {
            Fit::Exact
        } else if crate::diagnostic::nearest(key, [field.name.as_str()]).is_some() {
            Fit::Near
        } else {
            Fit::No
        }
    })
}

/// How a field of a record answers a search for a place ([`place_of`]).
enum Fit {
    No,
    /// Taken if no field fits exactly.
    Near,
    Exact,
}

/// The place of the first field, breadth first from the account (so the
/// shortest path is named), that `fits` exactly (a field of that record), or
/// else of the first that fits nearly; each record is searched once.
fn place_of(schema: &Schema, fits: impl Fn(RecordId, &FieldDef) -> Fit) -> Option<FieldPlace> {
    let mut queue = std::collections::VecDeque::from([(ACCOUNT, Vec::new())]);
    let mut seen = vec![ACCOUNT];
    let mut near: Option<FieldPlace> = None;
    while let Some((id, path)) = queue.pop_front() {
        for field in &schema.record(id).fields {
            let mut here: Vec<(String, bool)> = path.clone();
            here.push((field.name.clone(), false));
            match fits(id, field) {
                Fit::Exact => return Some(FieldPlace(here)),
                Fit::Near if near.is_none() => near = Some(FieldPlace(here.clone())),
                Fit::Near | Fit::No => {}
            }
            let Some(inner) = record_of(&field.ty).filter(|i| !seen.contains(i)) else {
                continue;
            };
            seen.push(inner);
            if let Type::List(_) = field.ty {
                if let Some(last) = here.last_mut() {
                    last.1 = true;
                }
            }
            queue.push_back((inner, here));
        }
    }
    near
}

fn unknown_in_value(
    schema: &Schema,
    ty: &Type,
    json: &Json,
    path: String,
    out: &mut Vec<(String, String)>,
) {
    match (ty, json) {
        (Type::Record(record), Json::Object(object)) => {
            for (key, value) in object {
                unknown_in_field(schema, *record, key, value, format!("{path}.{key}"), out);
            }
        }
        (Type::List(item), Json::Array(items)) => {
            for (i, value) in items.iter().enumerate() {
                unknown_in_value(schema, item, value, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Decodes one account into a record value. A list with items written where
/// the schema has it elsewhere (the old `case.contacts`) is an error
/// ([`misplaced_lists`]), so that every reader of accounts refuses it alike.
pub fn decode_account(schema: &Schema, account: &Json) -> Result<Value, Vec<FieldError>> {
    // A list in its old place first: the reason the record is not evaluated
    // (the batch's reject names the first error's field).
    let mut errors = misplaced_lists(schema, account);
    let misplaced = errors.len();
    let value = decode_record(
        schema,
        ACCOUNT,
        account,
        &FieldPath::Root("account"),
        &mut errors,
    );
    if errors.len() == misplaced {
        check_combinations(schema, &value, &mut errors);
    }
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// Reports every record of a decoded account whose enum fields are in no combination of its
/// record's `valid_combinations` (`account.dispositions[1]`: the record, and its values), and
/// every disposition whose callback date the schema's rule refuses ([`check_callback_dates`]).
pub fn check_combinations(schema: &Schema, account: &Value, errors: &mut Vec<FieldError>) {
    if schema.account().checks_combinations {
        check_record(
            schema,
            ACCOUNT,
            account,
            &FieldPath::Root("account"),
            errors,
        );
    }
    check_callback_dates(schema, account, errors);
}

/// Where a disposition's callback date is, when the schema has one: its items' `date`,
/// `reason` and `callback_date` slots, the reason's enum and its `call_back` variant.
fn callback_slots(schema: &Schema, list: usize) -> Option<([usize; 3], EnumId, u32)> {
    let rec = schema.record(record_of(&schema.account().fields[list].ty)?);
    let callback = rec.slot("callback_date")?;
    let (date, reason) = (rec.slot("date")?, rec.slot("reason")?);
    let Type::Enum(reasons) = rec.fields[reason].ty else {
        return None;
    };
    let call_back = schema.variant(reasons, "call_back")?;
    Some(([date, reason, callback], reasons, call_back))
}

/// A disposition's `callback_date` is the day the customer asked to be called back: only a
/// `call_back` disposition has one, and it is not before the disposition's own date.
fn check_callback_dates(schema: &Schema, account: &Value, errors: &mut Vec<FieldError>) {
    let Value::Record(fields) = account else {
        return;
    };
    // Looked up per account, so cheaply: the list from the end (lists come last in the shipped
    // schema), the item slots only for an account that has dispositions (most have none).
    let fields_def = &schema.account().fields;
    let Some(list) = fields_def.iter().rposition(|f| f.name == "dispositions") else {
        return;
    };
    let Value::List(items) = &fields[list] else {
        return;
    };
    if items.is_empty() {
        return;
    }
    let Some(([date, reason, callback], reasons, call_back)) = callback_slots(schema, list) else {
        return;
    };
    let slots = ([date, reason, callback], reasons, call_back);
    for (i, item) in items.iter().enumerate() {
        let Some(message) = callback_problem(schema, slots, item) else {
            continue;
        };
        let root = FieldPath::Root("account");
        let path = FieldPath::Field(&root, &schema.account().fields[list].name);
        errors.push(FieldError {
            field: FieldPath::Item(&path, i).to_string(),
            message,
        });
    }
}

/// What the schema's callback rule refuses in one decoded disposition, if anything.
#[inline]
fn callback_problem(
    schema: &Schema,
    ([date, reason, callback], reasons, call_back): ([usize; 3], EnumId, u32),
    item: &Value,
) -> Option<String> {
    let Value::Record(d) = item else { return None };
    let Value::Date(asked) = d[callback] else {
        return None;
    };
    match (&d[reason], &d[date]) {
        (&Value::Enum(r), _) if r != call_back => Some(format!(
            "callback_date {asked} on a disposition whose reason is `{}`: only a `call_back` disposition has one",
            schema.variant_name(reasons, r)
        )),
        (_, &Value::Date(on)) if asked < on => Some(format!(
            "callback_date {asked} is before the disposition's own date {on}"
        )),
        _ => None,
    }
}

/// What decoding an account holding `json` as a value of type `ty` (written at
/// `path`) would refuse, the value alone deciding it: its values as decoding
/// reports them, and each record in it that is no valid combination or a
/// disposition whose callback date the schema refuses ([`check_combinations`]).
/// A value a timeline writes on a later day is checked so before the first day.
pub fn check_written(schema: &Schema, ty: &Type, json: &Json, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = FieldPath::Root(path);
    let value = decode_value(schema, ty, json, &root, &mut errors);
    if !errors.is_empty() {
        return errors;
    }
    let dispositions = schema
        .account()
        .fields
        .iter()
        .rposition(|f| f.name == "dispositions")
        .and_then(|list| {
            let record = record_of(&schema.account().fields[list].ty)?;
            Some((record, callback_slots(schema, list)?))
        });
    let mut check = |id: RecordId, item: &Value, at: &FieldPath| {
        if schema.record(id).checks_combinations {
            check_record(schema, id, item, at, &mut errors);
        }
        if let Some((_, slots)) = dispositions.filter(|(d, _)| *d == id) {
            if let Some(message) = callback_problem(schema, slots, item) {
                errors.push(FieldError {
                    field: at.to_string(),
                    message,
                });
            }
        }
    };
    match (ty, &value) {
        (Type::Record(id), _) => check(*id, &value, &root),
        (Type::List(item), Value::List(items)) => {
            if let Some(id) = record_of(item) {
                for (i, v) in items.iter().enumerate() {
                    check(id, v, &FieldPath::Item(&root, i));
                }
            }
        }
        _ => {}
    }
    errors
}

fn check_record(
    schema: &Schema,
    id: RecordId,
    value: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let Value::Record(fields) = value else {
        return;
    };
    let def = schema.record(id);
    if !def.valid_combinations.is_empty()
        && !def.valid_combinations.iter().any(|c| c.matches(fields))
    {
        // The fields the combinations constrain, in declaration order, with this record's values.
        let mut slots: Vec<usize> = def
            .valid_combinations
            .iter()
            .flat_map(|c| c.0.iter().map(|(slot, _)| *slot))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        let values: Vec<String> = slots
            .iter()
            .map(|&slot| {
                let field = &def.fields[slot];
                let shown = match (&field.ty, &fields[slot]) {
                    (Type::Enum(e), Value::Enum(v)) => schema.variant_name(*e, *v).to_string(),
                    _ => "null".to_string(),
                };
                format!("{} `{}`", field.name, shown)
            })
            .collect();
        errors.push(FieldError {
            field: path.to_string(),
            message: format!(
                "{} is not a valid combination (the schema's `valid_combinations` lists them)",
                values.join(", ")
            ),
        });
    }
    for (slot, field) in def.fields.iter().enumerate() {
        let Some(inner) = record_of(&field.ty) else {
            continue;
        };
        if !schema.record(inner).checks_combinations {
            continue;
        }
        let field_path = FieldPath::Field(path, &field.name);
        match &fields[slot] {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_record(
                        schema,
                        inner,
                        item,
                        &FieldPath::Item(&field_path, i),
                        errors,
                    );
                }
            }
            record => check_record(schema, inner, record, &field_path, errors),
        }
    }
}

fn decode_record(
    schema: &Schema,
    id: RecordId,
    json: &Json,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> Value {
    let Json::Object(map) = json else {
        errors.push(FieldError {
            field: path.to_string(),
            message: format!("expected a record (a mapping), found {}", describe(json)),
        });
        return Value::Null;
    };
    let fields = schema.record(id).fields.iter().map(|field| {
        let field_path = FieldPath::Field(path, &field.name);
        match map.get(&field.name) {
            None | Some(Json::Null) if field.optional => Value::Null,
            None => {
                errors.push(FieldError {
                    field: field_path.to_string(),
                    message: MISSING.into(),
                });
                Value::Null
            }
            Some(Json::Null) => {
                errors.push(FieldError {
                    field: field_path.to_string(),
                    message: "is null, but the field is required".into(),
                });
                Value::Null
            }
            Some(v) => {
                let value = decode_value(schema, &field.ty, v, &field_path, errors);
                if let (true, Value::Text(text)) = (field.time_of_day, &value) {
                    if let Some(message) = crate::data::schema::time_of_day_error(text) {
                        errors.push(FieldError {
                            field: field_path.to_string(),
                            message,
                        });
                        return Value::Null;
                    }
                }
                value
            }
        }
    });
    Value::Record(fields.collect())
}

fn decode_value(
    schema: &Schema,
    ty: &Type,
    json: &Json,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> Value {
    let number_text = number_text(json);
    let decoded = match (ty, json) {
        (Type::Record(id), _) => return decode_record(schema, *id, json, path, errors),
        (Type::List(inner), Json::Array(items)) => {
            let values: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    decode_value(schema, inner, item, &FieldPath::Item(path, i), errors)
                })
                .collect();
            return Value::List(Arc::from(values));
        }
        (Type::Money | Type::Decimal, Json::Number(_) | Json::String(_)) => {
            match read_decimal(number_text.unwrap_or_default()) {
                Ok(d) => Some(Value::Dec(d)),
                Err(NumberError::NotANumber) => None,
                Err(e) => {
                    errors.push(FieldError {
                        field: path.to_string(),
                        message: format!("{} {}", describe(json), e.reason()),
                    });
                    return Value::Null;
                }
            }
        }
        // Whole numbers are written without a point or exponent: `7`, not `7.0` or `7e0`.
        (Type::Integer | Type::Days, Json::Number(_) | Json::String(_)) => number_text
            .unwrap_or_default()
            .trim()
            .parse::<i64>()
            .ok()
            .map(Value::Int),
        (Type::Date, Json::String(s)) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .map(Value::Date),
        (Type::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
        (Type::Bool, Json::String(s)) => match s.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        (Type::Text, Json::String(s)) => Some(Value::Text(s.as_str().into())),
        (Type::Text, Json::Number(n)) => Some(Value::Text(n.as_str().into())),
        (Type::Enum(e), Json::String(s)) => match schema.variant(*e, s.trim()) {
            Some(v) => Some(Value::Enum(v)),
            None => {
                errors.push(unknown_variant(schema, *e, s, path));
                return Value::Null;
            }
        },
        _ => None,
    };
    decoded.unwrap_or_else(|| {
        if let (Type::Integer | Type::Days, Some(text)) = (ty, number_text) {
            if let Some(message) =
                whole_number_error(text, &describe(json), &expected(ty, schema))
            {
                errors.push(FieldError {
                    field: path.to_string(),
                    message,
                });
                return Value::Null;
            }
        }
        if let (Type::Money | Type::Decimal, Json::String(s)) = (ty, json) {
            if let Some(bare) = crate::decimal::without_currency(s) {
                errors.push(FieldError {
                    field: path.to_string(),
                    message: format!(
                        "expected {}, found {}; write the amount without a currency sign or code: \"{bare}\"",
                        expected(ty, schema),
                        describe(json)
                    ),
                });
                return Value::Null;
            }
            if s.contains(',') {
                errors.push(FieldError {
                    field: path.to_string(),
                    message: format!(
                        "expected {}, found {}; write a decimal point and no thousands separators, e.g. \"1234.50\"",
                        expected(ty, schema),
                        describe(json)
                    ),
                });
                return Value::Null;
            }
        }
        // `2026-13-01` looks like a date: say which part is wrong.
        let why = match (ty, json) {
            (Type::Date, Json::String(s)) => crate::model::load::date_mistake(s)
                .map_or_else(String::new, |why| format!(": {why}")),
            _ => String::new(),
        };
        errors.push(FieldError {
            field: path.to_string(),
            message: format!(
                "expected {}, found {}{why}",
                expected(ty, schema),
                describe(json)
            ),
        });
        Value::Null
    })
}

/// Why `text`, which is no `i64`, is refused for a whole-number field when
/// it is a number all the same (`None` when it is no number at all).
/// `shown` is the value as messages show it, `expected` the field's type.
pub(crate) fn whole_number_error(text: &str, shown: &str, expected: &str) -> Option<String> {
    let digits = text.trim().trim_start_matches(['-', '+']);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "{shown} is out of range: whole numbers are at most {}",
            i64::MAX
        ));
    }
    (read_decimal(text) != Err(NumberError::NotANumber)).then(|| {
        format!(
            "expected {expected}, found {shown}; whole numbers are written without a decimal point or exponent, e.g. `7`"
        )
    })
}

/// `text` names no variant of enum `e` (JSON and CSV decoding alike).
pub(crate) fn unknown_variant(
    schema: &Schema,
    e: EnumId,
    text: &str,
    path: &FieldPath,
) -> FieldError {
    let def = schema.enum_def(e);
    let variants = || def.variants.iter().map(String::as_str);
    // `ca` for `CA` is no typo a spelling distance sees: the case is told first.
    let hint = variants()
        .find(|v| v.eq_ignore_ascii_case(text.trim()))
        .map(|v| format!("did you mean `{v}`?"))
        .or_else(|| crate::diagnostic::did_you_mean(text.trim(), variants()))
        .map_or_else(String::new, |h| format!("; {h}"));
    FieldError {
        field: path.to_string(),
        message: format!(
            "`{}` is not a `{}`; expected one of: {}{hint}",
            crate::diagnostic::echoed(text),
            def.name,
            def.variants.join(", ")
        ),
    }
}

fn expected(ty: &Type, schema: &Schema) -> String {
    match ty {
        Type::Money => "money (a number or a string such as \"12.50\")".into(),
        Type::Date => "a date \"YYYY-MM-DD\"".into(),
        Type::Integer => "an integer".into(),
        Type::Days => "a whole number of days".into(),
        Type::Bool => "`true` or `false`".into(),
        Type::Enum(e) => {
            let def = schema.enum_def(*e);
            format!("a `{}` (one of: {})", def.name, def.variants.join(", "))
        }
        other => ShowType(other, schema).to_string(),
    }
}

fn describe(json: &Json) -> String {
    match json {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("`{n}`"),
        Json::String(s) if s.chars().count() > crate::diagnostic::ECHO_CHARS => {
            format!("text `{}`", crate::diagnostic::echoed(s))
        }
        Json::String(s) => format!("`{s:?}`"),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "a mapping".into(),
    }
}

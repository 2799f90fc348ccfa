//! Account snapshots: JSON-like values decoded into typed records against the
//! schema. Every problem names the account and the field; all of an account's
//! problems are reported at once.

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value as Json;

use crate::schema::{Schema, ACCOUNT};
use crate::types::{EnumId, RecordId, ShowType, Type, Value};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// `account.service_agreements[1].arrears`
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
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

/// The account id as written, if it can be read at all.
pub fn account_id(schema: &Schema, account: &Json) -> Option<String> {
    let name = &schema.account().fields[schema.id_slot].name;
    match account.get(name)? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Decodes one account into a record value.
pub fn decode_account(schema: &Schema, account: &Json) -> Result<Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let value = decode_record(
        schema,
        ACCOUNT,
        account,
        &FieldPath::Root("account"),
        &mut errors,
    );
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
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
                    message: "missing required field".into(),
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
            Some(v) => decode_value(schema, &field.ty, v, &field_path, errors),
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
        (Type::Money | Type::Decimal, Json::Number(n)) => {
            parse_decimal(&n.to_string()).map(Value::Dec)
        }
        (Type::Money | Type::Decimal, Json::String(s)) => parse_decimal(s).map(Value::Dec),
        (Type::Integer | Type::Days, Json::Number(n)) => n.as_i64().map(Value::Int),
        (Type::Integer | Type::Days, Json::String(s)) => {
            s.trim().parse::<i64>().ok().map(Value::Int)
        }
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
        (Type::Text, Json::Number(n)) => Some(Value::Text(n.to_string().into())),
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
        let overflow = match (ty, json) {
            (Type::Money | Type::Decimal, Json::String(s)) => {
                s.bytes().any(|b| b.is_ascii_digit()) && s.trim().parse::<f64>().is_ok()
            }
            (Type::Integer | Type::Days, Json::Number(n)) => n.is_i64() || n.is_u64(),
            (Type::Integer | Type::Days, Json::String(s)) => {
                let s = s.trim().trim_start_matches(['-', '+']);
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        };
        if overflow {
            errors.push(FieldError {
                field: path.to_string(),
                message: match ty {
                    Type::Money | Type::Decimal => format!(
                        "{} is out of range: amounts have at most 28 significant digits",
                        describe(json)
                    ),
                    _ => format!(
                        "{} is out of range: whole numbers are at most {}",
                        describe(json),
                        i64::MAX
                    ),
                },
            });
            return Value::Null;
        }
        if let (Type::Money | Type::Decimal, Json::String(s)) = (ty, json) {
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
        errors.push(FieldError {
            field: path.to_string(),
            message: format!(
                "expected {}, found {}",
                expected(ty, schema),
                describe(json)
            ),
        });
        Value::Null
    })
}

/// Decimal text as written: `12.50`, `-3`, `1e3`. Exact; no float on the way.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    // Exact: a digit that does not fit is an error, not silently rounded away.
    Decimal::from_str_exact(s)
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

/// `text` names no variant of enum `e` (JSON and CSV decoding alike).
pub(crate) fn unknown_variant(
    schema: &Schema,
    e: EnumId,
    text: &str,
    path: &FieldPath,
) -> FieldError {
    let def = schema.enum_def(e);
    FieldError {
        field: path.to_string(),
        message: format!(
            "`{text}` is not a `{}`; expected one of: {}",
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
        other => ShowType(other, schema).to_string(),
    }
}

fn describe(json: &Json) -> String {
    match json {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("`{n}`"),
        Json::String(s) if s.chars().count() > 40 => {
            format!("text `{}…`", s.chars().take(40).collect::<String>())
        }
        Json::String(s) => format!("`{s:?}`"),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "a mapping".into(),
    }
}

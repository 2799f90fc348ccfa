//! Static types of the rule language and the runtime values they describe.
//! Money and decimals are `rust_decimal::Decimal`; never a float.
//! It must not know about the schema's files or any stage: it defines what
//! types and values are.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Index of an enum in the schema.
pub type EnumId = u32;
/// Index of a record type in the schema.
pub type RecordId = u32;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Integer,
    Decimal,
    Money,
    Date,
    Days,
    Text,
    Enum(EnumId),
    Record(RecordId),
    List(Box<Type>),
    /// The type of the `null` literal: fits any type.
    Null,
    /// A type that could not be determined; an error was already reported.
    Error,
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Integer | Type::Decimal)
    }

    /// Error and null absorb everything, so one mistake reports once.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Type::Error | Type::Null)
    }
}

/// A runtime value. Money, decimals and percentages are all `Dec`; the checker
/// knows which is which. Days are `Int`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Date(NaiveDate),
    Text(Arc<str>),
    /// Index of the variant in its enum's declaration.
    Enum(u32),
    List(Arc<[Value]>),
    Record(Arc<[Value]>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Ordering of two values of the same checked type; `None` when either is
    /// null or they are not comparable. Integer and decimal compare by value.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Dec(a), Value::Dec(b)) => Some(crate::decimal::compare(a, b)),
            (Value::Int(a), Value::Dec(b)) => Some(Decimal::from(*a).cmp(b)),
            (Value::Dec(a), Value::Int(b)) => Some(a.cmp(&Decimal::from(*b))),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Enum(a), Value::Enum(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Equality as the rule language sees it: `5 = 5.00`, null equals only null.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            // What `compare` says of a flag, a variant or an integer, without its dispatch.
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Enum(a), Value::Enum(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Record(a), Value::Record(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y))
            }
            _ => self.compare(other) == Some(Ordering::Equal),
        }
    }
}

/// Names needed to show a value: enum variants by name, money with its currency.
pub trait TypeNames {
    fn enum_name(&self, id: EnumId) -> &str;
    fn variant_name(&self, id: EnumId, variant: u32) -> &str;
    fn record_fields(&self, id: RecordId) -> Vec<(&str, &Type)>;
    fn currency(&self) -> &str;
}

/// Shows a type in messages: `money`, `list of money`, `enum entry_category`.
pub struct ShowType<'a, N: TypeNames + ?Sized>(pub &'a Type, pub &'a N);

impl<N: TypeNames + ?Sized> fmt::Display for ShowType<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Type::Bool => f.write_str("bool"),
            Type::Integer => f.write_str("integer"),
            Type::Decimal => f.write_str("decimal"),
            Type::Money => f.write_str("money"),
            Type::Date => f.write_str("date"),
            Type::Days => f.write_str("days"),
            Type::Text => f.write_str("text"),
            Type::Enum(id) => write!(f, "{}", self.1.enum_name(*id)),
            Type::Record(_) => f.write_str("record"),
            Type::List(inner) => write!(f, "list of {}", ShowType(inner, self.1)),
            Type::Null => f.write_str("null"),
            Type::Error => f.write_str("unknown"),
        }
    }
}

/// Formats money with at least two decimal places: `812.4` → `812.40`.
pub fn format_money(amount: Decimal) -> String {
    let mut a = amount.normalize();
    if a.scale() < 2 {
        a.rescale(2);
    }
    a.to_string()
}

/// Shows a value of a known type, in the form a rule would write it.
pub struct ShowValue<'a, N: TypeNames + ?Sized>(pub &'a Value, pub &'a Type, pub &'a N);

impl<N: TypeNames + ?Sized> fmt::Display for ShowValue<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.2;
        match (self.0, self.1) {
            (Value::Null, _) => f.write_str("null"),
            (Value::Bool(b), _) => write!(f, "{b}"),
            (Value::Int(n), Type::Days) => write!(f, "{n} days"),
            (Value::Int(n), _) => write!(f, "{n}"),
            (Value::Dec(d), Type::Money) => write!(f, "{} {}", format_money(*d), names.currency()),
            (Value::Dec(d), _) => write!(f, "{d}"),
            (Value::Date(d), _) => write!(f, "{d}"),
            (Value::Text(t), _) => write!(f, "{t:?}"),
            (Value::Enum(v), Type::Enum(e)) => f.write_str(names.variant_name(*e, *v)),
            (Value::Enum(v), _) => write!(f, "#{v}"),
            (Value::List(items), ty) => {
                let inner = match ty {
                    Type::List(inner) => inner.as_ref(),
                    _ => &Type::Error,
                };
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", ShowValue(item, inner, names))?;
                }
                f.write_str("]")
            }
            (Value::Record(fields), ty) => {
                let defs = match ty {
                    Type::Record(id) => names.record_fields(*id),
                    _ => Vec::new(),
                };
                f.write_str("{")?;
                for (i, value) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match defs.get(i) {
                        Some((name, ty)) => write!(f, "{name}: {}", ShowValue(value, ty, names))?,
                        None => write!(f, "{}", ShowValue(value, &Type::Error, names))?,
                    }
                }
                f.write_str("}")
            }
        }
    }
}

/// A value as JSON: money and decimals as strings so no digit is lost.
pub fn value_to_json<N: TypeNames + ?Sized>(
    value: &Value,
    ty: &Type,
    names: &N,
) -> serde_json::Value {
    use serde_json::Value as J;
    match (value, ty) {
        (Value::Null, _) => J::Null,
        (Value::Bool(b), _) => J::Bool(*b),
        (Value::Int(n), _) => J::from(*n),
        (Value::Dec(d), Type::Money) => J::String(format_money(*d)),
        (Value::Dec(d), _) => J::String(d.to_string()),
        (Value::Date(d), _) => J::String(d.to_string()),
        (Value::Text(t), _) => J::String(t.to_string()),
        (Value::Enum(v), Type::Enum(e)) => J::String(names.variant_name(*e, *v).to_string()),
        (Value::Enum(v), _) => J::from(*v),
        (Value::List(items), ty) => {
            let inner = match ty {
                Type::List(inner) => inner.as_ref(),
                _ => &Type::Error,
            };
            J::Array(
                items
                    .iter()
                    .map(|v| value_to_json(v, inner, names))
                    .collect(),
            )
        }
        (Value::Record(fields), ty) => {
            let defs = match ty {
                Type::Record(id) => names.record_fields(*id),
                _ => Vec::new(),
            };
            J::Object(
                fields
                    .iter()
                    .zip(defs)
                    .map(|(v, (name, ty))| (name.to_string(), value_to_json(v, ty, names)))
                    .collect(),
            )
        }
    }
}

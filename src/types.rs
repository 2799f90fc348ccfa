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
    money_text(amount).as_str().to_string()
}

/// [`format_money`]'s text, on the stack (a writer copies it; nothing is
/// allocated).
#[derive(Clone, Copy)]
pub struct MoneyText {
    buf: [u8; 32],
    start: u8,
}

impl MoneyText {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, `-` and `.` are written.
        std::str::from_utf8(&self.buf[usize::from(self.start)..]).unwrap_or_default()
    }
}

/// [`format_money`] without a `String`: the digits are written straight from
/// the mantissa, trailing zeros past the second place dropped, a value with
/// fewer than two places padded to two (fewer when that would not fit in a
/// `Decimal`'s 96 bits). The same text as `normalize`, `rescale(2)` and
/// `Display` give (`tests::money_text_is_normalize_rescale_display`), which
/// cost ~700 instructions and a growing `String` per amount.
pub fn money_text(amount: Decimal) -> MoneyText {
    const MAX: u128 = (1 << 96) - 1;
    let mut m = amount.mantissa().unsigned_abs();
    let mut scale = amount.scale() as usize;
    let mut text = MoneyText {
        buf: [0; 32],
        start: 32,
    };
    let mut put = |b: u8| {
        text.start -= 1;
        text.buf[usize::from(text.start)] = b;
    };
    if m == 0 {
        // `normalize` makes any zero (`-0.000`) a plain zero.
        for b in b"0.00".iter().rev() {
            put(*b);
        }
        return text;
    }
    while scale > 2 && m.is_multiple_of(10) {
        m /= 10;
        scale -= 1;
    }
    while scale < 2 && m * 10 <= MAX {
        m *= 10;
        scale += 1;
    }
    // Right to left: at most 29 digits, a `.`, a `0` before it and a `-`.
    let mut written = 0;
    loop {
        let digit = match u64::try_from(m) {
            Ok(n) => {
                m = u128::from(n / 10);
                n % 10
            }
            Err(_) => {
                let d = m % 10;
                m /= 10;
                d as u64
            }
        };
        put(b'0' + digit as u8);
        written += 1;
        if written == scale {
            put(b'.');
        }
        if m == 0 && written > scale {
            break;
        }
    }
    if amount.is_sign_negative() {
        put(b'-');
    }
    text
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

/// `next_month_day(from, month_day)`: the first date on or after `from`
/// whose `month_day` is `month_day` (`401`: the next 1 April; `229`: the
/// next 29 February); `None` for a month and day no year has.
pub fn next_month_day(from: NaiveDate, month_day: i64) -> Option<NaiveDate> {
    use chrono::Datelike;
    let month = u32::try_from(month_day / 100).ok()?;
    let day = u32::try_from(month_day % 100).ok()?;
    // Eight years hold a leap year whatever the century.
    (from.year()..=from.year().saturating_add(8))
        .find_map(|y| NaiveDate::from_ymd_opt(y, month, day).filter(|d| *d >= from))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    #[test]
    fn next_month_day_is_the_first_such_day_on_or_after() {
        use super::{next_month_day, NaiveDate};
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let next = |from: &str, md: i64| next_month_day(d(from), md);
        assert_eq!(next("2026-12-14", 401), Some(d("2027-04-01")));
        assert_eq!(next("2027-02-10", 401), Some(d("2027-04-01")));
        assert_eq!(next("2027-04-01", 401), Some(d("2027-04-01")));
        assert_eq!(next("2027-04-02", 401), Some(d("2028-04-01")));
        // 29 February: the next leap year's, across a century that is not one.
        assert_eq!(next("2029-03-01", 229), Some(d("2032-02-29")));
        assert_eq!(next("2097-03-01", 229), Some(d("2104-02-29")));
        for no_such_day in [0, 100, 132, 431, 1301, -401, 10_000] {
            assert_eq!(next("2026-12-14", no_such_day), None, "{no_such_day}");
        }
    }

    use super::format_money;

    /// What `format_money` wrote before it wrote the digits itself.
    fn reference(amount: Decimal) -> String {
        let mut a = amount.normalize();
        if a.scale() < 2 {
            a.rescale(2);
        }
        a.to_string()
    }

    #[test]
    fn money_text_of_edge_values() {
        let mut zero = Decimal::new(0, 3);
        zero.set_sign_negative(true);
        for d in [
            Decimal::ZERO,
            zero,
            Decimal::new(8124, 1),
            Decimal::new(-8124, 1),
            Decimal::new(81240, 2),
            Decimal::new(812400, 3),
            Decimal::new(5, 2),
            Decimal::new(-5, 28),
            Decimal::new(120, 0),
            Decimal::new(1, 28),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::MAX / Decimal::TEN,
            Decimal::from_i128_with_scale(79_228_162_514_264_337_593_543_950_330, 1),
            Decimal::from_i128_with_scale(7_922_816_251_426_433_759_354_395_033, 0),
            Decimal::from_i128_with_scale(792_281_625_142_643_375_935_439_503, 0),
            Decimal::from_i128_with_scale(u64::MAX as i128 + 1, 2),
            Decimal::from_i128_with_scale(u64::MAX as i128, 5),
        ] {
            assert_eq!(format_money(d), reference(d), "{d:?}");
        }
        assert_eq!(format_money(Decimal::new(8124, 1)), "812.40");
    }

    proptest! {
        #[test]
        fn money_text_is_normalize_rescale_display(
            lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28, small in 0u32..4,
        ) {
            // Small mantissas (the amounts a policy writes) as often as any.
            let (mid, hi) = match small {
                0 => (0, 0),
                1 => (mid % 1000, 0),
                _ => (mid, hi),
            };
            let lo = if small == 0 { lo % 1_000_000 * 10u32.pow(lo % 4) } else { lo };
            let d = Decimal::from_parts(lo, mid, hi, negative, scale);
            prop_assert_eq!(format_money(d), reference(d));
        }
    }
}

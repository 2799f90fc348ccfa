//! Exact decimal text: the one reader that turns number text into a
//! `Decimal` for every input format (JSON numbers and strings, YAML accounts,
//! CSV cells, rule literals), exactly or not at all. It owns the number rules
//! (exponents, 28 digits, never rounding) and their messages; it must not know
//! about schemas, documents or any input format. It also holds the exact
//! integer shortcuts the evaluator compares amounts with ([`compare`],
//! [`rescaled`]).

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// 10^0 to 10^28 (a decimal's scale is at most 28).
const POWERS_OF_TEN: [i128; 29] = {
    let mut powers = [1i128; 29];
    let mut i = 1;
    while i < powers.len() {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

/// `x`'s mantissa at `scale` (not less than its own), if it fits in an `i128`:
/// `12.5` at scale 2 is 1250.
#[inline]
pub fn rescaled(x: &Decimal, scale: u32) -> Option<i128> {
    let up = scale.checked_sub(x.scale())? as usize;
    let m = x.mantissa();
    let power = *POWERS_OF_TEN.get(up)?;
    // Most amounts: a 64-bit multiplication.
    if let (Ok(small), Ok(power)) = (i64::try_from(m), i64::try_from(power)) {
        if let Some(v) = small.checked_mul(power) {
            return Some(i128::from(v));
        }
    }
    power.checked_mul(m)
}

/// `a.cmp(b)`: two amounts compared as integers at the larger of their
/// scales when they fit there (amounts almost always do), which is exact and
/// several times faster than rescaling two decimals; otherwise as
/// `rust_decimal` compares them.
#[inline]
pub fn compare(a: &Decimal, b: &Decimal) -> Ordering {
    let (sa, sb) = (a.scale(), b.scale());
    let small = |d: &Decimal| i64::try_from(d.mantissa()).ok();
    let up = |m: i64, by: u32| m.checked_mul(i64::try_from(*POWERS_OF_TEN.get(by as usize)?).ok()?);
    let scaled = match (small(a), small(b)) {
        (Some(x), Some(y)) if sa <= sb => up(x, sb - sa).map(|x| (x, y)),
        (Some(x), Some(y)) => up(y, sa - sb).map(|y| (x, y)),
        _ => None,
    };
    match scaled {
        Some((x, y)) => x.cmp(&y),
        None => a.cmp(b),
    }
}

/// Why number text is not a decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// Not a number at all: `abc`, `1,000`, `1_000`, `0x10`.
    NotANumber,
    /// Its whole part does not fit: more than 28 digits (`1e40`).
    TooLarge,
    /// It fits only if rounded: a 29th significant digit or a 29th decimal
    /// place (`4.99999999999999999999999999999`, `1e-400`).
    TooPrecise,
}

impl NumberError {
    /// The reason, after the number as written: "`1e40` is out of range: ...".
    pub fn reason(self) -> &'static str {
        match self {
            NumberError::NotANumber => "is not a number",
            NumberError::TooLarge => "is out of range: amounts have at most 28 significant digits",
            NumberError::TooPrecise => {
                "cannot be held exactly: amounts have at most 28 significant digits and 28 decimal places, and are never rounded"
            }
        }
    }
}

/// The amount in `text` written with a currency sign or code (`$212.00`,
/// `212.00 USD`), when that is all that keeps it from being a number: money
/// is in the schema's currency, never written.
pub fn without_currency(text: &str) -> Option<&str> {
    let bare = text
        .trim()
        .trim_matches(|c: char| c.is_whitespace() || c.is_ascii_uppercase() || "$£€¥".contains(c));
    (bare != text.trim() && read_decimal(bare).is_ok()).then_some(bare)
}

/// Decimal text as written, `12.50`, `-3`, `+0.5`, `1.5e3`, exactly or not at
/// all: every input format (JSON numbers and strings, YAML, CSV cells, rule
/// literals) reads amounts here. An exponent is accepted when the value it
/// names is a decimal without rounding (`5e2` is 500, `1e-400` is refused).
pub fn read_decimal(text: &str) -> Result<Decimal, NumberError> {
    let s = text.trim();
    // What extracts hold, `[+-]digits[.digits]`, in one pass over the bytes;
    // up to 18 digits, the mantissa is gathered on the way.
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut point = None;
    let mut mantissa: u64 = 0;
    let plain = body.bytes().enumerate().all(|(i, b)| match b {
        b'0'..=b'9' => {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            true
        }
        b'.' if point.is_none() => {
            point = Some(i);
            true
        }
        _ => false,
    });
    let digits = body.len() - usize::from(point.is_some());
    if plain && digits > 0 {
        if digits <= 18 {
            // The value `Decimal::from_str_exact` gives, sign of a zero included.
            let scale = point.map_or(0, |p| body.len() - p - 1) as u32;
            let negative = s.starts_with('-');
            return Ok(Decimal::from_parts(
                mantissa as u32,
                (mantissa >> 32) as u32,
                0,
                negative,
                scale,
            ));
        }
        return exact(s, &body[..point.unwrap_or(body.len())]);
    }
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (negative, unsigned) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
        return Err(NumberError::NotANumber);
    }
    let Some(exponent) = exponent else {
        return exact(s, whole);
    };
    let exp_digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
    if exp_digits.is_empty() || !digits(exp_digits) {
        return Err(NumberError::NotANumber);
    }
    // Significant digits and where the point falls among them: 0.D x 10^point.
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let shift: i64 = match exponent.parse() {
        Ok(e) => e,
        Err(_) if exponent.starts_with('-') => return Err(NumberError::TooPrecise),
        Err(_) => return Err(NumberError::TooLarge),
    };
    let leading_zeros = (all.len() - significant.len()) as i64;
    let point = (whole.len() as i64 - leading_zeros).saturating_add(shift);
    // Decimal holds up to 29 whole digits and 28 decimal places.
    if point > 29 {
        return Err(NumberError::TooLarge);
    }
    if point < -28 || significant.len() > 60 {
        return Err(NumberError::TooPrecise);
    }
    let sign = if negative { "-" } else { "" };
    let plain = if point <= 0 {
        format!(
            "{sign}0.{}{significant}",
            "0".repeat(point.unsigned_abs() as usize)
        )
    } else if point as usize >= significant.len() {
        format!(
            "{sign}{significant}{}",
            "0".repeat(point as usize - significant.len())
        )
    } else {
        let (w, f) = significant.split_at(point as usize);
        format!("{sign}{w}.{f}")
    };
    let whole = plain
        .trim_start_matches('-')
        .split('.')
        .next()
        .unwrap_or("");
    exact(&plain, whole)
}

/// Checked decimal text (`[+-]digits[.digits]`) as a decimal, refused rather
/// than rounded; `whole` is its digits before the point.
fn exact(text: &str, whole: &str) -> Result<Decimal, NumberError> {
    Decimal::from_str_exact(text).map_err(|_| {
        if whole.is_empty() || Decimal::from_str_exact(whole).is_ok() {
            NumberError::TooPrecise
        } else {
            NumberError::TooLarge
        }
    })
}

/// [`read_decimal`] when only success matters.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    read_decimal(s).ok()
}

#[cfg(test)]
mod compare_tests {
    use super::*;
    use proptest::prelude::*;

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i128>(), 0u32..=28, 0u32..4).prop_map(|(m, scale, size)| {
            // Small mantissas (amounts), and some at the 96-bit limit.
            let m = match size {
                0 => m % 1_000_000,
                1 => m % 1_000_000_000_000,
                2 => m >> 32,
                _ => m,
            };
            Decimal::try_from_i128_with_scale(m % (1i128 << 96), scale).unwrap_or(Decimal::MAX)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

        /// Plain amounts (`[+-]digits[.digits]`, what extracts hold) are read
        /// without `from_str_exact` when short: the same bits, sign of zero and scale included.
        #[test]
        fn short_plain_amounts_read_as_rust_decimal_reads_them(
            text in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?"
        ) {
            let ours = read_decimal(&text).map(|d| d.serialize());
            let theirs = Decimal::from_str_exact(&text).map(|d| d.serialize());
            match theirs {
                Ok(bits) => prop_assert_eq!(ours, Ok(bits), "{}", text),
                Err(_) => prop_assert!(ours.is_err(), "{}", text),
            }
        }

        #[test]
        fn compare_is_rust_decimals_order(a in decimal(), b in decimal()) {
            prop_assert_eq!(compare(&a, &b), a.cmp(&b));
            prop_assert_eq!(compare(&a, &a.normalize()), Ordering::Equal);
        }
    }
}

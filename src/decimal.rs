//! Exact decimal text: the one reader that turns number text into a
//! `Decimal` for every input format (JSON numbers and strings, YAML accounts,
//! CSV cells, rule literals), exactly or not at all. It owns the number rules
//! (exponents, 28 digits, never rounding) and their messages; it must not know
//! about schemas, documents or any input format.

use rust_decimal::Decimal;

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

/// Decimal text as written, `12.50`, `-3`, `+0.5`, `1.5e3`, exactly or not at
/// all: every input format (JSON numbers and strings, YAML, CSV cells, rule
/// literals) reads amounts here. An exponent is accepted when the value it
/// names is a decimal without rounding (`5e2` is 500, `1e-400` is refused).
pub fn read_decimal(text: &str) -> Result<Decimal, NumberError> {
    let s = text.trim();
    // What extracts hold, `[+-]digits[.digits]`, in one pass over the bytes.
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut point = None;
    let plain = body.bytes().enumerate().all(|(i, b)| match b {
        b'0'..=b'9' => true,
        b'.' if point.is_none() => {
            point = Some(i);
            true
        }
        _ => false,
    });
    if plain && body.len() > usize::from(point.is_some()) {
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

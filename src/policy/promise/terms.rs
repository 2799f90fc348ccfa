//! A promise's terms: how much underpayment is tolerated (`tolerance`), whether a plan's tolerance
//! applies to each instalment or to the running total (`PlanTolerance`), and how many days of grace
//! an instalment has (`deadline`). Pure arithmetic on the terms; it must not decide a status, read
//! the clock or any file.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::PromiseError;
use crate::policy::calendar::WorkCalendar;

/// Which tolerance applies: the amount, the percentage of the instalment, or the larger/smaller of both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToleranceRule {
    Amount,
    Percent,
    Larger,
    Smaller,
}

impl ToleranceRule {
    /// The rule a variant of the built-in enum `tolerance_rule` names.
    pub fn from_name(name: &str) -> Option<ToleranceRule> {
        Some(match name {
            "amount" => ToleranceRule::Amount,
            "percent" => ToleranceRule::Percent,
            "larger" => ToleranceRule::Larger,
            "smaller" => ToleranceRule::Smaller,
            _ => return None,
        })
    }
}

/// How the tolerance applies to a payment plan of several instalments (the built-in enum
/// `plan_tolerance`). A single promise is evaluated the same way under both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlanTolerance {
    /// The plan's running total must come within the current instalment's tolerance: shortfalls
    /// add up, so $98 paid three times on $100 instalments with a $3 tolerance breaks the plan at
    /// the second instalment. The default when the terms do not say.
    #[default]
    Cumulative,
    /// Each instalment must come within its own tolerance: the shortfall of a kept instalment is
    /// forgiven, not carried into the next; an overpayment still counts towards the next.
    PerInstalment,
}

impl PlanTolerance {
    /// The choice a variant of the built-in enum `plan_tolerance` names.
    pub fn from_name(name: &str) -> Option<PlanTolerance> {
        Some(match name {
            "cumulative" => PlanTolerance::Cumulative,
            "per_instalment" => PlanTolerance::PerInstalment,
            _ => return None,
        })
    }
}

/// When a promise counts as kept: how much underpayment is tolerated and how many days of grace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    /// Tolerated underpayment in money, e.g. $3.
    pub tolerance_amount: Decimal,
    /// Tolerated underpayment as a fraction of the instalment: 0.05 = 5%.
    pub tolerance_percent: Decimal,
    pub rule: ToleranceRule,
    pub plan_tolerance: PlanTolerance,
    pub grace_days: u32,
    /// false: calendar days.
    pub grace_in_business_days: bool,
}

/// Tolerance for one instalment amount under the terms (never negative).
///
/// Negative tolerance settings count as zero, and the tolerance never exceeds the instalment amount
/// (an instalment cannot be "underpaid" by more than itself; a non-positive amount has no tolerance).
pub fn tolerance(terms: &Terms, amount: Decimal) -> Decimal {
    let cap = amount.max(Decimal::ZERO);
    let by_amount = terms.tolerance_amount.max(Decimal::ZERO).min(cap);
    let by_percent = match terms.tolerance_percent.checked_mul(cap) {
        // In whole cents, rounded down: the amount required is then in cents
        // too (2% of $1,182.89 tolerates $23.65, requiring $1,159.24, not
        // $1,159.2322), and a payment in cents keeps or breaks as before.
        Some(p) => p
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
            .max(Decimal::ZERO)
            .min(cap),
        // Overflow: |percent| > 1, so the product lies beyond the cap on one side or the other.
        None if terms.tolerance_percent.is_sign_positive() => cap,
        None => Decimal::ZERO,
    };
    match terms.rule {
        ToleranceRule::Amount => by_amount,
        ToleranceRule::Percent => by_percent,
        ToleranceRule::Larger => by_amount.max(by_percent),
        ToleranceRule::Smaller => by_amount.min(by_percent),
    }
}

/// The last day a payment still counts for an instalment due on `due`.
pub(super) fn deadline(
    due: NaiveDate,
    terms: &Terms,
    calendar: &WorkCalendar,
) -> Result<NaiveDate, PromiseError> {
    let d = if terms.grace_in_business_days {
        calendar.add_business_days(due, terms.grace_days)
    } else {
        due.checked_add_days(Days::new(u64::from(terms.grace_days)))
    };
    d.ok_or(PromiseError::DateOutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::promise::fixtures::*;

    #[test]
    fn tolerance_rules() {
        let cases = [
            (ToleranceRule::Amount, "3", "0.05", "50", "3"),
            (ToleranceRule::Percent, "3", "0.05", "50", "2.50"),
            (ToleranceRule::Larger, "3", "0.05", "50", "3"),
            (ToleranceRule::Smaller, "3", "0.05", "50", "2.50"),
            (ToleranceRule::Larger, "3", "0.05", "100", "5"),
            (ToleranceRule::Smaller, "3", "0.05", "100", "3"),
            // Never negative, never above the instalment.
            (ToleranceRule::Amount, "-3", "0.05", "50", "0"),
            (ToleranceRule::Percent, "3", "-0.05", "50", "0"),
            (ToleranceRule::Amount, "3", "0", "2", "2"),
            (ToleranceRule::Percent, "0", "1.5", "2", "2"),
            // A percent's tolerance in whole cents, rounded down.
            (ToleranceRule::Percent, "0", "0.02", "1182.89", "23.65"),
            (ToleranceRule::Larger, "0.01", "0.02", "0.99", "0.01"),
            (ToleranceRule::Larger, "3", "0.05", "-50", "0"),
            (
                ToleranceRule::Percent,
                "0",
                "79228162514264337593543950335",
                "50",
                "50",
            ),
            (
                ToleranceRule::Percent,
                "0",
                "-79228162514264337593543950335",
                "50",
                "0",
            ),
        ];
        for (rule, amount, percent, instalment, expected) in cases {
            let t = terms(amount, percent, rule);
            assert_eq!(
                tolerance(&t, dec(instalment)),
                dec(expected),
                "{rule:?} {amount} {percent} on {instalment}"
            );
        }
    }
}

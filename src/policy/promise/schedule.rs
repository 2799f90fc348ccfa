//! A payment-plan offer's schedule: `split_plan` cuts a total into monthly instalments that sum
//! exactly, each due on a business day. It must not judge whether a plan is kept (`status`),
//! read the clock or any file.

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Instalment, PromiseError};
use crate::policy::calendar::WorkCalendar;

/// Splits `total` into `n` monthly instalments (n >= 1) for a payment-plan offer: equal amounts rounded
/// down to the cent, the remainder on the last instalment so they sum exactly to `total`; the first due on
/// `first_due`, then the same day of each following month (clamped to month end: Jan 31 → Feb 28/29),
/// each rolled forward to a business day on `calendar`.
///
/// Ids are "1", "2", ... Months are counted from `first_due` itself (Jan 31 → Feb 28 → Mar 31), not
/// from the previous, clamped or rolled date. "Rounded down" is toward zero, so a negative total
/// splits as the mirror image of the positive one. `n == 0` is `Empty`; a schedule that runs past
/// the last representable date, or a date with no business day to roll to, is `DateOutOfRange`.
pub fn split_plan(
    total: Decimal,
    n: u32,
    first_due: NaiveDate,
    calendar: &WorkCalendar,
) -> Result<Vec<Instalment>, PromiseError> {
    Ok(split_amounts(total, n, first_due, calendar)?
        .into_iter()
        .zip(1u32..)
        .map(|((amount, due), id)| Instalment {
            id: id.to_string(),
            amount,
            due,
        })
        .collect())
}

/// [`split_plan`]'s amounts and due dates, in order, without the ids (a
/// payment-plan offer names none).
pub fn split_amounts(
    total: Decimal,
    n: u32,
    first_due: NaiveDate,
    calendar: &WorkCalendar,
) -> Result<Vec<(Decimal, NaiveDate)>, PromiseError> {
    if n == 0 {
        return Err(PromiseError::Empty);
    }
    // Check the last nominal date before allocating anything for `n` instalments.
    first_due
        .checked_add_months(Months::new(n - 1))
        .ok_or(PromiseError::DateOutOfRange)?;
    let count = Decimal::from(n);
    let each = total
        .checked_div(count)
        .ok_or(PromiseError::Overflow)?
        .round_dp_with_strategy(2, RoundingStrategy::ToZero);
    let last = each
        .checked_mul(Decimal::from(n - 1))
        .and_then(|head| total.checked_sub(head))
        .ok_or(PromiseError::Overflow)?;
    (0..n)
        .map(|i| {
            let nominal = first_due
                .checked_add_months(Months::new(i))
                .ok_or(PromiseError::DateOutOfRange)?;
            let due = calendar
                .roll_forward(nominal)
                .ok_or(PromiseError::DateOutOfRange)?;
            Ok((if i + 1 == n { last } else { each }, due))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::promise::fixtures::*;
    use crate::policy::promise::{evaluate, Payment, Status, ToleranceRule};
    use chrono::Days;
    use proptest::prelude::*;

    #[test]
    fn split_plan_amounts() {
        let cases: Vec<(&str, u32, Vec<&str>)> = vec![
            ("100.00", 1, vec!["100.00"]),
            ("100.00", 2, vec!["50.00", "50.00"]),
            ("100.00", 3, vec!["33.33", "33.33", "33.34"]),
            ("0.05", 3, vec!["0.01", "0.01", "0.03"]),
            ("0.01", 2, vec!["0.00", "0.01"]),
            ("6500", 3, vec!["2166.66", "2166.66", "2166.68"]),
            ("-100.00", 3, vec!["-33.33", "-33.33", "-33.34"]),
            ("100.005", 2, vec!["50.00", "50.005"]),
        ];
        for (total, n, expected) in cases {
            let plan = split_plan(dec(total), n, d(2026, 1, 15), &cal()).unwrap();
            let amounts: Vec<Decimal> = plan.iter().map(|i| i.amount).collect();
            let expected: Vec<Decimal> = expected.into_iter().map(dec).collect();
            assert_eq!(amounts, expected, "{total} / {n}");
            let sum: Decimal = amounts.iter().copied().sum();
            assert_eq!(sum, dec(total), "{total} / {n} sums exactly");
            let ids: Vec<String> = plan.iter().map(|i| i.id.clone()).collect();
            let expected_ids: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            assert_eq!(ids, expected_ids);
        }
    }

    #[test]
    fn split_plan_dates() {
        let cases: Vec<(NaiveDate, u32, Vec<NaiveDate>)> = vec![
            // 2027-01-29 is a Friday; Feb 28 2027 is a Sunday, so it rolls to Mar 1.
            (
                d(2027, 1, 29),
                3,
                vec![d(2027, 1, 29), d(2027, 3, 1), d(2027, 3, 29)],
            ),
            // Jan 31 2027 is a Sunday → Feb 1; Feb clamps to the 28th (Sunday) → Mar 1;
            // Mar 31 is a Wednesday: months count from the original day, not the clamped one.
            (
                d(2027, 1, 31),
                3,
                vec![d(2027, 2, 1), d(2027, 3, 1), d(2027, 3, 31)],
            ),
            // Leap year: Jan 31 2028 (Monday) → Feb 29 2028 (Tuesday) → Mar 31 (Friday).
            (
                d(2028, 1, 31),
                3,
                vec![d(2028, 1, 31), d(2028, 2, 29), d(2028, 3, 31)],
            ),
            // A due date on a Saturday rolls to Monday: 2026-11-28 is a Saturday.
            (d(2026, 10, 28), 2, vec![d(2026, 10, 28), d(2026, 11, 30)]),
        ];
        for (first, n, expected) in cases {
            let plan = split_plan(dec("90"), n, first, &cal()).unwrap();
            let dates: Vec<NaiveDate> = plan.iter().map(|i| i.due).collect();
            assert_eq!(dates, expected, "from {first}");
        }
    }

    #[test]
    fn split_plan_clamps_jan_31_to_feb_28_on_an_all_week_calendar() {
        let every_day = WorkCalendar {
            name: "24/7".into(),
            weekend: vec![],
            holidays: Default::default(),
        };
        let plan = split_plan(dec("100.00"), 3, d(2027, 1, 31), &every_day).unwrap();
        let dates: Vec<NaiveDate> = plan.iter().map(|i| i.due).collect();
        assert_eq!(dates, vec![d(2027, 1, 31), d(2027, 2, 28), d(2027, 3, 31)]);
    }

    #[test]
    fn split_plan_feeds_evaluate() {
        let plan = split_plan(dec("100.00"), 3, d(2026, 1, 15), &cal()).unwrap();
        let t = terms("0", "0", ToleranceRule::Amount);
        let payments: Vec<Payment> = plan
            .iter()
            .map(|i| Payment {
                amount: i.amount,
                date: i.due,
            })
            .collect();
        let r = evaluate(&plan, &payments, &t, d(2026, 6, 1), &cal()).unwrap();
        assert_eq!(r.status, Status::Kept);
        assert_eq!(r.instalments[2].required, dec("100.00"));
        assert_eq!(r.instalments[2].paid, dec("100.00"));
    }
    proptest! {
        // No regression files: this module must not write outside src/.
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn split_plan_sums_exactly(
            cents in 0i64..1_000_000_000,
            n in 1u32..37,
            off in 0u64..3_000,
        ) {
            let total = Decimal::new(cents, 2);
            let first = d(2026, 1, 1).checked_add_days(Days::new(off)).unwrap();
            let plan = split_plan(total, n, first, &cal()).unwrap();
            prop_assert_eq!(plan.len(), n as usize);
            let sum: Decimal = plan.iter().map(|i| i.amount).sum();
            prop_assert_eq!(sum, total);
            let each = plan[0].amount;
            for i in &plan[..plan.len() - 1] {
                prop_assert_eq!(i.amount, each);
            }
            let last = plan[plan.len() - 1].amount;
            prop_assert!(last >= each);
            prop_assert!(last - each < Decimal::new(i64::from(n), 2));
            for w in plan.windows(2) {
                prop_assert!(w[0].due < w[1].due);
            }
            for i in &plan {
                prop_assert!(cal().is_business_day(i.due));
            }
        }
    }
}

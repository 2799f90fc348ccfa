//! Test fixtures shared by the promise files' unit tests: dates, decimals, terms, instalments,
//! payments and the weekday calendar, written short. Test-only; it must not hold assertions.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

use super::{Instalment, Payment, PlanTolerance, Terms, ToleranceRule};
use crate::policy::calendar::WorkCalendar;

pub(super) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub(super) fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(super) fn terms(amount: &str, percent: &str, rule: ToleranceRule) -> Terms {
    Terms {
        tolerance_amount: dec(amount),
        tolerance_percent: dec(percent),
        rule,
        plan_tolerance: PlanTolerance::Cumulative,
        grace_days: 0,
        grace_in_business_days: false,
    }
}

pub(super) fn inst(id: &str, amount: &str, due: NaiveDate) -> Instalment {
    Instalment {
        id: id.into(),
        amount: dec(amount),
        due,
    }
}

pub(super) fn pay(amount: &str, date: NaiveDate) -> Payment {
    Payment {
        amount: dec(amount),
        date,
    }
}

pub(super) fn cal() -> WorkCalendar {
    WorkCalendar::weekdays("std")
}

// 2026-11-20 is a Friday.
const FRI: (i32, u32, u32) = (2026, 11, 20);
pub(super) fn friday() -> NaiveDate {
    d(FRI.0, FRI.1, FRI.2)
}

//! Work calendars: business days, holidays, rolling dates forward.
//! It must not read the clock: dates come in.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included};

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The longest run of consecutive non-business days searched before giving up (a year, leap or not).
const MAX_GAP_DAYS: u32 = 366;

const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// A work calendar: which days are business days (trigger dates, promise grace periods honour it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkCalendar {
    pub name: String,
    /// Days that are never business days (e.g. Saturday, Sunday).
    pub weekend: Vec<Weekday>,
    /// Specific non-business dates.
    pub holidays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// Saturday and Sunday off, no holidays.
    pub fn weekdays(name: &str) -> Self {
        WorkCalendar {
            name: name.to_string(),
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: BTreeSet::new(),
        }
    }

    fn is_weekend(&self, wd: Weekday) -> bool {
        self.weekend.contains(&wd)
    }

    /// Business days in a full week (0..=7; duplicates in `weekend` count once).
    fn business_days_per_week(&self) -> i64 {
        ALL_WEEKDAYS
            .iter()
            .filter(|wd| !self.is_weekend(**wd))
            .count() as i64
    }

    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        !self.is_weekend(d.weekday()) && !self.holidays.contains(&d)
    }

    /// `d` itself if it is a business day, else the next business day. None if none within 366 days
    /// (a calendar that declares every day off) or on date overflow.
    ///
    /// "Within 366 days" means `d` and the 366 days after it are searched.
    pub fn roll_forward(&self, d: NaiveDate) -> Option<NaiveDate> {
        let mut cur = d;
        for _ in 0..MAX_GAP_DAYS {
            if self.is_business_day(cur) {
                return Some(cur);
            }
            cur = cur.succ_opt()?;
        }
        self.is_business_day(cur).then_some(cur)
    }

    /// The date `n` business days after `d` (n = 0: roll_forward(d)). Counting starts the day after `d`.
    ///
    /// None on date overflow, when the calendar has no business day at all, or when the walk meets
    /// more than 366 consecutive non-business days. Stretches without holidays are jumped a whole
    /// number of weeks at a time, so a large `n` costs about the number of holidays crossed.
    pub fn add_business_days(&self, d: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return self.roll_forward(d);
        }
        let per_week = self.business_days_per_week();
        if per_week == 0 {
            return None;
        }
        let mut cur = d;
        let mut remaining = i64::from(n);
        // Non-business days since the last business day (or since `d`).
        let mut gap = 0u32;
        while remaining > 0 {
            if remaining > per_week {
                // Jump whole weeks, leaving at least one business day to walk, so the result is
                // always reached by a step onto a business day.
                let weeks = (remaining - 1) / per_week;
                let days = u64::try_from(weeks).ok()?.checked_mul(7)?;
                // If this overflows, so does the answer: the span holds < `remaining` business days.
                let next = cur.checked_add_days(Days::new(days))?;
                let counted = self.business_days_between(cur, next);
                if counted == weeks * per_week {
                    // No holiday on a working weekday in the span: only weekend runs, at most 6 days.
                    remaining -= counted;
                    cur = next;
                    gap = self.trailing_weekend_days(cur);
                    continue;
                }
            }
            cur = cur.succ_opt()?;
            if self.is_business_day(cur) {
                remaining -= 1;
                gap = 0;
            } else {
                gap += 1;
                if gap > MAX_GAP_DAYS {
                    return None;
                }
            }
        }
        Some(cur)
    }

    /// How many days ending at `d` (inclusive) fall on weekend weekdays (0..=6 when some weekday works).
    fn trailing_weekend_days(&self, d: NaiveDate) -> u32 {
        let mut wd = d.weekday();
        let mut n = 0;
        while n < 7 && self.is_weekend(wd) {
            n += 1;
            wd = wd.pred();
        }
        n
    }

    /// Business days in (a, b]: how many business days after `a` up to and including `b`; negative if b < a.
    ///
    /// Computed by whole weeks plus a remainder, minus the holidays that fall on working weekdays,
    /// so the cost does not grow with the distance.
    pub fn business_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.business_days_between(b, a);
        }
        let days = b.signed_duration_since(a).num_days();
        let mut count = (days / 7) * self.business_days_per_week();
        // The remainder days follow `a` by 1..=rem days modulo whole weeks: same weekdays.
        let mut wd = a.weekday();
        for _ in 0..days % 7 {
            wd = wd.succ();
            if !self.is_weekend(wd) {
                count += 1;
            }
        }
        let holidays = self
            .holidays
            .range((Excluded(a), Included(b)))
            .filter(|h| !self.is_weekend(h.weekday()))
            .count() as i64;
        count - holidays
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn with_holidays(dates: &[NaiveDate]) -> WorkCalendar {
        let mut c = WorkCalendar::weekdays("us");
        c.holidays.extend(dates.iter().copied());
        c
    }

    /// Reference: count day by day.
    fn naive_between(c: &WorkCalendar, a: NaiveDate, b: NaiveDate) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut n = 0;
        let mut cur = lo;
        while cur < hi {
            cur = cur.succ_opt().unwrap();
            if c.is_business_day(cur) {
                n += 1;
            }
        }
        sign * n
    }

    #[test]
    fn is_business_day_weekdays() {
        let c = WorkCalendar::weekdays("std");
        assert_eq!(c.name, "std");
        // 2026-11-23 is a Monday.
        for (day, expected) in [
            (23, true),
            (24, true),
            (25, true),
            (26, true),
            (27, true),
            (28, false),
            (29, false),
        ] {
            assert_eq!(c.is_business_day(d(2026, 11, day)), expected, "day {day}");
        }
    }

    #[test]
    fn roll_forward_table() {
        let thanksgiving = d(2026, 11, 26);
        let cases: Vec<(&str, WorkCalendar, NaiveDate, NaiveDate)> = vec![
            (
                "business day stays",
                WorkCalendar::weekdays("std"),
                d(2026, 11, 25),
                d(2026, 11, 25),
            ),
            (
                "saturday -> monday",
                WorkCalendar::weekdays("std"),
                d(2026, 11, 28),
                d(2026, 11, 30),
            ),
            (
                "sunday -> monday",
                WorkCalendar::weekdays("std"),
                d(2026, 11, 29),
                d(2026, 11, 30),
            ),
            (
                "friday holiday + weekend -> monday",
                with_holidays(&[d(2026, 11, 27)]),
                d(2026, 11, 27),
                d(2026, 11, 30),
            ),
            (
                "thanksgiving -> friday",
                with_holidays(&[thanksgiving]),
                thanksgiving,
                d(2026, 11, 27),
            ),
            (
                "thanksgiving not declared stays",
                WorkCalendar::weekdays("std"),
                thanksgiving,
                thanksgiving,
            ),
            (
                "thanksgiving and black friday -> monday",
                with_holidays(&[thanksgiving, d(2026, 11, 27)]),
                thanksgiving,
                d(2026, 11, 30),
            ),
        ];
        for (name, cal, from, expected) in cases {
            assert_eq!(cal.roll_forward(from), Some(expected), "{name}");
        }
    }

    #[test]
    fn add_business_days_table() {
        let thanksgiving = with_holidays(&[d(2026, 11, 26)]);
        let std = WorkCalendar::weekdays("std");
        let cases: Vec<(&str, &WorkCalendar, NaiveDate, u32, NaiveDate)> = vec![
            (
                "zero on business day",
                &std,
                d(2026, 11, 25),
                0,
                d(2026, 11, 25),
            ),
            (
                "zero on saturday rolls",
                &std,
                d(2026, 11, 28),
                0,
                d(2026, 11, 30),
            ),
            ("one within week", &std, d(2026, 11, 23), 1, d(2026, 11, 24)),
            (
                "friday + 1 -> monday",
                &std,
                d(2026, 11, 20),
                1,
                d(2026, 11, 23),
            ),
            (
                "friday + 3 -> wednesday",
                &std,
                d(2026, 11, 20),
                3,
                d(2026, 11, 25),
            ),
            (
                "saturday + 1 -> monday",
                &std,
                d(2026, 11, 21),
                1,
                d(2026, 11, 23),
            ),
            (
                "over thanksgiving",
                &thanksgiving,
                d(2026, 11, 25),
                1,
                d(2026, 11, 27),
            ),
            (
                "over thanksgiving and weekend",
                &thanksgiving,
                d(2026, 11, 25),
                2,
                d(2026, 11, 30),
            ),
            ("ten days", &std, d(2026, 11, 20), 10, d(2026, 12, 4)),
            (
                "ten days with holiday",
                &thanksgiving,
                d(2026, 11, 20),
                10,
                d(2026, 12, 7),
            ),
        ];
        for (name, cal, from, n, expected) in cases {
            assert_eq!(cal.add_business_days(from, n), Some(expected), "{name}");
        }
    }

    #[test]
    fn add_business_days_agrees_with_day_by_day_walk() {
        let mut cal = with_holidays(&[d(2026, 11, 26), d(2026, 12, 25), d(2027, 1, 1)]);
        // A whole holiday week.
        for day in 14..=18 {
            cal.holidays.insert(d(2026, 12, day));
        }
        let start = d(2026, 11, 1);
        for offset in 0..10u64 {
            let from = start.checked_add_days(Days::new(offset)).unwrap();
            let mut walk = from;
            let mut counted = 0;
            for n in 1..80u32 {
                loop {
                    walk = walk.succ_opt().unwrap();
                    if cal.is_business_day(walk) {
                        counted += 1;
                        break;
                    }
                }
                assert_eq!(counted, n);
                assert_eq!(cal.add_business_days(from, n), Some(walk), "{from} + {n}");
                assert_eq!(cal.business_days_between(from, walk), i64::from(n));
            }
        }
    }

    #[test]
    fn business_days_between_both_directions() {
        let thanksgiving = with_holidays(&[d(2026, 11, 26)]);
        let std = WorkCalendar::weekdays("std");
        let cases: Vec<(&WorkCalendar, NaiveDate, NaiveDate, i64)> = vec![
            (&std, d(2026, 11, 23), d(2026, 11, 23), 0),
            (&std, d(2026, 11, 23), d(2026, 11, 27), 4),
            (&std, d(2026, 11, 27), d(2026, 11, 23), -4),
            (&std, d(2026, 11, 20), d(2026, 11, 23), 1),
            (&std, d(2026, 11, 23), d(2026, 11, 20), -1),
            (&std, d(2026, 11, 28), d(2026, 11, 29), 0),
            (&std, d(2026, 11, 20), d(2026, 12, 4), 10),
            (&thanksgiving, d(2026, 11, 20), d(2026, 12, 4), 9),
            (&thanksgiving, d(2026, 12, 4), d(2026, 11, 20), -9),
            // The holiday itself is the excluded start: not counted anyway.
            (&thanksgiving, d(2026, 11, 26), d(2026, 11, 27), 1),
        ];
        for (cal, a, b, expected) in cases {
            assert_eq!(cal.business_days_between(a, b), expected, "({a}, {b}]");
            assert_eq!(naive_between(cal, a, b), expected, "reference ({a}, {b}]");
        }
    }

    #[test]
    fn business_days_between_matches_reference() {
        let mut cal = with_holidays(&[d(2026, 11, 26), d(2026, 11, 28), d(2027, 1, 1)]);
        cal.weekend.push(Weekday::Sun); // duplicates must not count twice
        let start = d(2026, 11, 1);
        for i in 0..40u64 {
            for j in 0..70u64 {
                let a = start.checked_add_days(Days::new(i)).unwrap();
                let b = start.checked_add_days(Days::new(j)).unwrap();
                assert_eq!(
                    cal.business_days_between(a, b),
                    naive_between(&cal, a, b),
                    "({a}, {b}]"
                );
            }
        }
    }

    #[test]
    fn calendar_without_business_days_gives_none() {
        let cal = WorkCalendar {
            name: "never".into(),
            weekend: ALL_WEEKDAYS.to_vec(),
            holidays: BTreeSet::new(),
        };
        let from = d(2026, 11, 26);
        assert!(!cal.is_business_day(from));
        assert_eq!(cal.roll_forward(from), None);
        assert_eq!(cal.add_business_days(from, 0), None);
        assert_eq!(cal.add_business_days(from, 1), None);
        assert_eq!(cal.add_business_days(from, u32::MAX), None);
        assert_eq!(cal.business_days_between(from, d(2027, 11, 26)), 0);
    }

    #[test]
    fn a_year_of_holidays_gives_none() {
        // Every date for 400 days is a holiday: nothing within the 366-day bound.
        let from = d(2026, 1, 1);
        let mut cal = WorkCalendar::weekdays("closed");
        cal.holidays.extend(from.iter_days().take(400));
        assert_eq!(cal.roll_forward(from), None);
        assert_eq!(cal.add_business_days(from, 1), None);
        assert_eq!(cal.add_business_days(from, 20), None);
    }

    #[test]
    fn overflow_gives_none() {
        let cal = WorkCalendar::weekdays("std");
        let max = NaiveDate::MAX;
        assert_eq!(cal.add_business_days(max, 1), None);
        assert_eq!(cal.add_business_days(d(2026, 1, 1), u32::MAX), None);
        let big = cal.add_business_days(d(2026, 1, 1), 1_000_000);
        assert!(big.is_some_and(|b| cal.is_business_day(b)));
        assert_eq!(
            cal.business_days_between(d(2026, 1, 1), big.unwrap()),
            1_000_000
        );
        // At the very end of the range: the last day if it is a business day, else None.
        let expected = cal.is_business_day(max).then_some(max);
        assert_eq!(cal.roll_forward(max), expected);
        // Across the whole range: weekdays after MIN up to MAX, counted by whole weeks.
        let days = (max - NaiveDate::MIN).num_days();
        let tail = (1..=days % 7)
            .filter(|k| cal.is_business_day(NaiveDate::MIN + chrono::Duration::days(*k)))
            .count() as i64;
        assert_eq!(
            cal.business_days_between(NaiveDate::MIN, max),
            days / 7 * 5 + tail
        );
    }
}

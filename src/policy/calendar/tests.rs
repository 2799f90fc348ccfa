//! The calendar's unit tests: observance, holiday forms, parse errors.
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
        holidays: Default::default(),
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

#[test]
fn observance_moves_only_weekend_holidays() {
    use Observance::NearestWeekday;
    let cases = [
        // (rule, holiday, observed in lieu)
        (NearestWeekday, d(2027, 12, 25), Some(d(2027, 12, 24))), // Saturday → Friday
        (NearestWeekday, d(2027, 7, 4), Some(d(2027, 7, 5))),     // Sunday → Monday
        (NearestWeekday, d(2028, 1, 1), Some(d(2027, 12, 31))),   // into the year before
        (NearestWeekday, d(2026, 12, 25), None),                  // Friday stays
        (NearestWeekday, d(2029, 1, 1), None),                    // Monday stays
        (Observance::None, d(2027, 12, 25), None),
    ];
    for (rule, holiday, expected) in cases {
        assert_eq!(rule.observed(holiday), expected, "{rule:?} {holiday}");
    }
}

#[test]
fn holiday_date_forms() {
    use HolidayDate::*;
    let cases: [(&str, Result<HolidayDate, &str>); 22] = [
        ("2026-11-26", Ok(Once(d(2026, 11, 26)))),
        (" 12-25 ", Ok(Yearly { month: 12, day: 25 })),
        (
            "fourth thursday of november",
            Ok(NthWeekday {
                nth: 4,
                weekday: Weekday::Thu,
                month: 11,
            }),
        ),
        (
            "Last Mon of May",
            Ok(NthWeekday {
                nth: -1,
                weekday: Weekday::Mon,
                month: 5,
            }),
        ),
        (
            "fifth monday of may",
            Err("not every month has a fifth weekday: use `last`"),
        ),
        (
            "4th thursday of november",
            Err("`4th` is not `first`, `second`, `third`, `fourth` or `last`"),
        ),
        ("first moonday of may", Err("`moonday` is not a weekday; did you mean `monday`?")),
        ("first monday of mai", Err("`mai` is not a month; did you mean `may`?")),
        ("last monday of agust", Err("`agust` is not a month; did you mean `august`?")),
        ("first monday of octember", Err("`octember` is not a month; did you mean `october`?")),
        ("first monday of xyz", Err("`xyz` is not a month")),
        (
            "02-29",
            Err("not every year has 29 February: list its dates"),
        ),
        ("12-32", Err("`12-32` is not a month and day")),
        ("2027-02-29", Err("`2027-02-29` is not a holiday date")),
        ("easter", Ok(Easter { offset: 0 })),
        ("Easter Sunday", Ok(Easter { offset: 0 })),
        ("easter - 2", Ok(Easter { offset: -2 })),
        ("easter+1", Ok(Easter { offset: 1 })),
        ("easter + 50 days", Ok(Easter { offset: 50 })),
        (
            "easter + 81",
            Err("`easter + 81`: an Easter holiday is at most 80 days from Easter Sunday"),
        ),
        (
            "easter monday",
            Err("`easter monday` is not days from Easter Sunday: write `easter`, `easter + 1` or `easter - 2`"),
        ),
        (
            "easter - two",
            Err("`easter - two` is not days from Easter Sunday: write `easter`, `easter + 1` or `easter - 2`"),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            HolidayDate::parse(text),
            expected.map_err(String::from),
            "{text}"
        );
    }
}

#[test]
fn yearly_holidays_fall_on_their_weekday() {
    let memorial = HolidayDate::parse("last monday of may").unwrap();
    let thanksgiving = HolidayDate::parse("fourth thursday of november").unwrap();
    // May 2027 has five Mondays, May 2026 four.
    assert_eq!(memorial.in_year(2027), Some(d(2027, 5, 31)));
    assert_eq!(memorial.in_year(2026), Some(d(2026, 5, 25)));
    assert_eq!(thanksgiving.in_year(2026), Some(d(2026, 11, 26)));
    assert_eq!(thanksgiving.in_year(2030), Some(d(2030, 11, 28)));
    assert_eq!(HolidayDate::Once(d(2026, 1, 1)).in_year(2027), None);
}

#[test]
fn days_off_are_the_holiday_and_its_observed_day_within_its_years() {
    let new_year = Holiday {
        date: HolidayDate::Yearly { month: 1, day: 1 },
        observance: Observance::NearestWeekday,
        years: (2027, 2028),
        except: vec![],
    };
    let days: Vec<NaiveDate> = new_year.days_off().collect();
    assert_eq!(days, [d(2027, 1, 1), d(2028, 1, 1), d(2027, 12, 31)]);
    let once = Holiday {
        date: HolidayDate::Once(d(2027, 12, 25)),
        observance: Observance::NearestWeekday,
        years: (2000, 2000), // ignored for one date
        except: vec![],
    };
    assert_eq!(
        once.days_off().collect::<Vec<_>>(),
        [d(2027, 12, 25), d(2027, 12, 24)]
    );
}

/// Easter Sunday as the churches publish it (and as gov.uk's Good Friday and Easter Monday
/// imply), including the earliest (22 March) and latest (25 April) possible dates.
#[test]
fn easter_sunday_known_dates() {
    let known = [
        d(2000, 4, 23),
        d(2008, 3, 23),
        d(2011, 4, 24),
        d(2019, 4, 21),
        d(2024, 3, 31),
        d(2025, 4, 20),
        d(2026, 4, 5),
        d(2027, 3, 28),
        d(2028, 4, 16),
        d(2038, 4, 25),
        d(2285, 3, 22),
        d(1818, 3, 22),
        d(1943, 4, 25),
    ];
    for easter in known {
        assert_eq!(
            easter_sunday(easter.year()),
            Some(easter),
            "{}",
            easter.year()
        );
    }
    let good_friday = HolidayDate::parse("easter - 2").unwrap();
    let easter_monday = HolidayDate::parse("easter + 1").unwrap();
    assert_eq!(good_friday.in_year(2026), Some(d(2026, 4, 3)));
    assert_eq!(easter_monday.in_year(2026), Some(d(2026, 4, 6)));
    assert_eq!(easter_monday.in_year(2038), Some(d(2038, 4, 26)));
}

mod easter_properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every Gregorian year's Easter is a Sunday from 22 March to 25 April, and the
        /// furthest Easter holiday stays in its year.
        #[test]
        fn easter_is_a_sunday_between_march_22_and_april_25(year in 1583i32..=9999) {
            let easter = easter_sunday(year).expect("a date");
            prop_assert_eq!(easter.weekday(), Weekday::Sun);
            prop_assert_eq!(easter.year(), year);
            prop_assert!(easter >= d(year, 3, 22) && easter <= d(year, 4, 25), "{}", easter);
            for offset in [-MAX_EASTER_OFFSET, MAX_EASTER_OFFSET] {
                let day = HolidayDate::Easter { offset }.in_year(year).expect("a date");
                prop_assert_eq!(day.year(), year);
            }
        }
    }
}

/// UK substitute days: each weekend holiday gets the next weekday that is not already off.
#[test]
fn next_free_weekday_gives_each_weekend_holiday_its_own_weekday() {
    let weekend = [Weekday::Sat, Weekday::Sun];
    let cases: [(&[NaiveDate], &[NaiveDate]); 4] = [
        // Christmas Saturday, Boxing Day Sunday (2021, 2027): Monday and Tuesday.
        (
            &[d(2027, 12, 25), d(2027, 12, 26)],
            &[d(2027, 12, 27), d(2027, 12, 28)],
        ),
        // Christmas Sunday, Boxing Day Monday (2022): Christmas's day is Tuesday.
        (&[d(2022, 12, 26), d(2022, 12, 25)], &[d(2022, 12, 27)]),
        // Christmas Friday, Boxing Day Saturday (2026): Monday 28th.
        (&[d(2026, 12, 25), d(2026, 12, 26)], &[d(2026, 12, 28)]),
        // New Year's Day on a Saturday and 2 January (Scotland) on the Sunday (2022).
        (
            &[d(2022, 1, 1), d(2022, 1, 2)],
            &[d(2022, 1, 3), d(2022, 1, 4)],
        ),
    ];
    for (holidays, substitutes) in cases {
        let mut days_off: BTreeSet<NaiveDate> = holidays.iter().copied().collect();
        let mut weekend_holidays = holidays.to_vec();
        substitute_days(&weekend, &mut weekend_holidays, &mut days_off);
        let added: Vec<NaiveDate> = days_off
            .iter()
            .copied()
            .filter(|day| !holidays.contains(day))
            .collect();
        assert_eq!(added, substitutes, "{holidays:?}");
    }
    // A substitute skips a holiday of another rule already there.
    let mut days_off: BTreeSet<NaiveDate> = [d(2027, 12, 25), d(2027, 12, 27)].into();
    substitute_days(&weekend, &mut [d(2027, 12, 25)], &mut days_off);
    assert!(days_off.contains(&d(2027, 12, 28)));
}

#[test]
fn a_yearly_holiday_is_not_kept_in_its_except_years() {
    let early_may = Holiday {
        date: HolidayDate::parse("first monday of may").unwrap(),
        observance: Observance::None,
        years: (2019, 2021),
        except: vec![2020],
    };
    assert_eq!(
        early_may.days_off().collect::<Vec<_>>(),
        [d(2019, 5, 6), d(2021, 5, 3)]
    );
}

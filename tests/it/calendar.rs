//! The shipped `us_business` calendar against the US federal holidays as OPM publishes them
//! (opm.gov, "Federal Holidays", 2026-2030): the days off on weekdays, observed dates included.

use crate::common;

use chrono::{Datelike, NaiveDate, Weekday};

/// Every weekday off 2026-2030: the observed date where the holiday falls on a weekend.
const OPM_2026_2030: &[&str] = &[
    // 2026: Independence Day (Sat 4 Jul) observed Fri 3 Jul.
    "2026-01-01",
    "2026-01-19",
    "2026-02-16",
    "2026-05-25",
    "2026-06-19",
    "2026-07-03",
    "2026-09-07",
    "2026-10-12",
    "2026-11-11",
    "2026-11-26",
    "2026-12-25",
    // 2027: Juneteenth (Sat) Fri 18 Jun, Independence Day (Sun) Mon 5 Jul, Christmas (Sat)
    // Fri 24 Dec, New Year's Day 2028 (Sat) Fri 31 Dec 2027.
    "2027-01-01",
    "2027-01-18",
    "2027-02-15",
    "2027-05-31",
    "2027-06-18",
    "2027-07-05",
    "2027-09-06",
    "2027-10-11",
    "2027-11-11",
    "2027-11-25",
    "2027-12-24",
    "2027-12-31",
    // 2028: no New Year's Day in 2028 itself; Veterans Day (Sat) Fri 10 Nov.
    "2028-01-17",
    "2028-02-21",
    "2028-05-29",
    "2028-06-19",
    "2028-07-04",
    "2028-09-04",
    "2028-10-09",
    "2028-11-10",
    "2028-11-23",
    "2028-12-25",
    // 2029: Veterans Day (Sun) Mon 12 Nov.
    "2029-01-01",
    "2029-01-15",
    "2029-02-19",
    "2029-05-28",
    "2029-06-19",
    "2029-07-04",
    "2029-09-03",
    "2029-10-08",
    "2029-11-12",
    "2029-11-22",
    "2029-12-25",
    "2030-01-01",
    "2030-01-21",
    "2030-02-18",
    "2030-05-27",
    "2030-06-19",
    "2030-07-04",
    "2030-09-02",
    "2030-10-14",
    "2030-11-11",
    "2030-11-28",
    "2030-12-25",
];

#[test]
fn shipped_us_business_calendar_has_the_opm_days_off_2026_to_2030() {
    let loaded = arrears::policy::load(&common::root().join("rules")).unwrap();
    let calendar = loaded.policy.expect("the shipped rules build").calendar;
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2030, 12, 31).unwrap();
    let weekdays_off: Vec<String> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .filter(|d| !calendar.is_business_day(*d))
        .map(|d| d.to_string())
        .collect();
    assert_eq!(weekdays_off, OPM_2026_2030);
}

#[test]
fn new_years_day_2028_moves_an_event_due_on_2027_12_31_to_monday() {
    let loaded = arrears::policy::load(&common::root().join("rules")).unwrap();
    let calendar = loaded.policy.expect("the shipped rules build").calendar;
    let friday = NaiveDate::from_ymd_opt(2027, 12, 31).unwrap();
    assert!(!calendar.is_business_day(friday));
    assert_eq!(
        calendar.roll_forward(friday),
        NaiveDate::from_ymd_opt(2028, 1, 3)
    );
}

/// Two mistakes in one calendar are both reported in one lint run: a bad
/// observance rule does not hide a holiday whose years are the wrong way round.
#[test]
fn a_bad_observance_rule_does_not_hide_a_bad_year_range() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    common::copy_dir(&common::root().join("rules"), &rules);
    let path = rules.join("calendars/us_business.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen(
            "\nobservance: nearest_weekday",
            "\nobservance: nearest_weekdays",
            1,
        )
        .replacen("from: 2021 }", "from: 2021, until: 2020 }", 1);
    std::fs::write(&path, text).unwrap();
    let out = common::arrears(&["lint", rules.to_str().unwrap()]);
    let shown = common::stdout(&out) + &common::stderr(&out);
    assert!(shown.contains("is not an observance rule"), "{shown}");
    assert!(
        shown.contains("`until: 2020` is before `from: 2021`"),
        "{shown}"
    );
}

/// The disputes rail counts a written dispute as timely within 41 days of the validation notice
/// (rules/guardrails/disputes.yaml): Reg F's validation period ends 30 days after the notice is
/// assumed received, five days after mailing excluding holidays and weekends (12 CFR 1006.34(b)(5)).
/// Over the shipped calendar's years that is never later than 41 days, and is 41 at worst.
#[test]
fn the_disputes_rails_41_days_cover_every_validation_period() {
    let loaded = arrears::policy::load(&common::root().join("rules")).unwrap();
    let calendar = loaded.policy.expect("the shipped rules build").calendar;
    let rail =
        std::fs::read_to_string(common::root().join("rules/guardrails/disputes.yaml")).unwrap();
    assert!(
        rail.contains("validation_notice_date + 41 days"),
        "the rail's constant moved"
    );
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2060, 12, 31).unwrap();
    let longest = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|mailed| {
            let received = calendar.add_business_days(mailed, 5).unwrap();
            (received + chrono::Days::new(30) - mailed).num_days()
        })
        .max();
    assert_eq!(longest, Some(41));
}

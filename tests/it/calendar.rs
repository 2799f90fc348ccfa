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

/// The shipped calendar named `name`, built from its document, with no diagnostic.
fn shipped_calendar(name: &str) -> arrears::policy::calendar::WorkCalendar {
    let docs = arrears::model::load_dir(&common::root().join("rules")).unwrap();
    let (file, doc) = docs
        .calendars
        .iter()
        .find(|(_, doc)| doc.calendar.value == name)
        .unwrap_or_else(|| panic!("no calendar `{name}`"));
    let mut diags = Vec::new();
    let calendar = arrears::policy::calendar::from_doc(file, doc, &mut diags);
    assert!(diags.is_empty(), "{diags:?}");
    calendar
}

/// The weekdays a calendar has off from 1 January of `first` to 31 December of `last`.
fn weekdays_off(
    calendar: &arrears::policy::calendar::WorkCalendar,
    first: i32,
    last: i32,
) -> Vec<String> {
    let from = NaiveDate::from_ymd_opt(first, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(last, 12, 31).unwrap();
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .filter(|d| !calendar.is_business_day(*d))
        .map(|d| d.to_string())
        .collect()
}

/// England and Wales's bank holidays as gov.uk ("UK bank holidays") lists them, 2018-2027:
/// substitute days, the early May bank holiday moved for VE Day (2020), the Platinum Jubilee's
/// moved spring bank holiday and extra day (2022), the State Funeral (2022) and the Coronation
/// (2023).
#[rustfmt::skip]
const GOV_UK_ENGLAND_AND_WALES_2018_2027: &[&str] = &[
    "2018-01-01", "2018-03-30", "2018-04-02", "2018-05-07", "2018-05-28", "2018-08-27",
    "2018-12-25", "2018-12-26",
    "2019-01-01", "2019-04-19", "2019-04-22", "2019-05-06", "2019-05-27", "2019-08-26",
    "2019-12-25", "2019-12-26",
    // Boxing Day (Sat) → Mon 28 Dec.
    "2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31",
    "2020-12-25", "2020-12-28",
    // Christmas (Sat) → Mon 27, Boxing Day (Sun) → Tue 28.
    "2021-01-01", "2021-04-02", "2021-04-05", "2021-05-03", "2021-05-31", "2021-08-30",
    "2021-12-27", "2021-12-28",
    // New Year's Day (Sat) → Mon 3 Jan; Christmas (Sun) → Tue 27, Boxing Day keeps Monday.
    "2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03",
    "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27",
    // New Year's Day (Sun) → Mon 2 Jan.
    "2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29",
    "2023-08-28", "2023-12-25", "2023-12-26",
    "2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26",
    "2024-12-25", "2024-12-26",
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25",
    "2025-12-25", "2025-12-26",
    "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
    "2026-12-25", "2026-12-28",
    "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
    "2027-12-27", "2027-12-28",
];

/// Scotland, 2024-2027: 2 January, no Easter Monday, the first Monday of August, St Andrew's
/// Day (Sat 30 Nov 2024 → Mon 2 Dec; Sun 2025 → Mon 1 Dec).
#[rustfmt::skip]
const GOV_UK_SCOTLAND_2024_2027: &[&str] = &[
    "2024-01-01", "2024-01-02", "2024-03-29", "2024-05-06", "2024-05-27", "2024-08-05",
    "2024-12-02", "2024-12-25", "2024-12-26",
    "2025-01-01", "2025-01-02", "2025-04-18", "2025-05-05", "2025-05-26", "2025-08-04",
    "2025-12-01", "2025-12-25", "2025-12-26",
    "2026-01-01", "2026-01-02", "2026-04-03", "2026-05-04", "2026-05-25", "2026-08-03",
    "2026-11-30", "2026-12-25", "2026-12-28",
    // 2 January (Sat) → Mon 4 Jan.
    "2027-01-01", "2027-01-04", "2027-03-26", "2027-05-03", "2027-05-31", "2027-08-02",
    "2027-11-30", "2027-12-27", "2027-12-28",
];

/// Northern Ireland, 2024-2027: St Patrick's Day (Sun 2024 → Mon 18 Mar) and the Battle of the
/// Boyne (Sat 2025 → Mon 14 Jul; Sun 2026 → Mon 13 Jul).
#[rustfmt::skip]
const GOV_UK_NORTHERN_IRELAND_2024_2027: &[&str] = &[
    "2024-01-01", "2024-03-18", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27",
    "2024-07-12", "2024-08-26", "2024-12-25", "2024-12-26",
    "2025-01-01", "2025-03-17", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26",
    "2025-07-14", "2025-08-25", "2025-12-25", "2025-12-26",
    "2026-01-01", "2026-03-17", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25",
    "2026-07-13", "2026-08-31", "2026-12-25", "2026-12-28",
    "2027-01-01", "2027-03-17", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31",
    "2027-07-12", "2027-08-30", "2027-12-27", "2027-12-28",
];

#[test]
fn shipped_uk_calendars_have_the_gov_uk_bank_holidays() {
    let cases: [(&str, i32, i32, &[&str]); 3] = [
        (
            "england_and_wales",
            2018,
            2027,
            GOV_UK_ENGLAND_AND_WALES_2018_2027,
        ),
        ("scotland", 2024, 2027, GOV_UK_SCOTLAND_2024_2027),
        (
            "northern_ireland",
            2024,
            2027,
            GOV_UK_NORTHERN_IRELAND_2024_2027,
        ),
    ];
    for (name, first, last, published) in cases {
        let calendar = shipped_calendar(name);
        assert_eq!(weekdays_off(&calendar, first, last), published, "{name}");
    }
}

/// The shipped policy dates a GB account on England and Wales's bank holidays and every other
/// account on the US federal ones (`calendar_by` in rules/policy.yaml).
#[test]
fn the_shipped_policy_gives_gb_accounts_the_england_and_wales_calendar() {
    let policy = crate::scenarios::shipped_policy();
    let schema = policy.plan.schema();
    let account = |jurisdiction: &str| {
        let slot = schema.account().slot("jurisdiction").unwrap();
        let arrears::types::Type::Enum(id) = schema.account().fields[slot].ty else {
            panic!("jurisdiction is an enum");
        };
        let mut fields = vec![arrears::types::Value::Null; schema.account().fields.len()];
        fields[slot] = arrears::types::Value::Enum(schema.variant(id, jurisdiction).unwrap());
        arrears::types::Value::Record(fields.into())
    };
    assert_eq!(policy.calendar_of(&account("GB")).name, "england_and_wales");
    assert_eq!(policy.calendar_of(&account("IL")).name, "us_business");
    assert_eq!(
        policy.calendar_of(&arrears::types::Value::Null).name,
        "us_business"
    );
}

/// A copy of the shipped rules whose promise terms give cards and loans 5 business days of
/// grace (the `consumer` row's 3 calendar days changed), with
/// tests/fixtures/calendars/five_business_days.yaml as a test document; `edit` changes the
/// policy document first.
fn five_business_days_rules(dir: &std::path::Path, edit: impl Fn(String) -> String) -> String {
    let rules = dir.join("rules");
    common::copy_dir(&common::root().join("rules"), &rules);
    let terms = rules.join("promise_terms.yaml");
    let text = std::fs::read_to_string(&terms).unwrap();
    let consumer =
        "plan_tolerance: per_instalment, grace_days: 3, grace_business_days: \"false\" }";
    assert!(text.contains(consumer), "the consumer row moved");
    let text = text.replacen(
        consumer,
        "plan_tolerance: per_instalment, grace_days: 5, grace_business_days: \"true\" }",
        1,
    );
    std::fs::write(&terms, text).unwrap();
    let policy = rules.join("policy.yaml");
    std::fs::write(&policy, edit(std::fs::read_to_string(&policy).unwrap())).unwrap();
    let doc = rules.join("tests/five_business_days.yaml");
    std::fs::copy(
        common::root().join("tests/fixtures/calendars/five_business_days.yaml"),
        &doc,
    )
    .unwrap();
    doc.to_str().unwrap().to_string()
}

/// A GB card's 5-business-day grace skips Good Friday and Easter Monday and counts
/// Thanksgiving; an Illinois card's does the reverse. Without `calendar_by` the GB cases fail
/// with the US deadlines, so the document tests the policy's calendar, not the row alone.
#[test]
fn a_gb_five_business_day_grace_is_counted_on_the_england_and_wales_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let doc = five_business_days_rules(dir.path(), |policy| policy);
    let out = common::arrears(&["test", &doc]);
    let shown = common::stdout(&out) + &common::stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("4 case(s): 4 passed, 0 failed"), "{shown}");

    let dir = tempfile::tempdir().unwrap();
    let doc = five_business_days_rules(dir.path(), |policy| {
        let start = policy
            .find("calendar_by:")
            .expect("the policy has calendar_by");
        let end = policy[start..].find("entry:").unwrap() + start;
        format!("{}{}", &policy[..start], &policy[end..])
    });
    let out = common::arrears(&["test", &doc]);
    let shown = common::stdout(&out) + &common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("4 case(s): 2 passed, 2 failed"), "{shown}");
    assert!(
        shown.contains("FAIL  five business days › gb-easter"),
        "{shown}"
    );
    assert!(
        shown.contains("FAIL  five business days › gb-thanksgiving"),
        "{shown}"
    );
}

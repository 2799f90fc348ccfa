//! The mutation check: typical one-line mistakes an analyst makes editing the
//! shipped rules. Each is applied to a copy of `rules/` and linted in-process;
//! the first diagnostic must be the intended one, at the mistake (file, line,
//! column), with at most three diagnostics in all (no follow-on errors burying
//! the real one).

use crate::common;

use std::path::Path;

struct Mistake {
    /// What the analyst did, for the failure message.
    what: &'static str,
    /// A file of `rules/`.
    file: &'static str,
    /// The first occurrence of `find` in the file is replaced by `replace`.
    find: &'static str,
    replace: &'static str,
    /// The code of the first diagnostic.
    code: &'static str,
    /// Where the first diagnostic must point: the first occurrence of this text
    /// at or after the start of the replacement, in the edited file.
    at: &'static str,
    /// Text the first diagnostic's message or help must contain.
    mentions: &'static [&'static str],
}

const MISTAKES: &[Mistake] = &[
    Mistake {
        what: "a comprehension written with `where` where it needs `: value`",
        file: "treatment_flags.yaml",
        find: "any(sa in account.service_agreements : sa.life_support or sa.sensitive_load)",
        replace: "any(sa in account.service_agreements where sa.life_support or sa.sensitive_load)",
        code: "arguments",
        at: "any(sa",
        mentions: &["`any(sa in ...)` needs `: value` after the list"],
    },
    Mistake {
        what: "a misspelt field in a guard-rail invariant",
        file: "guardrails/stay_and_deceased.yaml",
        find: "never: { when: account.bankruptcy, action: [call",
        replace: "never: { when: account.bankrupt, action: [call",
        code: "unknown-field",
        at: "bankrupt",
        mentions: &["did you mean `bankruptcy`?"],
    },
    Mistake {
        what: "a guard-rail invariant whose condition is not yes or no",
        file: "guardrails/stay_and_deceased.yaml",
        find: "never: { when: account.deceased, action: [offer_payment_plan]",
        replace: "never: { when: account.arrears, action: [offer_payment_plan]",
        code: "type-mismatch",
        at: "account.arrears",
        mentions: &["expected bool"],
    },
    Mistake {
        what: "a guard-rail invariant naming an action that is not guarded",
        file: "guardrails/stay_and_deceased.yaml",
        find: "when: account.bankruptcy, action: [offer_payment_plan]",
        replace: "when: account.bankruptcy, action: [offer_plan]",
        code: "invalid-invariant",
        at: "offer_plan",
        mentions: &["`offer_plan` is not a guarded action", "did you mean `offer_payment_plan`?"],
    },
    Mistake {
        what: "a template event dated by an expression that is not a date",
        file: "templates/loan_std.yaml",
        find: "date: as_of + (90 days - account.days_past_due)",
        replace: "date: 90 days - account.days_past_due",
        code: "type-mismatch",
        at: "90 days",
        mentions: &["expected date, found days"],
    },
    Mistake {
        what: "a template event's day count written under `date:`",
        file: "templates/loan_std.yaml",
        find: "date: as_of + (90 days - account.days_past_due)",
        replace: "date: 90",
        code: "type-mismatch",
        at: "90",
        mentions: &["expected date, found integer", "`day: 90`"],
    },
    Mistake {
        what: "an experiment arm taking its share from a misspelt arm",
        file: "experiments/card_early_letters.yaml",
        find: "  - { name: holdout, buckets: 9500-9999, holdout: true }",
        replace: "  - { name: holdout, buckets: 9500-9999, holdout: true }\n  - { name: sms, share: 10%, take_from: champoin }",
        code: "experiment",
        at: "champoin",
        mentions: &["did you mean `champion`?"],
    },
    Mistake {
        what: "two experiment arms claiming the same buckets",
        file: "experiments/card_early_letters.yaml",
        find: "buckets: 8000-9499",
        replace: "buckets: 7900-9499",
        code: "experiment",
        at: "7900-9499",
        mentions: &["buckets 7900-7999 are claimed by `champion` and `soft_letter`"],
    },
    Mistake {
        what: "a misspelt name in a template event's date",
        file: "templates/loan_std.yaml",
        find: "date: as_of + (90 days",
        replace: "date: start_dat + (90 days",
        code: "unknown-name",
        at: "start_dat",
        mentions: &["did you mean `start_date`?"],
    },
    Mistake {
        what: "a template event given both a day and a date",
        file: "templates/loan_std.yaml",
        find: "    date: as_of + (90 days",
        replace: "    day: 45\n    date: as_of + (90 days",
        code: "event-day",
        at: "45",
        mentions: &["both a `day` and a `date`"],
    },
    Mistake {
        what: "a template event given neither a day nor a date",
        file: "templates/loan_std.yaml",
        find: "  - id: charge-off-review\n    # The day the loan reaches 90 DPD, 30 days ahead of the charge-off, however\n    # late the case opened (a loan re-treated at 60 DPD still gets its month).\n    date: as_of + (90 days - account.days_past_due)\n",
        replace: "  - id: charge-off-review\n",
        code: "event-day",
        at: "id: charge-off-review",
        mentions: &["neither a `day` nor a `date`"],
    },
    Mistake {
        what: "a template event's date that does not parse",
        file: "templates/loan_std.yaml",
        find: "date: as_of + (90 days - account.days_past_due)",
        replace: "date: as_of + (90 days - account.days_past_due",
        code: "syntax",
        at: "(90",
        mentions: &["unclosed `(`"],
    },
    Mistake {
        what: "a misspelt variant in a valid combination",
        file: "schema.yaml",
        find: "reason: dispute, resolution",
        replace: "reason: disputed, resolution",
        code: "schema",
        at: "disputed",
        mentions: &["did you mean `dispute`?"],
    },
    Mistake {
        what: "a misspelt variant in a list of a valid combination",
        file: "schema.yaml",
        find: "[payment_scheduled, none]",
        replace: "[payment_schedule, none]",
        code: "schema",
        at: "payment_schedule",
        mentions: &["did you mean `payment_scheduled`?"],
    },
    Mistake {
        what: "a misspelt field in a valid combination",
        file: "schema.yaml",
        find: "{ status: pending",
        replace: "{ stauts: pending",
        code: "schema",
        at: "stauts",
        mentions: &["did you mean `status`?"],
    },
    Mistake {
        what: "a misspelt record path for valid combinations",
        file: "schema.yaml",
        find: "  account.dispositions:\n",
        replace: "  account.disposition:\n",
        code: "schema",
        at: "account.disposition",
        mentions: &["no field `disposition`", "did you mean `dispositions`?"],
    },
    Mistake {
        what: "valid combinations that list none",
        file: "schema.yaml",
        // Every combination of the shipped schema's block, deleted.
        find: "  account.dispositions:\n    - { status: contacted, reason: promise_to_pay, resolution: [payment_scheduled, none] }\n    - { status: contacted, reason: dispute, resolution: [escalated, none] }\n    - { status: contacted, reason: call_back, resolution: none }\n    # Not reached: no answer (unreachable), or a call-back left on voicemail.\n    - { status: not_contacted, reason: [none, call_back], resolution: [unreachable, none] }\n    # Still open: nothing decided yet, or a dispute escalated before the customer was reached.\n    - { status: pending, reason: [none, dispute], resolution: [none, escalated] }\n",
        replace: "  account.dispositions: []\n",
        code: "schema",
        at: "[]",
        mentions: &["lists no combination"],
    },
    Mistake {
        what: "a combination on a field that is not an enum",
        file: "schema.yaml",
        find: "{ status: contacted, reason: call_back",
        replace: "{ date: contacted, reason: call_back",
        code: "schema",
        at: "date: contacted",
        mentions: &["`date` is not an enum field"],
    },
    Mistake {
        what: "a misspelt observance rule in the calendar",
        file: "calendars/us_business.yaml",
        find: "\nobservance: nearest_weekday",
        replace: "\nobservance: nearest_workday",
        code: "calendar",
        at: "nearest_workday",
        mentions: &["did you mean `nearest_weekday`?"],
    },
    Mistake {
        what: "a weekday of the month that not every month has",
        file: "calendars/us_business.yaml",
        find: "on: fourth thursday of november",
        replace: "on: fifth thursday of november",
        code: "calendar",
        at: "fifth",
        mentions: &["use `last`", "`fourth thursday of november`"],
    },
    Mistake {
        what: "a yearly holiday on a day no month has",
        file: "calendars/us_business.yaml",
        find: "on: 12-25",
        replace: "on: 12-52",
        code: "calendar",
        at: "12-52",
        mentions: &["`12-52` is not a month and day"],
    },
    Mistake {
        what: "a year range on a one-off holiday",
        file: "calendars/us_business.yaml",
        find: "on: 06-19, from: 2021",
        replace: "on: 2027-06-19, from: 2021",
        code: "calendar",
        at: "2021",
        mentions: &["`from`, `until` and `except` are for yearly holidays"],
    },
    Mistake {
        what: "a holiday's years the wrong way round",
        file: "calendars/us_business.yaml",
        find: "from: 2021 }",
        replace: "from: 2021, until: 2020 }",
        code: "calendar",
        at: "2020",
        mentions: &["`until: 2020` is before `from: 2021`"],
    },
    Mistake {
        what: "a misspelt key in a holiday",
        file: "calendars/us_business.yaml",
        find: "from: 2021 }",
        replace: "form: 2021 }",
        code: "yaml",
        at: "form",
        mentions: &["unknown field `form`"],
    },
    Mistake {
        what: "a `when` line dedented under a row (entry line 141)",
        file: "entry.yaml",
        find: "      product: card, loan\n      dpd: \">= 5\"",
        replace: "      product: card, loan\n    dpd: \">= 5\"",
        code: "yaml",
        at: "dpd",
        mentions: &[],
    },
    Mistake {
        what: "a typo in an output type",
        file: "entry.yaml",
        find: "category: entry_category",
        replace: "category: entry_categroy",
        code: "unknown-type",
        at: "entry_categroy",
        mentions: &["did you mean `entry_category`?"],
    },
    Mistake {
        what: "a typo in the document's key",
        file: "entry.yaml",
        find: "\ntable: entry",
        replace: "\ntabel: entry",
        code: "unknown-document",
        at: "tabel",
        mentions: &["did you mean `table`?", "`mapping`", "`tests`"],
    },
    Mistake {
        what: "an unknown top-level key",
        file: "entry.yaml",
        find: "\nhit: first",
        replace: "\nhit: first\nvalid_from: 2026-01-01",
        code: "yaml",
        at: "valid_from",
        mentions: &["unknown field `valid_from`"],
    },
    Mistake {
        what: "a typo in the hit policy",
        file: "entry.yaml",
        find: "hit: first",
        replace: "hit: frist",
        code: "hit-policy",
        at: "frist",
        mentions: &["did you mean `first`?"],
    },
    Mistake {
        what: "a typo in a field path",
        file: "entry.yaml",
        find: "account.days_past_due",
        replace: "account.days_past_du",
        code: "unknown-field",
        at: "days_past_du",
        mentions: &["did you mean `days_past_due`?"],
    },
    Mistake {
        what: "a typo in an enum variant in a cell",
        file: "entry.yaml",
        find: "product: card, loan",
        replace: "product: card, laon",
        code: "unknown-variant",
        at: "laon",
        mentions: &["did you mean `loan`?"],
    },
    Mistake {
        what: "a typo in an enum variant in an output",
        file: "entry.yaml",
        find: "then: { category: arrears,",
        replace: "then: { category: arears,",
        code: "unknown-variant",
        at: "arears",
        mentions: &["did you mean `arrears`?"],
    },
    Mistake {
        what: "the US spelling of a plan-tolerance variant",
        file: "promise_terms.yaml",
        find: "plan_tolerance: per_instalment,",
        replace: "plan_tolerance: per_installment,",
        code: "unknown-variant",
        at: "per_installment",
        mentions: &["did you mean `per_instalment`?"],
    },
    Mistake {
        what: "a typo in a `when` column",
        file: "entry.yaml",
        find: "      dpd: \">= 5\"",
        replace: "      dpdd: \">= 5\"",
        code: "unknown-column",
        at: "dpdd",
        mentions: &["did you mean `dpd`?"],
    },
    Mistake {
        what: "a typo in a `then` column",
        file: "dpd_bucket.yaml",
        find: "then: { bucket: b1_29 }",
        replace: "then: { bucktet: b1_29 }",
        code: "unknown-column",
        at: "bucktet",
        mentions: &["did you mean `bucket`?"],
    },
    Mistake {
        what: "a range written with a dash",
        file: "dpd_bucket.yaml",
        find: "\"[30..59]\"",
        replace: "\"[30-59]\"",
        code: "syntax",
        at: "-59",
        mentions: &["[30..59]"],
    },
    Mistake {
        what: "a range without its closing bracket",
        file: "dpd_bucket.yaml",
        find: "\"[30..59]\"",
        replace: "\"[30..59\"",
        code: "syntax",
        at: "[",
        mentions: &["unclosed `[`"],
    },
    Mistake {
        what: "money written without its currency",
        file: "entry.yaml",
        find: "effective_arrears: \">= $5\"",
        replace: "effective_arrears: \">= 5\"",
        code: "type-mismatch",
        at: "5\"",
        mentions: &["$5"],
    },
    Mistake {
        what: "text where money is expected",
        file: "entry.yaml",
        find: "effective_arrears: \">= $5\"",
        replace: "effective_arrears: \">= abc\"",
        code: "unknown-name",
        at: "abc",
        mentions: &["`$5`"],
    },
    Mistake {
        what: "`yes` in a boolean cell",
        file: "entry.yaml",
        find: "when: { contact_invalid: \"true\" }",
        replace: "when: { contact_invalid: yes }",
        code: "unknown-name",
        at: "yes",
        mentions: &["`true` or `false`"],
    },
    Mistake {
        what: "an unquoted comparison in YAML",
        file: "entry.yaml",
        find: "      dpd: \">= 5\"",
        replace: "      dpd: >= 5",
        code: "yaml",
        at: ">= 5",
        mentions: &["quoted"],
    },
    Mistake {
        what: "a typo in a function name",
        file: "entry.yaml",
        find: "max(account.arrears",
        replace: "mx(account.arrears",
        code: "unknown-function",
        at: "mx",
        mentions: &["did you mean `max`?"],
    },
    Mistake {
        what: "a typo in a table reference",
        file: "exit.toml",
        find: "category = \"entry.category\"",
        replace: "category = \"entyr.category\"",
        code: "unknown-name",
        at: "entyr",
        mentions: &["did you mean `entry`?"],
    },
    Mistake {
        what: "a typo in a table's output reference",
        file: "exit.toml",
        find: "category = \"entry.category\"",
        replace: "category = \"entry.categroy\"",
        code: "unknown-name",
        at: "categroy",
        mentions: &["did you mean `category`?"],
    },
    Mistake {
        what: "TOML: an unquoted cell",
        file: "exit.toml",
        find: "when = { promises = \">= 1\" }",
        replace: "when = { promises = >= 1 }",
        code: "toml",
        at: ">= 1",
        mentions: &["quoted string"],
    },
    Mistake {
        what: "TOML: a missing `}`",
        file: "exit.toml",
        find: "when = { promises = \">= 1\" }",
        replace: "when = { promises = \">= 1\"",
        code: "toml",
        at: "\n",
        mentions: &["`}`"],
    },
    Mistake {
        what: "TOML: an unquoted hit policy",
        file: "exit.toml",
        find: "hit = \"first\"",
        replace: "hit = first",
        code: "toml",
        at: "first",
        mentions: &[],
    },
    Mistake {
        what: "TOML: an unknown key",
        file: "exit.toml",
        find: "hit = \"first\"",
        replace: "hit = \"first\"\nvalid_from = \"2026-01-01\"",
        code: "toml",
        at: "valid_from",
        mentions: &["unknown field `valid_from`"],
    },
    Mistake {
        what: "TOML: `[rows]` for `[[rows]]`",
        file: "exit.toml",
        find: "[[rows]]\nid = \"keep-special-circumstances\"",
        replace: "[rows]\nid = \"keep-special-circumstances\"",
        code: "toml",
        at: "[rows]",
        mentions: &[],
    },
    Mistake {
        what: "a typo in a schema type",
        file: "schema.yaml",
        find: "arrears: money",
        replace: "arrears: mony",
        code: "schema",
        at: "mony",
        mentions: &["did you mean `money`?"],
    },
    Mistake {
        what: "a typo in a default's variant",
        file: "entry.yaml",
        find: "category: none",
        replace: "category: nonee",
        code: "unknown-variant",
        at: "nonee",
        mentions: &["did you mean `none`?"],
    },
    Mistake {
        what: "a typo in a policy's table name",
        file: "policy.yaml",
        find: "entry: entry",
        replace: "entry: entyr",
        code: "unknown-reference",
        at: "entyr",
        mentions: &["did you mean `entry`?"],
    },
    Mistake {
        what: "a typo in a class row's template",
        file: "collection_class.yaml",
        find: "template: '\"card_early_std\"'",
        replace: "template: '\"card_erly_std\"'",
        code: "unknown-reference",
        at: "'\"card_erly_std\"'",
        mentions: &["did you mean `card_early_std`?"],
    },
    Mistake {
        what: "an event type named after a synonym",
        file: "templates/card_early_soft.yaml",
        find: "type: email",
        replace: "type: send_email",
        code: "event-type",
        at: "send_email",
        mentions: &["`email`"],
    },
    Mistake {
        what: "a word where a template's day number belongs",
        file: "templates/card_early_std.yaml",
        find: "day: 5",
        replace: "day: five",
        code: "yaml",
        at: "five",
        mentions: &["`five` is not a whole number", "`day` takes a whole number, such as `10`"],
    },
    Mistake {
        what: "an arm's share beside its buckets that does not match them",
        file: "experiments/card_early_letters.yaml",
        find: "buckets: 8000-9499, template",
        replace: "buckets: 8000-9499, share: 20%, template",
        code: "experiment",
        at: "20%",
        mentions: &["says 20% but owns 1500 buckets (15%)"],
    },
    Mistake {
        what: "arm shares that total more than 100%",
        file: "experiments/card_early_letters.yaml",
        find: "  - { name: champion, buckets: 0-7999 }\n  - { name: soft_letter, buckets: 8000-9499, template: card_early_soft }\n  - { name: holdout, buckets: 9500-9999, holdout: true }",
        replace: "  - { name: champion, share: 80% }\n  - { name: soft_letter, share: 30%, template: card_early_soft }\n  - { name: holdout, share: 5%, holdout: true }",
        code: "experiment",
        at: "30%",
        mentions: &["arm shares total `115%`", "`soft_letter` 30%", "lower `soft_letter`'s share or another's by 15 points"],
    },
    // A policy-wide name misspelt: the templates it dates and the tables it
    // wires are not reported unknown beside it.
    Mistake {
        what: "a misspelt calendar in the policy",
        file: "policy.yaml",
        find: "calendar: us_business",
        replace: "calendar: us_busines",
        code: "unknown-reference",
        at: "us_busines",
        mentions: &["unknown calendar `us_busines`", "did you mean `us_business`?"],
    },
    Mistake {
        what: "a misspelt calendar for GB accounts in the policy",
        file: "policy.yaml",
        find: "GB: england_and_wales",
        replace: "GB: england_and_wale",
        code: "unknown-reference",
        at: "england_and_wale",
        mentions: &["unknown calendar `england_and_wale`", "did you mean `england_and_wales`?"],
    },
    Mistake {
        what: "a jurisdiction the schema does not have in the policy's calendar_by",
        file: "policy.yaml",
        find: "GB: england_and_wales",
        replace: "UK: england_and_wales",
        code: "unknown-reference",
        at: "england_and_wales",
        mentions: &["`UK` is not a value of `jurisdiction`", "GB"],
    },
    Mistake {
        what: "a misspelt field in the policy's calendar_by",
        file: "policy.yaml",
        find: "field: jurisdiction",
        replace: "field: jurisdicton",
        code: "unknown-reference",
        at: "jurisdicton",
        mentions: &["unknown account field `jurisdicton`", "did you mean `jurisdiction`?"],
    },
    Mistake {
        what: "a calendar picked by a field that is not an enum",
        file: "policy.yaml",
        find: "field: jurisdiction",
        replace: "field: time_zone",
        code: "policy",
        at: "time_zone",
        mentions: &["`calendar_by` needs an enum field: `time_zone` is a text"],
    },
    Mistake {
        what: "an Easter holiday written as a name",
        file: "calendars/england_and_wales.yaml",
        find: "on: easter + 1",
        replace: "on: easter monday",
        code: "calendar",
        at: "easter monday",
        mentions: &["write `easter`, `easter + 1` or `easter - 2`"],
    },
    Mistake {
        what: "a moved bank holiday's year outside the years it is kept",
        file: "calendars/scotland.yaml",
        find: "on: 11-30, from: 2007",
        replace: "on: 11-30, from: 2007, except: [2006]",
        code: "calendar",
        at: "2006",
        mentions: &["2006 is not a year the holiday is kept (2007 to 2099)"],
    },
    Mistake {
        what: "a UK substitute-day rule misspelt",
        file: "calendars/england_and_wales.yaml",
        find: "\nobservance: next_free_weekday",
        replace: "\nobservance: next_free_workday",
        code: "calendar",
        at: "next_free_workday",
        mentions: &["did you mean `next_free_weekday`?"],
    },
    Mistake {
        what: "a misspelt calendar in a template",
        file: "templates/card_early_std.yaml",
        find: "template: card_early_std",
        replace: "template: card_early_std\ncalendar: us_busines",
        code: "unknown-reference",
        at: "us_busines",
        mentions: &["did you mean `us_business`?"],
    },
    Mistake {
        what: "a misspelt key in the policy",
        file: "policy.yaml",
        find: "exit: exit",
        replace: "exti: exit",
        code: "yaml",
        at: "exti",
        mentions: &["unknown field `exti`", "did you mean `exit`?"],
    },
    Mistake {
        what: "the policy's follow-up key misspelt",
        file: "policy.yaml",
        find: "promise_follow_up: promise_follow_up",
        replace: "promise_folow_up: promise_follow_up",
        code: "yaml",
        at: "promise_folow_up",
        mentions: &["did you mean `promise_follow_up`?"],
    },
];

/// 1-based line and character column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].chars().count() + 1)
}

/// Applies the mistake to a copy of the shipped rules and lints it; `Err` says what is wrong.
fn check(m: &Mistake) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    common::copy_dir(&common::root().join("rules"), &rules);
    let path = rules.join(m.file);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(m.find)
        .unwrap_or_else(|| panic!("{}: `{}` is not in {}", m.what, m.find, m.file));
    let edited = format!(
        "{}{}{}",
        &text[..start],
        m.replace,
        &text[start + m.find.len()..]
    );
    std::fs::write(&path, &edited).unwrap();
    let at = start
        + edited[start..]
            .find(m.at)
            .unwrap_or_else(|| panic!("{}: `{}` is not in the replacement", m.what, m.at));
    let (line, col) = line_col(&edited, at);
    let want = format!("{}:{line}:{col}", m.file);
    let linted = arrears::lint(&rules, &[], None).map_err(|e| format!("lint failed: {e}"))?;
    let shown: Vec<String> = linted
        .diagnostics
        .iter()
        .map(|d| {
            let location = d.location();
            let location = location
                .strip_prefix(&format!("{}/", rules.display()))
                .unwrap_or(&location)
                .to_string();
            format!("{location}: {}: {}", d.code, d.message)
        })
        .collect();
    let listing = || shown.join("\n    ");
    let Some(first) = linted.diagnostics.first() else {
        return Err("no diagnostic".into());
    };
    if !shown[0].starts_with(&format!("{want}: {}: ", m.code)) {
        return Err(format!(
            "want first `{want}: {}`, got:\n    {}",
            m.code,
            listing()
        ));
    }
    if shown.len() > 3 {
        return Err(format!(
            "{} diagnostics (at most 3):\n    {}",
            shown.len(),
            listing()
        ));
    }
    let said = format!(
        "{} / {}",
        first.message,
        first.help.as_deref().unwrap_or_default()
    );
    for m in m.mentions {
        if !said.contains(m) {
            return Err(format!("does not mention `{m}`: {said}"));
        }
    }
    Ok(())
}

#[test]
fn each_typical_mistake_gets_its_own_first_error_and_few_follow_ons() {
    assert!(MISTAKES.len() >= 20);
    assert!(Path::new(&common::root().join("rules/exit.toml")).is_file());
    let failures: Vec<String> = MISTAKES
        .iter()
        .filter_map(|m| {
            check(m)
                .err()
                .map(|e| format!("{} ({}): {e}", m.what, m.file))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} mistakes are reported badly:\n{}",
        failures.len(),
        MISTAKES.len(),
        failures.join("\n")
    );
}

/// How a code's documented example (`arrears lint --explain CODE`,
/// docs/lint-codes.md) is applied to a copy of the shipped rules.
enum Apply {
    /// The example replaces the whole line holding this text (indented like it).
    Line(&'static str, &'static str),
    /// The example is a file of its own.
    NewFile(&'static str),
    /// The example describes a copy of a file (`... # in two files`).
    Copy(&'static str, &'static str),
    /// The example describes a missing file.
    Remove(&'static str),
    /// The example describes what cannot be shown in a few lines (a 20 MB file).
    Described,
}

const EXAMPLES: &[(&str, Apply)] = &[
    (
        "aggregate",
        Apply::Line("treatment_flags.yaml", "hit: rule_order"),
    ),
    (
        "arguments",
        Apply::Line("entry.yaml", "  effective_arrears: max("),
    ),
    (
        "calendar",
        Apply::Line("calendars/us_business.yaml", "weekend:"),
    ),
    ("cell-too-long", Apply::Described),
    // The whole pack removed: tests/it/guardrails.rs removes rules/guardrails/.
    // Guard-rail invariants: tests/it/guardrails.rs (violated, undecided) and lint.rs (proven).
    ("invalid-invariant", Apply::Described),
    ("invariant-undecided", Apply::Described),
    ("invariant-violated", Apply::Described),
    ("invariants-proven", Apply::Described),
    ("no-guardrails", Apply::Described),
    // A multi-line table edit: tests/policy_contracts.rs applies it to the shipped rules.
    ("unreachable-row", Apply::Described),
    (
        "reclassify-other-treatment",
        Apply::Line("retreatment.yaml", r#"restart: "not same_treatment""#),
    ),
    // A FIFO or a symlink loop, not a line: tests/limits.rs makes both.
    ("skipped-file", Apply::Described),
    (
        "currency",
        Apply::Line("entry.yaml", "      effective_arrears: \">= $5\""),
    ),
    (
        "default",
        Apply::Line("treatment_flags.yaml", "hit: rule_order"),
    ),
    (
        "duplicate-name",
        Apply::Copy("templates/card_early_std.yaml", "templates/zz_copy.yaml"),
    ),
    (
        "duplicate-policy",
        Apply::Copy("policy.yaml", "zz_policy.yaml"),
    ),
    (
        "duplicate-row-id",
        Apply::Line("dpd_bucket.yaml", "  - id: early-delinquency"),
    ),
    (
        "duplicate-schema",
        Apply::Copy("schema.yaml", "zz_schema.yaml"),
    ),
    (
        "duplicate-table",
        Apply::Copy("entry.yaml", "zz_entry.yaml"),
    ),
    ("empty-file", Apply::NewFile("notes.yaml")),
    (
        "event-day",
        Apply::Line("templates/card_early_soft.yaml", "    day: 0"),
    ),
    (
        "event-type",
        Apply::Line("templates/card_early_soft.yaml", "    type: email"),
    ),
    (
        "experiment",
        Apply::Line("experiments/card_early_letters.yaml", "name: soft_letter"),
    ),
    ("file-too-large", Apply::Described),
    // Two versions, or flags: tests/it/effective.rs and tests/it/experiments.rs report them.
    ("effective-gap", Apply::Described),
    ("effective-overlap", Apply::Described),
    ("experiment-layout", Apply::Described),
    ("experiment-reassigned", Apply::Described),
    ("experiment-small-arm", Apply::Described),
    ("effective", Apply::Line("dpd_bucket.yaml", "description:")),
    ("for-each", Apply::Line("sa_exit.yaml", "for_each:")),
    ("hit-policy", Apply::Line("entry.yaml", "hit: first")),
    (
        "input",
        Apply::Line("entry.yaml", "  dpd: account.days_past_due"),
    ),
    (
        "mapping",
        Apply::Line("mappings/extract.yaml", "  DPD: days_past_due"),
    ),
    (
        "missing-output",
        Apply::Line("entry.yaml", "then: { category: skip_trace"),
    ),
    ("no-schema", Apply::Remove("schema.yaml")),
    ("not-utf8", Apply::Described),
    ("output", Apply::Line("entry.yaml", "  reason: text")),
    ("policy", Apply::Line("policy.yaml", "entry: entry")),
    (
        "quoted-threshold",
        Apply::Line("entry.yaml", "  - id: consumer-in-arrears"),
    ),
    (
        "reserved-event-id",
        Apply::Line("templates/card_early_std.yaml", "  - id: first-call"),
    ),
    (
        "row-id",
        Apply::Line("dpd_bucket.yaml", "  - id: early-delinquency"),
    ),
    ("schema", Apply::Line("schema.yaml", "  arrears: money")),
    (
        "syntax",
        Apply::Line("dpd_bucket.yaml", "when: { dpd: \"[1..29]\" }"),
    ),
    ("table-cycle", Apply::Described),
    (
        "table-name",
        Apply::Line("treatment_flags.yaml", "table: treatment_flags"),
    ),
    (
        "table-reference",
        Apply::Line("entry.yaml", "  budget_plan: account."),
    ),
    ("test-document", Apply::Described),
    ("unknown-account-field", Apply::Described),
    (
        "toml",
        Apply::Line("exit.toml", "when = { promises = \">= 1\" }"),
    ),
    ("too-many-bytes", Apply::Described),
    ("too-many-rows", Apply::Described),
    (
        "type-mismatch",
        Apply::Line("entry.yaml", "      effective_arrears: \">= $5\""),
    ),
    (
        "unmapped-guard-field",
        Apply::Line("mappings/extract.yaml", "  TIME_ZONE: time_zone"),
    ),
    (
        "unknown-column",
        Apply::Line("dpd_bucket.yaml", "when: { dpd: \"[1..29]\" }"),
    ),
    (
        "unknown-document",
        Apply::Line("entry.yaml", "table: entry"),
    ),
    (
        "unknown-field",
        Apply::Line("entry.yaml", "  dpd: account.days_past_due"),
    ),
    (
        "unknown-function",
        Apply::Line("entry.yaml", "  effective_arrears: max("),
    ),
    (
        "unknown-name",
        Apply::Line("entry.yaml", "      dpd: \">= 5\""),
    ),
    (
        "unknown-reference",
        Apply::Line("policy.yaml", "entry: entry"),
    ),
    (
        "unknown-type",
        Apply::Line("dpd_bucket.yaml", "  bucket: dpd_bucket"),
    ),
    (
        "unknown-variant",
        Apply::Line("entry.yaml", "      customer_class: residential"),
    ),
    ("yaml", Apply::Line("entry.yaml", "      dpd: \">= 5\"")),
];

/// The first diagnostic's code after applying `example` as `apply` says.
/// The first diagnostic of `severity` (errors come first, so a warning's
/// example is checked among the warnings: renaming a row also breaks the test
/// documents that name it).
fn first_code(apply: &Apply, example: &str, severity: &str) -> Result<String, String> {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    common::copy_dir(&common::root().join("rules"), &rules);
    match apply {
        Apply::Line(file, find) => {
            let path = rules.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            let at = text
                .find(find)
                .ok_or(format!("`{find}` is not in {file}"))?;
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line = &text[start..end];
            let indent = &line[..line.len() - line.trim_start().len()];
            let example: Vec<String> = example
                .lines()
                .map(|l| format!("{indent}{}", l.trim_start_matches(indent)))
                .collect();
            let edited = format!("{}{}{}", &text[..start], example.join("\n"), &text[end..]);
            std::fs::write(&path, edited).unwrap();
        }
        Apply::NewFile(name) => std::fs::write(rules.join(name), example).unwrap(),
        Apply::Copy(from, to) => {
            std::fs::copy(rules.join(from), rules.join(to)).unwrap();
        }
        Apply::Remove(file) => std::fs::remove_file(rules.join(file)).unwrap(),
        Apply::Described => unreachable!(),
    }
    let linted = arrears::lint(&rules, &[], None)?;
    linted
        .diagnostics
        .iter()
        .find(|d| format!("{:?}", d.severity).eq_ignore_ascii_case(severity))
        .map(|d| format!("{} ({}: {})", d.code, d.location(), d.message))
        .ok_or("no diagnostic".into())
}

#[test]
fn each_documented_example_produces_its_code_first() {
    use arrears::lang::analysis::codes::CODES;
    let mut failures = Vec::new();
    for (code, apply) in EXAMPLES {
        let doc = arrears::lang::analysis::codes::find(code)
            .unwrap_or_else(|| panic!("`{code}` is not a documented code"));
        if matches!(apply, Apply::Described) {
            continue;
        }
        match first_code(apply, doc.example, doc.severity) {
            Ok(first) if first.starts_with(&format!("{code} (")) => {}
            Ok(first) => {
                failures.push(format!("{code}: the example's first diagnostic is {first}"))
            }
            Err(e) => failures.push(format!("{code}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every code outside the table analysis has its example here.
    let analysis = [
        "always-true-cell",
        "duplicate-row",
        "masked-row",
        "not-analysed",
        "subsumed-row",
        "table-gap",
        "table-overlap",
        "unknown-cell",
        "unused",
        "unused-field",
        "unused-table",
    ];
    // `arrears fmt`'s own codes, tested in fmt.rs.
    let formatter = ["fmt-kept", "fmt-unsafe"];
    for c in CODES {
        assert!(
            analysis.contains(&c.code)
                || formatter.contains(&c.code)
                || EXAMPLES.iter().any(|(code, _)| *code == c.code),
            "`{}` has no entry in EXAMPLES",
            c.code
        );
    }
}

//! Tester 18 items 3 and 4: what the policy site (and `dry-run`) shows an
//! analyst is what the rule files say. A percent output is shown as written
//! (`2%`, not `0.02`); a file's notes leave out the editor's schema
//! directive; every day off on the calendars page names its holiday and says
//! which day is the holiday and which the day observed in lieu; the
//! experiments page gives each arm's bucket ranges, as the policy lays them
//! out. Checked in the HTML and in the DOM headless Chromium builds.

use std::path::{Path, PathBuf};

use crate::browser::Browser;
use crate::common::{arrears, root, stderr, stdout};

fn shipped_site(tmp: &Path) -> PathBuf {
    let out = tmp.join("site");
    let o = arrears(&[
        "doc",
        "--no-tests",
        "--rules",
        "rules",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The cells of the `<td>` column `column` (0-based) of each `<tr>` of `html` that has one.
fn column(html: &str, column: usize) -> Vec<String> {
    html.split("<tr")
        .skip(1)
        .filter_map(|row| {
            let row = &row[..row.find("</tr>")?];
            let cell = row.split("<td").nth(column + 1)?;
            let cell = &cell[cell.find('>')? + 1..];
            Some(cell[..cell.find("</td>")?].to_string())
        })
        .collect()
}

#[test]
fn a_percent_output_is_shown_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let page = read(&shipped_site(tmp.path()).join("table-promise_terms.html"));
    // promise_terms.yaml writes `tolerance_percent: 0%` and `2%`.
    assert!(page.contains("<code>2%</code>"), "{page}");
    assert!(page.contains("<code>0%</code>"), "{page}");
    assert!(!page.contains("<code>0.02</code>"), "{page}");
    // dry-run shows the decision so too.
    let o = arrears(&[
        "dry-run",
        "--as-of",
        "2026-12-01",
        "--explain",
        "tests/fixtures/diff/promise-kept-exact.yaml",
    ]);
    assert!(
        stdout(&o).contains("tolerance_percent = 0%, tolerance_rule = amount"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

/// Analyst 3 item 2: a table's `default` writes its percents as the rows do,
/// and the site and `dry-run` show them as written too (`2%`, not `0.02`); a
/// computed default output is shown as its expression, as a row's is, not as
/// `(computed)`.
#[test]
fn a_default_percent_is_shown_as_written() {
    const FIXTURE: &str = "tests/fixtures/written_percents";
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let rules = format!("{FIXTURE}/rules");
    let o = arrears(&[
        "doc",
        "--no-tests",
        "--rules",
        &rules,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let default_row = |table: &str| {
        let page = read(&out.join(format!("table-{table}.html")));
        let at = page.find("<tr id=\"row-default\">").unwrap();
        page[at..at + page[at..].find("</tr>").unwrap()].to_string()
    };
    let fee = default_row("fee");
    assert!(
        fee.contains("<td><code>2%</code></td><td><code>25.00 USD</code></td>"),
        "{fee}"
    );
    let discount = default_row("discount");
    assert!(
        discount
            .contains("<td><code>2.5%</code></td><td><code>(account.arrears * 2.5%)</code></td>"),
        "{discount}"
    );
    let o = arrears(&[
        "dry-run",
        "--rules",
        &rules,
        "--as-of",
        "2026-11-22",
        "--explain",
        &format!("{FIXTURE}/accounts.yaml"),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}{}", stderr(&o));
    for line in [
        "    discount  share = 2.5%, amount = 3.00 USD  [default]\n",
        "    fee       rate = 2%, cap = 25.00 USD  [default]\n",
        "    fee       rate = 3.5%, cap = 40.00 USD  [late]\n",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(!text.contains("0.02"), "{text}");
}

#[test]
fn notes_leave_out_editor_directives() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shipped_site(tmp.path());
    let mut notes = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_str().unwrap().ends_with(".html") {
            continue;
        }
        let page = read(&path);
        for block in page.split("<pre class=\"notes\">").skip(1) {
            let block = &block[..block.find("</pre>").unwrap()];
            notes += 1;
            assert!(
                !block.contains("yaml-language-server") && !block.contains(":schema"),
                "{}: {block}",
                path.display()
            );
        }
    }
    assert!(notes > 10, "only {notes} notes blocks");
}

#[test]
fn days_off_name_their_holiday_and_say_which_is_observed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shipped_site(tmp.path());
    let page = read(&out.join("calendars.html"));
    // Each calendar's section, from its heading to the next.
    let section = |name: &str| {
        let at = page
            .find(&format!("<h2 id=\"calendar-{name}\""))
            .unwrap_or_else(|| panic!("no calendar {name}"));
        let rest = &page[at + 4..];
        page[at..at + 4 + rest.find("<h2").unwrap_or(rest.len())].to_string()
    };
    let days_named = |name: &str| {
        let section = section(name);
        let (dates, holidays) = (column(&section, 0), column(&section, 2));
        assert!(dates.len() >= 16, "{name}: {dates:?}");
        assert_eq!(dates.len(), holidays.len());
        for (date, holiday) in dates.iter().zip(&holidays) {
            assert!(
                !holiday.trim().is_empty(),
                "{name}: {date} names no holiday"
            );
        }
        move |day: &str| holidays[dates.iter().position(|d| d == day).unwrap()].clone()
    };
    // England and Wales (GB accounts): Easter Monday, and Christmas 2027 on a
    // Saturday with Boxing Day on the Sunday: substitute days Monday and Tuesday.
    let uk = days_named("england_and_wales");
    assert_eq!(uk("2026-04-06"), "Easter Monday");
    assert_eq!(
        uk("2027-12-27"),
        "Christmas Day <span class=\"meta\">(substitute day: the holiday is Sat 2027-12-25)</span>"
    );
    assert_eq!(
        uk("2027-12-25"),
        "Christmas Day <span class=\"meta\">(the holiday; substitute day Mon 2027-12-27)</span>"
    );
    assert_eq!(
        uk("2027-12-28"),
        "Boxing Day <span class=\"meta\">(substitute day: the holiday is Sun 2027-12-26)</span>"
    );
    let on = days_named("us_business");
    // Christmas 2027 is a Saturday, observed on Friday the 24th; New Year's Day
    // 2028 a Saturday, observed on Friday 2027-12-31; Thanksgiving 2026 is itself.
    assert_eq!(
        on("2027-12-25"),
        "Christmas Day <span class=\"meta\">(the holiday; observed Fri 2027-12-24)</span>"
    );
    assert_eq!(
        on("2027-12-24"),
        "Christmas Day <span class=\"meta\">(observed: the holiday is Sat 2027-12-25)</span>"
    );
    assert_eq!(
        on("2027-12-31"),
        "New Year&#39;s Day <span class=\"meta\">(observed: the holiday is Sat 2028-01-01)</span>"
    );
    assert_eq!(on("2026-11-26"), "Thanksgiving Day");
    if let Some(browser) =
        Browser::find_or_skip("days_off_name_their_holiday_and_say_which_is_observed")
    {
        let dom = browser.dom(&out.join("calendars.html"));
        assert!(dom.contains("<td>2027-12-24</td><td>Fri</td><td>Christmas Day <span class=\"meta\">(observed: the holiday is Sat 2027-12-25)</span></td>"), "{dom}");
    }
}

#[test]
fn experiments_show_the_buckets_each_arm_owns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shipped_site(tmp.path());
    let page = read(&out.join("experiments.html"));
    let loaded = arrears::policy::load(&root().join("rules")).unwrap();
    let policy = loaded.policy.expect("shipped policy");
    let mut arms = 0;
    for x in &policy.experiments {
        let e = &x.experiment;
        let section = &page[page.find(&format!(">{}</h2>", e.name)).unwrap()..];
        let section = &section[..section[4..].find("<h2").map_or(section.len(), |n| n + 4)];
        for (i, arm) in e.arms.iter().enumerate() {
            let ranges = arrears::policy::experiment::ranges_of(&e.owner, i as u16);
            assert!(!ranges.is_empty(), "{}/{} owns no bucket", e.name, arm.name);
            let shown = arrears::policy::experiment::show_ranges(&ranges);
            let row = format!(">{}</a></td>", arm.name);
            let row = &section[section
                .find(&row)
                .unwrap_or_else(|| panic!("{row} in {section}"))..];
            let row = &row[..row.find("</tr>").unwrap()];
            assert!(
                row.contains(&format!("<td class=\"buckets\">{shown}</td>")),
                "{}/{}: {shown} not in {row}",
                e.name,
                arm.name
            );
            arms += 1;
        }
    }
    assert!(arms >= 4, "{arms} arms");
    // The shipped champion of card_early_letters owns 0-7999.
    assert!(page.contains("<td class=\"buckets\">0-7999</td>"), "{page}");
    if let Some(browser) = Browser::find_or_skip("experiments_show_the_buckets_each_arm_owns") {
        let dom = browser.dom(&out.join("experiments.html"));
        assert!(dom.contains("<td class=\"buckets\">0-7999</td>"), "{dom}");
        assert!(
            dom.contains("<title>champion: buckets 0-7999</title>"),
            "{dom}"
        );
    }
}

//! `arrears diff` (issue 15 items 1 and 3): the shipped rules against a copy
//! with the card entry threshold moved from 5 to 7 days past due, over a
//! generated extract, give the transition matrices that two independent
//! batches give when counted here; identical rules report nothing and exit 0;
//! `--base` as a git revision; the JSON report; the HTML page's structure and
//! its rendering in headless Chromium; effective-dated versions named;
//! `--changed`; and the rule-set fingerprint itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::batch::{batch_with, generate, p};
use crate::common::{self, arrears, copy_dir, stderr, stdout};

const AS_OF: &str = "2026-11-22";
const CARD_ENTRY: &str = "product: card, loan\n      dpd: \">= 5\"";

/// A copy of the shipped rules with the consumer entry row's threshold at `dpd`.
fn rules_with_card_dpd(dir: &Path, dpd: u32) -> PathBuf {
    let rules = dir.join(format!("rules-dpd-{dpd}"));
    copy_dir(&common::root().join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = std::fs::read_to_string(&entry).unwrap();
    assert_eq!(
        text.matches(CARD_ENTRY).count(),
        1,
        "the card entry row moved"
    );
    let edited = text.replace(
        CARD_ENTRY,
        &format!("product: card, loan\n      dpd: \">= {dpd}\""),
    );
    std::fs::write(&entry, edited).unwrap();
    rules
}

fn diff(args: &[&str]) -> (Option<i32>, Json, String) {
    diff_on(AS_OF, args)
}

/// `arrears diff --format json` as of `as_of`.
fn diff_on(as_of: &str, args: &[&str]) -> (Option<i32>, Json, String) {
    let mut all = vec!["diff", "--as-of", as_of, "--format", "json"];
    all.extend_from_slice(args);
    let o = arrears(&all);
    let json = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&o), stderr(&o)));
    (o.status.code(), json, stderr(&o))
}

/// An account's entry category and class/template as the report labels them,
/// from its batch actions.
fn labels(actions: &[&Json]) -> (String, String) {
    let mut entry = None;
    let mut class = None;
    for a in actions {
        match a["type"].as_str().unwrap() {
            "open_case" => entry = Some(a["category"].as_str().unwrap().to_string()),
            "retreat_case" if entry.is_none() => {
                entry = Some(format!("{} (re-treated)", a["category"].as_str().unwrap()))
            }
            "assign_class" => {
                class = Some(format!(
                    "{}/{}",
                    a["class"].as_str().unwrap_or("null"),
                    a["template"].as_str().unwrap()
                ))
            }
            // An arm with a template gives the case that template.
            "assign_arm" if a["template"].is_string() => {
                let class = class.as_mut().expect("an arm follows its class");
                let cut = class.find('/').unwrap();
                class.replace_range(cut + 1.., a["template"].as_str().unwrap());
            }
            _ => {}
        }
    }
    let none = || "none".to_string();
    (entry.unwrap_or_else(none), class.unwrap_or_else(none))
}

/// Per account id, its actions without the row number.
fn by_account(actions: &str) -> BTreeMap<String, Vec<Json>> {
    let mut map: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for line in actions.lines() {
        let mut a: Json = serde_json::from_str(line).unwrap();
        let id = a["account"].as_str().unwrap().to_string();
        let o = a.as_object_mut().unwrap();
        o.shift_remove("account");
        o.shift_remove("row");
        map.entry(id).or_default().push(a);
    }
    map
}

fn cells(report: &Json, area: &str) -> BTreeMap<(String, String), u64> {
    let area = report["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == area)
        .unwrap();
    area["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                (
                    c["old"].as_str().unwrap().to_string(),
                    c["new"].as_str().unwrap().to_string(),
                ),
                c["accounts"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn card_entry_5_to_7_days_gives_the_matrix_two_batches_give() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "x.csv", 4000, 7, &[]);
    let new_rules = rules_with_card_dpd(dir.path(), 7);
    let old_rules = common::root().join("rules");
    let changed = dir.path().join("changed.jsonl");
    let (code, report, err) = diff(&[
        "--base",
        p(&old_rules),
        "--rules",
        p(&new_rules),
        "--changed",
        p(&changed),
        p(&input),
    ]);
    assert_eq!(code, Some(1), "something changed: {err}");

    // Independently: a batch per rule set, counted here.
    let (old_actions, old_rejects, _) =
        batch_with(&old_rules, &input, &dir.path().join("old"), &[]);
    let (new_actions, new_rejects, _) =
        batch_with(&new_rules, &input, &dir.path().join("new"), &[]);
    assert!(old_rejects.is_empty() && new_rejects.is_empty());
    let (old, new) = (by_account(&old_actions), by_account(&new_actions));
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut entry = BTreeMap::new();
    let mut class = BTreeMap::new();
    let mut expected_changed = BTreeSet::new();
    let none = Vec::new();
    // Accounts without actions are in neither batch output: all the rest.
    let silent = 4000 - ids.len() as u64;
    *entry
        .entry(("none".to_string(), "none".to_string()))
        .or_insert(0) += silent;
    *class
        .entry(("none".to_string(), "none".to_string()))
        .or_insert(0) += silent;
    for id in ids {
        let (o, n) = (old.get(id).unwrap_or(&none), new.get(id).unwrap_or(&none));
        let (oe, oc) = labels(&o.iter().collect::<Vec<_>>());
        let (ne, nc) = labels(&n.iter().collect::<Vec<_>>());
        *entry.entry((oe, ne)).or_insert(0u64) += 1;
        *class.entry((oc, nc)).or_insert(0u64) += 1;
        if o != n {
            expected_changed.insert(id.clone());
        }
    }
    entry.retain(|_, n| *n > 0);
    class.retain(|_, n| *n > 0);
    assert_eq!(cells(&report, "entry_category"), entry);
    assert_eq!(cells(&report, "class_template"), class);
    assert!(
        entry.contains_key(&("arrears".to_string(), "none".to_string())),
        "some card accounts at 5-6 DPD leave arrears: {entry:?}"
    );
    assert_eq!(report["accounts"]["rows_read"], 4000);
    assert_eq!(report["accounts"]["compared"], 4000);
    assert_eq!(report["accounts"]["changed"], expected_changed.len() as u64);

    // `--changed`: exactly the changed accounts, each with both action lists.
    let lines = crate::batch::json_lines(&changed);
    let written: BTreeSet<String> = lines
        .iter()
        .map(|l| l["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(written, expected_changed);
    for l in &lines {
        let id = l["account"].as_str().unwrap();
        for (side, actions) in [("old", &old), ("new", &new)] {
            let mut listed: Vec<Json> = l[side].as_array().unwrap().clone();
            let expected = actions.get(id).cloned().unwrap_or_default();
            for a in &mut listed {
                a.as_object_mut().unwrap().shift_remove("account");
            }
            assert_eq!(listed, expected, "{side} actions of {id}");
        }
    }
    // Examples: the smallest changed ids of the cell, in order.
    let moved = report["areas"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["old"] == "arrears" && c["new"] == "none")
        .unwrap();
    let examples: Vec<&str> = moved["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let mut sorted = examples.clone();
    sorted.sort();
    assert_eq!(examples, sorted);
    assert_eq!(
        examples.len() as u64,
        moved["accounts"].as_u64().unwrap().min(5)
    );
    // The entry row that moved fires for fewer accounts.
    let row = report["rows"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "entry:consumer-in-arrears")
        .unwrap();
    assert!(row["new"].as_u64() < row["old"].as_u64(), "{row}");
    // The same report whatever the thread count.
    let (_, one_thread, _) = diff(&[
        "--base",
        p(&old_rules),
        "--rules",
        p(&new_rules),
        "--threads",
        "1",
        "--chunk-rows",
        "700",
        p(&input),
    ]);
    assert_eq!(one_thread, report);
}

#[test]
fn identical_rules_report_nothing_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "x.jsonl", 1500, 3, &["--format", "jsonl"]);
    let copy = dir.path().join("copy");
    copy_dir(&common::root().join("rules"), &copy);
    let (code, report, err) = diff(&["--base", p(&copy), "--rules", "rules", p(&input)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["accounts"]["changed"], 0);
    assert_eq!(report["accounts"]["compared"], 1500);
    assert_eq!(report["old"]["fingerprint"], report["new"]["fingerprint"]);
    assert!(report["rows"]["changed"].as_array().unwrap().is_empty());
    assert!(report["events"]["by_date"].as_array().unwrap().is_empty());
    let o = arrears(&["diff", "--base", p(&copy), "--as-of", AS_OF, p(&input)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("no account's actions changed"),
        "{}",
        stdout(&o)
    );
    // Rows that cannot be decoded leave "nothing changed" unproven: exit 6.
    let bad = generate(
        dir.path(),
        "bad.jsonl",
        300,
        3,
        &["--format", "jsonl", "--corrupt-rate", "0.05"],
    );
    let (code, report, _) = diff(&["--base", p(&copy), p(&bad)]);
    assert_eq!(code, Some(6));
    let rejected = report["accounts"]["rejected"].as_u64().unwrap();
    assert!(rejected > 0);
    assert_eq!(
        report["accounts"]["compared"].as_u64().unwrap() + rejected,
        300
    );
}

pub fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn base_as_a_git_revision_compares_the_rules_directory_at_that_revision() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    copy_dir(&common::root().join("rules"), &repo.join("rules"));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "shipped"]);
    let edited = rules_with_card_dpd(dir.path(), 8);
    std::fs::copy(edited.join("entry.yaml"), repo.join("rules/entry.yaml")).unwrap();
    git(&repo, &["commit", "-qam", "card entry at 8 days"]);
    let accounts = common::root().join("samples/accounts.yaml");
    let rules = repo.join("rules");
    let (code, by_revision, err) = diff(&["--base", "HEAD~1", "--rules", p(&rules), p(&accounts)]);
    assert_eq!(code, Some(1), "{err}");
    let (_, by_dir, _) = diff(&[
        "--base",
        p(&common::root().join("rules")),
        "--rules",
        p(&rules),
        p(&accounts),
    ]);
    assert!(by_revision["old"]["rules"]
        .as_str()
        .unwrap()
        .starts_with("HEAD~1 ("));
    assert!(by_revision["old"]["rules"]
        .as_str()
        .unwrap()
        .ends_with(") rules/"));
    assert_eq!(
        by_revision["old"]["fingerprint"],
        by_dir["old"]["fingerprint"]
    );
    assert_eq!(by_revision["areas"], by_dir["areas"]);
    assert_eq!(by_revision["rows"], by_dir["rows"]);
    // `main` is this revision: nothing changed.
    let (code, _, err) = diff(&["--base", "main", "--rules", p(&rules), p(&accounts)]);
    assert_eq!(code, Some(0), "{err}");
    // Neither a directory nor a revision.
    let o = arrears(&[
        "diff",
        "--base",
        "no-such-branch",
        "--rules",
        p(&rules),
        "--as-of",
        AS_OF,
        p(&accounts),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: --base `no-such-branch` is neither a directory nor a git revision"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The sample accounts against the card entry threshold at 8 days: one sample
/// sits at 7 days past due.
fn samples_at_8(dir: &Path, format: &str) -> (Option<i32>, String) {
    let rules = rules_with_card_dpd(dir, 8);
    let o = arrears(&[
        "diff",
        "--base",
        "rules",
        "--rules",
        p(&rules),
        "--as-of",
        AS_OF,
        "--format",
        format,
        "samples/accounts.yaml",
    ]);
    let text =
        common::redact_fingerprints(&stdout(&o)).replace(&dir.display().to_string(), "[dir]");
    (o.status.code(), text)
}

#[test]
fn json_report_of_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json) = samples_at_8(dir.path(), "json");
    assert_eq!(code, Some(1));
    assert_snapshot!("samples_json", json);
    let (_, text) = samples_at_8(dir.path(), "text");
    assert_snapshot!("samples_text", text);
    // Analyst 3 item 3: the events "by date" are in date order.
    let by_date = &text[text.find("scheduled events by date").unwrap()..];
    let dates: Vec<&str> = by_date
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(dates.len() > 3, "{by_date}");
    assert!(dates.is_sorted(), "{dates:?}");
}

#[test]
fn html_page_is_self_contained_with_a_matrix_per_changed_area() {
    let dir = tempfile::tempdir().unwrap();
    let (code, page) = samples_at_8(dir.path(), "html");
    assert_eq!(code, Some(1));
    let (_, json) = samples_at_8(dir.path(), "json");
    let report: Json = serde_json::from_str(&json).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.trim_end().ends_with("</html>"));
    assert!(page.contains("<style>"));
    for outside in [
        "http://", "https://", "<script", "<link", "src=", "url(", "@import",
    ] {
        assert!(!page.contains(outside), "the page loads `{outside}`");
    }
    // One section per area; a changed one holds a matrix table and the moves.
    for area in report["areas"].as_array().unwrap() {
        let name = area["area"].as_str().unwrap();
        let start = page
            .find(&format!("<section class=\"area\" id=\"area-{name}\">"))
            .unwrap_or_else(|| panic!("no section for {name}"));
        let section = &page[start..start + page[start..].find("</section>").unwrap()];
        let changed: Vec<&Json> = area["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["changed"] == true)
            .collect();
        if changed.is_empty() {
            assert!(section.contains("Unchanged"), "{section}");
        } else {
            assert!(section.contains("<table class=\"matrix\">"), "{section}");
            for c in changed {
                assert!(
                    section.contains(&format!("<td class=\"moved\">{}</td>", c["accounts"])),
                    "{section}"
                );
            }
        }
    }
    assert!(page.contains(&format!(
        "<b id=\"changed\">{}</b>",
        report["accounts"]["changed"]
    )));
    assert!(page.contains("class=\"fill new\""), "bar charts of events");
    // Tester 12 item 17: most accounts have no case, so none "keeps its case closed".
    assert!(!page.contains("keeps its"), "{page}");
    assert!(page.contains("Unchanged: for each of the 24 accounts, whether a case is closed is the same under both rule sets."), "{page}");
    assert_snapshot!("samples_html", page);
}

/// The fingerprint is sha256 over each rule file's relative path and bytes in
/// path order (lengths first), the same wherever the directory is, and it
/// changes with one byte of one file.
#[test]
fn a_fingerprint_is_sha256_over_paths_and_bytes() {
    use sha2::Digest;
    let rules = common::root().join("rules");
    let mut files = Vec::new();
    let mut stack = vec![rules.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "tests" {
                    stack.push(path);
                }
            } else if ["yaml", "yml", "toml"]
                .contains(&path.extension().and_then(|e| e.to_str()).unwrap_or(""))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hash = sha2::Sha256::new();
    for f in &files {
        let name = f.strip_prefix(&rules).unwrap().to_str().unwrap();
        let bytes = std::fs::read(f).unwrap();
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let expected: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let shipped = arrears::model::load_dir(&rules).unwrap().fingerprint;
    assert_eq!(shipped, format!("sha256:{expected}"));
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("elsewhere");
    copy_dir(&rules, &copy);
    assert_eq!(
        arrears::model::load_dir(&copy).unwrap().fingerprint,
        shipped
    );
    let edited = rules_with_card_dpd(dir.path(), 7);
    assert_ne!(
        arrears::model::load_dir(&edited).unwrap().fingerprint,
        shipped
    );
}

/// The consumer entry row, written as the shipped rules write it.
const CONSUMER_ROW: &str = "      product: card, loan\n      dpd: \">= 5\"\n      effective_arrears: \">= $5\"\n    then: { category: arrears, reason: '\"consumer account past due\"' }\n";

/// The shipped rules where the consumer entry row is in force until
/// 2026-11-30 and a second version at 8 days past due from 2026-12-01.
fn rules_with_dated_entry(dir: &Path) -> PathBuf {
    let rules = dir.join("rules-dated");
    copy_dir(&common::root().join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = std::fs::read_to_string(&entry).unwrap();
    assert_eq!(
        text.matches(CONSUMER_ROW).count(),
        1,
        "the consumer row moved"
    );
    let dated = format!(
        "{CONSUMER_ROW}    effective: {{ until: 2026-11-30 }}\n\n  - id: consumer-in-arrears\n    when:\n{}    effective: {{ from: 2026-12-01 }}\n",
        CONSUMER_ROW.replace(">= 5", ">= 8")
    );
    std::fs::write(&entry, text.replace(CONSUMER_ROW, &dated)).unwrap();
    rules
}

/// Issue 15 item 2: `diff` names the effective-dated versions each side ran,
/// in text, JSON and HTML, also when the base is a git revision.
#[test]
fn diff_names_the_effective_dated_versions_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let dated = rules_with_dated_entry(dir.path());
    let at = {
        let text = std::fs::read_to_string(dated.join("entry.yaml")).unwrap();
        let line = |from: usize| text[..from].matches('\n').count() + 1;
        let second = text.rfind("- id: consumer-in-arrears").unwrap();
        let first = text.find("- id: consumer-in-arrears").unwrap();
        let path = dated.join("entry.yaml").display().to_string();
        (
            format!("{path}:{}:9", line(first)),
            format!("{path}:{}:9", line(second)),
        )
    };
    let accounts = "samples/accounts.yaml";
    // Before the change date the dated rules decide as the shipped ones.
    let (code, report, err) = diff_on(
        "2026-11-22",
        &["--base", "rules", "--rules", p(&dated), accounts],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["old"]["effective"], serde_json::json!([]));
    assert_eq!(
        report["new"]["effective"],
        serde_json::json!([{
            "kind": "row", "name": "entry:consumer-in-arrears",
            "from": null, "until": "2026-11-30", "at": at.0,
        }])
    );
    // From it, the 8-day version is in force and the 7-day sample leaves.
    let (code, report, err) = diff_on(
        "2026-12-01",
        &["--base", "rules", "--rules", p(&dated), accounts],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["new"]["effective"][0]["from"], "2026-12-01");
    assert_eq!(report["new"]["effective"][0]["at"], at.1.as_str());
    for (format, expected) in [
        (
            "text",
            format!("effective-dated versions in force on 2026-12-01 (new): 1\n    row entry:consumer-in-arrears (from 2026-12-01) at {}\n", at.1),
        ),
        (
            "html",
            format!("<li>row entry:consumer-in-arrears (from 2026-12-01) at {}</li>", at.1),
        ),
    ] {
        let o = arrears(&[
            "diff", "--base", "rules", "--rules", p(&dated), "--as-of", "2026-12-01",
            "--format", format, accounts,
        ]);
        assert!(stdout(&o).contains(&expected), "{format}: {}", stdout(&o));
        assert!(!stdout(&o).contains("(base)"), "{format}: the base has no dated versions");
    }
    // A base at a git revision names its files as git does.
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    copy_dir(&dated, &repo.join("rules"));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "dated"]);
    std::fs::copy(
        common::root().join("rules/entry.yaml"),
        repo.join("rules/entry.yaml"),
    )
    .unwrap();
    let (code, report, err) = diff_on(
        "2026-12-01",
        &[
            "--base",
            "HEAD",
            "--rules",
            p(&repo.join("rules")),
            accounts,
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["new"]["effective"], serde_json::json!([]));
    let line = at.1.rsplit_once("entry.yaml").unwrap().1;
    assert_eq!(
        report["old"]["effective"][0]["at"],
        format!("HEAD:rules/entry.yaml{line}")
    );
}

/// The cells of each `<table class="matrix">` in `html`, row by row: each
/// `<td>`'s class and text.
fn matrices(html: &str) -> BTreeMap<String, Vec<Vec<(String, String)>>> {
    let mut out = BTreeMap::new();
    for section in html.split("<section class=\"area\" id=\"area-").skip(1) {
        let area = section[..section.find('"').unwrap()].to_string();
        let Some(start) = section.find("<table class=\"matrix\">") else {
            continue;
        };
        let table = &section[start..start + section[start..].find("</table>").unwrap()];
        let rows = table
            .split("<tr>")
            .skip(2) // the caption and the header row
            .map(|tr| {
                tr.split("<td class=\"")
                    .skip(1)
                    .map(|td| {
                        let (class, rest) = td.split_once("\">").unwrap();
                        let text = &rest[..rest.find("</td>").unwrap()];
                        (class.to_string(), text.to_string())
                    })
                    .collect()
            })
            .collect();
        out.insert(area, rows);
    }
    out
}

/// Issue 15's check: the HTML page renders in headless Chromium without a
/// console message, the DOM the browser built holds every matrix cell's
/// count where the report puts it, and a screenshot shows the matrices.
#[test]
fn html_page_renders_its_matrices_in_chromium() {
    use crate::browser::{Browser, Png};
    let Some(browser) = Browser::find_or_skip("html_page_renders_its_matrices_in_chromium") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, page) = samples_at_8(dir.path(), "html");
    assert_eq!(code, Some(1));
    let (_, json) = samples_at_8(dir.path(), "json");
    let report: Json = serde_json::from_str(&json).unwrap();
    let path = dir.path().join("diff.html");
    std::fs::write(&path, &page).unwrap();
    // A control copy with an inline script: its content security policy must
    // make the browser report it, or this test could not see a message.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        page.replace("</body>", "<script>document.title='ran'</script></body>"),
    )
    .unwrap();
    let messages = browser.console(&[&path, &control]);
    let (control_messages, others): (Vec<_>, Vec<_>) = messages
        .iter()
        .partition(|m| m.source.ends_with("control.html"));
    assert!(others.is_empty(), "console messages: {others:#?}");
    assert!(
        control_messages
            .iter()
            .any(|m| m.text.contains("Content Security Policy")),
        "the control page's blocked script was not reported: {messages:#?}"
    );

    // The DOM: per changed area, the matrix of base (rows) by new (columns)
    // labels, each cell the report's count (0 where no account went).
    let dom = browser.dom(&path);
    let shown = matrices(&dom);
    let mut expected = BTreeMap::new();
    for area in report["areas"].as_array().unwrap() {
        let cells = cells(&report, area["area"].as_str().unwrap());
        if cells.keys().all(|(o, n)| o == n) {
            continue;
        }
        let olds: BTreeSet<&String> = cells.keys().map(|(o, _)| o).collect();
        let news: BTreeSet<&String> = cells.keys().map(|(_, n)| n).collect();
        let grid: Vec<Vec<(String, String)>> = olds
            .iter()
            .map(|o| {
                news.iter()
                    .map(|n| match cells.get(&(o.to_string(), n.to_string())) {
                        None => ("zero".to_string(), "0".to_string()),
                        Some(count) if o == n => ("same".to_string(), count.to_string()),
                        Some(count) => ("moved".to_string(), count.to_string()),
                    })
                    .collect()
            })
            .collect();
        expected.insert(area["area"].as_str().unwrap().to_string(), grid);
    }
    assert!(expected.contains_key("entry_category"), "{expected:?}");
    assert_eq!(shown, expected);

    // The screenshot: the moved cells' highlight and the unchanged diagonal are
    // drawn, and the band of the first matrix is full of drawn pixels.
    let png = dir.path().join("diff.png");
    let (width, height) = (1400, 1400);
    browser.screenshot(&path, &png, width, height);
    let image = Png::read(&png);
    assert_eq!((image.width, image.height), (width, height));
    let moved = [0xfd, 0xe7, 0xe4, 255];
    let same = [0xf7, 0xf9, 0xfb, 255];
    let pixels_of = |colour: [u8; 4]| {
        (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .filter(|&(x, y)| image.pixel(x, y) == colour)
            .collect::<Vec<_>>()
    };
    let highlighted = pixels_of(moved);
    assert!(
        highlighted.len() > 1000,
        "the moved cells are highlighted ({} pixels)",
        highlighted.len()
    );
    assert!(
        pixels_of(same).len() > 20_000,
        "the unchanged cells are drawn"
    );
    // The first highlighted cell is the entry matrix's arrears -> none: its rows
    // (seven labels, about 25 pixels each) are drawn around it.
    let top = highlighted.iter().map(|&(_, y)| y).min().unwrap();
    let band = top.saturating_sub(60)..(top + 200).min(height);
    let white = [255, 255, 255, 255];
    let drawn = image.count_not(white, 0..width, band.clone());
    assert!(
        drawn > 60_000,
        "the entry matrix is drawn ({drawn} non-white pixels in rows {band:?})"
    );
}

/// A misspelt base directory is neither a directory nor a revision; the
/// message names the directory it probably is, for `diff` and `lint` alike.
#[test]
fn a_misspelt_base_directory_is_named() {
    for args in [
        &[
            "diff",
            "--base",
            "rule",
            "--as-of",
            "2026-11-22",
            "samples/accounts.yaml",
        ][..],
        &["lint", "rules", "--base", "rulez"][..],
    ] {
        let out = arrears(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("did you mean the directory `rules`?"), "{err}");
    }
}

/// A copy of the shipped rules with `edit` applied to the text of `file`,
/// which must hold `from` once.
fn rules_edited(dir: &Path, name: &str, file: &str, from: &str, to: &str) -> PathBuf {
    let rules = dir.join(name);
    copy_dir(&common::root().join("rules"), &rules);
    let path = rules.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` moved in {file}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    rules
}

/// Tester 12 item 3: an event moved from day 20 to day 15 of its template
/// keeps every type's count, and the reports still show it by day, before
/// and after, in text and HTML (the HTML no longer says nothing moved).
#[test]
fn events_moved_to_another_day_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let moved = rules_edited(
        dir.path(),
        "moved",
        "templates/card_early_std.yaml",
        "  - id: second-letter\n    day: 20\n",
        "  - id: second-letter\n    day: 15\n",
    );
    let accounts = "samples/accounts.yaml";
    let (code, report, err) = diff(&["--base", "rules", "--rules", p(&moved), accounts]);
    assert_eq!(code, Some(1), "{err}");
    let by_type = report["events"]["by_type"].as_array().unwrap();
    assert!(by_type.iter().all(|t| t["old"] == t["new"]), "{by_type:?}");
    let by_date = &report["events"]["by_date"];
    assert_eq!(
        by_date,
        &serde_json::json!([
            { "event_type": "send_letter", "date": "2026-12-07", "old": 3, "new": 4 },
            { "event_type": "send_letter", "date": "2026-12-14", "old": 1, "new": 0 },
        ])
    );
    let run = |format: &str| {
        let o = arrears(&[
            "diff",
            "--base",
            "rules",
            "--rules",
            p(&moved),
            "--as-of",
            AS_OF,
            "--format",
            format,
            accounts,
        ]);
        assert_eq!(o.status.code(), Some(1));
        common::redact_fingerprints(&stdout(&o)).replace(&dir.path().display().to_string(), "[dir]")
    };
    let text = run("text");
    assert_snapshot!("moved_events_text", text);
    assert!(
        text.contains("     2026-12-07  send_letter    3    4      +1\n     2026-12-14  send_letter    1    0      -1\n"),
        "{text}"
    );
    let page = run("html");
    assert!(
        !page.contains("The same events are scheduled on the same days"),
        "{page}"
    );
    assert!(page.contains("id=\"same-types\""), "{page}");
    for (date, old, new, change) in [("2026-12-07", 3, 4, "+1"), ("2026-12-14", 1, 0, "-1")] {
        let row = format!("<tr><td class=\"label\">{date}</td><td class=\"label\">send_letter</td><td>{old}</td><td>{new}</td><td>{change}</td></tr>");
        assert!(page.contains(&row), "{row} in {page}");
    }
    // As Chromium builds the page: the moved days are in its DOM.
    if let Some(browser) =
        crate::browser::Browser::find_or_skip("events_moved_to_another_day_are_shown")
    {
        let path = dir.path().join("moved.html");
        std::fs::write(&path, &page).unwrap();
        let dom = browser.dom(&path);
        let events = &dom[dom.find("<section id=\"events\">").unwrap()..];
        let events = &events[..events.find("</section>").unwrap()];
        for date in ["2026-12-07", "2026-12-14"] {
            assert!(
                events.contains(&format!("<td class=\"label\">{date}</td>")),
                "{events}"
            );
        }
        assert!(!events.contains("same days"), "{events}");
    }
    // The same rules: no day moved, and both reports say so.
    let o = arrears(&[
        "diff", "--base", "rules", "--as-of", AS_OF, "--format", "html", accounts,
    ]);
    assert!(stdout(&o).contains("The same events are scheduled on the same days"));
}

/// Tester 12 item 8: a share edit moves accounts from the champion arm to
/// the soft-letter arm, whose template replaces the class's; the class /
/// template area shows the template each case gets, as two batches' actions do.
#[test]
fn an_arm_template_shows_in_class_and_template() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "x.jsonl", 3000, 11, &["--format", "jsonl"]);
    let shares = rules_edited(
        dir.path(),
        "shares",
        "experiments/card_early_letters.yaml",
        "  - { name: champion, buckets: 0-7999 }\n  - { name: soft_letter, buckets: 8000-9499, template: card_early_soft }\n",
        "  - { name: champion, buckets: 0-6999 }\n  - { name: soft_letter, buckets: 7000-9499, template: card_early_soft }\n",
    );
    let old_rules = common::root().join("rules");
    let (code, report, err) = diff(&["--base", p(&old_rules), "--rules", p(&shares), p(&input)]);
    assert_eq!(code, Some(1), "{err}");
    let arms = cells(&report, "experiment_arm");
    let moved = arms
        .get(&(
            "card_early_letters/champion".to_string(),
            "card_early_letters/soft_letter".to_string(),
        ))
        .copied()
        .unwrap_or(0);
    assert!(moved > 0, "{arms:?}");
    let classes = cells(&report, "class_template");
    assert_eq!(
        classes.get(&(
            "card_early/card_early_std".to_string(),
            "card_early/card_early_soft".to_string()
        )),
        Some(&moved),
        "{classes:?}"
    );
    // Independently, from two batches' actions.
    let (old_actions, _, _) = batch_with(&old_rules, &input, &dir.path().join("old"), &[]);
    let (new_actions, _, _) = batch_with(&shares, &input, &dir.path().join("new"), &[]);
    let (old, new) = (by_account(&old_actions), by_account(&new_actions));
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    let none = Vec::new();
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let silent = 3000 - ids.len() as u64;
    if silent > 0 {
        expected.insert(("none".into(), "none".into()), silent);
    }
    for id in ids {
        let (o, n) = (old.get(id).unwrap_or(&none), new.get(id).unwrap_or(&none));
        let (_, oc) = labels(&o.iter().collect::<Vec<_>>());
        let (_, nc) = labels(&n.iter().collect::<Vec<_>>());
        *expected.entry((oc, nc)).or_insert(0) += 1;
    }
    assert_eq!(classes, expected);
    let o = arrears(&[
        "diff",
        "--base",
        p(&old_rules),
        "--rules",
        p(&shares),
        "--as-of",
        AS_OF,
        p(&input),
    ]);
    assert!(
        !stdout(&o).contains("class / template: unchanged"),
        "{}",
        stdout(&o)
    );
}

/// Tester 12 item 11: a reject of an accounts file names where the field is
/// written, as `dry-run` does (`file:line:col`), and its record's line.
#[test]
fn rejects_of_an_accounts_file_give_dry_runs_locations() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    let accounts = "samples/invalid/bad-accounts.yaml";
    let o = arrears(&[
        "diff",
        "--base",
        "rules",
        "--as-of",
        AS_OF,
        "--rejects",
        p(&rejects),
        accounts,
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let lines = crate::batch::json_lines(&rejects);
    let dry = arrears(&["dry-run", "--as-of", AS_OF, "--format", "json", accounts]);
    let dry: Json = serde_json::from_str(&stdout(&dry)).unwrap();
    let mut expected = Vec::new();
    for account in dry["accounts"].as_array().unwrap() {
        for e in account["errors"].as_array().into_iter().flatten() {
            expected.push((account["account"].clone(), e["location"].clone()));
        }
    }
    let got: Vec<(Json, Json)> = lines
        .iter()
        .map(|l| (l["account"].clone(), l["location"].clone()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 2);
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert_snapshot!("bad_accounts_rejects", text);
}

/// Tester 12 item 11: rows repeating an earlier row's account id are each
/// compared, and `diff` warns as `dry-run` and `batch` do.
#[test]
fn repeated_account_ids_are_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let samples = std::fs::read_to_string(common::root().join("samples/accounts.yaml")).unwrap();
    let twice = dir.path().join("twice.yaml");
    std::fs::write(
        &twice,
        format!("{samples}\n{}", samples.replace("# ", "#  ")),
    )
    .unwrap();
    let o = arrears(&["diff", "--base", "rules", "--as-of", AS_OF, p(&twice)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let first = samples.find("- id: ").unwrap();
    let id = samples[first + 6..].lines().next().unwrap();
    let line = samples.lines().count() + 1 + samples[..first].matches('\n').count() + 1;
    assert_eq!(
        err,
        format!(
            "warning: 24 rows repeat the account id of an earlier row (e.g. `{id}` at {}:{line}); each was compared\n",
            twice.display()
        )
    );
    assert!(stdout(&o).contains("48 compared"), "{}", stdout(&o));
    let dry = arrears(&["dry-run", "--as-of", AS_OF, p(&twice)]);
    assert!(
        stderr(&dry).contains("24 account(s) repeat the id"),
        "{}",
        stderr(&dry)
    );
    // An extract: the repeat's line.
    let input = generate(dir.path(), "x.jsonl", 50, 3, &["--format", "jsonl"]);
    let text = std::fs::read_to_string(&input).unwrap();
    let doubled = dir.path().join("doubled.jsonl");
    std::fs::write(&doubled, format!("{text}{text}")).unwrap();
    let o = arrears(&["diff", "--base", "rules", "--as-of", AS_OF, p(&doubled)]);
    let first: Json = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        stderr(&o),
        format!(
            "warning: 50 rows repeat the account id of an earlier row (e.g. `{}` at line 51); each was compared\n",
            first["id"].as_str().unwrap()
        )
    );
    // No repeat, no warning.
    let o = arrears(&["diff", "--base", "rules", "--as-of", AS_OF, p(&input)]);
    assert_eq!(stderr(&o), "");
}

/// Tester 12 item 18: rules in force on the as-of date that do not check
/// (a template dated to end before it) are exit 3 naming the day.
#[test]
fn rules_with_errors_on_the_day_name_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let ended = rules_edited(
        dir.path(),
        "ended",
        "templates/card_early_std.yaml",
        "template: card_early_std\n",
        "template: card_early_std\neffective: { until: 2026-12-31 }\n",
    );
    let accounts = "samples/accounts.yaml";
    for (base, rules, side) in [
        ("rules", p(&ended), format!("in `{}`", ended.display())),
        (
            p(&ended),
            "rules",
            format!("of the base ({})", ended.display()),
        ),
    ] {
        let o = arrears(&[
            "diff",
            "--base",
            base,
            "--rules",
            rules,
            "--as-of",
            "2027-01-15",
            accounts,
        ]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!(
                "error: the rules in force on 2027-01-15 {side} have errors, the first at "
            )),
            "{err}"
        );
        assert!(
            err.contains("; `arrears lint --as-of 2027-01-15 ") && err.lines().count() == 1,
            "{err}"
        );
    }
    // Undated rules name no day.
    let broken = rules_edited(
        dir.path(),
        "broken",
        "collection_class.yaml",
        "card_early_std",
        "card_early_stx",
    );
    let o = arrears(&[
        "diff",
        "--base",
        "rules",
        "--rules",
        p(&broken),
        "--as-of",
        AS_OF,
        accounts,
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!stderr(&o).contains("in force on"), "{}", stderr(&o));
}

/// Tester 12 item 14: `--base` naming a file (a rule file) says it is a file,
/// not a rules directory, rather than "not a git repository" or "no such
/// revision"; `lint --base` shares the check.
#[test]
fn a_base_that_is_a_file_is_named_as_one() {
    for args in [
        &[
            "diff",
            "--base",
            "rules/entry.yaml",
            "--as-of",
            AS_OF,
            "samples/accounts.yaml",
        ][..],
        &["lint", "rules", "--base", "rules/entry.yaml"][..],
    ] {
        let out = arrears(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: --base `rules/entry.yaml` is a regular file, not a rules directory; the rules directory is probably `rules`\n"
        );
    }
    // Beside a file in a directory that holds no rules, no directory is hinted.
    for args in [
        &[
            "diff",
            "--base",
            "samples/accounts.yaml",
            "--as-of",
            AS_OF,
            "samples/accounts.yaml",
        ][..],
        &[
            "lint",
            "rules",
            "--base",
            "samples/timelines/card_promise_kept.yaml",
        ][..],
    ] {
        let out = arrears(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.ends_with("is a regular file, not a rules directory\n"),
            "{err}"
        );
    }
}

/// One card account as of 2026-12-01: $209 paid on 2026-11-20 against a $212
/// promise due that day, its case open since 2026-11-02; `events` its case's events.
fn promise_account(id: &str, events: &str) -> String {
    format!(
        "- id: {id}
  customer_class: residential
  jurisdiction: IL
  product: card
  days_past_due: 34
  arrears: '3.00'
  balance: '6271.12'
  credit_limit: '8000.00'
  risk_score: 701
  bankruptcy: false
  deceased: false
  hardship: false
  contact_invalid: false
  forced: false
  budget_plan_active: false
  pay_plan: {{active: false, scheduled_due: '0.00'}}
  last_payment_date: '2026-11-20'
  promises:
  - {{id: P-1, amount: '212.00', due_date: '2026-11-20', payments: [{{amount: '209.00', date: '2026-11-20'}}]}}
  dispositions: []
  service_agreements:
  - {{id: {id}-01, type: card, debt_class: consumer_credit, arrears: '3.00', life_support: false, sensitive_load: false, master_meter: false}}
  case:
    category: arrears
    class: card_early
    template: card_early_std
    start_date: '2026-11-02'
    events: {events}
"
    )
}

/// Tester 18 item 1: a deploy that tightens the card tolerance from $3 to $0
/// does not turn a promise the case recorded as kept (under the $3 of its
/// day) into a broken one; a promise past its deadline the case holds no
/// outcome for is judged by the rules of the as-of date, and moves.
#[test]
fn a_promise_the_case_recorded_as_kept_is_not_broken_by_a_later_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let tightened = rules_edited(
        dir.path(),
        "tightened",
        "promise_terms.yaml",
        "tolerance_amount: $3,",
        "tolerance_amount: $0,",
    );
    let accounts = dir.path().join("promises.yaml");
    let recorded = "[{id: promise-P-1-kept, type: custom, date: '2026-11-20', status: done}]";
    std::fs::write(
        &accounts,
        promise_account("recorded", recorded) + &promise_account("not-recorded", "[]"),
    )
    .unwrap();
    let (code, report, err) = diff_on(
        "2026-12-01",
        &["--base", "rules", "--rules", p(&tightened), p(&accounts)],
    );
    assert_eq!(code, Some(1), "{err}");
    let promises = cells(&report, "promise_outcome");
    assert_eq!(
        promises,
        BTreeMap::from([
            (("kept".to_string(), "kept".to_string()), 1),
            (("kept".to_string(), "broken".to_string()), 1),
        ]),
        "{report:#}"
    );
    let examples = report.to_string();
    assert!(examples.contains("not-recorded"), "{report:#}");
}

/// Tester 18 item 1: the consumer promise tolerance from $3 to $0 moves only
/// a field of an action (`promise_outcome.required`), so no area's label
/// moves; the report still says what changed on every changed account: the
/// action and field, from what to what, and the rule behind it (whose count
/// of accounts is the same), in text, JSON and HTML. Over a generated
/// extract, the accounts the field moved on are the changed accounts.
#[test]
fn a_changed_action_field_is_shown_with_its_values_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let zero = rules_edited(
        dir.path(),
        "zero-tolerance",
        "promise_terms.yaml",
        "then: { tolerance_amount: $3, tolerance_percent: 0%",
        "then: { tolerance_amount: $0, tolerance_percent: 0%",
    );
    let accounts = "tests/fixtures/diff/promise-kept-exact.yaml";
    let (code, report, err) = diff_on(
        "2026-12-01",
        &["--base", "rules", "--rules", p(&zero), accounts],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["accounts"]["changed"], 1);
    assert_eq!(
        report["actions"],
        serde_json::json!([{
            "action": "promise_outcome", "change": "field", "field": "required", "accounts": 1,
            "values": [{ "old": "97.00", "new": "100.00", "accounts": 1 }], "values_not_listed": 0,
            "difference": {
                "unit": "money", "accounts": 1, "values": 1, "min": "3.00", "max": "3.00",
                "total": "3.00", "increased": 1, "decreased": 0,
            },
            "rules": ["promise_terms:consumer"], "examples": ["card-kept-exact"],
        }])
    );
    assert_eq!(
        report["rows"]["changed"],
        serde_json::json!([{ "rule": "promise_terms:consumer", "old": 1, "new": 1, "actions_changed": 1 }])
    );
    let run = |format: &str| {
        let o = arrears(&[
            "diff",
            "--base",
            "rules",
            "--rules",
            p(&zero),
            "--as-of",
            "2026-12-01",
            "--format",
            format,
            accounts,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        common::redact_fingerprints(&stdout(&o)).replace(&dir.path().display().to_string(), "[dir]")
    };
    let text = run("text");
    assert_snapshot!("changed_field_text", text);
    let page = run("html");
    let actions = &page[page.find("<section id=\"actions\">").unwrap()..];
    let actions = &actions[..actions.find("</section>").unwrap()];
    assert!(
        actions.contains("<td class=\"label\">promise_outcome</td><td class=\"label\">required</td><td>1</td><td class=\"label\">by +3.00 on 1 account</td><td class=\"label\">97.00 &rarr; 100.00: 1</td><td class=\"label\">promise_terms:consumer</td>"),
        "{actions}"
    );
    assert!(page.contains("<td class=\"label\">promise_terms:consumer</td><td>1</td><td>1</td><td>0</td><td>1</td>"), "{page}");

    // Many accounts: every changed one is counted under the field, and the
    // value pairs shown and not shown add up to them.
    let extract = generate(dir.path(), "book.csv", 600, 7, &[]);
    let (code, report, err) = diff_on(
        "2026-12-01",
        &["--base", "rules", "--rules", p(&zero), p(&extract)],
    );
    assert_eq!(code, Some(1), "{err}");
    let changed = report["accounts"]["changed"].as_u64().unwrap();
    assert!(changed > 5, "{report}");
    let actions = report["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["accounts"].as_u64(), Some(changed));
    let listed: u64 = actions[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["accounts"].as_u64().unwrap())
        .sum();
    assert_eq!(
        listed + actions[0]["values_not_listed"].as_u64().unwrap(),
        changed
    );
}

/// Per changed account in a `--changed` file, `field` of its one action of
/// type `action` on each side, where both sides have one.
fn changed_pairs(changed: &Path, action: &str, field: &str) -> Vec<(String, Json, Json)> {
    let text = std::fs::read_to_string(changed).unwrap();
    let one = |actions: &Json| -> Option<Json> {
        let mut of_type = actions.as_array()?.iter().filter(|a| a["type"] == action);
        let first = of_type.next()?;
        assert!(of_type.next().is_none(), "one {action} per account");
        Some(first[field].clone())
    };
    text.lines()
        .map(|line| serde_json::from_str::<Json>(line).unwrap())
        .filter_map(|line| {
            let (old, new) = (one(&line["old"])?, one(&line["new"])?);
            (old != new).then(|| (line["account"].as_str().unwrap().to_string(), old, new))
        })
        .collect()
}

/// The report's entry for a changed field.
fn field_change<'a>(report: &'a Json, action: &str, field: &str) -> &'a Json {
    report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == action && a["field"] == field)
        .unwrap_or_else(|| panic!("no {action}.{field} in {:#}", report["actions"]))
}

/// Analyst 3 item 1: an amount that moved says by how much and on how many
/// accounts (not only one line per value pair), in text, JSON and HTML: $3
/// more on every two-instalment offer is `by +3.00 on N accounts`, and the
/// differences agree with the accounts' actions written by `--changed`.
#[test]
fn a_changed_amount_says_by_how_much_on_how_many_accounts() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let plus_3 = rules_edited(
        dir.path(),
        "plus-3",
        "payment_plan_offer.yaml",
        "then: { instalments: 2, amount: arrears, first_due_in: 7 }",
        "then: { instalments: 2, amount: arrears + $3, first_due_in: 7 }",
    );
    let extract = generate(dir.path(), "book.csv", 1500, 7, &[]);
    let changed = dir.path().join("changed.jsonl");
    let (code, report, err) = diff(&[
        "--base",
        "rules",
        "--rules",
        p(&plus_3),
        "--changed",
        p(&changed),
        p(&extract),
    ]);
    assert_eq!(code, Some(1), "{err}");
    let totals = changed_pairs(&changed, "offer_payment_plan", "total");
    let n = totals.len();
    assert!(n > 20, "{n}");
    let amount = |v: &Json| Decimal::from_str(v.as_str().unwrap()).unwrap();
    for (id, old, new) in &totals {
        assert_eq!(amount(new) - amount(old), Decimal::new(300, 2), "{id}");
    }
    let total = field_change(&report, "offer_payment_plan", "total");
    assert_eq!(total["accounts"], n);
    assert_eq!(
        total["difference"],
        serde_json::json!({
            "unit": "money", "accounts": n, "values": n, "min": "3.00", "max": "3.00",
            "total": (Decimal::new(300, 2) * Decimal::from(n)).to_string(),
            "increased": n, "decreased": 0,
        })
    );
    // The pairs are still in the JSON report, every account under one.
    let listed: u64 = total["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["accounts"].as_u64().unwrap())
        .sum();
    assert_eq!(listed, n as u64);

    let run = |format: &str| {
        let o = arrears(&[
            "diff",
            "--base",
            "rules",
            "--rules",
            p(&plus_3),
            "--as-of",
            AS_OF,
            "--format",
            format,
            p(&extract),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        stdout(&o)
    };
    let text = run("text");
    let at = text.find("     offer_payment_plan.total ").unwrap();
    let lines: Vec<&str> = text[at..].lines().take(3).collect();
    assert_eq!(
        lines[1..],
        [
            format!("       by +3.00 on {n} accounts"),
            format!(
                "       {} value pairs: --format json lists them",
                total["values"].as_array().unwrap().len()
            ),
        ],
        "{text}"
    );
    let page = run("html");
    assert!(
        page.contains(&format!(
            "<td class=\"label\">total</td><td>{n}</td><td class=\"label\">by +3.00 on {n} accounts</td>"
        )),
        "{page}"
    );
}

/// Analyst 3 item 1: differences that vary give their range, which way they
/// went and (for money) their total; a date's difference is in days. The
/// residential utility's grace from 3 to 5 days and tolerance from 2% to 5%:
/// every deadline 2 days later, every required amount lower by its own sum.
#[test]
fn varying_differences_give_their_range_direction_and_total() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let looser = rules_edited(
        dir.path(),
        "looser",
        "promise_terms.yaml",
        "tolerance_percent: 2%, tolerance_rule: larger, plan_tolerance: per_instalment, grace_days: 3,",
        "tolerance_percent: 5%, tolerance_rule: larger, plan_tolerance: per_instalment, grace_days: 5,",
    );
    let extract = generate(dir.path(), "book.csv", 3000, 7, &[]);
    let changed = dir.path().join("changed.jsonl");
    let (code, report, err) = diff(&[
        "--base",
        "rules",
        "--rules",
        p(&looser),
        "--changed",
        p(&changed),
        p(&extract),
    ]);
    assert_eq!(code, Some(1), "{err}");

    let deadlines = changed_pairs(&changed, "promise_outcome", "deadline");
    let day = |v: &Json| chrono::NaiveDate::from_str(v.as_str().unwrap()).unwrap();
    assert!(deadlines.len() > 5, "{deadlines:?}");
    for (id, old, new) in &deadlines {
        assert_eq!((day(new) - day(old)).num_days(), 2, "{id}");
    }
    let deadline = field_change(&report, "promise_outcome", "deadline");
    assert_eq!(deadline["difference"]["unit"], "days");
    assert_eq!(deadline["difference"]["min"], 2);
    assert_eq!(deadline["difference"]["max"], 2);
    assert_eq!(deadline["difference"]["accounts"], deadlines.len());

    let required = changed_pairs(&changed, "promise_outcome", "required");
    let amount = |v: &Json| Decimal::from_str(v.as_str().unwrap()).unwrap();
    let differences: Vec<Decimal> = required
        .iter()
        .map(|(_, old, new)| amount(new) - amount(old))
        .collect();
    let (min, max) = (
        *differences.iter().min().unwrap(),
        *differences.iter().max().unwrap(),
    );
    assert!(min < max && max < Decimal::ZERO, "{differences:?}");
    let sum: Decimal = differences.iter().sum();
    let spread = &field_change(&report, "promise_outcome", "required")["difference"];
    assert_eq!(spread["unit"], "money");
    assert_eq!(spread["accounts"], required.len());
    assert_eq!(amount(&spread["min"]), min);
    assert_eq!(amount(&spread["max"]), max);
    assert_eq!(amount(&spread["total"]), sum);
    assert_eq!(spread["increased"], 0);
    assert_eq!(spread["decreased"], required.len());

    let o = arrears(&[
        "diff",
        "--base",
        "rules",
        "--rules",
        p(&looser),
        "--as-of",
        AS_OF,
        p(&extract),
    ]);
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "       by +2 days on {} accounts\n",
            deadlines.len()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "       by {min} to {max} ({} down; total {sum}) on {} accounts\n",
            required.len(),
            required.len()
        )),
        "{text}"
    );
}

/// The shipped rules with one more flag table, `fee_flags`, whose one row
/// (accounts 5 days or more past due) writes a `rate` percent and a `days` integer.
fn rules_with_fee_flag(dir: &Path, name: &str, rate: &str, days: u32) -> PathBuf {
    let rules = dir.join(name);
    copy_dir(&common::root().join("rules"), &rules);
    std::fs::write(
        rules.join("fee_flags.yaml"),
        format!(
            "table: fee_flags\nhit: rule_order\ninputs:\n  dpd: account.days_past_due\noutputs:\n  flag: treatment_flag\n  rate: decimal\n  days: integer\nrows:\n  - {{ id: late-fee, when: {{ dpd: \">= 5\" }}, then: {{ flag: senior_agent, rate: {rate}, days: {days} }} }}\n"
        ),
    )
    .unwrap();
    let policy = rules.join("policy.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert_eq!(text.matches("flags: [treatment_flags]").count(), 1);
    std::fs::write(
        &policy,
        text.replace(
            "flags: [treatment_flags]",
            "flags: [treatment_flags, fee_flags]",
        ),
    )
    .unwrap();
    rules
}

/// Analyst 3 items 1 and 2: a flag's outputs are compared one by one, a
/// percent as its row writes it (`2% -> 5%`, by +3 percentage points) and an
/// integer by its difference; `dry-run` shows the flag's percent as written
/// too, not as the fraction the table computes with.
#[test]
fn a_flag_percent_and_integer_say_by_how_much() {
    let dir = tempfile::tempdir().unwrap();
    let base = rules_with_fee_flag(dir.path(), "base", "2%", 10);
    let new = rules_with_fee_flag(dir.path(), "new", "5%", 14);
    let o = arrears(&[
        "dry-run",
        "--rules",
        p(&base),
        "--as-of",
        AS_OF,
        "--account",
        "card-arrears-7dpd",
        "samples/accounts.yaml",
    ]);
    assert!(
        stdout(&o).contains(
            " flag table=fee_flags flag=senior_agent rate=2% days=10  <- fee_flags:late-fee\n"
        ),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let (code, report, err) = diff(&[
        "--base",
        p(&base),
        "--rules",
        p(&new),
        "samples/accounts.yaml",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let flagged = report["accounts"]["changed"].as_u64().unwrap();
    assert!(flagged > 3, "{report}");
    let rate = field_change(&report, "flag", "values.rate");
    assert_eq!(rate["accounts"], flagged);
    assert_eq!(
        rate["values"],
        serde_json::json!([{ "old": "2%", "new": "5%", "accounts": flagged }])
    );
    assert_eq!(
        rate["difference"],
        serde_json::json!({
            "unit": "percentage_points", "accounts": flagged, "values": flagged, "min": "3", "max": "3",
            "total": (3 * flagged).to_string(), "increased": flagged, "decreased": 0,
        })
    );
    let days = field_change(&report, "flag", "values.days");
    assert_eq!(days["difference"]["unit"], "integer");
    assert_eq!(days["difference"]["min"], 4);
    assert_eq!(days["difference"]["total"], 4 * flagged);
    let o = arrears(&[
        "diff",
        "--base",
        p(&base),
        "--rules",
        p(&new),
        "--as-of",
        AS_OF,
        "samples/accounts.yaml",
    ]);
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "       by +3 percentage points on {flagged} accounts\n       2% -> 5%  ({flagged})\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "       by +4 on {flagged} accounts\n       10 -> 14  ({flagged})\n"
        )),
        "{text}"
    );
    // The same rate written as a fraction makes the same actions: nothing changed.
    let fraction = rules_with_fee_flag(dir.path(), "fraction", "0.02", 10);
    let (code, report, err) = diff(&[
        "--base",
        p(&base),
        "--rules",
        p(&fraction),
        "samples/accounts.yaml",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["accounts"]["changed"], 0);
}

/// One card account as of 2026-12-10: a $212 promise due 2026-11-06, unpaid,
/// broken at its deadline 11-09 under the 3 days' grace of its day; a written
/// dispute withholds its letter, pending since. `outcome` is the id of the
/// case's event recording the outcome.
fn broken_promise_account(id: &str, outcome: &str) -> String {
    format!(
        "- id: {id}
  customer_class: residential
  jurisdiction: IL
  product: card
  days_past_due: 43
  arrears: '212.00'
  balance: '6480.12'
  credit_limit: '8000.00'
  risk_score: 701
  bankruptcy: false
  deceased: false
  hardship: false
  contact_invalid: false
  forced: false
  budget_plan_active: false
  pay_plan: {{active: false, scheduled_due: '0.00'}}
  last_payment_date: '2026-09-28'
  written_dispute_date: '2026-11-05'
  promises:
  - {{id: P-1, amount: '212.00', due_date: '2026-11-06', payments: []}}
  dispositions: []
  service_agreements:
  - {{id: {id}-01, type: card, debt_class: consumer_credit, arrears: '212.00', life_support: false, sensitive_load: false, master_meter: false}}
  case:
    category: arrears
    class: card_early
    template: card_early_std
    start_date: '2026-11-02'
    events:
    - {{id: '{outcome}', type: custom, date: '2026-11-10', status: done}}
    - {{id: promise-P-1-send_letter, type: send_letter, date: '2026-12-10', status: pending}}
"
    )
}

/// A deploy that lengthens the card grace from 3 days to 10 moves nothing
/// for a promise whose case recorded its outcome with the deadline that
/// decided it: neither the reported deadline nor the follow-up (31 days after
/// 11-09, the withheld letter is given up as history on both sides). A case
/// recorded before the figures were (the bare `promise-P-1-broken`) falls
/// back to today's terms: its deadline becomes 11-16 and its letter is kept.
#[test]
fn a_promise_outcome_recorded_with_its_deadline_is_not_moved_by_a_later_grace() {
    let dir = tempfile::tempdir().unwrap();
    let longer = rules_edited(
        dir.path(),
        "longer-grace",
        "promise_terms.yaml",
        "tolerance_rule: amount, plan_tolerance: per_instalment, grace_days: 3,",
        "tolerance_rule: amount, plan_tolerance: per_instalment, grace_days: 10,",
    );
    let accounts = dir.path().join("broken.yaml");
    std::fs::write(
        &accounts,
        broken_promise_account(
            "recorded",
            "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=0.00",
        ) + &broken_promise_account("bare", "promise-P-1-broken"),
    )
    .unwrap();
    let (code, report, err) = diff_on(
        "2026-12-10",
        &["--base", "rules", "--rules", p(&longer), p(&accounts)],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["accounts"]["changed"], 1, "{report:#}");
    let examples: Vec<&str> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["examples"].as_array().unwrap())
        .filter_map(|e| e.as_str())
        .collect();
    assert!(examples.iter().all(|e| *e == "bare"), "{report:#}");
    let deadline = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "promise_outcome" && a["field"] == "deadline")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        deadline["values"],
        serde_json::json!([{ "old": "2026-11-09", "new": "2026-11-16", "accounts": 1 }]),
        "{report:#}"
    );
    assert!(
        report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "cancel_event"),
        "the bare case's letter is no longer given up: {report:#}"
    );
}

/// A payment plan's instalments are compared one by one, not as two JSON
/// lists: the first instalment due 7 days later on a three-instalment offer
/// is `offer_payment_plan.instalments[1].due`, by how many days, in text,
/// JSON and HTML; the instalments that did not move are not listed.
#[test]
fn a_moved_instalment_is_named_with_its_difference() {
    let dir = tempfile::tempdir().unwrap();
    let later = rules_edited(
        dir.path(),
        "later",
        "payment_plan_offer.yaml",
        "then: { instalments: 3, amount: arrears, first_due_in: 7 }",
        "then: { instalments: 3, amount: arrears, first_due_in: 14 }",
    );
    let extract = generate(dir.path(), "book.csv", 1500, 7, &[]);
    let (code, report, err) = diff(&["--base", "rules", "--rules", p(&later), p(&extract)]);
    assert_eq!(code, Some(1), "{err}");
    let fields: BTreeSet<String> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "offer_payment_plan")
        .map(|a| a["field"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!fields.contains("instalments"), "{fields:?}");
    assert!(fields.contains("instalments[1].due"), "{fields:?}");
    assert!(!fields.iter().any(|f| f.ends_with(".amount")), "{fields:?}");
    let first = field_change(&report, "offer_payment_plan", "instalments[1].due");
    assert_eq!(first["difference"]["unit"], "days", "{first:#}");
    assert_eq!(first["difference"]["decreased"], 0, "{first:#}");
    assert!(
        first["difference"]["min"]
            .as_str()
            .map_or(first["difference"]["min"].as_i64(), |m| m
                .parse::<i64>()
                .ok())
            >= Some(7),
        "{first:#}"
    );
    let run = |format: &str| {
        let o = arrears(&[
            "diff",
            "--base",
            "rules",
            "--rules",
            p(&later),
            "--as-of",
            AS_OF,
            "--format",
            format,
            p(&extract),
        ]);
        stdout(&o)
    };
    let text = run("text");
    assert!(
        text.contains("     offer_payment_plan.instalments[1].due ")
            && !text.contains("[{\"amount\""),
        "{text}"
    );
    let page = run("html");
    assert!(
        page.contains("instalments[1].due") && !page.contains("[{&quot;amount"),
        "{page}"
    );
}

/// Tester 23 item 2: a promise terms row added above the one that decided a
/// recorded outcome does not take the credit for it: the recorded outcome's
/// action names the record (`case:recorded`), not today's row, so the
/// account does not count as changed; one the case holds no outcome for is
/// judged under the new row, and moves.
#[test]
fn a_recorded_outcome_is_not_credited_to_a_row_added_since() {
    let dir = tempfile::tempdir().unwrap();
    let generous = rules_edited(
        dir.path(),
        "generous",
        "promise_terms.yaml",
        "  - id: consumer\n",
        "  - id: card-generous
    description: Cards; $10 tolerance, 5 days grace.
    when: { product: card }
    then: { tolerance_amount: $10, tolerance_percent: 0%, tolerance_rule: amount, plan_tolerance: per_instalment, grace_days: 5, grace_business_days: \"false\" }

  - id: consumer\n",
    );
    let accounts = dir.path().join("promises.yaml");
    let recorded = "[{id: 'promise-P-1-kept;deadline=2026-11-23;required=209.00;paid=209.00', type: custom, date: '2026-11-23', status: done}]";
    std::fs::write(
        &accounts,
        promise_account("recorded", recorded) + &promise_account("not-recorded", "[]"),
    )
    .unwrap();
    let changed = dir.path().join("changed.jsonl");
    let (code, report, err) = diff_on(
        "2026-12-01",
        &[
            "--base",
            "rules",
            "--rules",
            p(&generous),
            "--changed",
            p(&changed),
            p(&accounts),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["accounts"]["changed"], 1, "{report:#}");
    let changed = std::fs::read_to_string(&changed).unwrap();
    assert!(changed.contains("\"not-recorded\""), "{changed}");
    let rules = field_change(&report, "promise_outcome", "rules");
    assert!(!rules.to_string().contains("\"recorded\""), "{rules:#}");
    let dry_run = arrears(&[
        "dry-run",
        "--rules",
        p(&generous),
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
        p(&accounts),
    ]);
    let out = stdout(&dry_run);
    let runs: Json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let outcome_rules = |account: &str| -> Json {
        let run = runs["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"] == account)
            .unwrap_or_else(|| panic!("no {account} in {out}"));
        let actions = run["actions"].as_array().unwrap();
        let outcome = actions
            .iter()
            .find(|a| a["type"] == "promise_outcome")
            .unwrap();
        outcome["rules"].clone()
    };
    assert_eq!(
        outcome_rules("recorded"),
        serde_json::json!(["case:recorded"]),
        "{out}"
    );
    assert_eq!(
        outcome_rules("not-recorded"),
        serde_json::json!(["promise_terms:card-generous"]),
        "{out}"
    );
}

//! `arrears doc --out DIR`: the static policy site. What the pages say, that
//! rule text is escaped, that every link resolves inside the site, the output
//! directory's safety, and (in headless Chromium, `browser.rs`) that every
//! page loads without a console message and the entry table renders its rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::browser::{Browser, Png};
use crate::common::{arrears, copy_dir, root, stderr, stdout};

/// Writes the site of `rules` into a new directory under `tmp`, with `extra` arguments.
fn site(tmp: &Path, rules: &Path, extra: &[&str]) -> PathBuf {
    let out = tmp.join("site");
    let mut args = vec![
        "doc",
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = arrears(&args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    out
}

fn shipped_site(tmp: &Path) -> PathBuf {
    site(tmp, Path::new("rules"), &[])
}

fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    pages.sort();
    pages
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The shipped rules with a row description and a row comment that hold
/// markup and a rule reference.
fn hostile_rules(tmp: &Path) -> PathBuf {
    let rules = tmp.join("rules");
    copy_dir(&root().join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = read(&entry).replace(
        "  - id: special-bankruptcy\n    description: >-\n      Bankruptcy filed.",
        "  # Comment <img src=x onerror=alert(2)> before entry:special-deceased\n  - id: special-bankruptcy\n    description: >-\n      Bankruptcy <script>alert(1)</script> filed, see collection_class:card-early.",
    );
    assert!(
        text.contains("<script>alert(1)</script>"),
        "fixture edit applied"
    );
    std::fs::write(&entry, text).unwrap();
    rules
}

/// Every `id` and every `href` of a page, parsed as HTML.
fn ids_and_hrefs(html: &str) -> (BTreeSet<String>, Vec<String>) {
    let dom = tl::parse(html, tl::ParserOptions::default()).expect("parse html");
    let parser = dom.parser();
    let mut ids = BTreeSet::new();
    let mut hrefs = Vec::new();
    for node in dom.nodes() {
        let Some(tag) = node.as_tag() else { continue };
        let attrs = tag.attributes();
        if let Some(Some(id)) = attrs.get("id") {
            ids.insert(id.as_utf8_str().into_owned());
        }
        if let Some(Some(href)) = attrs.get("href") {
            hrefs.push(href.as_utf8_str().into_owned());
        }
        let name = tag.name().as_utf8_str().to_ascii_lowercase();
        assert!(
            name != "script" && attrs.get("src").is_none(),
            "a page has a <{name}> with a script or a source to load: {}",
            tag.outer_html(parser)
        );
    }
    (ids, hrefs)
}

#[test]
fn every_link_is_internal_and_resolves() {
    let tmp = tempfile::tempdir().unwrap();
    let out = site(tmp.path(), &hostile_rules(tmp.path()), &[]);
    let parsed: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = pages(&out)
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, ids_and_hrefs(&read(p)))
        })
        .collect();
    let mut checked = 0;
    for (page, (_, hrefs)) in &parsed {
        for href in hrefs {
            assert!(
                !href.contains("//") && !href.contains(':') && !href.starts_with('/'),
                "{page}: `{href}` is not a link inside the site"
            );
            let (file, anchor) = href.split_once('#').unwrap_or((href, ""));
            let file = if file.is_empty() { page.as_str() } else { file };
            let (target_ids, _) = parsed
                .get(file)
                .unwrap_or_else(|| panic!("{page}: `{href}` names no page of the site"));
            assert!(
                anchor.is_empty() || target_ids.contains(anchor),
                "{page}: `{href}`: {file} has no id `{anchor}`"
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} links checked");
    // Every row of every table has its anchor on its table's page, and the
    // rule references in text link to them.
    let loaded = arrears::policy::load(&root().join("rules")).unwrap();
    let policy = loaded.policy.expect("shipped policy");
    for ct in &policy.plan.tables {
        let file = format!("table-{}.html", ct.table.name);
        let (ids, _) = &parsed[&file];
        for row in &ct.table.rows {
            assert!(
                ids.contains(&format!("row-{}", row.id)),
                "{file}: row {}",
                row.id
            );
        }
    }
    let entry = read(&out.join("table-entry.html"));
    assert!(entry.contains(r#"<a class="ref" href="table-collection_class.html#row-card-early">collection_class:card-early</a>"#));
    assert!(entry.contains(
        r#"<a class="ref" href="table-entry.html#row-special-deceased">entry:special-deceased</a>"#
    ));
    let experiments = read(&out.join("experiments.html"));
    assert!(experiments.contains(r#"<tr id="arm-card_early_letters--soft_letter">"#));
    assert!(experiments.contains(r##"<a href="templates.html#template-card_early_soft">"##));
}

#[test]
fn rule_text_is_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = site(tmp.path(), &hostile_rules(tmp.path()), &[]);
    let entry = read(&out.join("table-entry.html"));
    assert!(entry.contains("Bankruptcy &lt;script&gt;alert(1)&lt;/script&gt; filed"));
    assert!(entry.contains("Comment &lt;img src=x onerror=alert(2)&gt; before"));
    for page in pages(&out) {
        let html = read(&page).to_ascii_lowercase();
        assert!(!html.contains("<script"), "{}", page.display());
        assert!(!html.contains("<img"), "{}", page.display());
    }
}

#[test]
fn tables_show_rows_outputs_comments_and_coverage() {
    let tmp = tempfile::tempdir().unwrap();
    let out = site(
        tmp.path(),
        &root().join("rules"),
        &[
            "--tests",
            root().join("rules/tests/entry.yaml").to_str().unwrap(),
        ],
    );
    let entry = read(&out.join("table-entry.html"));
    // Canonical cells and outputs, the heat column, the comment above a row.
    assert!(entry.contains("<th class=\"in\">dpd</th>"), "{entry}");
    assert!(entry.contains("<code>&gt;= 5</code>"), "{entry}");
    assert!(
        entry.contains("<code>&quot;"),
        "text outputs quoted: {entry}"
    );
    assert!(entry.contains("title=\"fires in "), "{entry}");
    assert!(
        !entry.contains("class=\"cov never\""),
        "entry's own tests fire every entry row"
    );
    // Only entry's tests ran: some severance rows never fired (the whole
    // suite fires every row, below).
    let severance = read(&out.join("table-sa_severance.html"));
    assert!(severance.contains("class=\"cov never\""), "{severance}");
    let full = site(&tmp.path().join("full"), &root().join("rules"), &[]);
    assert!(!read(&full.join("table-sa_severance.html")).contains("class=\"cov never\""));
    let index = read(&out.join("index.html"));
    assert!(index.contains("<svg class=\"pipeline\""));
    assert!(index.contains(r#"<a href="table-entry.html"><rect"#));
    assert!(index.contains("rules/tests/entry.yaml"));
    // Without tests, no heat column.
    let bare = tmp.path().join("bare");
    let o = arrears(&["doc", "--no-tests", "--out", bare.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!read(&bare.join("table-entry.html")).contains("class=\"cov"));
}

#[test]
fn templates_are_dated_on_their_calendar() {
    let tmp = tempfile::tempdir().unwrap();
    let out = shipped_site(tmp.path());
    let templates = read(&out.join("templates.html"));
    // From a Sunday 2026-11-22 start, card_early_soft's day 4 is Thanksgiving
    // (moved to Friday) and day 6 a Saturday (moved to Monday).
    let row = |id: &str| {
        let start = templates
            .find(&format!("<tr id=\"event-card_early_soft--{id}\">"))
            .unwrap_or_else(|| panic!("no event {id}"));
        templates[start..start + templates[start..].find("</tr>").unwrap()].to_string()
    };
    assert!(
        row("friendly-sms").contains("<td>2026-11-27 Fri</td>"),
        "{}",
        row("friendly-sms")
    );
    assert!(row("courtesy-call").contains("<td>2026-11-30 Mon</td>"));
    assert!(templates.contains("<svg class=\"timeline\""));
    let other = tmp.path().join("other");
    let o = arrears(&[
        "doc",
        "--no-tests",
        "--start",
        "2027-01-04",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read(&other.join("templates.html")).contains("2027-01-04"));
}

#[test]
fn output_directory_is_only_ours() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let run = || arrears(&["doc", "--no-tests", "--out", out.to_str().unwrap()]);
    // A non-empty directory that no run wrote is refused, untouched.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not empty and is not an earlier `arrears doc` output"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    // An earlier output is rewritten; a file of the user's beside it is kept;
    // a page the site no longer has is removed.
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    assert!(run().status.success());
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let stale = out.join("table-gone.html");
    std::fs::write(
        &stale,
        format!(
            "{}\nold",
            read(&out.join("index.html"))
                .lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .unwrap();
    let manifest = out.join(".arrears-doc");
    std::fs::write(&manifest, format!("{}table-gone.html\n", read(&manifest))).unwrap();
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("removed 1 page(s)"), "{}", stdout(&o));
    assert!(!stale.exists());
    assert_eq!(read(&out.join("notes.txt")), "mine");
    // A page the user replaced with their own file is not overwritten.
    std::fs::write(out.join("schema.html"), "my schema notes").unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("schema.html` exists and was not written by `arrears doc`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(&out.join("schema.html")), "my schema notes");
    #[cfg(unix)]
    {
        // A link where a page goes is not followed.
        let outside = tmp.path().join("outside.html");
        std::fs::write(&outside, "outside").unwrap();
        std::fs::remove_file(out.join("schema.html")).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("schema.html")).unwrap();
        assert_eq!(run().status.code(), Some(2));
        assert_eq!(read(&outside), "outside");
        // Nor is the directory itself a link.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        let o = arrears(&["doc", "--no-tests", "--out", link.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("is a symbolic link"), "{}", stderr(&o));
    }
}

/// A run stopped part way (here by a file-size limit, as a full disk would
/// stop it) leaves a directory the next run takes as its own: it completes the
/// site and leaves no partial file.
#[cfg(unix)]
#[test]
fn a_run_stopped_part_way_can_be_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let limited = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f 16 && exec '{}' doc --no-tests --out '{}'",
            env!("CARGO_BIN_EXE_arrears"),
            out.display()
        ))
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!limited.status.success(), "{}", stderr(&limited));
    let o = arrears(&["doc", "--no-tests", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names, vec![".arrears-doc"]);
    assert!(read(&out.join("index.html")).contains("</html>"));
}

#[test]
fn bad_rules_and_tests_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    std::fs::write(
        rules.join("entry.yaml"),
        read(&rules.join("entry.yaml")).replace("hit: first", "hit: firstt"),
    )
    .unwrap();
    let out = tmp.path().join("site");
    let o = arrears(&[
        "doc",
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!out.exists());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = arrears(&[
        "doc",
        "--tests",
        empty.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no test documents"), "{}", stderr(&o));
}

#[test]
fn pages_load_in_chromium_without_console_messages() {
    let Some(browser) = Browser::find_or_skip("pages_load_in_chromium_without_console_messages")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let shipped = shipped_site(&tmp.path().join("shipped"));
    let hostile = site(
        &tmp.path().join("hostile"),
        &hostile_rules(&tmp.path().join("hostile")),
        &[],
    );
    // A control page with the site's policy and an inline script: the
    // browser must report it, or this test could not fail.
    let control = tmp.path().join("control.html");
    let index = read(&shipped.join("index.html"));
    std::fs::write(
        &control,
        index.replace("</main>", "<script>document.title='ran'</script></main>"),
    )
    .unwrap();
    let mut all = pages(&shipped);
    all.push(hostile.join("table-entry.html"));
    all.push(control.clone());
    let refs: Vec<&Path> = all.iter().map(PathBuf::as_path).collect();
    let messages = browser.console(&refs);
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
}

#[test]
fn entry_table_renders_its_rows_in_chromium() {
    let Some(browser) = Browser::find_or_skip("entry_table_renders_its_rows_in_chromium") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = shipped_site(tmp.path());
    let page = out.join("table-entry.html");
    // The DOM the browser built holds every row of the entry table, in order.
    let dom = browser.dom(&page);
    let loaded = arrears::policy::load(&root().join("rules")).unwrap();
    let policy = loaded.policy.expect("shipped policy");
    let entry = &policy.plan.tables[policy.roles.entry.table as usize].table;
    let mut at = 0;
    for row in &entry.rows {
        let found = dom[at..]
            .find(&format!("<tr id=\"row-{}\">", row.id))
            .unwrap_or_else(|| panic!("row {} not in the DOM (in order)", row.id));
        at += found + 1;
    }
    // The screenshot shows them: many non-background pixels where the rows are.
    let png = tmp.path().join("entry.png");
    let (width, height) = (1400, 1100);
    browser.screenshot(&page, &png, width, height);
    let image = Png::read(&png);
    assert_eq!((image.width, image.height), (width, height));
    let white = [255, 255, 255, 255];
    let header = image.count_not(white, 0..width, 0..30);
    let rows_area = image.count_not(white, 0..width, 300..height);
    assert!(header > 30_000, "the header bar is drawn ({header} pixels)");
    assert!(
        rows_area > 60_000,
        "the rows are drawn ({rows_area} non-white pixels below y=300)"
    );
}

/// The screenshot in the docs, `docs/img/policy-site.png`: the shipped site's
/// index page (the pipeline with its guard rails lane) at 1400 × 1100.
const SCREENSHOT: &str = "docs/img/policy-site.png";
/// The sha256 of the index page the screenshot was taken of.
const SCREENSHOT_SOURCE: &str = "docs/img/policy-site.png.sha256";
/// How to take it again (docs/doc-site.md says the same).
const SCREENSHOT_COMMAND: &str =
    "cargo test --test it -- --ignored doc_site::regenerate_the_policy_site_screenshot";

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The shipped site's index page, as `arrears doc` writes it now.
fn shipped_index(tmp: &Path) -> Vec<u8> {
    std::fs::read(shipped_site(tmp).join("index.html")).unwrap()
}

/// The screenshot cannot go stale unnoticed: it records the page it shows,
/// and a change to that page (a new lane, a renamed area) fails here, with
/// the command that takes it again. No browser needed.
#[test]
fn the_policy_site_screenshot_shows_the_current_index_page() {
    let tmp = tempfile::tempdir().unwrap();
    let now = sha256_hex(&shipped_index(tmp.path()));
    let recorded = std::fs::read_to_string(root().join(SCREENSHOT_SOURCE)).unwrap_or_default();
    assert_eq!(
        recorded.trim(),
        now,
        "{SCREENSHOT} was taken of another index page than `arrears doc` writes for the shipped rules now; take it again (needs Chromium): {SCREENSHOT_COMMAND}"
    );
}

/// Takes the screenshot in the docs again and records the page it shows.
/// Ignored: it writes into the repository and needs Chromium (it fails without one).
#[test]
#[ignore = "writes docs/img/policy-site.png; run it when the index page changes"]
fn regenerate_the_policy_site_screenshot() {
    let browser = Browser::find().expect("a Chromium to take the screenshot with");
    let tmp = tempfile::tempdir().unwrap();
    let index = shipped_index(tmp.path());
    let page = tmp.path().join("site/index.html");
    let png = tmp.path().join("index.png");
    let (width, height) = (1400, 1100);
    browser.screenshot(&page, &png, width, height);
    let image = Png::read(&png);
    assert_eq!((image.width, image.height), (width, height));
    let drawn = image.count_not([255, 255, 255, 255], 0..width, 30..height);
    assert!(
        drawn > 20_000,
        "the pipeline is drawn ({drawn} non-white pixels)"
    );
    std::fs::copy(&png, root().join(SCREENSHOT)).unwrap();
    std::fs::write(
        root().join(SCREENSHOT_SOURCE),
        format!("{}\n", sha256_hex(&index)),
    )
    .unwrap();
}

#[test]
fn rules_without_a_policy_get_their_tables_and_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let out = site(
        tmp.path(),
        Path::new("tests/fixtures/analysis/unused_field"),
        &[],
    );
    let index = read(&out.join("index.html"));
    assert!(!index.contains("<svg class=\"pipeline\""));
    assert!(index.contains("No tests were run"));
    assert!(
        index.contains(r#"<a href="table-route.html"><code>route</code></a>"#),
        "{index}"
    );
    assert!(read(&out.join("templates.html")).contains("no policy"));
}

/// Effective-dated rules (a row in two versions) give the site of the rules in
/// force on `--as-of` (default `--start`), which the index names, with the
/// coverage of the test documents of those days only.
#[test]
fn effective_dated_rules_give_the_site_of_one_day() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    let path = rules.join("collection_class.yaml");
    let row = "  - id: card-early\n    description: Card 1-59 DPD; champion early treatment (experiment card_early_letters).\n    when: { category: arrears, product: card, bucket: \"b1_29, b30_59\" }\n    then: { class: '\"card_early\"', template: '\"card_early_std\"' }\n";
    let text = read(&path);
    assert!(text.contains(row), "the shipped card-early row changed");
    let versions = format!(
        "{row}    effective: {{ until: 2026-12-31 }}\n{}    effective: {{ from: 2027-01-01 }}\n",
        row.replace("card_early_std", "card_early_soft")
    );
    std::fs::write(&path, text.replace(row, &versions)).unwrap();
    let page = |site: &Path| read(&site.join("table-collection_class.html"));
    let now = site(tmp.path(), &rules, &[]);
    assert!(page(&now).contains("card_early_std"));
    let index = read(&now.join("index.html"));
    assert!(
        index.contains("rules in force on <strong>2026-11-22</strong>"),
        "{index}"
    );
    assert!(
        index.contains("row collection_class:card-early (until 2026-12-31)"),
        "{index}"
    );
    assert!(index.contains("300 test case(s)"), "{index}");
    std::fs::remove_dir_all(&now).unwrap();
    let later = site(tmp.path(), &rules, &["--as-of", "2027-01-01"]);
    assert!(!page(&later).contains("card_early_std"));
    let index = read(&later.join("index.html"));
    assert!(
        index.contains("rules in force on <strong>2027-01-01</strong>"),
        "{index}"
    );
    // Only the cases dated in that period (2027) run: guard_winter's six.
    assert!(index.contains("6 test case(s) from"), "{index}");
}

/// Tester 12 item 15: at 1300 px wide no page of the shipped site scrolls
/// sideways (the pipeline picture wraps a long lane and scales to the page),
/// and the picture holds every guard rail, each linking to its table.
#[test]
fn pages_fit_a_1300_px_window_and_the_pipeline_shows_the_guard_rails() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = shipped_site(tmp.path());
    let index = read(&shipped.join("index.html"));
    let svg = &index[index.find("<svg class=\"pipeline\"").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let mut guards = Vec::new();
    for e in std::fs::read_dir(root().join("rules/guardrails")).unwrap() {
        let text = read(&e.unwrap().path());
        let line = text
            .lines()
            .find(|l| l.starts_with("guardrails: "))
            .unwrap();
        guards.push(line["guardrails: ".len()..].trim().to_string());
    }
    assert!(guards.len() >= 5, "{guards:?}");
    for g in &guards {
        assert!(
            svg.contains(&format!("<a href=\"table-{g}.html\"><rect"))
                && svg.contains(&format!("<title>guard rail: table {g}")),
            "guard rail {g} missing from {svg}"
        );
    }
    // Every box lies inside the picture, whose drawn width fits the page.
    let number = |s: &str, key: &str| -> i64 {
        let at = s.find(&format!(" {key}=\"")).unwrap() + key.len() + 3;
        s[at..at + s[at..].find('"').unwrap()].parse().unwrap()
    };
    let width = number(svg, "width");
    assert!(width <= 1240, "the picture is {width} px wide");
    for rect in svg.split("<rect").skip(1) {
        assert!(number(rect, "x") + number(rect, "width") <= width, "{rect}");
    }
    assert!(svg.contains(">severance</text>"), "{svg}");

    let Some(browser) = Browser::find_or_skip("pages_fit_a_1300_px_window") else {
        return;
    };
    // Each page, without its content security policy and with a script that
    // writes the document's scroll width and the window's width into the DOM.
    let probe = tmp.path().join("probe");
    std::fs::create_dir(&probe).unwrap();
    for page in pages(&shipped) {
        let html = read(&page);
        let csp_start = html
            .find("<meta http-equiv=\"Content-Security-Policy\"")
            .unwrap();
        let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
        let measured = format!("{}{}", &html[..csp_start], &html[csp_end..]).replace(
            "</body>",
            "<script>document.body.setAttribute('data-widths', document.documentElement.scrollWidth + ' ' + document.documentElement.clientWidth)</script></body>",
        );
        let at = probe.join(page.file_name().unwrap());
        std::fs::write(&at, measured).unwrap();
        let dom = browser.dom_at(&at, 1300, 900);
        let start = dom
            .find("data-widths=\"")
            .unwrap_or_else(|| panic!("{dom}"))
            + 13;
        let widths: Vec<i64> = dom[start..start + dom[start..].find('"').unwrap()]
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(
            widths[0] <= widths[1],
            "{} scrolls sideways at 1300 px: {} px of content in {} px",
            page.display(),
            widths[0],
            widths[1]
        );
    }
}

/// Tester 12 item 15: `--as-of` alone dates the templates from that day (the
/// start defaults to it), not from a default start when those rules were not
/// yet in force; a `--start` in another period of the dated rules is refused.
#[test]
fn the_example_start_defaults_to_the_as_of_day() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    let path = rules.join("templates/card_early_std.yaml");
    let text = read(&path);
    let dated = text.replace(
        "template: card_early_std\n",
        "template: card_early_std\neffective: { from: 2027-01-01 }\n",
    );
    assert_ne!(dated, text, "the shipped template's first line moved");
    std::fs::write(&path, &dated).unwrap();
    // Before 2027 the class table's template does not exist: the old version.
    std::fs::write(
        rules.join("templates/card_early_std_2026.yaml"),
        text.replace(
            "template: card_early_std\n",
            "template: card_early_std\neffective: { until: 2026-12-31 }\n",
        ),
    )
    .unwrap();
    let started = |site: &Path| {
        let page = read(&site.join("templates.html"));
        let at = page.find("case started on <strong>").unwrap() + 24;
        page[at..at + 10].to_string()
    };
    let later = site(tmp.path(), &rules, &["--as-of", "2027-02-01", "--no-tests"]);
    assert_eq!(started(&later), "2027-02-01");
    std::fs::remove_dir_all(&later).unwrap();
    let o = arrears(&[
        "doc",
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        later.to_str().unwrap(),
        "--as-of",
        "2027-02-01",
        "--start",
        "2026-11-22",
        "--no-tests",
    ]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: --start 2026-11-22 falls where other effective-dated rules are in force than on --as-of 2027-02-01"),
        "{}",
        stderr(&o)
    );
    assert!(!later.exists(), "nothing written");
    // A start in the same period is the user's choice; without either, the default.
    let chosen = site(
        &tmp.path().join("chosen"),
        &rules,
        &[
            "--as-of",
            "2027-02-01",
            "--start",
            "2027-01-04",
            "--no-tests",
        ],
    );
    assert_eq!(started(&chosen), "2027-01-04");
    let default = site(&tmp.path().join("default"), &rules, &["--no-tests"]);
    assert_eq!(started(&default), "2026-11-22");
}

//! `arrears diff --base OLD [--rules NEW] --as-of DATE ACCOUNTS`: finds the
//! base rules (a directory or a git revision: `super::base`), loads both
//! rule sets, opens the accounts as `dry-run` or `batch` would, and writes the
//! report. The comparison itself is `crate::diff`.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::builder::RangedU64ValueParser;

use super::batch::{
    companion_paths, csv_mapping, fields_required_as_columns, input_shown, leave_unread, Columns,
    ExtractArgs, FirstRejects, InFormat,
};
use super::output::{
    failed_output, is_std, output_name, read_files, refuse_inside_read_dirs, refuse_inside_rules,
    refuse_same_files, remove_partials_on_signal, what_became, written_files, Asked, NamedWriter,
    Output,
};
use super::rules::Rules;
use super::{error_line, parse_date, Exit};
use crate::data::batch::{self, CsvSource, InputFormat, JsonlSource, Mapping};
use crate::diff::{RulesLabel, Side};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    #[default]
    #[value(alias = "human")]
    Text,
    Json,
    Html,
}

/// The most example account ids per changed cell.
const MAX_EXAMPLES: u64 = 1000;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The base (old) rules: a directory, or a git revision (`HEAD~1`, `main`) of the
    /// repository that holds the --rules directory, whose rules directory at that revision is compared.
    #[arg(long, value_name = "DIR|REVISION")]
    base: String,
    /// The new rules directory.
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// The evaluation date (YYYY-MM-DD) for both rule sets.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// The accounts: an accounts file or directory as `dry-run` reads, or an extract as
    /// `batch` reads (CSV with its mapping and companion files, or JSON Lines; `.gz` too).
    accounts: PathBuf,
    /// The report: aligned text, JSON (docs/diff.md), or one self-contained HTML page.
    #[arg(long, value_enum, default_value_t)]
    format: DiffFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, alias = "output", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write every changed account with its actions under both rule sets (JSON Lines).
    #[arg(long, value_name = "FILE")]
    changed: Option<PathBuf>,
    /// Rows that could not be decoded or failed under both rule sets (JSON Lines, as `batch --rejects`).
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Example account ids per changed cell (the smallest ids), 0 to 1000.
    #[arg(long, default_value_t = 5, value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_EXAMPLES))]
    examples: usize,
    #[command(flatten)]
    extract: ExtractArgs,
}

type Failed = (Exit, String);

pub fn run(args: &Args) -> Exit {
    match run_inner(args) {
        Ok(exit) => exit,
        Err((Exit::Usage, message)) => super::usage_error(message),
        Err((exit, message)) => {
            error_line(message);
            exit
        }
    }
}

/// The accounts as rows: an extract through the batch's readers, or an accounts file read whole.
enum Accounts {
    Extract(InputFormat),
    File,
}

fn accounts_kind(args: &Args) -> Result<Accounts, Failed> {
    match args.extract.input_format {
        Some(InFormat::Csv) => return Ok(Accounts::Extract(InputFormat::Csv)),
        Some(InFormat::Jsonl) => return Ok(Accounts::Extract(InputFormat::Jsonl)),
        None => {}
    }
    if is_std(&args.accounts) {
        return Err((
            Exit::Usage,
            "reading accounts from standard input (`-`) needs --input-format csv|jsonl".into(),
        ));
    }
    Ok(match batch::format_from_path(&args.accounts) {
        Some(format) if !args.accounts.is_dir() => Accounts::Extract(format),
        _ => Accounts::File,
    })
}

fn run_inner(args: &Args) -> Result<Exit, Failed> {
    let bad = |m: String| (Exit::BadInput, m);
    let kind = accounts_kind(args)?;
    let base = super::base::base_rules(&args.base, &args.rules).map_err(bad)?;
    let (base_dir, base_name) = (&base.dir, base.name.clone());
    // Each side's rules in force on the as-of date (effective dating).
    let load = |dir: &std::path::Path| Rules::load(dir).map_err(|e| bad(e.to_string()));
    let new_book = load(&args.rules)?;
    let old_book = load(base_dir)?.named(
        format!("of the base ({base_name})"),
        base.is_dir()
            .then(|| format!("arrears lint {}", base_dir.display())),
        base.shower(),
    );
    let (new_docs, old_docs) = (&new_book.docs, &old_book.docs);
    let new_policy = usable(
        &new_book,
        args.as_of,
        &format!("in `{}`", args.rules.display()),
    )?;
    let old_policy = usable(&old_book, args.as_of, &format!("of the base ({base_name})"))?;

    let schema_text = |docs: &crate::model::RuleDocs| -> Vec<String> {
        let mut texts: Vec<String> = docs.schemas.iter().map(|(f, _)| f.text.clone()).collect();
        texts.extend(docs.mappings.iter().map(|(f, _)| f.text.clone()));
        texts
    };
    let decode_twice = schema_text(new_docs) != schema_text(old_docs);
    let (mut new_mapping, mut old_mapping): (Option<Mapping>, Option<Mapping>) = (None, None);
    let mut companions = Vec::new();
    if let Accounts::Extract(InputFormat::Csv) = kind {
        let name = args.extract.mapping.as_deref();
        let mut new = csv_mapping(&args.rules, name, new_docs, new_policy.plan.schema())?;
        leave_unread(&mut new, &args.extract, Columns::All).map_err(|m| (Exit::Usage, m))?;
        companions = companion_paths(&args.accounts, &args.extract.companion, &new).map_err(bad)?;
        if decode_twice {
            // The base's own mapping, or the new one bound to the base's schema.
            let docs = if old_docs.mappings.is_empty() {
                new_docs
            } else {
                old_docs
            };
            let mut old = csv_mapping(base_dir, name, docs, old_policy.plan.schema())
                .map_err(|(exit, m)| (exit, format!("the base ({base_name}): {m}")))?;
            if old
                .lists
                .iter()
                .map(|l| &l.path)
                .ne(new.lists.iter().map(|l| &l.path))
            {
                return Err(bad(format!(
                    "the base ({base_name}) and `{}` map different companion lists; compare them with the same mapping",
                    args.rules.display()
                )));
            }
            leave_unread(&mut old, &args.extract, Columns::WhereMapped)
                .map_err(|m| (Exit::Usage, m))?;
            old_mapping = Some(old);
        }
        new_mapping = Some(new);
    }
    let companion_paths: Vec<std::path::PathBuf> =
        companions.iter().map(|c| c.path.clone()).collect();
    refuse_outputs_over_inputs(args, base_dir, new_mapping.as_ref(), &companion_paths)
        .map_err(|m| (Exit::Usage, m))?;

    let mut locations = None;
    let fields_not_seen = std::sync::Arc::default();
    let source: Box<dyn batch::RowSource> = match kind {
        Accounts::File => {
            let records = crate::data::accounts::read_accounts(&args.accounts)
                .map_err(|e| bad(e.to_string()))?;
            let (records, at) = crate::diff::Records::new(records);
            locations = Some(at);
            Box::new(records)
        }
        Accounts::Extract(format) => {
            let input: Box<dyn std::io::Read + Send> = if is_std(&args.accounts) {
                Box::new(std::io::stdin())
            } else {
                batch::open_input(&args.accounts).map_err(bad)?
            };
            match (format, new_mapping.as_mut()) {
                (InputFormat::Csv, Some(m)) => {
                    // The base mapping reads the same header (its columns are looked up by name).
                    m.input_is(input_shown(&args.accounts));
                    let source = CsvSource::open(input, m, &companions).map_err(bad)?;
                    if let Some(old) = old_mapping.as_mut() {
                        old.input_is(input_shown(&args.accounts));
                        bind_headers(old, &source.headers, &companion_paths)
                            .map_err(|e| bad(format!("the base ({base_name}): {e}")))?;
                    }
                    Box::new(source)
                }
                _ => Box::new(JsonlSource::new(input).expecting(
                    fields_required_as_columns(
                        args.extract.mapping.as_deref(),
                        new_docs,
                        new_policy.plan.schema(),
                    ),
                    std::sync::Arc::clone(&fields_not_seen),
                )),
            }
        }
    };

    remove_partials_on_signal().map_err(bad)?;
    let open = |what: &str, p: &Option<PathBuf>| -> Result<Option<Output>, Failed> {
        match p.as_deref().filter(|p| !is_std(p)) {
            Some(p) => Ok(Some(Output::open_as(what, p).map_err(bad)?)),
            None => Ok(None),
        }
    };
    let (mut out_file, mut changed_file, mut rejects_file) = (
        open("--out", &args.out)?,
        open("--changed", &args.changed)?,
        open("--rejects", &args.rejects)?,
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.extract.threads)
        .build()
        .map_err(|e| bad(format!("cannot start worker threads: {e}")))?;
    let settings = crate::diff::Settings {
        old: Side {
            policy: old_policy,
            mapping: old_mapping.as_ref().or(new_mapping.as_ref()),
        },
        new: Side {
            policy: new_policy,
            mapping: new_mapping.as_ref(),
        },
        decode_twice,
        as_of: args.as_of,
        examples: args.examples,
        chunk_rows: args.extract.chunk_rows,
        write_changed: changed_file.is_some(),
        locations: locations.as_ref(),
    };
    let mut changed_w: Box<dyn Write + Send> = match &mut changed_file {
        Some(f) => Box::new(NamedWriter::new(
            "--changed",
            args.changed.as_deref(),
            std::io::BufWriter::with_capacity(1 << 20, f.file()),
        )),
        None => Box::new(std::io::sink()),
    };
    let mut rejects_w: Box<dyn Write + Send> = match &mut rejects_file {
        Some(f) => Box::new(NamedWriter::new(
            "--rejects",
            args.rejects.as_deref(),
            std::io::BufWriter::with_capacity(1 << 20, f.file()),
        )),
        None => Box::new(FirstRejects::default()),
    };
    let result = crate::diff::run(&settings, source, &mut *changed_w, &mut *rejects_w, &pool);
    drop(changed_w);
    drop(rejects_w);
    // What a failed run leaves of the outputs asked for as files (whether
    // each is staged); before the run is `done`, nothing has gone to `--out`
    // yet (the report is written last).
    let files = [
        (
            "--out",
            args.out.as_deref(),
            out_file.as_ref().map(Output::is_staged),
        ),
        (
            "--changed",
            args.changed.as_deref(),
            changed_file.as_ref().map(Output::is_staged),
        ),
        (
            "--rejects",
            args.rejects.as_deref(),
            rejects_file.as_ref().map(Output::is_staged),
        ),
    ];
    let not_written = |failed: &str, done: bool| {
        let asked: Vec<Asked> = (files.iter())
            .filter_map(|&(what, path, staged)| {
                let untouched = staged? || (what == "--out" && !done);
                Some(Asked::new(what, path, untouched))
            })
            .collect();
        what_became(&asked, failed, done)
    };
    let (mut report, repeats) = result.map_err(|e| match e {
        batch::BatchError::Output(e) => {
            let failed = failed_output(&e).unwrap_or_default();
            bad(format!("cannot write {e}; {}", not_written(failed, false)))
        }
        e => bad(format!("{e}; {}", not_written("", false))),
    })?;
    report.input = args.accounts.display().to_string();
    if let Some(mapping) = &new_mapping {
        report.lists_not_read = mapping
            .lists
            .iter()
            .filter(|l| l.not_read)
            .map(|l| l.path.clone())
            .collect();
        report.columns_not_read = mapping.columns_not_read();
    }
    report.fields_not_seen = fields_not_seen.get().cloned();
    report.new = RulesLabel {
        rules: args.rules.display().to_string(),
        fingerprint: new_docs.fingerprint.clone(),
        effective: new_book.in_force_shown(args.as_of, &|f| f.to_string()),
    };
    report.old = RulesLabel {
        rules: base_name,
        fingerprint: old_docs.fingerprint.clone(),
        effective: old_book.in_force_shown(args.as_of, &|f| base.show(f)),
    };
    let rendered = match args.format {
        DiffFormat::Text => crate::diff::text(&report),
        DiffFormat::Json => {
            let mut text = serde_json::to_string_pretty(&report.json()).unwrap_or_default();
            text.push('\n');
            text
        }
        DiffFormat::Html => crate::diff::html(&report),
    };
    match &mut out_file {
        Some(f) => f.file().write_all(rendered.as_bytes()).map_err(|e| {
            bad(format!(
                "cannot write the report to {}: {e}; {}",
                output_name("--out", args.out.as_deref()),
                not_written("--out", true)
            ))
        })?,
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(rendered.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Ok(()) => {}
                Err(e) if super::is_closed_pipe(&e) => {}
                Err(e) => return Err(bad(format!("cannot write standard output: {e}"))),
            }
        }
    }
    for output in [out_file, changed_file, rejects_file].into_iter().flatten() {
        output.commit().map_err(bad)?;
    }
    if let Some((id, at)) = &repeats.first {
        eprintln!(
            "warning: {} rows repeat the account id of an earlier row (e.g. `{}` at {}); each was compared",
            repeats.rows,
            crate::diagnostic::printable(id),
            crate::diagnostic::printable(at)
        );
    }
    if report.rejected > 0 && args.rejects.is_none() {
        eprintln!(
            "{} rows rejected; give --rejects FILE to keep them",
            report.rejected
        );
    }
    if report.rows_read != report.compared + report.rejected {
        return Err((
            Exit::Unbalanced,
            format!(
                "rows read ({}) != compared ({}) + rejected ({})",
                report.rows_read, report.compared, report.rejected
            ),
        ));
    }
    Ok(if report.has_changes() {
        Exit::Findings
    } else if report.rejected > 0 {
        Exit::DiffIncomplete
    } else {
        Exit::Ok
    })
}

/// The policy in force on `date` of rules lint finds no error in, or exit 3
/// naming the first error.
fn usable<'a>(
    rules: &'a Rules,
    date: chrono::NaiveDate,
    name: &str,
) -> Result<&'a crate::policy::Policy, Failed> {
    let loaded = rules.runnable_on(date).map_err(|r| r.failed())?;
    loaded.policy.as_ref().ok_or_else(|| {
        (
            Exit::InvalidRules,
            format!("the rules {name} have no policy document; `arrears diff` compares policies"),
        )
    })
}

/// Binds the base's mapping to the header rows the extract's reader read.
fn bind_headers(
    old: &mut Mapping,
    headers: &[csv::StringRecord],
    companions: &[PathBuf],
) -> Result<(), String> {
    let mut problems: Vec<batch::HeaderError> = old.bind(&headers[0]).err().into_iter().collect();
    let read: Vec<usize> = old.read_lists().collect();
    for (n, (header, path)) in read.into_iter().zip(headers[1..].iter().zip(companions)) {
        problems.extend(
            old.bind_list(n, header, &format!("companion `{}`", path.display()))
                .err(),
        );
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(batch::header_errors(problems)),
    }
}

/// No output may replace an input (the accounts, a companion) or another output,
/// nor lie in either rules directory or the accounts directory.
fn refuse_outputs_over_inputs(
    args: &Args,
    base_dir: &std::path::Path,
    mapping: Option<&Mapping>,
    companions: &[PathBuf],
) -> Result<(), String> {
    let inputs = read_files(
        ("the accounts", &args.accounts),
        mapping
            .iter()
            .flat_map(|m| &m.lists)
            .map(|l| l.path.as_str()),
        companions,
        &[],
    );
    let outputs = written_files(&[
        ("--out", args.out.as_deref()),
        ("--changed", args.changed.as_deref()),
        ("--rejects", args.rejects.as_deref()),
    ]);
    refuse_same_files(&inputs, &outputs)?;
    refuse_inside_rules(&[&args.rules, base_dir], &outputs)?;
    // An accounts directory is read whole: a report there is an account next time.
    if args.accounts.is_dir() {
        refuse_inside_read_dirs(&[(&args.accounts, "accounts")], &outputs)?;
    }
    Ok(())
}

//! `arrears batch --rules DIR --as-of DATE [--out FILE] [--rejects FILE] [--summary FILE] INPUT`
//! It parses the command's arguments and reports; the batch itself is
//! `data::batch`.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::builder::RangedU64ValueParser;

use super::output::{
    failed_output, is_std, read_files, refuse_inside_rules, refuse_same_files,
    refuse_unreplaceable, remove_partials_on_signal, what_became, Asked, Named, NamedWriter,
    Output,
};
use super::{error_line, parse_date, Exit};
use crate::data::batch::{
    self, BatchError, CsvSource, InputFormat, JsonlSource, Mapping, OutputFormat,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InFormat {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    #[default]
    Jsonl,
    Csv,
}

/// How an extract is read and split over workers: the flags `batch` and `diff` share.
#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// Input format of an extract, when the extension does not tell (`-` needs it).
    #[arg(long, value_enum)]
    pub input_format: Option<InFormat>,
    /// The mapping document to use when the rules directory has several.
    #[arg(long)]
    pub mapping: Option<String>,
    /// A companion file for a mapped list: `NAME=PATH` (e.g. `service_agreements=sas.csv`).
    #[arg(long, value_name = "NAME=PATH")]
    pub companion: Vec<String>,
    /// A mapped list this extract has no companion file for (an older extract): it is
    /// read as empty for every account, and the summary warns (e.g. `contacts`).
    #[arg(long, value_name = "NAME")]
    pub no_companion: Vec<String>,
    /// A mapped column of an optional field this extract lacks (an older extract): the
    /// field is null for every account, and the summary warns (e.g. `TIME_ZONE`; a
    /// companion's column with its list: `service_agreements.SPACE_HEATING`).
    #[arg(long, value_name = "COLUMN")]
    pub no_column: Vec<String>,
    /// Worker threads, 1 to 1024 (default 0: one per core).
    #[arg(long, default_value_t = 0,
          value_parser = RangedU64ValueParser::<usize>::new().range(0..=batch::MAX_THREADS as u64))]
    pub threads: usize,
    /// Rows per chunk held in memory at a time, 1 to 1,000,000.
    #[arg(long, default_value_t = batch::CHUNK_ROWS,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=batch::MAX_CHUNK_ROWS as u64))]
    pub chunk_rows: usize,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory (with a policy, and a `mapping` document for CSV input).
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// The evaluation date (YYYY-MM-DD); rules never read the clock.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// The extract: CSV with a header row, or JSON Lines; `.gz` is decompressed;
    /// `-`: standard input (uncompressed; give --input-format).
    input: PathBuf,
    /// Actions file; `-` or absent: standard output.
    #[arg(long, alias = "output")]
    out: Option<PathBuf>,
    /// Output format: JSON Lines (one action per line) or CSV.
    #[arg(long, value_enum, default_value_t)]
    output_format: OutFormat,
    /// Rejected rows (JSON Lines: line, account, field, reason); `-`: standard output.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// The summary as JSON; `-`: standard output.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Stop (exit 4, no output files) once more than N rows are rejected; needs
    /// --out naming a file, since actions written to standard output cannot be taken back.
    #[arg(long)]
    max_rejects: Option<u64>,
    #[command(flatten)]
    extract: ExtractArgs,
    /// The case system's open cases: one account id per line (`#` comments and blank
    /// lines skipped). Each listed account no row of the extract has gets
    /// `cancel_pending_events` and `close_case` (rule `batch:open-cases`).
    #[arg(long, value_name = "FILE")]
    open_cases: Option<PathBuf>,
    /// With --open-cases: the most of the listed cases, in percent (0 to 100; default
    /// 50), the run may close as absent. More stops it (exit 8, no case closed): a
    /// truncated extract does that. Raise it for a run that closes many on purpose
    /// (a portfolio sale).
    #[arg(long, value_name = "PERCENT", requires = "open_cases",
          value_parser = RangedU64ValueParser::<u8>::new().range(0..=100))]
    max_closed_share: Option<u8>,
    /// Evaluate every table for every row, as `dry-run` does, so that an error in a
    /// table this row's actions do not need also rejects it (slower; the actions are the same).
    #[arg(long)]
    all_tables: bool,
    /// Write each row's table decisions (one JSON object per row: every table's
    /// outputs) instead of the policy's actions; rules without a policy always do.
    #[arg(long)]
    decisions: bool,
}

/// The output's write buffer.
const OUT_BUFFER: usize = 1 << 16;

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

type Failed = (Exit, String);

fn run_inner(args: &Args) -> Result<Exit, Failed> {
    let bad = |m: String| (Exit::BadInput, m);
    let usage = |m: String| (Exit::Usage, m);
    // A directory or a device is named as such before anything else is
    // checked: its name tells no format, and it is no extract whatever the flags.
    if !is_std(&args.input) {
        batch::check_input(&args.input).map_err(bad)?;
    }
    let out_path = args.out.as_deref().filter(|p| !is_std(p));
    if args.max_rejects.is_some() && out_path.is_none() {
        return Err(usage(
            "--max-rejects needs --out FILE: actions written to standard output cannot be taken back when the run stops"
                .into(),
        ));
    }
    let format = match args.extract.input_format {
        Some(InFormat::Csv) => InputFormat::Csv,
        Some(InFormat::Jsonl) => InputFormat::Jsonl,
        None if is_std(&args.input) => {
            return Err(usage(
                "reading the extract from standard input (`-`) needs --input-format csv|jsonl"
                    .into(),
            ))
        }
        None => batch::format_from_path(&args.input).ok_or_else(|| {
            usage(format!(
                "cannot tell the format of `{}` from its name; give --input-format csv|jsonl",
                args.input.display()
            ))
        })?,
    };
    let book = super::rules::Rules::load(&args.rules).map_err(|e| bad(e.to_string()))?;
    // The rule set in force on the batch's day, built once for every row.
    let loaded = book.runnable_on(args.as_of).map_err(|r| r.failed())?;
    let evaluate = match (&loaded.policy, &loaded.plan) {
        (Some(policy), _) if !args.decisions => batch::Evaluate::Policy(policy),
        (Some(policy), _) => batch::Evaluate::Decisions(&policy.plan),
        (None, Some(plan)) => batch::Evaluate::Decisions(plan),
        (None, None) => {
            return Err((
                Exit::InvalidRules,
                format!("`{}` has no tables to evaluate", args.rules.display()),
            ))
        }
    };
    if let batch::Evaluate::Decisions(_) = evaluate {
        let refused = match (args.output_format, &args.open_cases) {
            (OutFormat::Csv, _) => Some("--output-format csv"),
            (_, Some(_)) => Some("--open-cases"),
            _ => None,
        };
        if let Some(option) = refused {
            return Err(usage(format!(
                "{option} applies to a policy's actions; decisions (`--decisions`, or rules without a policy) are written as JSON Lines"
            )));
        }
    }
    if format == InputFormat::Csv && input_bytes(&args.input) == Some(0) {
        return Err(bad(format!(
            "`{}` is empty (0 bytes): a CSV extract starts with its header row",
            args.input.display()
        )));
    }
    let schema = evaluate.plan().schema();
    // CSV needs a mapping, checked before any row is read.
    let mut mapping = match format {
        InputFormat::Jsonl => None,
        InputFormat::Csv => Some(csv_mapping(
            &args.rules,
            args.extract.mapping.as_deref(),
            &book.docs,
            schema,
        )?),
    };
    let companions = match &mut mapping {
        Some(m) => {
            leave_unread(m, &args.extract, Columns::All).map_err(usage)?;
            companion_paths(&args.input, &args.extract.companion, m).map_err(bad)?
        }
        None if !args.extract.no_companion.is_empty() => {
            return Err(usage(
                "--no-companion applies to a CSV extract's mapped lists; a JSON Lines account carries its lists"
                    .into(),
            ))
        }
        None if !args.extract.no_column.is_empty() => {
            return Err(usage(
                "--no-column applies to a CSV extract's mapped columns; a JSON Lines account names its fields"
                    .into(),
            ))
        }
        None => Vec::new(),
    };
    let companion_paths: Vec<PathBuf> = companions.iter().map(|c| c.path.clone()).collect();
    refuse_outputs_over_inputs(args, mapping.as_ref(), &companion_paths).map_err(usage)?;
    refuse_unreplaceable_outputs(args).map_err(bad)?;
    // Read whole before any row: a bad line stops the run with nothing written.
    let open_cases = match &args.open_cases {
        Some(path) => {
            // Before the mapping is bound to the header, `id_col` indexes its columns.
            let id_column = mapping
                .as_ref()
                .and_then(|m| m.columns.get(m.id_col))
                .map_or("id", String::as_str);
            let cases = batch::OpenCases::read(path, id_column).map_err(bad)?;
            Some(match args.max_closed_share {
                Some(percent) => cases.with_max_closed_share(percent),
                None => cases,
            })
        }
        None => None,
    };
    let input: Box<dyn std::io::Read + Send> = if is_std(&args.input) {
        Box::new(std::io::stdin())
    } else {
        batch::open_input(&args.input).map_err(bad)?
    };
    let fields_not_seen = std::sync::Arc::default();
    let source: Box<dyn batch::RowSource> = match &mut mapping {
        None => Box::new(JsonlSource::new(input).expecting(
            fields_required_as_columns(args.extract.mapping.as_deref(), &book.docs, schema),
            std::sync::Arc::clone(&fields_not_seen),
        )),
        Some(m) => {
            m.input_is(input_shown(&args.input));
            Box::new(CsvSource::open(input, m, &companions).map_err(bad)?)
        }
    };

    remove_partials_on_signal().map_err(bad)?;
    let mut out_file = match out_path {
        Some(p) => Some(Output::open_as("--out", p).map_err(bad)?),
        None => None,
    };
    if args.max_rejects.is_some() && out_file.as_ref().is_some_and(|o| !o.is_staged()) {
        return Err(usage(format!(
            "--max-rejects needs --out to name a regular file: `{}` is a device or FIFO, and what is written to it cannot be taken back when the run stops",
            out_path.unwrap_or(Path::new("-")).display()
        )));
    }
    let mut rejects_file = match &args.rejects {
        Some(p) => Some(Output::open_as("--rejects", p).map_err(bad)?),
        None => None,
    };
    // Opened before the run: a summary that cannot be written (a directory)
    // found after it would discard a whole night's outputs.
    let summary_file = match &args.summary {
        Some(p) => Some(Output::open_as("--summary", p).map_err(bad)?),
        None => None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.extract.threads)
        .build()
        .map_err(|e| bad(format!("cannot start worker threads: {e}")))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {human_pos} rows  {rate}  {elapsed}",
            )
            .map(|style| {
                style.with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&rate(state.per_sec()));
                    },
                )
            })
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Some(bar)
    } else {
        None
    };
    let progress = |n: u64| {
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
    };
    let settings = batch::Settings {
        evaluate,
        mapping: mapping.as_ref(),
        as_of: args.as_of,
        output: match args.output_format {
            OutFormat::Jsonl => OutputFormat::Jsonl,
            OutFormat::Csv => OutputFormat::Csv,
        },
        max_rejects: args.max_rejects,
        chunk_rows: args.extract.chunk_rows,
        all_tables: args.all_tables,
        open_cases: open_cases.as_ref(),
    };
    let stdout = std::io::stdout();
    // Parts of a chunk arrive as buffers of tens or hundreds of KiB: with a
    // small buffer they are written as they are, not copied into it first.
    // Named, so that a write error says which output failed.
    let mut out_w: Box<dyn Write + Send> = match &mut out_file {
        Some(s) => Box::new(NamedWriter::new(
            "--out",
            args.out.as_deref(),
            std::io::BufWriter::with_capacity(OUT_BUFFER, s.file()),
        )),
        None => Box::new(NamedWriter::new(
            "--out",
            None,
            std::io::BufWriter::with_capacity(OUT_BUFFER, stdout),
        )),
    };
    let mut rejects_w: Box<dyn Write + Send> = match &mut rejects_file {
        Some(s) => Box::new(NamedWriter::new(
            "--rejects",
            args.rejects.as_deref(),
            std::io::BufWriter::with_capacity(1 << 20, s.file()),
        )),
        None => Box::new(FirstRejects::default()),
    };
    let result = batch::run(
        &settings,
        source,
        &mut *out_w,
        &mut *rejects_w,
        &pool,
        &progress,
    );
    drop(out_w);
    drop(rejects_w);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    // What a failed run leaves (`done`: the run ended): partial files are
    // removed, but what went to a stream (standard output, a device, a FIFO)
    // cannot be taken back.
    let not_written = |failed: &str, done: bool| {
        let asked: Vec<Asked> = [
            ("--out", args.out.as_deref(), out_file.as_ref()),
            ("--rejects", args.rejects.as_deref(), rejects_file.as_ref()),
        ]
        .into_iter()
        .filter_map(|(what, path, file)| match file {
            Some(file) => Some(Asked::new(what, path, file.is_staged())),
            // Actions on standard output.
            None => (what == "--out").then(|| Asked::new(what, None, false)),
        })
        .collect();
        what_became(&asked, failed, done)
    };
    let mut summary = match result {
        Ok(s) => s,
        Err(BatchError::TooManyRejects(n)) => {
            // The rejects so far are the operator's only trace of which rows
            // failed: the file asked for is kept; actions and summary are not.
            let kept = match (rejects_file.take(), args.rejects.as_deref()) {
                (Some(file), Some(path)) if file.is_staged() => {
                    file.commit().map_err(bad)?;
                    format!("the rejects read so far are in `{}`", path.display())
                }
                (_, Some(_)) => "the rejects read so far went to --rejects".to_string(),
                (_, None) => "the first rejects are shown above".to_string(),
            };
            return Err((
                Exit::TooManyRejects,
                format!(
                    "more than {n} rows rejected (--max-rejects {n}); stopped: {kept}; no actions or summary written"
                ),
            ));
        }
        Err(BatchError::TooManyClosures {
            closing,
            listed,
            rows,
            allowed,
        }) => {
            let share = (closing * 100).div_ceil(listed.max(1));
            return Err((
                Exit::TooManyClosures,
                format!(
                    "`{}` has {rows} rows, and --open-cases would close {closing} of the {listed} listed cases as absent ({share}%, more than --max-closed-share {allowed}): a truncated or incomplete extract does that, so no case is closed; {}. If that many accounts did leave (a portfolio sale), run again with --max-closed-share {share}",
                    args.input.display(),
                    not_written("", false)
                ),
            ));
        }
        Err(BatchError::EmptyExtract) => {
            return Err((
                Exit::EmptyExtract,
                format!(
                    "`{}` has no rows, and --open-cases would close every listed case as absent; an empty extract is taken for a failed transfer: nothing written",
                    args.input.display()
                ),
            ))
        }
        // The reader of stdout went away (`| head`): its choice, not an error worth a message.
        Err(BatchError::Output(e)) if super::is_closed_pipe(&e) => {
            return Ok(Exit::Ok)
        }
        Err(BatchError::Output(e)) if failed_output(&e).is_some() => {
            let failed = failed_output(&e).unwrap_or_default();
            let said = format!("cannot write {e}; {}", not_written(failed, false));
            return Err((Exit::BadInput, said));
        }
        Err(e) => return Err((Exit::BadInput, format!("{e}; {}", not_written("", false)))),
    };
    summary.rules_fingerprint = book.docs.fingerprint.clone();
    summary.lists_not_read = mapping
        .iter()
        .flat_map(|m| &m.lists)
        .filter(|l| l.not_read)
        .map(|l| l.path.clone())
        .collect();
    summary.columns_not_read = mapping
        .as_ref()
        .map(Mapping::columns_not_read)
        .unwrap_or_default();
    summary.fields_not_seen = fields_not_seen.get().cloned();
    summary.input = Some(batch::InputFile {
        path: args.input.display().to_string(),
        bytes: input_bytes(&args.input),
        rows: summary.rows_read,
    });
    eprint!("{}", summary.human());
    let mut stderr = std::io::stderr();
    let _ = super::effective_lines(&mut stderr, &book, args.as_of);
    if !summary.balanced {
        return Err((
            Exit::Unbalanced,
            format!(
                "rows read ({}) != evaluated ({}) + rejected ({}); output discarded",
                summary.rows_read, summary.evaluated, summary.rejected
            ),
        ));
    }
    // A summary that cannot be written fails the run as an output does,
    // saying what the other outputs became.
    let summary_failed = |e: String| {
        let summary = args.summary.as_deref().unwrap_or(Path::new("-"));
        bad(format!(
            "cannot write the summary to `{}`: {e}; {}",
            summary.display(),
            not_written("--summary", true)
        ))
    };
    let summary_file = match summary_file {
        Some(mut s) => {
            let mut doc =
                serde_json::to_value(&summary).map_err(|e| summary_failed(e.to_string()))?;
            if !book.versions.is_empty() {
                doc["effective"] = book.in_force_json(args.as_of);
            }
            let written = serde_json::to_writer_pretty(&mut *s.file(), &doc)
                .map_err(|e| e.to_string())
                .and_then(|()| s.file().write_all(b"\n").map_err(|e| e.to_string()));
            written.map_err(summary_failed)?;
            Some(s)
        }
        None => None,
    };
    for output in [out_file, rejects_file, summary_file].into_iter().flatten() {
        output.commit().map_err(bad)?;
    }
    if summary.rejected > 0 {
        if args.rejects.is_none() {
            eprintln!(
                "{} rows rejected; give --rejects FILE to keep them",
                summary.rejected
            );
        }
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

/// The extract's size as stored: none for standard input or a FIFO.
pub(super) fn input_bytes(path: &Path) -> Option<u64> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && !is_std(path) => Some(meta.len()),
        _ => None,
    }
}

/// Without `--rejects`, the first few rejects go to stderr.
#[derive(Default)]
pub(super) struct FirstRejects {
    shown: usize,
    buf: Vec<u8>,
}

impl Write for FirstRejects {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        for &b in data {
            if self.shown >= 5 {
                break;
            }
            self.buf.push(b);
            if b == b'\n' {
                eprint!("reject: {}", String::from_utf8_lossy(&self.buf));
                self.buf.clear();
                self.shown += 1;
            }
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Which of `--no-column`'s columns a mapping must map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Columns {
    /// Every one: the mapping the extract is read with.
    All,
    /// Only those it maps: `diff`'s base mapping, which may be older.
    WhereMapped,
}

/// The extract as messages about its header name it.
pub(super) fn input_shown(input: &Path) -> String {
    match is_std(input) {
        true => "the input (standard input)".into(),
        false => format!("the input `{}`", input.display()),
    }
}

/// Checks the lists `--companion` and `--no-companion` name (a usage error,
/// exit 64, either way) and marks those `--no-companion` names as not read:
/// each must be a list of the mapping, and not also given a file with
/// `--companion`; and the columns `--no-column` names, each a column of an
/// optional field (`diff`'s base mapping, older than the extract's, may not
/// map them: `Columns::WhereMapped`).
pub(super) fn leave_unread(
    mapping: &mut Mapping,
    extract: &ExtractArgs,
    columns: Columns,
) -> Result<(), String> {
    for name in &extract.no_column {
        if columns == Columns::WhereMapped && !mapping.maps_column(name) {
            continue;
        }
        mapping.leave_column_unread(name)?;
    }
    let mut given: Vec<(&str, &str)> = Vec::new();
    for c in &extract.companion {
        let Some((name, path)) = c.split_once('=') else {
            return Err(format!("--companion `{c}`: expected NAME=PATH"));
        };
        list_named(mapping, "--companion", name)?;
        // One file per list: with two, one history would be read and the other dropped unseen.
        if let Some((_, first)) = given.iter().find(|(n, _)| *n == name) {
            return Err(format!(
                "--companion {name}=`{first}` and --companion {name}=`{path}`: one file per list (merge them into one)"
            ));
        }
        given.push((name, path));
    }
    for name in &extract.no_companion {
        let n = list_named(mapping, "--no-companion", name)?;
        if extract
            .companion
            .iter()
            .any(|c| c.split_once('=').is_some_and(|(list, _)| list == name))
        {
            return Err(format!(
                "--no-companion `{name}` and --companion {name}=PATH: give one of them"
            ));
        }
        mapping.leave_unread(n);
    }
    Ok(())
}

/// The fields a JSON Lines extract is checked for, as a CSV extract must have
/// their columns: those of the rules' column mapping (the one `--mapping` names,
/// or the only one; none without one).
pub(super) fn fields_required_as_columns(
    name: Option<&str>,
    docs: &crate::model::RuleDocs,
    schema: &crate::data::schema::Schema,
) -> Vec<crate::data::batch::mapping::RequiredField> {
    let docs: Vec<_> = (docs.mappings.iter().map(|(_, doc)| doc))
        .filter(|doc| name.is_none_or(|name| doc.mapping.value == name))
        .collect();
    match docs.as_slice() {
        [doc] => Mapping::build(schema, doc)
            .map(|m| m.fields_required_as_columns())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The index of the mapping's list `name`, or the error naming `flag` and the lists there are.
fn list_named(mapping: &Mapping, flag: &str, name: &str) -> Result<usize, String> {
    let lists = || mapping.lists.iter().map(|l| l.path.as_str());
    lists().position(|path| path == name).ok_or_else(|| {
        // A list moved into or out of a record keeps its last name (the
        // case's `case.contacts` became the account's `contacts`).
        let last = |path: &str| path.rsplit('.').next().unwrap_or(path).to_string();
        let hint = lists()
            .find(|path| last(path) == last(name))
            .map(|path| {
                let not_read = crate::data::snapshot::not_read_here(&format!("account.{path}"));
                let value = match flag {
                    "--companion" => format!("{path}=PATH"),
                    _ => path.to_string(),
                };
                format!("{not_read}: give {flag} {value};")
            })
            .or_else(|| crate::diagnostic::did_you_mean(name, lists()))
            .map(|hint| format!("{hint} "))
            .unwrap_or_default();
        format!(
            "{flag} `{name}`: the mapping has no list of that name ({hint}it has: {})",
            lists().collect::<Vec<_>>().join(", ")
        )
    })
}

/// Each mapped list's companion file: `--companion NAME=PATH`, or the
/// mapping's `file` relative to the input (`{stem}` = the input's name
/// without extensions). A file that is missing (or is a device) is marked
/// unusable, to be said with the headers' problems (`CsvSource::open`), so
/// that one run names every missing file and column; an unmapped list is empty.
pub(super) fn companion_paths(
    input: &Path,
    companion: &[String],
    mapping: &Mapping,
) -> Result<Vec<batch::CompanionFile>, String> {
    // Their names were checked with `--no-companion`'s (`leave_unread`).
    let given: std::collections::HashMap<&str, PathBuf> = companion
        .iter()
        .filter_map(|c| c.split_once('='))
        .map(|(name, path)| (name, PathBuf::from(path)))
        .collect();
    let dir = input.parent().unwrap_or(Path::new(""));
    let stem = batch::input_stem(input);
    let mut files = Vec::new();
    for list in mapping.lists.iter().filter(|l| !l.not_read) {
        let path = match given.get(list.path.as_str()) {
            Some(p) => p.clone(),
            None if is_std(input) => {
                return Err(format!(
                    "the extract is read from standard input, so the companion file for `{}` cannot be found beside it; give --companion {}=PATH",
                    list.path, list.path
                ))
            }
            None => dir.join(list.file.replace("{stem}", &stem)),
        };
        // Read once, in step with the extract: a FIFO (`<(zcat sas.csv.gz)`)
        // streams as the extract does; a device or socket is refused as there.
        let problem = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() || meta.file_type().is_fifo() => None,
            Ok(meta) => Some(format!("is {}", crate::input::kind_of(meta.file_type()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("does not exist".into()),
            Err(_) => Some("cannot be read".into()),
        };
        let unusable = problem.map(|problem| {
            let message = format!(
                "the companion file for `{}` (`{}`) {problem}; give --companion {}=PATH naming a file or a FIFO",
                list.path,
                path.display(),
                list.path,
            );
            match problem.as_str() {
                // An older extract without the file: say how to run it without the list, and what is lost.
                "does not exist" => batch::HeaderError {
                    message: format!(
                        "{message}; an extract without it runs with --no-companion {} (the list is then empty for every account: docs/batch.md)",
                        list.path
                    ),
                    ways_out: vec![format!("--no-companion {}", list.path)],
                },
                _ => batch::HeaderError::from(message),
            }
        });
        files.push(batch::CompanionFile { path, unusable });
    }
    Ok(files)
}

/// The mapping document for a CSV extract, bound to the schema.
pub(super) fn csv_mapping(
    rules: &Path,
    name: Option<&str>,
    docs: &crate::model::RuleDocs,
    schema: &crate::data::schema::Schema,
) -> Result<Mapping, Failed> {
    let candidates: Vec<_> = docs
        .mappings
        .iter()
        .filter(|(_, m)| name.is_none_or(|name| m.mapping.value == name))
        .collect();
    let (_, doc) = match candidates.as_slice() {
        [one] => *one,
        [] => {
            let names = || docs.mappings.iter().map(|(_, m)| m.mapping.value.as_str());
            return Err(match name {
                // The flag names what is not there: a usage error, as `--companion NAME=` is.
                Some(name) if !docs.mappings.is_empty() => (
                    Exit::Usage,
                    format!(
                        "--mapping `{name}`: `{}` has no mapping document of that name ({}it has: {})",
                        rules.display(),
                        crate::diagnostic::did_you_mean(name, names())
                            .map(|hint| format!("{hint} "))
                            .unwrap_or_default(),
                        names().collect::<Vec<_>>().join(", ")
                    ),
                ),
                _ => (
                    Exit::BadInput,
                    format!(
                        "CSV input needs a column mapping: `{}` has no `mapping` document (docs/batch.md)",
                        rules.display()
                    ),
                ),
            });
        }
        several => {
            return Err((
                Exit::Usage,
                format!(
                    "`{}` has {} mapping documents; choose one with --mapping ({})",
                    rules.display(),
                    several.len(),
                    several
                        .iter()
                        .map(|(_, m)| m.mapping.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    };
    Mapping::build(schema, doc).map_err(|errors| {
        (
            Exit::BadInput,
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// No output may replace an input (the extract, a companion, the open-cases
/// file) or another output, nor lie in the rules directory.
fn refuse_outputs_over_inputs(
    args: &Args,
    mapping: Option<&Mapping>,
    companions: &[PathBuf],
) -> Result<(), String> {
    let inputs = read_files(
        ("the input", &args.input),
        mapping
            .iter()
            .flat_map(|m| &m.lists)
            .map(|l| l.path.as_str()),
        companions,
        &[("the open-cases file", args.open_cases.as_deref())],
    );
    // Actions go to standard output without --out, so it is an output too:
    // `--rejects /dev/stdout` or `--summary -` beside it is two outputs on one stream.
    let stdout = Path::new("-");
    let outputs: Vec<Named> = [
        ("--out", Some(args.out.as_deref().unwrap_or(stdout))),
        ("--rejects", args.rejects.as_deref()),
        ("--summary", args.summary.as_deref()),
    ]
    .into_iter()
    .filter_map(|(what, path)| {
        path.map(|path| Named {
            what: what.into(),
            path,
        })
    })
    .collect();
    refuse_same_files(&inputs, &outputs)?;
    refuse_inside_rules(&[&args.rules], &outputs)
}

/// Refuses, before the open cases are read, an output that is a
/// symbolic-link loop or a read-only file, naming its option.
fn refuse_unreplaceable_outputs(args: &Args) -> Result<(), String> {
    [
        ("--out", &args.out),
        ("--rejects", &args.rejects),
        ("--summary", &args.summary),
    ]
    .into_iter()
    .filter_map(|(what, path)| Some((what, path.as_ref()?)))
    .try_for_each(|(what, path)| refuse_unreplaceable(path).map_err(|e| format!("{what}: {e}")))
}

/// The progress line's rate: whole rows per second with thousands separators
/// (indicatif's `{per_sec}` prints four decimals).
fn rate(per_sec: f64) -> String {
    format!(
        "{}/s",
        indicatif::HumanCount(per_sec.max(0.0).round() as u64)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_progress_rate_is_whole_rows_per_second_with_thousands_separators() {
        for (per_sec, shown) in [
            (96716.4597, "96,716/s"),
            (0.0, "0/s"),
            (0.5, "1/s"),
            (999.49, "999/s"),
            (1_234_567.5, "1,234,568/s"),
            (f64::NAN, "0/s"),
        ] {
            assert_eq!(super::rate(per_sec), shown, "{per_sec}");
        }
    }
}

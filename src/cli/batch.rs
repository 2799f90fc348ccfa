//! `arrears batch --rules DIR --as-of DATE [--out FILE] [--rejects FILE] [--summary FILE] INPUT`

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use tempfile::NamedTempFile;

use super::{error_line, parse_date, Exit};
use crate::batch::{self, BatchError, CsvSource, InputFormat, JsonlSource, Mapping, OutputFormat};
use crate::diagnostic::Severity;

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

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory (with a policy, and a `mapping` document for CSV input).
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// The evaluation date (YYYY-MM-DD); rules never read the clock.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// The extract: CSV with a header row, or JSON Lines; `.gz` is decompressed.
    input: PathBuf,
    /// Input format, when the extension does not tell.
    #[arg(long, value_enum)]
    input_format: Option<InFormat>,
    /// Actions file; `-` or absent: standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format: JSON Lines (one action per line) or CSV.
    #[arg(long, value_enum, default_value_t)]
    output_format: OutFormat,
    /// Rejected rows (JSON Lines: line, account, field, reason).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// The summary as JSON.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Stop (exit 4, no output files) once more than N rows are rejected.
    #[arg(long)]
    max_rejects: Option<u64>,
    /// The mapping document to use when the rules directory has several.
    #[arg(long)]
    mapping: Option<String>,
    /// A companion file for a mapped list: `NAME=PATH` (e.g. `service_agreements=sas.csv`).
    #[arg(long, value_name = "NAME=PATH")]
    companion: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Rows per chunk held in memory at a time.
    #[arg(long, default_value_t = batch::CHUNK_ROWS)]
    chunk_rows: usize,
    /// Evaluate every table for every row, as `dry-run` does, so that an error in a
    /// table this row's actions do not need also rejects it (slower; the actions are the same).
    #[arg(long)]
    all_tables: bool,
}

/// An output written to a temporary file beside its target and renamed into
/// place only when the whole run succeeded.
struct Staged {
    target: PathBuf,
    file: NamedTempFile,
}

impl Staged {
    fn new(target: &Path) -> Result<Staged, String> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".arrears-batch-").suffix(".partial");
        // A temporary file is private (0600); the finished output is an ordinary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let file = builder
            .tempfile_in(&dir)
            .map_err(|e| format!("cannot create a file in `{}`: {e}", dir.display()))?;
        Ok(Staged {
            target: target.to_path_buf(),
            file,
        })
    }

    fn persist(self) -> Result<(), String> {
        self.file
            .persist(&self.target)
            .map(|_| ())
            .map_err(|e| format!("cannot write `{}`: {e}", self.target.display()))
    }
}

pub fn run(args: &Args) -> Exit {
    match run_inner(args) {
        Ok(exit) => exit,
        Err((exit, message)) => {
            error_line(message);
            exit
        }
    }
}

type Failed = (Exit, String);

fn run_inner(args: &Args) -> Result<Exit, Failed> {
    let bad = |m: String| (Exit::BadInput, m);
    let docs = crate::model::load_dir(&args.rules).map_err(|e| bad(e.to_string()))?;
    let loaded = crate::policy::build(&docs);
    let Some(policy) = loaded.policy.as_ref() else {
        let first = loaded
            .diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error);
        let message = match first {
            Some(d) => format!(
                "the rules in `{}` have errors, the first at {}: {}; run `arrears lint {}`",
                args.rules.display(),
                d.location(),
                d.message,
                args.rules.display()
            ),
            None => format!(
                "`{}` has no policy document; `arrears batch` runs a policy",
                args.rules.display()
            ),
        };
        return Err((Exit::InvalidRules, message));
    };
    let schema = policy.plan.schema();
    let format = match args.input_format {
        Some(InFormat::Csv) => InputFormat::Csv,
        Some(InFormat::Jsonl) => InputFormat::Jsonl,
        None => batch::format_from_path(&args.input).ok_or_else(|| {
            (
                Exit::Usage,
                format!(
                    "cannot tell the format of `{}` from its name; give --input-format csv|jsonl",
                    args.input.display()
                ),
            )
        })?,
    };
    let input = batch::open_input(&args.input).map_err(bad)?;
    // CSV needs a mapping, checked (and bound to the header) before any row is read.
    let mut mapping: Option<Mapping> = None;
    let source: Box<dyn batch::RowSource> = match format {
        InputFormat::Jsonl => Box::new(JsonlSource::new(input)),
        InputFormat::Csv => {
            let docs_mappings: Vec<_> = docs
                .mappings
                .iter()
                .filter(|(_, m)| {
                    args.mapping
                        .as_ref()
                        .is_none_or(|name| &m.mapping.value == name)
                })
                .collect();
            let (_, doc) = match docs_mappings.as_slice() {
                [one] => *one,
                [] => {
                    return Err(bad(match &args.mapping {
                        Some(name) => format!(
                            "`{}` has no mapping document named `{name}`",
                            args.rules.display()
                        ),
                        None => format!(
                            "CSV input needs a column mapping: `{}` has no `mapping` document (docs/batch.md)",
                            args.rules.display()
                        ),
                    }))
                }
                several => {
                    return Err((
                        Exit::Usage,
                        format!(
                            "`{}` has {} mapping documents; choose one with --mapping ({})",
                            args.rules.display(),
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
            let mut m = Mapping::build(schema, doc).map_err(|errors| {
                bad(errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "))
            })?;
            let paths = companion_paths(args, &m).map_err(bad)?;
            let src = CsvSource::open(input, &mut m, &paths).map_err(bad)?;
            mapping = Some(m);
            Box::new(src)
        }
    };

    let mut out_file = match &args.out {
        Some(p) if p.as_os_str() != "-" => Some(Staged::new(p).map_err(bad)?),
        _ => None,
    };
    let mut rejects_file = match &args.rejects {
        Some(p) => Some(Staged::new(p).map_err(bad)?),
        None => None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .map_err(|e| bad(format!("cannot start worker threads: {e}")))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {human_pos} rows  {per_sec}  {elapsed}",
            )
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
        policy,
        mapping: mapping.as_ref(),
        as_of: args.as_of,
        output: match args.output_format {
            OutFormat::Jsonl => OutputFormat::Jsonl,
            OutFormat::Csv => OutputFormat::Csv,
        },
        max_rejects: args.max_rejects,
        chunk_rows: args.chunk_rows,
        all_tables: args.all_tables,
    };
    let stdout = std::io::stdout();
    let mut out_w: Box<dyn Write + Send> = match &mut out_file {
        Some(s) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            s.file.as_file_mut(),
        )),
        None => Box::new(std::io::BufWriter::with_capacity(1 << 20, stdout)),
    };
    let mut rejects_w: Box<dyn Write + Send> = match &mut rejects_file {
        Some(s) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            s.file.as_file_mut(),
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
    let summary = match result {
        Ok(s) => s,
        Err(BatchError::TooManyRejects(n)) => {
            return Err((
                Exit::TooManyRejects,
                format!(
                    "more than {n} rows rejected (--max-rejects {n}); stopped, no output written"
                ),
            ))
        }
        // The reader of stdout went away (`| head`): its choice, not an error worth a message.
        Err(BatchError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(Exit::Ok)
        }
        Err(e) => return Err((Exit::BadInput, format!("{e}; no output written"))),
    };
    eprint!("{}", summary.human());
    if !summary.balanced {
        return Err((
            Exit::Unbalanced,
            format!(
                "rows read ({}) != evaluated ({}) + rejected ({}); output discarded",
                summary.rows_read, summary.evaluated, summary.rejected
            ),
        ));
    }
    let summary_file = match &args.summary {
        Some(p) => {
            let mut s = Staged::new(p).map_err(bad)?;
            serde_json::to_writer_pretty(s.file.as_file_mut(), &summary)
                .map_err(|e| bad(format!("cannot write the summary: {e}")))?;
            let _ = s.file.as_file_mut().write_all(b"\n");
            Some(s)
        }
        None => None,
    };
    for staged in [out_file, rejects_file, summary_file].into_iter().flatten() {
        staged.persist().map_err(bad)?;
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

/// Without `--rejects`, the first few rejects go to stderr.
#[derive(Default)]
struct FirstRejects {
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

/// Each mapped list's companion file: `--companion NAME=PATH`, or the
/// mapping's `file` relative to the input (`{stem}` = the input's name
/// without extensions). A missing file is an error; an unmapped list is empty.
fn companion_paths(args: &Args, mapping: &Mapping) -> Result<Vec<PathBuf>, String> {
    let mut given = std::collections::HashMap::new();
    for c in &args.companion {
        let Some((name, path)) = c.split_once('=') else {
            return Err(format!("--companion `{c}`: expected NAME=PATH"));
        };
        if !mapping.lists.iter().any(|l| l.path == name) {
            return Err(format!(
                "--companion `{name}`: the mapping has no list of that name (it has: {})",
                mapping
                    .lists
                    .iter()
                    .map(|l| l.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        given.insert(name.to_string(), PathBuf::from(path));
    }
    let dir = args.input.parent().unwrap_or(Path::new(""));
    let stem = batch::input_stem(&args.input);
    let mut paths = Vec::new();
    for list in &mapping.lists {
        let path = match given.get(&list.path) {
            Some(p) => p.clone(),
            None => dir.join(list.file.replace("{stem}", &stem)),
        };
        if !path.is_file() {
            return Err(format!(
                "the companion file for `{}` (`{}`) does not exist; give --companion {}=PATH",
                list.path,
                path.display(),
                list.path
            ));
        }
        paths.push(path);
    }
    Ok(paths)
}

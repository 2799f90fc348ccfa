//! `arrears schema [KIND] [--out DIR]`: the editor schemas of the document
//! kinds (`json_schema`), to standard output or as `DIR/<kind>.schema.json`.
//! It writes only those files, each staged and renamed into place as the
//! batch's outputs are; it must not decide what a schema says.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::Output;
use super::{error_line, Exit, Out};
use crate::diagnostic::printable;
use crate::json_schema::{file_name, schema, KINDS};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The document kind; without it, every kind (with `--out`).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(KINDS))]
    kind: Option<String>,
    /// Write `<kind>.schema.json` files into DIR (created if missing) instead of printing one
    /// schema; only those files are replaced.
    #[arg(long, alias = "output", value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let Some(dir) = &args.out else {
        let Some(kind) = &args.kind else {
            return super::usage_error(format!(
                "give a document kind ({}) or `--out DIR` for all of them",
                KINDS.join(", ")
            ));
        };
        let _ = write!(out, "{}", text(kind));
        return Exit::Ok;
    };
    let kinds: Vec<&str> = match &args.kind {
        Some(kind) => vec![kind.as_str()],
        None => KINDS.to_vec(),
    };
    if let Err(message) = super::output::create_out_dir(dir) {
        error_line(message);
        return Exit::BadInput;
    }
    let paths: Vec<PathBuf> = kinds.iter().map(|k| dir.join(file_name(k))).collect();
    if let Err(message) = super::output::refuse_special_in_dir(&paths) {
        error_line(message);
        return Exit::BadInput;
    }
    for kind in kinds {
        let path = dir.join(file_name(kind));
        if let Err(e) = write(&path, &text(kind)) {
            error_line(e);
            return Exit::BadInput;
        }
        eprintln!("wrote {}", printable(&path.display().to_string()));
    }
    Exit::Ok
}

/// A kind's schema as committed: pretty JSON, one trailing newline.
fn text(kind: &str) -> String {
    let schema = schema(kind).expect("clap admits only known kinds");
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    let mut output = Output::open(path)?;
    output
        .file()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    output.commit()
}

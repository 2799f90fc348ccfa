//! `arrears completions SHELL` and `arrears man [--out DIR]`: the shell
//! completion script and the manual pages, generated from the clap command
//! itself so they never list a subcommand or flag the binary does not have.
//! It must not describe a command by hand.

use std::io::Write as _;
use std::path::PathBuf;

use clap::CommandFactory;

use super::{error_line, Cli, Exit, Out};

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write `arrears.1` and one `arrears-<command>.1` per subcommand into DIR
    /// (created if missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs, out: &mut Out) -> Exit {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "arrears", out);
    Exit::Ok
}

pub fn man(args: &ManArgs, out: &mut Out) -> Exit {
    let command = Cli::command();
    let Some(dir) = &args.out else {
        if let Err(e) = clap_mangen::Man::new(command).render(out) {
            error_line(format!("cannot write standard output: {e}"));
            return Exit::BadInput;
        }
        return Exit::Ok;
    };
    if let Err(message) = super::output::create_out_dir(dir) {
        error_line(message);
        return Exit::BadInput;
    }
    let pages = std::iter::once(("arrears".to_string(), command.clone())).chain(
        command
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .map(|s| {
                let name = format!("arrears-{}", s.get_name());
                (name.clone(), s.clone().name(name))
            }),
    );
    let pages: Vec<(String, clap::Command)> = pages.collect();
    let paths: Vec<PathBuf> = pages
        .iter()
        .map(|(n, _)| dir.join(format!("{n}.1")))
        .collect();
    if let Err(message) = super::output::refuse_special_in_dir(&paths) {
        error_line(message);
        return Exit::BadInput;
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut bytes = Vec::new();
        let written = clap_mangen::Man::new(page)
            .render(&mut bytes)
            .map_err(|e| e.to_string())
            .and_then(|()| write_page(&path, &bytes));
        if let Err(e) = written {
            error_line(format!("cannot write `{}`: {e}", path.display()));
            return Exit::BadInput;
        }
        let _ = writeln!(out, "wrote {}", path.display());
    }
    Exit::Ok
}

/// One page, staged and renamed into place like every file arrears writes.
fn write_page(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let mut output = super::output::Output::open(path)?;
    output.file().write_all(bytes).map_err(|e| e.to_string())?;
    output.commit()
}

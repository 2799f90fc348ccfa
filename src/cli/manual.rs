//! `arrears completions SHELL` and `arrears man [--out DIR]`: the shell
//! completion script and the manual pages, generated from the clap command
//! itself so they never list a subcommand or flag the binary does not have.
//! It must not describe a command by hand.

use std::io::Write as _;
use std::path::PathBuf;

use clap::CommandFactory;
use clap_mangen::roff;

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
        if let Err(e) = render_page(command, None, out) {
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
                (name, s.clone())
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
        let subcommand = (name != "arrears").then(|| page.get_name().to_string());
        let written = render_page(page, subcommand.as_deref(), &mut bytes)
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

/// A manual page: clap's sections, then EXIT STATUS (the codes the command can
/// end with, from `Exit`). A subcommand's page is titled `arrears-NAME`, as
/// `man arrears-NAME` finds it, and its synopsis says `arrears NAME`, as it is typed.
fn render_page(
    command: clap::Command,
    subcommand: Option<&str>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let command = match subcommand {
        Some(name) => command
            .display_name(format!("arrears-{name}"))
            .bin_name(format!("arrears {name}")),
        None => command,
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .source(format!("arrears {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)?;
    let page = String::from_utf8_lossy(&page);
    let mut section = clap_mangen::roff::Roff::new();
    section.control("SH", ["EXIT STATUS"]);
    for exit in Exit::of_command(subcommand) {
        section
            .control("TP", [])
            .text([roff::bold((exit as u8).to_string())])
            .text([roff::roman(exit.meaning_for(subcommand))]);
    }
    if subcommand.is_none_or(|name| name == "batch" || name == "diff") {
        section
            .control("TP", [])
            .text([roff::bold("129, 130, 143")])
            .text([roff::roman(
                "batch (or diff) stopped by SIGHUP, SIGINT or SIGTERM: its partial files are removed, no \
                 output is written and an earlier run's output files are left whole.",
            )]);
    }
    // Without the string definitions every rendering starts with: the page has them.
    let section: String = section
        .render()
        .lines()
        .filter(|l| !l.starts_with(".ie \\n(.g") && !l.starts_with(".el .ds Aq"))
        .map(|l| format!("{l}\n"))
        .collect();
    // Before VERSION, where man-pages(7) puts it.
    let at = page.find("\n.SH VERSION").map_or(page.len(), |i| i + 1);
    out.write_all(page[..at].as_bytes())?;
    out.write_all(section.as_bytes())?;
    out.write_all(page[at..].as_bytes())
}

/// One page, staged and renamed into place like every file arrears writes.
fn write_page(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let mut output = super::output::Output::open(path)?;
    output.file().write_all(bytes).map_err(|e| e.to_string())?;
    output.commit()
}

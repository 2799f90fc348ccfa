//! The run loop: a reader thread cutting the input into chunks of parts, one
//! rayon task per part, a writer thread taking each part's result in input
//! order; at most three chunks are in flight, so memory does not grow with
//! the input. It must not look inside a row: that is `part.rs`.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver};

use super::duplicates::SeenIds;
use super::part::{process, Part};
use super::summary::Summary;
use super::{BatchError, OutputFormat, RowSource, Settings, Unit, PART_ROWS};

/// Runs the batch: rows from `source`, actions to `out`, rejects to
/// `rejects`. `progress` is called with the rows done after each chunk.
pub fn run(
    settings: &Settings,
    mut source: Box<dyn RowSource + '_>,
    out: &mut (dyn Write + Send),
    rejects: &mut (dyn Write + Send),
    pool: &rayon::ThreadPool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let start = std::time::Instant::now();
    if settings.output == OutputFormat::Csv {
        out.write_all(b"account,row,type,rules,fields\n")?;
    }
    let chunk_rows = settings.chunk_rows.max(1);
    let (result, read) = std::thread::scope(|s| {
        // A chunk travels as parts of PART_ROWS rows, one rayon task each, so
        // that each task also frees its own rows.
        let (tx, rx) = sync_channel::<Vec<Vec<Unit>>>(1);
        let reader = s.spawn(move || -> Result<u64, BatchError> {
            let mut read = 0u64;
            let mut more = true;
            while more {
                let mut parts = Vec::with_capacity(chunk_rows.div_ceil(PART_ROWS));
                let mut in_chunk = 0;
                while more && in_chunk < chunk_rows {
                    let mut units = Vec::with_capacity(PART_ROWS.min(chunk_rows));
                    more = source.next_chunk(PART_ROWS.min(chunk_rows - in_chunk), &mut units)?;
                    in_chunk += units.len();
                    if !units.is_empty() {
                        parts.push(units);
                    }
                }
                read += in_chunk as u64;
                if !parts.is_empty() && tx.send(parts).is_err() {
                    return Ok(read);
                }
            }
            source.finish()?;
            Ok(read)
        });
        // Per chunk, its parts' results in input order, each arriving when
        // its task finishes.
        let (wtx, wrx) = sync_channel::<Vec<Receiver<Part>>>(1);
        let max_rejects = settings.max_rejects;
        // Reborrowed: `out` is written again after the threads.
        let (part_out, rejects) = (&mut *out, &mut *rejects);
        let writer = s.spawn(move || -> Result<(Summary, SeenIds), BatchError> {
            let mut summary = Summary::default();
            let mut seen = SeenIds::default();
            for parts in wrx {
                for part in parts {
                    let part = part.recv().expect("every part task sends its result");
                    seen.check(&part.ids, &mut summary);
                    part_out.write_all(&part.out)?;
                    rejects.write_all(&part.rejects)?;
                    summary.merge(part.summary);
                    if let Some(max) = max_rejects {
                        if summary.rejected > max {
                            return Err(BatchError::TooManyRejects(max));
                        }
                    }
                }
                progress(summary.evaluated + summary.rejected);
            }
            rejects.flush()?;
            Ok((summary, seen))
        });
        // Each part is its own task, queued as soon as its chunk is read: the
        // workers never wait for a chunk's last part before starting the next
        // chunk. At most three chunks are in flight (being written, queued
        // for the writer, being queued here), so memory stays bounded.
        pool.in_place_scope(|tasks| {
            for chunk in rx.iter() {
                let mut results = Vec::with_capacity(chunk.len());
                for units in chunk {
                    let (ptx, prx) = sync_channel::<Part>(1);
                    results.push(prx);
                    tasks.spawn(move |_| {
                        // The writer stops listening only when the run fails.
                        let _ = ptx.send(process(settings, &units));
                    });
                }
                if wtx.send(results).is_err() {
                    break;
                }
            }
            drop(rx);
            drop(wtx);
        });
        let written = writer.join().expect("writer thread");
        let read = reader.join().expect("reader thread");
        (written, read)
    });
    let (mut summary, seen) = result?;
    summary.rows_read = read?;
    // Only once the whole extract is read: an account not read yet is not absent.
    if let Some(open_cases) = settings.open_cases {
        open_cases.close_absent(&seen, settings.output, out, &mut summary)?;
    }
    out.flush()?;
    summary.seconds = start.elapsed().as_secs_f64();
    summary.rows_per_second = summary.rows_read as f64 / summary.seconds.max(1e-9);
    summary.balanced = summary.rows_read == summary.evaluated + summary.rejected;
    summary.all_tables = settings.all_tables;
    Ok(summary)
}

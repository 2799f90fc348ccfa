//! The run loop: a reader thread cutting the input into chunks of parts, one
//! rayon task per part, a writer thread taking each part's result in input
//! order; at most three chunks are in flight, so memory does not grow with
//! the input. [`pipeline`] is that loop for any per-part work (`batch` and
//! `diff` run it); [`run`] is the batch's. It must not look inside a row:
//! that is `part.rs` (or the caller's work).

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver};

use super::duplicates::SeenIds;
use super::part::{process, Buffers, Part};
use super::summary::Summary;
use super::{BatchError, OutputFormat, RowSource, Settings, Unit, PART_ROWS};

/// Runs the batch: rows from `source`, actions to `out`, rejects to
/// `rejects`. `progress` is called with the rows done after each chunk.
pub fn run(
    settings: &Settings,
    source: Box<dyn RowSource + '_>,
    out: &mut (dyn Write + Send),
    rejects: &mut (dyn Write + Send),
    pool: &rayon::ThreadPool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let start = std::time::Instant::now();
    // The CSV header goes out with the first part, so that a refused empty
    // extract writes nothing, not even to standard output.
    let mut header = (settings.output == OutputFormat::Csv).then_some(CSV_HEADER);
    let max_rejects = settings.max_rejects;
    let mut summary = Summary::default();
    let mut seen = SeenIds::default();
    let buffers = Buffers::default();
    let read = pipeline(
        source,
        settings.chunk_rows,
        pool,
        &|units| process(settings, units, &buffers),
        |part: Part, chunk_done| {
            seen.check(&part.ids, &mut summary);
            if let Some(header) = header.take() {
                out.write_all(header)?;
            }
            out.write_all(&part.out)?;
            buffers.put(part.out);
            rejects.write_all(&part.rejects)?;
            summary.merge(part.summary);
            if let Some(max) = max_rejects {
                if summary.rejected > max {
                    return Err(BatchError::TooManyRejects(max));
                }
            }
            if chunk_done {
                progress(summary.evaluated + summary.rejected);
            }
            Ok(())
        },
    );
    rejects.flush()?;
    // The whole input was read (and every part written): whether the rows'
    // account is in it is known.
    summary.rows_read = read.map_err(|e| match e {
        BatchError::LeftOver(rows) => BatchError::Input(
            rows.message(Some(seen.contains(rows.id())), seen.rejects_without_id()),
        ),
        e => e,
    })?;
    // An extract of no rows would close every listed case: it is a failed
    // transfer (an empty or header-only file), refused before anything is written.
    if settings.open_cases.is_some() && summary.rows_read == 0 {
        return Err(BatchError::EmptyExtract);
    }
    if let Some(header) = header.take() {
        out.write_all(header)?;
    }
    // Only once the whole extract is read: an account not read yet is not absent.
    if let Some(open_cases) = settings.open_cases {
        open_cases.close_absent(&seen, settings.output, out, &mut summary)?;
    }
    out.flush()?;
    summary.settle();
    summary.seconds = start.elapsed().as_secs_f64();
    summary.rows_per_second = summary.rows_read as f64 / summary.seconds.max(1e-9);
    summary.balanced = summary.rows_read == summary.evaluated + summary.rejected;
    summary.all_tables = settings.all_tables;
    summary.decisions = matches!(settings.evaluate, super::Evaluate::Decisions(_));
    summary.as_of = Some(settings.as_of);
    Ok(summary)
}

/// The first line of `--output-format csv`.
const CSV_HEADER: &[u8] = b"account,row,type,rules,fields\n";

/// Chunks' parts waiting to be reused by the reader, at most.
const MAX_RECYCLED_PARTS: usize = 32;

/// Streams `source` through `work`, one rayon task per part of up to
/// `PART_ROWS` rows, and hands each part's result to `take` in input order on
/// one thread (with `true` for a chunk's last part). Returns the rows read.
/// At most three chunks of `chunk_rows` rows are in flight.
pub fn pipeline<P: Send>(
    mut source: Box<dyn RowSource + '_>,
    chunk_rows: usize,
    pool: &rayon::ThreadPool,
    work: &(dyn Fn(&[Unit]) -> P + Sync),
    mut take: impl FnMut(P, bool) -> Result<(), BatchError> + Send,
) -> Result<u64, BatchError> {
    let chunk_rows = chunk_rows.max(1);
    let (taken, read) = std::thread::scope(|s| {
        // A chunk travels as parts of PART_ROWS rows, one rayon task each, so
        // that each task also frees its own rows.
        let (tx, rx) = sync_channel::<Vec<Vec<Unit>>>(1);
        // Parts evaluated go back to the reader, whose next rows reuse their buffers.
        // Room for two chunks' parts, so that none is dropped while the reader waits.
        let (recycle_tx, recycle_rx) =
            sync_channel::<Vec<Unit>>(2 * chunk_rows.div_ceil(PART_ROWS).min(MAX_RECYCLED_PARTS));
        let reader = s.spawn(move || -> Result<u64, BatchError> {
            let mut read = 0u64;
            let mut more = true;
            while more {
                let mut parts = Vec::with_capacity(chunk_rows.div_ceil(PART_ROWS));
                let mut in_chunk = 0;
                while more && in_chunk < chunk_rows {
                    let mut units = match recycle_rx.try_recv() {
                        Ok(mut units) => {
                            source.recycle(&mut units);
                            units.clear();
                            units
                        }
                        Err(_) => Vec::with_capacity(PART_ROWS.min(chunk_rows)),
                    };
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
        let (wtx, wrx) = sync_channel::<Vec<Receiver<P>>>(1);
        let writer = s.spawn(move || -> Result<(), BatchError> {
            for parts in wrx {
                let last = parts.len();
                for (i, part) in parts.into_iter().enumerate() {
                    let part = part.recv().expect("every part task sends its result");
                    take(part, i + 1 == last)?;
                }
            }
            Ok(())
        });
        // Each part is its own task, queued as soon as its chunk is read: the
        // workers never wait for a chunk's last part before starting the next
        // chunk. At most three chunks are in flight (being written, queued
        // for the writer, being queued here), so memory stays bounded.
        pool.in_place_scope(|tasks| {
            for chunk in rx.iter() {
                let mut results = Vec::with_capacity(chunk.len());
                for units in chunk {
                    let (ptx, prx) = sync_channel::<P>(1);
                    results.push(prx);
                    let recycle = recycle_tx.clone();
                    tasks.spawn(move |_| {
                        // The writer stops listening only when the run fails.
                        let _ = ptx.send(work(&units));
                        // Dropped here instead when the reader has enough.
                        let _ = recycle.try_send(units);
                    });
                }
                if wtx.send(results).is_err() {
                    break;
                }
            }
            drop(rx);
            drop(wtx);
            drop(recycle_tx);
        });
        let taken = writer.join().expect("writer thread");
        let read = reader.join().expect("reader thread");
        (taken, read)
    });
    taken?;
    read
}

//! Headless Chromium for tests of generated pages (`arrears doc`'s site, and
//! any later HTML output). [`Browser::find`] looks for a browser
//! (`ARREARS_CHROMIUM`, `/usr/bin/chromium`, then `chromium`,
//! `chromium-browser`, `google-chrome` on `PATH`); without one a test prints a
//! skip message and passes, except under CI (env `CI` set, not `false`/`0`),
//! where a missing browser fails. Each call starts one Chromium (about a
//! second) with a fresh profile directory, no network services and no
//! sandbox (tests run as root in CI), and kills it after [`DEADLINE`].
//!
//! ```ignore
//! let Some(browser) = browser::Browser::find_or_skip("my_test") else { return };
//! let dom = browser.dom(&page);                                  // DOM after load
//! let console = browser.console(&[&page_a, &page_b]);            // every console message
//! browser.screenshot(&page, &png, 1400, 1000);                   // a PNG of the viewport
//! let image = browser::Png::read(&png);                          // decoded RGBA
//! ```
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Chromium run may take before it is killed and the test fails (a guard, not a measurement).
pub const DEADLINE: Duration = Duration::from_secs(90);

/// A headless Chromium found on this machine.
pub struct Browser {
    pub path: PathBuf,
}

/// One message a page wrote to the console (or the browser wrote for it: an
/// uncaught exception, a blocked script or load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleMessage {
    pub text: String,
    /// The page or script URL the message names.
    pub source: String,
}

/// What one Chromium run printed.
struct Run {
    stdout: String,
    stderr: String,
}

/// Whether the tests run under CI, where a missing browser is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

impl Browser {
    /// The browser to use: `ARREARS_CHROMIUM` if set (it must exist), else the first of
    /// `/usr/bin/chromium`, `chromium`, `chromium-browser`, `google-chrome` found.
    pub fn find() -> Option<Browser> {
        if let Some(path) = std::env::var_os("ARREARS_CHROMIUM") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "ARREARS_CHROMIUM names `{}`, which is not a file",
                path.display()
            );
            return Some(Browser { path });
        }
        let fixed = Path::new("/usr/bin/chromium");
        if fixed.is_file() {
            return Some(Browser {
                path: fixed.to_path_buf(),
            });
        }
        let dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
            .find(|p| p.is_file())
            .map(|path| Browser { path })
    }

    /// [`Browser::find`], or `None` after printing why `test` is skipped;
    /// under CI a missing browser fails the test instead.
    pub fn find_or_skip(test: &str) -> Option<Browser> {
        let found = Browser::find();
        if found.is_none() {
            assert!(
                !under_ci(),
                "{test}: no Chromium found (ARREARS_CHROMIUM, /usr/bin/chromium, chromium, chromium-browser, google-chrome) and CI is set: install it (`apt-get install -y chromium`; .ci/run does)"
            );
            eprintln!(
                "SKIPPED {test}: no Chromium found (set ARREARS_CHROMIUM or `apt-get install chromium`); passing because CI is not set"
            );
        }
        found
    }

    /// The DOM of `page` after it loaded (and its scripts ran), serialised.
    pub fn dom(&self, page: &Path) -> String {
        self.run(&["--dump-dom".into(), file_url(page)]).stdout
    }

    /// The DOM of `page` after it loaded in a `width` × `height` window (its
    /// scripts can measure the layout at that size).
    pub fn dom_at(&self, page: &Path, width: u32, height: u32) -> String {
        self.run(&[
            format!("--window-size={width},{height}"),
            "--dump-dom".into(),
            file_url(page),
        ])
        .stdout
    }

    /// Every console message of `pages`, loaded together in one browser run
    /// (each in an iframe of a harness page written next to the first page's
    /// directory's temporary copy).
    pub fn console(&self, pages: &[&Path]) -> Vec<ConsoleMessage> {
        let harness_dir = tempfile::tempdir().expect("temp dir");
        let harness = harness_dir.path().join("harness.html");
        let frames: String = pages
            .iter()
            .map(|p| format!("<iframe src=\"{}\"></iframe>\n", file_url(p)))
            .collect();
        std::fs::write(
            &harness,
            format!("<!DOCTYPE html><html><body>\n{frames}</body></html>\n"),
        )
        .expect("write harness");
        let run = self.run(&[
            "--enable-logging=stderr".into(),
            "--v=0".into(),
            "--dump-dom".into(),
            file_url(&harness),
        ]);
        parse_console(&run.stderr)
    }

    /// A `width` × `height` PNG of `page`'s viewport at `png`.
    pub fn screenshot(&self, page: &Path, png: &Path, width: u32, height: u32) {
        let _ = std::fs::remove_file(png);
        self.run(&[
            "--hide-scrollbars".into(),
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", absolute(png).display()),
            file_url(page),
        ]);
        assert!(
            png.is_file(),
            "Chromium wrote no screenshot to {}",
            png.display()
        );
    }

    fn run(&self, args: &[String]) -> Run {
        let profile = tempfile::tempdir().expect("temp profile dir");
        let mut child = Command::new(&self.path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.path.display()));
        // Drained on threads, so a large DOM cannot fill the pipe while we wait.
        let mut out = child.stdout.take().expect("piped");
        let mut err = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = err.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                break status;
            }
            if started.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Chromium did not finish within {DEADLINE:?}: {args:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let run = Run {
            stdout: out.join().expect("stdout reader"),
            stderr: err.join().expect("stderr reader"),
        };
        assert!(
            status.success(),
            "Chromium failed ({status}) for {args:?}:\n{}",
            run.stderr
        );
        run
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).expect("absolute path")
}

/// `file://` URL of a local file (path bytes other than unreserved ones percent-encoded).
pub fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in absolute(path).to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Chromium's `--enable-logging=stderr` console lines:
/// `[pid:tid:time:INFO:CONSOLE:12] "text", source: URL (12)`.
fn parse_console(stderr: &str) -> Vec<ConsoleMessage> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(|l| {
            let rest = l.split_once("] ").map_or(l, |(_, r)| r);
            let (text, source) = rest.rsplit_once(", source: ").unwrap_or((rest, ""));
            ConsoleMessage {
                text: text.trim_matches('"').to_string(),
                source: source
                    .rsplit_once(" (")
                    .map_or(source, |(s, _)| s)
                    .to_string(),
            }
        })
        .collect()
}

/// A decoded screenshot: RGBA pixels, row by row.
pub struct Png {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Png {
    pub fn read(path: &Path) -> Png {
        let mut decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(path).expect("open png"),
        ));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("png size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        buf.truncate(info.buffer_size());
        let channels = info.color_type.samples();
        let rgba = buf
            .chunks(channels)
            .flat_map(|p| match channels {
                1 => [p[0], p[0], p[0], 255],
                2 => [p[0], p[0], p[0], p[1]],
                3 => [p[0], p[1], p[2], 255],
                _ => [p[0], p[1], p[2], p[3]],
            })
            .collect();
        Png {
            width: info.width,
            height: info.height,
            rgba,
        }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// Pixels in the rectangle that differ from `background`.
    pub fn count_not(
        &self,
        background: [u8; 4],
        x: std::ops::Range<u32>,
        y: std::ops::Range<u32>,
    ) -> usize {
        y.flat_map(|y| x.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y) != background)
            .count()
    }
}

#[test]
fn console_lines_are_parsed() {
    let stderr = "[1:1:1130/095849.073570:INFO:CONSOLE:1] \"boom\", source: file:///tmp/a.html (1)\n[1:1:x:ERROR:dbus/bus.cc:405] Failed to connect\n";
    assert_eq!(
        parse_console(stderr),
        vec![ConsoleMessage {
            text: "boom".into(),
            source: "file:///tmp/a.html".into()
        }]
    );
}

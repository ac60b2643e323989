//! `agentvoice live` and `agentvoice devices` (feature `capture`): the same measurements
//! while the call happens, with coaching cues, and the per-call result at the end.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use serde_json::json;

use agentvoice::audio::Layout;
use agentvoice::capture::{self, Capture, StreamSpec};
use agentvoice::live::{self, Cue, CueTracker, Greeting, Level, LevelMeter, LiveStatus};
use agentvoice::pipeline;
use agentvoice::report::export;
use agentvoice::{Analyzer, CallReport, Config};

use super::analyze::{ChannelArg, MonoArg};

/// A device that delivers nothing for this long has stopped.
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// The terminal view is redrawn this often.
const REDRAW_EVERY: Duration = Duration::from_millis(200);
/// Audio is analysed in pieces of at most this long, so cues are timed to 50 ms.
const CHUNK_S: f64 = 0.05;

/// Options of `agentvoice devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// One JSON object per device instead of the readable list.
    #[arg(long)]
    json: bool,
}

/// Options of `agentvoice live`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Input device: an id or name from `agentvoice devices` (default: the system's default input).
    #[arg(long)]
    device: Option<String>,
    /// Output folder: the call's result is appended to calls.jsonl (and calls.csv) there.
    #[arg(short, long, default_value = "reports")]
    output: PathBuf,
    /// JSON events (start, cue, status, call) instead of the view or plain lines.
    #[arg(long)]
    json: bool,
    /// Settings file (TOML); see `agentvoice config` for the keys and defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which channel of two-channel input is the agent.
    #[arg(long, value_enum, default_value = "left")]
    agent_channel: ChannelArg,
    /// What one-channel input holds: the agent alone, or both parties mixed.
    #[arg(long, value_enum, default_value = "mixed")]
    mono: MonoArg,
    /// Keep the audio in this WAV file.
    #[arg(long, value_name = "FILE.wav")]
    record: Option<PathBuf>,
    /// Stop after this many seconds of audio (default: at Ctrl-C).
    #[arg(long, value_name = "N")]
    seconds: Option<f64>,
    /// The agent's name written to the result.
    #[arg(long)]
    agent: Option<String>,
    /// Audio held between the device and the analysis, seconds; more is dropped (and counted).
    #[arg(long, default_value_t = 4.0, value_name = "S")]
    buffer_s: f64,
}

/// `agentvoice devices`.
pub fn devices(args: DevicesArgs) -> anyhow::Result<ExitCode> {
    let list = capture::input_devices()?;
    if list.is_empty() {
        anyhow::bail!("no audio input device found");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for d in &list {
        if args.json {
            let (rate, channels, format, error) = match &d.default_format {
                Ok(s) => (
                    Some(s.sample_rate_hz),
                    Some(s.channels),
                    Some(s.sample_format.clone()),
                    None,
                ),
                Err(e) => (None, None, None, Some(e.clone())),
            };
            let line = json!({
                "id": d.id, "name": d.name, "default": d.is_default,
                "sample_rate": rate, "channels": channels, "sample_format": format,
                "error": error,
            });
            writeln!(out, "{line}")?;
        } else {
            let format = match &d.default_format {
                Ok(s) => format!(
                    "{} ch, {} Hz, {}",
                    s.channels, s.sample_rate_hz, s.sample_format
                ),
                Err(e) => format!("cannot be read: {e}"),
            };
            writeln!(
                out,
                "{} {}  {}{}  {}",
                if d.is_default { "*" } else { " " },
                d.id,
                d.name,
                if d.is_default { " (default)" } else { "" },
                format
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    View,
    Plain,
    Json,
}

/// Why the capture ended.
enum Stop {
    Seconds,
    Interrupted,
    Fault(String),
}

/// `agentvoice live`.
pub fn live(args: LiveArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::from_toml_file(path)?,
        None => Config::default(),
    };
    if let Some(s) = args.seconds {
        anyhow::ensure!(
            s.is_finite() && s > 0.0,
            "--seconds must be above 0 (got {s})"
        );
    }
    anyhow::ensure!(
        args.buffer_s.is_finite() && args.buffer_s > 0.0 && args.buffer_s <= 300.0,
        "--buffer-s must be above 0 and at most 300"
    );
    let mode = if args.json {
        Mode::Json
    } else if std::io::stdout().is_terminal() {
        Mode::View
    } else {
        Mode::Plain
    };

    let mut capture = Capture::open(args.device.as_deref(), args.buffer_s)?;
    let spec = capture.spec().clone();
    let channels = spec.channels.max(1);
    let rate = spec.sample_rate_hz;
    anyhow::ensure!(rate > 0, "input device {} reports 0 Hz", capture.device());
    let layout = Layout::for_channels(channels, args.agent_channel.into(), args.mono.into());
    let mut recorder = match &args.record {
        Some(path) => Some(Recorder::create(path, &spec)?),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second Ctrl-C ends the program at once.
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&stop))
            .context("cannot handle Ctrl-C")?;
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("cannot handle Ctrl-C")?;
    }

    let mut analyzer = Analyzer::new(&config, rate, channels, layout);
    let mut view = View::new(mode, &config, &spec, capture.device(), layout);
    view.start(&args.record)?;

    let chunk_frames = ((f64::from(rate) * CHUNK_S) as usize).max(1);
    let mut buf = vec![0f32; chunk_frames * channels];
    let limit_frames = args.seconds.map(|s| (s * f64::from(rate)).round() as u64);
    let mut frames: u64 = 0;
    let mut last_data = Instant::now();
    let mut recording_error: Option<String> = None;
    let mut view_ok = true;
    let stopped = loop {
        if stop.load(Ordering::Relaxed) {
            break Stop::Interrupted;
        }
        let want = match limit_frames {
            Some(l) if frames >= l => break Stop::Seconds,
            Some(l) => ((l - frames) as usize).min(chunk_frames),
            None => chunk_frames,
        };
        let n = capture.read(&mut buf[..want * channels]);
        if n == 0 {
            // Drain what arrived before a fault, then stop.
            if let Some(fault) = capture.fault() {
                break Stop::Fault(fault);
            }
            if last_data.elapsed() > STALL_LIMIT {
                break Stop::Fault(format!(
                    "input device {} stopped delivering audio (nothing for {} s)",
                    capture.device(),
                    STALL_LIMIT.as_secs()
                ));
            }
            if view_ok && view.idle(&analyzer, &capture).is_err() {
                view_ok = false;
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        last_data = Instant::now();
        let block = &buf[..n];
        analyzer.push_interleaved(block);
        if let Some(r) = &mut recorder {
            if let Err(e) = r.write(block) {
                recording_error = Some(format!("recording stopped: {e}"));
                recorder = None;
            }
        }
        frames += (n / channels) as u64;
        // A closed stdout (`| head`) must not lose the call: stop showing, keep capturing.
        if view_ok && view.update(&analyzer, &capture, block).is_err() {
            view_ok = false;
        }
    };
    let dropped = capture.dropped_frames();
    let xruns = capture.xruns();
    let device = capture.device().to_string();
    if matches!(stopped, Stop::Fault(_)) {
        capture.abandon();
    } else {
        drop(capture);
    }
    let _ = view.finish();

    let duration_s = frames as f64 / f64::from(rate);
    let fault = match &stopped {
        Stop::Fault(f) => Some(f.clone()),
        _ => None,
    };
    let recorded = match recorder.map(Recorder::finish) {
        Some(Err(e)) => {
            recording_error = Some(format!("cannot finish the recording: {e}"));
            None
        }
        Some(Ok(path)) => Some(path),
        None => None,
    };
    if frames == 0 {
        let why = fault.unwrap_or_else(|| "no audio was captured".to_string());
        eprintln!("agentvoice: {why}; no result written");
        return Ok(ExitCode::from(1));
    }

    let mut report = analyzer.finish();
    report.file = match &recorded {
        Some(p) => p.display().to_string(),
        None => format!("live:{device}@{}", utc_timestamp()),
    };
    report.agent = args.agent.clone();
    report.date = Some(utc_date());
    report.codec = Some(format!("live {}", spec.sample_format));
    report.source = recorded.as_deref().and_then(pipeline::source_info);
    if dropped > 0 {
        report.warnings.push(format!(
            "{dropped} frames ({:.2} s) dropped: the analysis fell behind the device",
            dropped as f64 / f64::from(rate)
        ));
    }
    if xruns > 0 {
        report
            .warnings
            .push(format!("the device reported {xruns} overruns (audio lost)"));
    }
    if let Some(f) = &fault {
        report.warnings.push(format!(
            "capture stopped early after {duration_s:.1} s: {f}"
        ));
    }
    if let Some(e) = &recording_error {
        report.warnings.push(e.clone());
    }
    let jsonl = append_result(&args.output, &report)?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let how = match &stopped {
        Stop::Seconds => "seconds",
        Stop::Interrupted => "interrupted",
        Stop::Fault(_) => "fault",
    };
    if mode == Mode::Json {
        let line = json!({
            "event": "call", "stopped": how, "dropped_frames": dropped, "xruns": xruns,
            "output": jsonl.display().to_string(), "report": report,
        });
        writeln!(out, "{line}")?;
    } else {
        writeln!(out, "{}", summary(&report))?;
        writeln!(
            out,
            "{:.1} s captured ({how}), {dropped} frames dropped, {xruns} device overruns; result appended to {}{}",
            duration_s,
            jsonl.display(),
            recorded
                .as_ref()
                .map(|p| format!("; audio in {}", p.display()))
                .unwrap_or_default()
        )?;
    }
    out.flush()?;
    let mut code = ExitCode::SUCCESS;
    if let Some(e) = &recording_error {
        eprintln!("agentvoice: {e}");
        code = ExitCode::from(1);
    }
    if let Some(f) = fault {
        let kept = match &recorded {
            Some(p) => format!("{} and {}", p.display(), jsonl.display()),
            None => jsonl.display().to_string(),
        };
        eprintln!(
            "agentvoice: {f} after {duration_s:.1} s of audio; what was captured is kept in {kept}"
        );
        code = ExitCode::from(1);
    }
    Ok(code)
}

/// Appends one result to `dir/calls.jsonl` (and rewrites `calls.csv` from it), atomically.
fn append_result(dir: &Path, report: &CallReport) -> anyhow::Result<PathBuf> {
    let jsonl = dir.join("calls.jsonl");
    let mut text = match std::fs::read_to_string(&jsonl) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(anyhow::anyhow!(
                "{}: cannot read: {}",
                jsonl.display(),
                pipeline::io_reason(&e)
            ))
        }
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&export::to_json_line(report));
    text.push('\n');
    export::write_atomic(&jsonl, text.as_bytes())
        .with_context(|| format!("{}: cannot write", jsonl.display()))?;
    let all: Vec<CallReport> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let csv = dir.join("calls.csv");
    let table = export::to_csv(&all).context("cannot format calls.csv")?;
    export::write_atomic(&csv, table.as_bytes())
        .with_context(|| format!("{}: cannot write", csv.display()))?;
    Ok(jsonl)
}

/// The recording: 16-bit PCM for devices of 16 bits or fewer (lossless), else 32-bit float.
struct Recorder {
    path: PathBuf,
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
    int16: bool,
}

impl Recorder {
    fn create(path: &Path, spec: &StreamSpec) -> anyhow::Result<Recorder> {
        let int16 = matches!(spec.sample_format.as_str(), "i8" | "u8" | "i16" | "u16");
        let wav = hound::WavSpec {
            channels: u16::try_from(spec.channels).context("too many channels to record")?,
            sample_rate: spec.sample_rate_hz,
            bits_per_sample: if int16 { 16 } else { 32 },
            sample_format: if int16 {
                hound::SampleFormat::Int
            } else {
                hound::SampleFormat::Float
            },
        };
        let writer = hound::WavWriter::create(path, wav)
            .with_context(|| format!("{}: cannot create the recording", path.display()))?;
        Ok(Recorder {
            path: path.to_path_buf(),
            writer,
            int16,
        })
    }

    fn write(&mut self, samples: &[f32]) -> hound::Result<()> {
        for &s in samples {
            if self.int16 {
                let v = (f64::from(s) * 32768.0).round().clamp(-32768.0, 32767.0);
                self.writer.write_sample(v as i16)?;
            } else {
                self.writer.write_sample(s)?;
            }
        }
        Ok(())
    }

    fn finish(self) -> hound::Result<PathBuf> {
        self.writer.finalize()?;
        Ok(self.path)
    }
}

/// What the user sees while the call runs: a redrawn view, plain lines, or JSON events.
struct View {
    mode: Mode,
    config: Config,
    spec: StreamSpec,
    device: String,
    layout: Layout,
    meter: LevelMeter,
    levels: Vec<Level>,
    tracker: CueTracker,
    next_status_s: f64,
    last_draw: Option<Instant>,
    drawn_lines: usize,
    out: std::io::Stdout,
}

impl View {
    fn new(mode: Mode, config: &Config, spec: &StreamSpec, device: &str, layout: Layout) -> View {
        View {
            mode,
            config: config.clone(),
            spec: spec.clone(),
            device: device.to_string(),
            layout,
            meter: LevelMeter::new(spec.channels),
            levels: Vec::new(),
            tracker: CueTracker::new(),
            next_status_s: 1.0,
            last_draw: None,
            drawn_lines: 0,
            out: std::io::stdout(),
        }
    }

    fn layout_text(&self) -> String {
        match self.layout {
            Layout::Stereo { agent_channel } => format!(
                "stereo (agent {})",
                if agent_channel == 0 { "left" } else { "right" }
            ),
            other => other.name().to_string(),
        }
    }

    fn start(&mut self, record: &Option<PathBuf>) -> anyhow::Result<()> {
        let mut out = self.out.lock();
        match self.mode {
            Mode::Json => {
                let line = json!({
                    "event": "start", "device": self.device,
                    "sample_rate": self.spec.sample_rate_hz, "channels": self.spec.channels,
                    "sample_format": self.spec.sample_format, "layout": self.layout.name(),
                    "record": record.as_ref().map(|p| p.display().to_string()),
                });
                writeln!(out, "{line}")?;
            }
            Mode::Plain => writeln!(
                out,
                "live: {}  {} ch  {} Hz  {}  layout {}",
                self.device,
                self.spec.channels,
                self.spec.sample_rate_hz,
                self.spec.sample_format,
                self.layout_text()
            )?,
            Mode::View => write!(out, "\x1b[?25l")?,
        }
        out.flush()?;
        Ok(())
    }

    /// Called after each analysed piece of audio.
    fn update(
        &mut self,
        analyzer: &Analyzer,
        capture: &Capture,
        block: &[f32],
    ) -> anyhow::Result<()> {
        self.meter.push(block);
        let status = live::status_of(analyzer, &self.config);
        let cues = live::cues(&status, &self.config);
        let (on, off) = self.tracker.update(&cues, status.horizon_s);
        match self.mode {
            Mode::View => self.maybe_draw(&status, capture)?,
            Mode::Plain | Mode::Json => {
                let mut out = self.out.lock();
                for (cue, is_on) in on
                    .iter()
                    .map(|c| (c, true))
                    .chain(off.iter().map(|c| (c, false)))
                {
                    if self.mode == Mode::Json {
                        let line = json!({
                            "event": "cue", "t_s": round2(status.horizon_s), "cue": cue.key(),
                            "text": cue.text(&self.config), "on": is_on,
                        });
                        writeln!(out, "{line}")?;
                    } else {
                        writeln!(
                            out,
                            "{:>8.2}s  {} {}",
                            status.horizon_s,
                            if is_on { "cue:" } else { "end:" },
                            cue.text(&self.config)
                        )?;
                    }
                }
                drop(out);
                if status.elapsed_s + 1e-9 >= self.next_status_s {
                    self.levels = self.meter.take();
                    self.status_line(&status, capture)?;
                    self.next_status_s = status.elapsed_s.floor() + 1.0;
                }
            }
        }
        Ok(())
    }

    /// Called while no audio is waiting.
    fn idle(&mut self, analyzer: &Analyzer, capture: &Capture) -> anyhow::Result<()> {
        if self.mode == Mode::View {
            let status = live::status_of(analyzer, &self.config);
            self.maybe_draw(&status, capture)?;
        }
        Ok(())
    }

    fn status_line(&mut self, s: &LiveStatus, capture: &Capture) -> anyhow::Result<()> {
        let mut out = self.out.lock();
        let peaks: Vec<Option<f64>> = self.levels.iter().map(|l| l.peak_dbfs).collect();
        let cue_keys: Vec<&str> = self.tracker.on().iter().map(|c| c.key()).collect();
        if self.mode == Mode::Json {
            let (greeted, greeting_s) = match s.greeting {
                Greeting::Waiting { waited_s } => (false, waited_s),
                Greeting::Greeted { latency_s } => (true, latency_s),
            };
            let line = json!({
                "event": "status", "t_s": round2(s.elapsed_s), "horizon_s": round2(s.horizon_s),
                "peak_dbfs": peaks.iter().map(|p| p.map(round2)).collect::<Vec<_>>(),
                "short_term_lufs": s.short_term_lufs.map(round2),
                "speech_lufs": s.speech_lufs.map(round2),
                "rate_spm": s.rate_spm.map(round2),
                "silence_s": s.silence_s.map(round2),
                "greeted": greeted, "greeting_s": round2(greeting_s),
                "agent_speaking": s.agent_speaking, "customer_speaking": s.customer_speaking,
                "overtalk_now": s.overtalk_now, "overtalk_s": s.overtalk_s.map(round2),
                "dropped_frames": capture.dropped_frames(), "xruns": capture.xruns(),
                "cues": cue_keys,
            });
            writeln!(out, "{line}")?;
        } else {
            let level = peaks
                .iter()
                .map(|p| fmt_opt(*p, 0))
                .collect::<Vec<_>>()
                .join("/");
            let greeting = match s.greeting {
                Greeting::Waiting { waited_s } => format!("waiting {waited_s:.1}s"),
                Greeting::Greeted { latency_s } => format!("{latency_s:.2}s"),
            };
            writeln!(
                out,
                "{:>6.0}s  level {} dBFS  loudness {} LUFS  rate {}/min  silence {}s  greeting {}{}  dropped {}  | {}",
                s.elapsed_s,
                level,
                fmt_opt(s.speech_lufs, 1),
                fmt_opt(s.rate_spm, 0),
                fmt_opt(s.silence_s, 1),
                greeting,
                s.overtalk_s
                    .map(|o| format!("  overtalk {o:.1}s{}", if s.overtalk_now { " now" } else { "" }))
                    .unwrap_or_default(),
                capture.dropped_frames(),
                if cue_keys.is_empty() {
                    "ok".to_string()
                } else {
                    self.tracker
                        .on()
                        .iter()
                        .map(|c| c.text(&self.config))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )?;
        }
        Ok(())
    }

    fn maybe_draw(&mut self, s: &LiveStatus, capture: &Capture) -> anyhow::Result<()> {
        if self.last_draw.is_some_and(|t| t.elapsed() < REDRAW_EVERY) {
            return Ok(());
        }
        self.last_draw = Some(Instant::now());
        let levels = self.meter.take();
        let lines = self.render(s, &levels, capture);
        let mut out = self.out.lock();
        if self.drawn_lines > 0 {
            write!(out, "\x1b[{}F", self.drawn_lines)?;
        }
        for l in &lines {
            writeln!(out, "\x1b[2K{l}")?;
        }
        out.flush()?;
        self.drawn_lines = lines.len();
        Ok(())
    }

    fn render(&self, s: &LiveStatus, levels: &[Level], capture: &Capture) -> Vec<String> {
        let c = &self.config;
        let alarm = |t: &str| format!("\x1b[1;31m{t}\x1b[0m");
        let good = |t: &str| format!("\x1b[32m{t}\x1b[0m");
        let total = s.elapsed_s;
        let mut lines = vec![format!(
            "agentvoice live  {}  {} ch {} Hz {}  {:02}:{:04.1}  dropped {}  overruns {}",
            self.device,
            self.spec.channels,
            self.spec.sample_rate_hz,
            self.spec.sample_format,
            (total / 60.0).floor(),
            total % 60.0,
            capture.dropped_frames(),
            capture.xruns()
        )];
        let names: Vec<&str> = match self.layout {
            Layout::Stereo { agent_channel: 0 } => vec!["agent", "customer"],
            Layout::Stereo { .. } => vec!["customer", "agent"],
            _ if self.spec.channels == 1 => vec!["input"],
            _ => (0..self.spec.channels).map(|_| "input").collect(),
        };
        for (i, level) in levels.iter().enumerate().take(2) {
            let name = names.get(i).copied().unwrap_or("input");
            lines.push(format!(
                "{:<9} {}  {:>4} dBFS peak",
                name,
                meter_bar(level.peak_dbfs, 30),
                fmt_opt(level.peak_dbfs, 0)
            ));
        }
        let on = |cue: Cue| self.tracker.is_on(cue);
        let loud_judge = if on(Cue::SpeakUp) {
            alarm("SPEAK UP")
        } else if on(Cue::Softer) {
            alarm("SOFTER")
        } else if s.speech_lufs.is_some() {
            good("ok")
        } else {
            "(waiting for speech)".to_string()
        };
        lines.push(format!(
            "loudness  {:>6} LUFS   band {}..{}   {}",
            fmt_opt(s.speech_lufs, 1),
            c.loudness.min_dbov,
            c.loudness.max_dbov,
            loud_judge
        ));
        let rate_judge = if on(Cue::SlowDown) {
            alarm("SLOW DOWN")
        } else if on(Cue::SpeedUp) {
            alarm("A LITTLE FASTER")
        } else if s.rate_spm.is_some() {
            good("ok")
        } else {
            "(needs 2 s of talk)".to_string()
        };
        lines.push(format!(
            "rate      {:>6} /min   last {} s, band {}..{}   {}",
            fmt_opt(s.rate_spm, 0),
            s.rate_window_s,
            c.rate.min_spm,
            c.rate.max_spm,
            rate_judge
        ));
        let silence = match s.silence_s {
            None => format!("{:<16}", "-"),
            Some(v) if on(Cue::Silence) => alarm(&format!("{:<16}", format!("{v:.1} s  DEAD AIR"))),
            Some(v) => format!("{:<16}", format!("{v:.1} s")),
        };
        lines.push(format!(
            "silence   {silence} alarm at {} s",
            c.silence.gap_limit_s
        ));
        let greeting = match s.greeting {
            Greeting::Waiting { waited_s } if on(Cue::Greet) => {
                alarm(&format!("{waited_s:.1} s  GREET THE CALLER"))
            }
            Greeting::Waiting { waited_s } => {
                format!("{waited_s:.1} s  waiting for the first word")
            }
            Greeting::Greeted { latency_s } if latency_s <= c.silence.greeting_limit_s => {
                format!("{latency_s:.2} s  {}", good("ok"))
            }
            Greeting::Greeted { latency_s } => format!("{latency_s:.2} s  late"),
        };
        lines.push(format!(
            "greeting  {greeting}   (limit {} s)",
            c.silence.greeting_limit_s
        ));
        if let Some(total) = s.overtalk_s {
            let now = if s.overtalk_now {
                alarm("NOW")
            } else {
                "no ".to_string()
            };
            lines.push(format!(
                "overtalk  {now}   {:.1} s so far in {}",
                total, s.overtalk_count
            ));
        }
        let words: Vec<String> = self
            .tracker
            .on()
            .iter()
            .map(|c| c.text(&self.config).to_uppercase())
            .collect();
        lines.push(if words.is_empty() {
            "cue       -".to_string()
        } else {
            format!("cue       {}", alarm(&words.join("  |  ")))
        });
        lines
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.mode == Mode::View {
            let mut out = self.out.lock();
            write!(out, "\x1b[?25h")?;
            out.flush()?;
        }
        Ok(())
    }
}

impl Drop for View {
    fn drop(&mut self) {
        if self.mode == Mode::View {
            // Restore the cursor even when the command ends with an error.
            let _ = write!(self.out, "\x1b[?25h");
            let _ = self.out.flush();
        }
    }
}

/// A level bar from -60 to 0 dBFS.
fn meter_bar(peak_dbfs: Option<f64>, width: usize) -> String {
    let filled = peak_dbfs
        .map(|db| (((db + 60.0) / 60.0).clamp(0.0, 1.0) * width as f64).round() as usize)
        .unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// One readable line: the figures a supervisor reads first, and the failed rules.
fn summary(r: &CallReport) -> String {
    let failed: Vec<&str> = r.failed_rules();
    format!(
        "{}  {:.1}s  rate {}/min  greet {}s  longest gap {}s  level {} dBov  {}",
        r.file,
        r.duration_s.unwrap_or(0.0),
        fmt_opt(r.rate.as_ref().and_then(|x| x.speaking_rate_spm), 0),
        fmt_opt(r.silence.as_ref().and_then(|s| s.greeting_latency_s), 2),
        fmt_opt(r.silence.as_ref().map(|s| s.longest_gap_s), 2),
        fmt_opt(
            r.loudness.as_ref().and_then(|l| l.active_speech_level_dbov),
            1
        ),
        if failed.is_empty() {
            "ok".to_string()
        } else {
            format!("FAIL: {}", failed.join(", "))
        }
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn now_unix_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn utc_date() -> String {
    let (y, m, d) = civil_from_days(now_unix_s().div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn utc_timestamp() -> String {
    let t = now_unix_s();
    let secs = t.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        utc_date(),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn meter_bar_scale() {
        assert_eq!(meter_bar(None, 4), "[----]");
        assert_eq!(meter_bar(Some(0.0), 4), "[####]");
        assert_eq!(meter_bar(Some(-30.0), 4), "[##--]");
    }
}

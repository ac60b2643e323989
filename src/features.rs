//! Frame features at a 10 ms hop: band energy and periodicity (voicing and F0).
//!
//! Every later stage (voice activity, syllable nuclei, pitch) reads these frames, so a
//! recording is filtered and framed once per channel.

use std::collections::VecDeque;

use crate::dsp::power_db;
use crate::vad::Decision;

/// Frame hop, seconds.
pub const HOP_S: f64 = 0.01;

/// Score taken off a pitch candidate per octave of lag above the shortest lag searched.
const OCTAVE_COST: f32 = 0.01;
/// Top of the speech band's low-pass above telephone rates, Hz (0.45 of the rate when that
/// is lower). On wideband lines it takes in the fricatives above 4 kHz (a final /s/ is
/// often all there): at 3400 Hz, ends before them came 0.25 s early and the long gaps after
/// them were missed.
pub const SPEECH_BAND_TOP_HZ: f64 = 7000.0;
/// Top of the speech band at telephone rates (8 kHz and below), Hz: the channel's own band.
pub const TELEPHONE_BAND_TOP_HZ: f64 = 3400.0;

/// The features of one 10 ms frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Frame number from the start of the recording.
    pub index: u64,
    /// Start of the frame, seconds.
    pub start_s: f64,
    /// End of the frame, seconds.
    pub end_s: f64,
    /// Mean power in the speech band (200 Hz up to [`TELEPHONE_BAND_TOP_HZ`] at 8 kHz,
    /// [`SPEECH_BAND_TOP_HZ`] on wideband lines), dB re full scale.
    pub energy_db: f32,
    /// Peak normalised autocorrelation in the pitch range (0..1): how periodic the frame is
    /// (0 until [`FrameExtractor::resolve`] fills it in, from a deferred extractor).
    pub voicing: f32,
    /// Fundamental frequency when the frame is periodic enough, Hz (as `voicing`).
    pub f0_hz: Option<f32>,
}

/// Streaming frame extractor for one channel.
pub struct FrameExtractor {
    sample_rate_hz: f64,
    hop_samples: usize,
    decimation: usize,
    decimated_rate_hz: f64,
    phase: usize,
    /// Decimated samples, mirrored: sample `p` is at `p % L` and `p % L + L`, so the
    /// last `L` samples are always one contiguous slice.
    ring: Vec<f32>,
    ring_pos: usize,
    /// Running sums of squares over one analysis window (scratch).
    window_squares: Vec<f64>,
    /// Per lag searched: the octave cost taken off its score.
    octave_costs: Vec<f32>,
    min_lag: usize,
    max_lag: usize,
    window_len: usize,
    /// Sum of the squared band output over the frame so far, before the cascade's gain.
    frame_energy: f64,
    frame_fill: usize,
    frame_index: u64,
    samples_seen: u64,
    voicing_threshold: f32,
    energy_gate_db: f32,
    periodicity: bool,
    /// Periodicity on request ([`FrameExtractor::deferred`]), not at every frame.
    deferred: bool,
    /// Deferred frames above the energy gate not yet resolved or released, oldest first.
    pending: VecDeque<Pending>,
    /// How many of the oldest `pending` frames were already scored.
    scored: usize,
    band: SpeechBand,
    band_history: History<4>,
    fast_gain: f64,
    anti_alias: UnscaledSection<false>,
    anti_alias_history: History<3>,
    anti_alias_gain: f32,
}

/// A deferred frame: where its window ends, and its periodicity once scored.
#[derive(Debug, Clone, Copy)]
struct Pending {
    index: u64,
    /// Ring position and input samples seen at the end of the frame.
    pos: usize,
    seen: u64,
    result: Option<(f32, Option<f32>)>,
}

/// Hands decided frames on with their voicing and F0 from a deferred [`FrameExtractor`],
/// scoring only the frames within `radius` frames of an active one: all that is read
/// downstream (the pitch statistics read active frames; the syllable counter reads the
/// voicing within its radius of a peak, and only of peaks on active frames). The other
/// frames go on with voicing 0 and no F0. Frames go on in order, `radius` frames late.
pub struct VoicingFill {
    radius: u64,
    every_frame: bool,
    held: VecDeque<(Decision, bool)>,
    /// Frames up to this index are resolved as they come (after an active frame).
    resolve_through: Option<u64>,
}

impl VoicingFill {
    /// A fill for readers that need frames within `radius` of active ones, or every
    /// frame when `every_frame`.
    pub fn new(radius: usize, every_frame: bool) -> VoicingFill {
        VoicingFill {
            radius: radius as u64,
            every_frame,
            held: VecDeque::with_capacity(radius + 1),
            resolve_through: None,
        }
    }

    /// Frames this fill holds back at most.
    pub fn lag_frames(&self) -> usize {
        self.radius as usize
    }

    /// Adds the next decided frame of `frames`; hands on the frames that are ready.
    pub fn push(
        &mut self,
        mut d: Decision,
        frames: &mut FrameExtractor,
        mut out: impl FnMut(Decision),
    ) {
        let index = d.frame.index;
        if d.active {
            for (h, done) in self.held.iter_mut().filter(|(_, done)| !*done) {
                frames.resolve(&mut h.frame);
                *done = true;
            }
            self.resolve_through = Some(index + self.radius);
        }
        let done = self.every_frame || self.resolve_through.is_some_and(|t| index <= t);
        if done {
            frames.resolve(&mut d.frame);
        }
        self.held.push_back((d, done));
        while self.held.len() as u64 > self.radius {
            self.hand_on(frames, &mut out);
        }
    }

    /// Hands on every frame held.
    pub fn finish(&mut self, frames: &mut FrameExtractor, mut out: impl FnMut(Decision)) {
        while !self.held.is_empty() {
            self.hand_on(frames, &mut out);
        }
    }

    fn hand_on(&mut self, frames: &mut FrameExtractor, out: &mut impl FnMut(Decision)) {
        if let Some((d, done)) = self.held.pop_front() {
            if !done {
                frames.release_before(d.frame.index + 1);
            }
            out(d);
        }
    }
}

/// An RBJ high- or low-pass biquad in direct form I with its gain left out: the numerator
/// is `x -/+ 2 x1 + x2`, so a section costs two multiplies; the cascade's gain is applied
/// to the frame energy (or the decimated samples) instead.
///
/// Cascades keep their states in a [`History`]: each section's input history is the
/// previous section's output history, so it is stored once.
#[derive(Debug, Clone, Copy)]
struct UnscaledSection<const HIGH: bool> {
    a: [f32; 2],
}

/// The last two samples (newest first) of a cascade's input and of each section's output.
type History<const N: usize> = [[f32; 2]; N];

impl<const HIGH: bool> UnscaledSection<HIGH> {
    /// The section, and its gain (`b0 / a0`).
    fn new(rate_hz: f64, cutoff_hz: f64, q: f64) -> (UnscaledSection<HIGH>, f64) {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / rate_hz;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let gain = if HIGH {
            (1.0 + cos) / 2.0
        } else {
            (1.0 - cos) / 2.0
        } / a0;
        let section = UnscaledSection {
            a: [(-2.0 * cos / a0) as f32, ((1.0 - alpha) / a0) as f32],
        };
        (section, gain)
    }

    /// The output for input `x`, given the input and output histories.
    #[inline(always)]
    fn output(&self, x: f32, input: [f32; 2], output: [f32; 2]) -> f32 {
        // `x + x2 -/+ 2 x1` as one multiply-add: doubling is exact, so this is the sum
        // `(x + x2) -/+ (x1 + x1)` rounded once, as written out, in one operation less.
        let w = if HIGH {
            (-2.0f32).mul_add(input[0], x + input[1])
        } else {
            2.0f32.mul_add(input[0], x + input[1])
        };
        // Fused multiply-adds: exactly rounded on every CPU (in hardware with FMA), and
        // one rounding step on the recursion's critical path instead of two.
        (-self.a[0]).mul_add(output[0], (-self.a[1]).mul_add(output[1], w))
    }
}

impl FrameExtractor {
    /// An extractor at `sample_rate_hz`, searching F0 between `min_hz` and `max_hz`.
    pub fn new(sample_rate_hz: u32, min_hz: f64, max_hz: f64) -> FrameExtractor {
        let rate = sample_rate_hz as f64;
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let decimation = ((rate / 4000.0).round() as usize).max(1);
        let (band, band_gain) = SpeechBand::new(rate);
        let decimated_rate_hz = rate / decimation as f64;
        let anti_alias = UnscaledSection::<false>::new(rate, 900.0, q);
        let min_lag = (decimated_rate_hz / max_hz).floor().max(2.0) as usize;
        let max_lag = (decimated_rate_hz / min_hz).ceil() as usize;
        let window_len = (decimated_rate_hz * 0.03).round() as usize;
        // Room for a window and its lags, with margin.
        let ring_len = (window_len + max_lag + 3).next_power_of_two();
        let lags = max_lag.min(min_lag + MAX_LAGS - 1) + 1 - min_lag.min(max_lag + 1);
        let octave_costs = (0..lags)
            .map(|k| OCTAVE_COST * ((min_lag + k) as f32 / min_lag as f32).log2())
            .collect();
        FrameExtractor {
            sample_rate_hz: rate,
            hop_samples: ((rate * HOP_S).round() as usize).max(1),
            decimation,
            decimated_rate_hz,
            phase: 0,
            ring: vec![0.0; 2 * ring_len],
            ring_pos: 0,
            window_squares: vec![0.0; window_len + max_lag + 1],
            octave_costs,
            min_lag,
            max_lag,
            window_len,
            frame_energy: 0.0,
            frame_fill: 0,
            frame_index: 0,
            samples_seen: 0,
            voicing_threshold: 0.5,
            energy_gate_db: -75.0,
            periodicity: true,
            deferred: false,
            pending: VecDeque::new(),
            scored: 0,
            band,
            band_history: [[0.0; 2]; 4],
            fast_gain: band_gain * band_gain,
            anti_alias: anti_alias.0,
            anti_alias_history: [[0.0; 2]; 3],
            anti_alias_gain: (anti_alias.1 * anti_alias.1) as f32,
        }
    }

    /// An extractor of band energy only (voicing 0, no F0): all that voice activity needs.
    pub fn energy_only(sample_rate_hz: u32) -> FrameExtractor {
        FrameExtractor {
            periodicity: false,
            ..FrameExtractor::new(sample_rate_hz, 60.0, 420.0)
        }
    }

    /// This extractor with the periodicity deferred: frames come out with voicing 0 and
    /// no F0, and [`FrameExtractor::resolve`] fills them in later, for the frames that
    /// need them (see [`VoicingFill`]), from decimated samples kept for `hold_frames`
    /// frames. A frame still unresolved when its samples are about to be overwritten is
    /// scored then, so the figures are the same whenever they are asked for. Call before
    /// pushing samples.
    pub fn deferred(mut self, hold_frames: usize) -> FrameExtractor {
        if self.periodicity {
            let ring_len = (self.window_len
                + self.max_lag
                + 3
                + self.samples_per_frame_max() * (hold_frames + 1))
                .next_power_of_two();
            self.ring = vec![0.0; 2 * ring_len];
            self.deferred = true;
        }
        self
    }

    /// Most decimated samples one frame adds.
    fn samples_per_frame_max(&self) -> usize {
        self.hop_samples.div_ceil(self.decimation) + 1
    }

    /// Fills in the voicing and F0 of `frame`, a frame of this extractor in deferred mode
    /// (frames resolved in order; frames before it can no longer be resolved).
    pub fn resolve(&mut self, frame: &mut Frame) {
        self.release_before(frame.index);
        if self.pending.front().is_some_and(|p| p.index == frame.index) {
            if let Some(p) = self.pop_pending() {
                let (voicing, f0_hz) = match p.result {
                    Some(r) => r,
                    None => self.periodicity_at(p.pos, p.seen),
                };
                frame.voicing = voicing;
                frame.f0_hz = f0_hz;
            }
        }
    }

    /// Frames before `index` will not be resolved: their samples can go.
    pub fn release_before(&mut self, index: u64) {
        while self.pending.front().is_some_and(|p| p.index < index) {
            self.pop_pending();
        }
    }

    fn pop_pending(&mut self) -> Option<Pending> {
        self.scored = self.scored.saturating_sub(1);
        self.pending.pop_front()
    }

    /// Scores the pending frames whose oldest samples the next frame could overwrite.
    fn score_leaving(&mut self) {
        let ring_len = self.ring.len() / 2;
        let need = self.window_len + self.max_lag + self.samples_per_frame_max();
        while let Some(&p) = self.pending.get(self.scored) {
            if self.ring_pos.wrapping_sub(p.pos) + need <= ring_len {
                break;
            }
            let result = self.periodicity_at(p.pos, p.seen);
            if let Some(q) = self.pending.get_mut(self.scored) {
                q.result = Some(result);
            }
            self.scored += 1;
        }
    }

    /// Samples per frame hop.
    pub fn hop_samples(&self) -> usize {
        self.hop_samples
    }

    /// Adds samples; calls `on_frame` for every completed frame.
    pub fn push(&mut self, mut samples: &[f32], mut on_frame: impl FnMut(Frame)) {
        // The band filter starts as if the input had stood at its first sample forever: a
        // DC offset then raises no step response (a burst of band energy at 0 s, which
        // read as a greeting at 0.00 s). The high-pass sections' output is zero for a
        // constant input, so only the input history needs it.
        if self.samples_seen == 0 {
            if let Some(&first) = samples.first() {
                self.band_history[0] = [first, first];
            }
        }
        while !samples.is_empty() {
            let take = (self.hop_samples - self.frame_fill).min(samples.len());
            let (now, rest) = samples.split_at(take);
            // Filter states are flushed only where a frame ends, and the frame's energy is
            // one running sum in sample order: block boundaries cannot change a frame.
            let frame_ends = self.frame_fill + take == self.hop_samples;
            self.frame_energy = if self.periodicity {
                self.filter_block(now, frame_ends)
            } else {
                self.band_block(now, frame_ends)
            };
            self.frame_fill += take;
            self.samples_seen += take as u64;
            if self.frame_fill == self.hop_samples {
                let frame = self.close_frame();
                on_frame(frame);
            }
            samples = rest;
        }
    }

    /// Runs the band and anti-alias filters over `now` (within one frame), stores the
    /// decimated samples and returns the frame's band energy so far (before the cascade's
    /// gain); states are flushed of tiny values when `frame_ends`.
    fn filter_block(&mut self, now: &[f32], frame_ends: bool) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports FMA, checked just above.
            return unsafe { self.filter_block_fma(now, frame_ends) };
        }
        self.filter_block_portable(now, frame_ends)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn filter_block_fma(&mut self, now: &[f32], frame_ends: bool) -> f64 {
        self.filter_block_portable(now, frame_ends)
    }

    #[inline(always)]
    fn filter_block_portable(&mut self, now: &[f32], frame_ends: bool) -> f64 {
        let energy = self.band_block_portable(now, frame_ends);
        let (section, gain) = (self.anti_alias, self.anti_alias_gain);
        let ring_len = self.ring.len() / 2;
        let mask = ring_len - 1;
        // Scalars, not arrays: pairs of f32 would be packed in integer registers.
        let [[mut x1, mut x2], [mut p1, mut p2], [mut q1, mut q2]] = self.anti_alias_history;
        let (mut phase, mut pos) = (self.phase, self.ring_pos);
        for &x in now {
            let p = section.output(x, [x1, x2], [p1, p2]);
            let q = section.output(p, [p1, p2], [q1, q2]);
            (x2, x1, p2, p1, q2, q1) = (x1, x, p1, p, q1, q);
            phase += 1;
            if phase == self.decimation {
                phase = 0;
                let (i, d) = (pos & mask, q * gain);
                (self.ring[i], self.ring[i + ring_len]) = (d, d);
                pos = pos.wrapping_add(1);
            }
        }
        self.anti_alias_history = [[x1, x2], [p1, p2], [q1, q2]];
        if frame_ends {
            self.anti_alias_history = flush_tiny(self.anti_alias_history);
        }
        (self.phase, self.ring_pos) = (phase, pos);
        energy
    }

    /// Runs the band filter over `now` (within one frame) and returns the frame's band
    /// energy so far (before the cascade's gain); see [`FrameExtractor::filter_block`].
    fn band_block(&mut self, now: &[f32], frame_ends: bool) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports FMA, checked just above.
            return unsafe { self.band_block_fma(now, frame_ends) };
        }
        self.band_block_portable(now, frame_ends)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn band_block_fma(&mut self, now: &[f32], frame_ends: bool) -> f64 {
        self.band_block_portable(now, frame_ends)
    }

    #[inline(always)]
    fn band_block_portable(&mut self, now: &[f32], frame_ends: bool) -> f64 {
        // The frame's running sum goes on; squares of f32 are exact in f64.
        let mut energy = self.frame_energy;
        self.band
            .cascade(&mut self.band_history, now, frame_ends, |l| {
                energy += l as f64 * l as f64
            });
        energy
    }

    fn close_frame(&mut self) -> Frame {
        let energy_db =
            power_db(self.frame_energy * self.fast_gain / self.hop_samples as f64) as f32;
        let end = self.samples_seen as f64 / self.sample_rate_hz;
        let start = end - self.hop_samples as f64 / self.sample_rate_hz;
        let (voicing, f0_hz) = if !self.periodicity || energy_db <= self.energy_gate_db {
            (0.0, None)
        } else if self.deferred {
            self.pending.push_back(Pending {
                index: self.frame_index,
                pos: self.ring_pos,
                seen: self.samples_seen,
                result: None,
            });
            (0.0, None)
        } else {
            self.periodicity_at(self.ring_pos, self.samples_seen)
        };
        if self.deferred {
            self.score_leaving();
        }
        let frame = Frame {
            index: self.frame_index,
            start_s: start,
            end_s: end,
            energy_db,
            voicing,
            f0_hz,
        };
        self.frame_index += 1;
        self.frame_fill = 0;
        self.frame_energy = 0.0;
        frame
    }

    /// Normalised cross-correlation over the 30 ms (decimated to about 4 kHz) before ring
    /// position `pos`, reached after `seen` input samples.
    ///
    /// The window energies come from running sums of squares over the window and its lags
    /// (summed afresh for each frame, so a frame's figures depend on its own samples only),
    /// so each lag costs one dot product (vectorised). A coarse-to-fine search (every lag at
    /// 2 kHz, the best peaks refined at 4 kHz) was tried: it saved 4 % of the run time and
    /// doubled the median F0 error against Praat (0.31 to 0.60 semitones), so every lag is
    /// scored.
    fn periodicity_at(&mut self, pos: usize, seen: u64) -> (f32, Option<f32>) {
        let span = self.window_len + self.max_lag;
        if (pos as u64) < span as u64 && seen < (span * self.decimation) as u64 {
            return (0.0, None);
        }
        let mask = self.ring.len() / 2 - 1;
        let start = pos.wrapping_sub(span) & mask;
        let w = &self.ring[start..start + span];
        // `squares[i]` = the sum of squares of window samples `0..i`.
        square_prefix(w, &mut self.window_squares[..span + 1]);
        let squares = &self.window_squares[..span + 1];
        let n = self.window_len;
        // x = the most recent n samples; y(lag) = the n samples `lag` earlier.
        let e0 = (squares[span] - squares[span - n]) as f32;
        if e0 <= 1e-12 {
            return (0.0, None);
        }

        let x = &w[span - n..];
        let lags = self.octave_costs.len();
        if lags == 0 {
            return (0.0, None);
        }
        let mut scores = [0.0f32; MAX_LAGS];
        let scores = &mut scores[..lags];
        lag_products(x, w, self.min_lag, scores);
        // Lag `min_lag + k`: its window energy, then its score (two passes that vectorise).
        let (end, begin) = (span - self.min_lag, span - n - self.min_lag);
        let mut energies = [0.0f32; MAX_LAGS];
        let ends = squares[end + 1 - lags..end + 1].iter().rev();
        let begins = squares[begin + 1 - lags..begin + 1].iter().rev();
        for ((yy, &e), &b) in energies[..lags].iter_mut().zip(ends).zip(begins) {
            *yy = (e - b) as f32;
        }
        for (score, &yy) in scores.iter_mut().zip(&energies[..lags]) {
            *score = nccf(*score, e0, yy);
        }
        let mut best = (0.0f32, 0usize);
        for (k, &score) in scores.iter().enumerate() {
            if score > best.0 {
                best = (score, k);
            }
        }
        if best.0 < self.voicing_threshold {
            return (best.0.max(0.0), None);
        }
        // Among the local peaks, take the strongest after a small cost per octave of lag
        // (as Praat's "octave cost"), which settles near-ties towards the true period
        // rather than a multiple of it without jumping to a harmonic.
        let mut chosen = best.1;
        let mut chosen_score = f32::MIN;
        for k in 1..lags.saturating_sub(1) {
            if scores[k] >= scores[k - 1] && scores[k] >= scores[k + 1] && scores[k] > 0.0 {
                let score = scores[k] - self.octave_costs[k];
                if score > chosen_score {
                    chosen_score = score;
                    chosen = k;
                }
            }
        }
        let mut lag = (self.min_lag + chosen) as f32;
        if chosen > 0 && chosen + 1 < lags {
            let (a, b, c) = (scores[chosen - 1], scores[chosen], scores[chosen + 1]);
            let denom = a - 2.0 * b + c;
            if denom.abs() > 1e-9 {
                lag += (0.5 * (a - c) / denom).clamp(-0.5, 0.5);
            }
        }
        (best.0, Some((self.decimated_rate_hz / lag as f64) as f32))
    }
}

/// Runs of the sum in [`square_prefix`], independent chains a CPU overlaps.
const SQUARE_RUNS: usize = 4;

/// `out[i]` = the sum of the squares of `w[..i]` in f64 (`out.len() == w.len() + 1`).
///
/// The sum runs as [`SQUARE_RUNS`] independent chains over consecutive stretches of `w`,
/// each then offset by the totals before it: a fixed order of additions (the same result
/// on every CPU and for every caller), without one long chain of dependent additions.
#[inline(always)]
fn square_prefix(w: &[f32], out: &mut [f64]) {
    let len = w.len();
    let stretch = len / SQUARE_RUNS;
    let (first, out) = out[..len + 1].split_at_mut(1);
    first[0] = 0.0;
    let (body, rest) = out.split_at_mut(SQUARE_RUNS * stretch);
    let (w_body, w_rest) = w.split_at(SQUARE_RUNS * stretch);
    let mut acc = [0.0f64; SQUARE_RUNS];
    if stretch > 0 {
        let mut outs = body.chunks_exact_mut(stretch);
        let mut ins = w_body.chunks_exact(stretch);
        let (o, i): ([&mut [f64]; SQUARE_RUNS], [&[f32]; SQUARE_RUNS]) = (
            std::array::from_fn(|_| outs.next().unwrap_or_default()),
            std::array::from_fn(|_| ins.next().unwrap_or_default()),
        );
        let [o0, o1, o2, o3] = o;
        let [i0, i1, i2, i3] = i;
        for t in 0..stretch
            .min(o0.len())
            .min(o1.len())
            .min(o2.len())
            .min(o3.len())
        {
            let d = [i0[t], i1[t], i2[t], i3[t]].map(|v| v as f64 * v as f64);
            for (a, d) in acc.iter_mut().zip(d) {
                *a += d;
            }
            (o0[t], o1[t], o2[t], o3[t]) = (acc[0], acc[1], acc[2], acc[3]);
        }
        // Each stretch then starts from the totals before it.
        let mut offset = acc[0];
        for (j, o) in [o1, o2, o3].into_iter().enumerate() {
            for c in o.iter_mut() {
                *c += offset;
            }
            offset += acc[j + 1];
        }
        acc[SQUARE_RUNS - 1] = offset;
    }
    // The remainder continues the last stretch.
    for (c, &v) in rest.iter_mut().zip(w_rest) {
        acc[SQUARE_RUNS - 1] += v as f64 * v as f64;
        *c = acc[SQUARE_RUNS - 1];
    }
}

/// Filter states this small (about -600 dBFS) are set to zero at the end of every frame.
///
/// After digital silence the states otherwise decay into subnormal numbers, on which x86
/// arithmetic is very slow; zero states on zero input stay zero. No frame energy or
/// correlation we measure can see values this small.
const TINY_STATE: f32 = 1e-30;

/// `history` with every value below [`TINY_STATE`] in magnitude set to zero.
#[inline(always)]
fn flush_tiny<const N: usize>(mut history: History<N>) -> History<N> {
    for v in history.iter_mut().flatten() {
        if v.abs() < TINY_STATE {
            *v = 0.0;
        }
    }
    history
}

/// Lags scored at most (the pitch range at about 4 kHz needs about 60).
const MAX_LAGS: usize = 512;

/// Normalised cross-correlation from a dot product and the two window energies.
#[inline]
fn nccf(xy: f32, xx: f32, yy: f32) -> f32 {
    // Computed before the test, so a loop of these vectorises (a select, not a branch).
    let score = xy / (xx * yy).sqrt();
    if yy > 1e-12 {
        score
    } else {
        0.0
    }
}

/// Partial sums per dot product: independent chains the compiler puts in vector lanes.
const LANES: usize = 8;

/// Lags scored together, so each block of `x` is loaded once for all of them.
const LAGS_AT_ONCE: usize = 4;

/// `out[k]` = the dot product of `x` (the newest `x.len()` samples of `w`) with the window
/// `min_lag + k` samples earlier.
///
/// Lags go in groups of [`LAGS_AT_ONCE`]; the last group overlaps the one before when the
/// count is not a multiple. On x86-64 CPUs with AVX2 a copy written with AVX2 intrinsics
/// runs; its arithmetic (lane-wise products and sums in the same order, no fused
/// multiply-add) is that of the portable code, so the result is bit-identical on every CPU.
fn lag_products(x: &[f32], w: &[f32], min_lag: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { lag_products_with(x, w, min_lag, out, group_avx2) };
    }
    // SAFETY: the portable group runs on any CPU.
    unsafe { lag_products_with(x, w, min_lag, out, group_portable) }
}

/// The dot products of `x` with [`LAGS_AT_ONCE`] windows of the same length, into `out`.
type GroupFn = unsafe fn(&[f32], [&[f32]; LAGS_AT_ONCE], &mut [f32; LAGS_AT_ONCE]);

/// Runs `group` over the lags.
///
/// # Safety
/// `group` must be safe to call on this CPU.
#[inline(always)]
unsafe fn lag_products_with(x: &[f32], w: &[f32], min_lag: usize, out: &mut [f32], group: GroupFn) {
    let (n, span, total) = (x.len(), w.len(), out.len());
    let window = |lag: usize| &w[span - n - lag..span - lag];
    if total < LAGS_AT_ONCE {
        for (k, o) in out.iter_mut().enumerate() {
            *o = x.iter().zip(window(min_lag + k)).map(|(p, q)| p * q).sum();
        }
        return;
    }
    let mut first = 0;
    while first < total {
        let first_in_group = first.min(total - LAGS_AT_ONCE);
        let ys = std::array::from_fn(|j| window(min_lag + first_in_group + j));
        let sums = &mut out[first_in_group..first_in_group + LAGS_AT_ONCE];
        if let Ok(sums) = sums.try_into() {
            group(x, ys, sums);
        }
        first = first_in_group + LAGS_AT_ONCE;
    }
}

#[inline(always)]
fn group_portable(x: &[f32], ys: [&[f32]; LAGS_AT_ONCE], out: &mut [f32; LAGS_AT_ONCE]) {
    let whole = x.len() / LANES * LANES;
    let mut acc = [[0.0f32; LANES]; LAGS_AT_ONCE];
    for start in (0..whole).step_by(LANES) {
        let xs = &x[start..start + LANES];
        for (a, y) in acc.iter_mut().zip(&ys) {
            let y = &y[start..start + LANES];
            for l in 0..LANES {
                a[l] += xs[l] * y[l];
            }
        }
    }
    for (j, o) in out.iter_mut().enumerate() {
        *o = tree_sum(&acc[j]) + tail_product(x, ys[j], whole);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn group_avx2(x: &[f32], ys: [&[f32]; LAGS_AT_ONCE], out: &mut [f32; LAGS_AT_ONCE]) {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_loadu_ps,
        _mm256_mul_ps, _mm256_setzero_ps, _mm_add_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_set_ps,
        _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
    };
    let whole = x.len() / LANES * LANES;
    assert!(ys.iter().all(|y| y.len() == x.len()));
    let mut acc: [__m256; LAGS_AT_ONCE] = [_mm256_setzero_ps(); LAGS_AT_ONCE];
    for start in (0..whole).step_by(LANES) {
        // SAFETY: `start + LANES <= whole <= x.len()`, which is every `ys[j].len()` too.
        let xs = _mm256_loadu_ps(x.as_ptr().add(start));
        for (a, y) in acc.iter_mut().zip(&ys) {
            let ys = _mm256_loadu_ps(y.as_ptr().add(start));
            *a = _mm256_add_ps(*a, _mm256_mul_ps(xs, ys));
        }
    }
    // `tree_sum` of the four accumulators at once, in registers: `h[i] = a[i] + a[i + 4]`,
    // transposed so lane `j` holds accumulator `j`, then `(h0 + h2) + (h1 + h3)`.
    let h = acc.map(|a| _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a)));
    let (t0, t1) = (_mm_unpacklo_ps(h[0], h[1]), _mm_unpacklo_ps(h[2], h[3]));
    let (t2, t3) = (_mm_unpackhi_ps(h[0], h[1]), _mm_unpackhi_ps(h[2], h[3]));
    let (h0, h1) = (_mm_movelh_ps(t0, t1), _mm_movehl_ps(t1, t0));
    let (h2, h3) = (_mm_movelh_ps(t2, t3), _mm_movehl_ps(t3, t2));
    let sums = _mm_add_ps(_mm_add_ps(h0, h2), _mm_add_ps(h1, h3));
    let tails = _mm_set_ps(
        tail_product(x, ys[3], whole),
        tail_product(x, ys[2], whole),
        tail_product(x, ys[1], whole),
        tail_product(x, ys[0], whole),
    );
    // SAFETY: `out` holds exactly four f32.
    _mm_storeu_ps(out.as_mut_ptr(), _mm_add_ps(sums, tails));
}

/// The products past the last whole block of lanes, summed in order.
#[inline(always)]
fn tail_product(x: &[f32], y: &[f32], whole: usize) -> f32 {
    x[whole..].iter().zip(&y[whole..]).map(|(p, q)| p * q).sum()
}

/// Sum of the lanes, pairwise (a fixed order, cheap in vector registers).
#[inline(always)]
fn tree_sum(a: &[f32; LANES]) -> f32 {
    let h: [f32; 4] = std::array::from_fn(|i| a[i] + a[i + 4]);
    (h[0] + h[2]) + (h[1] + h[3])
}

/// Streaming zero-lag correlation of two channels' speech bands, one value per 10 ms frame
/// (aligned with [`FrameExtractor`]'s frames): near 1 when one channel is a scaled copy of
/// the other (a leak), near 0 when they carry different talkers.
pub struct BandCorrelation {
    hop_samples: usize,
    band: SpeechBand,
    histories: [History<4>; 2],
    filtered: [Vec<f32>; 2],
    xx: f64,
    yy: f64,
    xy: f64,
    fill: usize,
}

impl BandCorrelation {
    /// A correlator at `sample_rate_hz`.
    pub fn new(sample_rate_hz: u32) -> BandCorrelation {
        let rate = sample_rate_hz as f64;
        let hop_samples = ((rate * HOP_S).round() as usize).max(1);
        // The same band as the frames' energy; the correlation does not need the gain.
        BandCorrelation {
            hop_samples,
            band: SpeechBand::new(rate).0,
            histories: [[[0.0; 2]; 4]; 2],
            filtered: [vec![0.0; hop_samples], vec![0.0; hop_samples]],
            xx: 0.0,
            yy: 0.0,
            xy: 0.0,
            fill: 0,
        }
    }

    /// Adds equal-length blocks of both channels; pushes one correlation per completed frame.
    pub fn push(&mut self, mut a: &[f32], mut b: &[f32], out: &mut Vec<f32>) {
        while !a.is_empty() && !b.is_empty() {
            let take = (self.hop_samples - self.fill).min(a.len()).min(b.len());
            let ((now_a, rest_a), (now_b, rest_b)) = (a.split_at(take), b.split_at(take));
            let frame_ends = self.fill + take == self.hop_samples;
            for (channel, now) in [now_a, now_b].into_iter().enumerate() {
                let (history, filtered) =
                    (&mut self.histories[channel], &mut self.filtered[channel]);
                let out = &mut filtered[..take];
                band_filter(self.band, history, now, out, frame_ends);
            }
            let (fa, fb) = (&self.filtered[0][..take], &self.filtered[1][..take]);
            // Summed sample by sample in f64, so block boundaries cannot change the result.
            let (mut xx, mut yy, mut xy) = (self.xx, self.yy, self.xy);
            for (&x, &y) in fa.iter().zip(fb) {
                let (x, y) = (x as f64, y as f64);
                xx += x * x;
                yy += y * y;
                xy += x * y;
            }
            (self.xx, self.yy, self.xy) = (xx, yy, xy);
            self.fill += take;
            if self.fill == self.hop_samples {
                let denom = (self.xx * self.yy).sqrt();
                out.push(if denom > 1e-20 {
                    (self.xy / denom) as f32
                } else {
                    0.0
                });
                self.xx = 0.0;
                self.yy = 0.0;
                self.xy = 0.0;
                self.fill = 0;
            }
            (a, b) = (rest_a, rest_b);
        }
    }
}

/// The speech band (200 Hz up to [`TELEPHONE_BAND_TOP_HZ`] at 8 kHz, [`SPEECH_BAND_TOP_HZ`]
/// on wideband lines): two high-pass sections and one low-pass, unscaled.
#[derive(Debug, Clone, Copy)]
struct SpeechBand {
    high: UnscaledSection<true>,
    low: UnscaledSection<false>,
}

impl SpeechBand {
    /// The band at `rate` Hz, and the amplitude gain its unscaled sections leave out.
    fn new(rate: f64) -> (SpeechBand, f64) {
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let line_top_hz = if rate <= 8000.0 {
            TELEPHONE_BAND_TOP_HZ
        } else {
            SPEECH_BAND_TOP_HZ
        };
        let top_hz = (rate * 0.45).min(line_top_hz);
        let (high, high_gain) = UnscaledSection::<true>::new(rate, 200.0, q);
        let (low, low_gain) = UnscaledSection::<false>::new(rate, top_hz, q);
        (SpeechBand { high, low }, high_gain * high_gain * low_gain)
    }

    /// The cascade over `input`, handing each output to `sink`; the states are kept in
    /// `history` (flushed of tiny values when `flush`).
    #[inline(always)]
    fn cascade(
        self,
        history: &mut History<4>,
        input: &[f32],
        flush: bool,
        mut sink: impl FnMut(f32),
    ) {
        let (high, low) = (self.high, self.low);
        // Scalars, not arrays: pairs of f32 would be packed in integer registers.
        let [[mut x1, mut x2], [mut h1, mut h2], [mut g1, mut g2], [mut l1, mut l2]] = *history;
        for &x in input {
            let h = high.output(x, [x1, x2], [h1, h2]);
            let g = high.output(h, [h1, h2], [g1, g2]);
            let l = low.output(g, [g1, g2], [l1, l2]);
            (x2, x1, h2, h1, g2, g1, l2, l1) = (x1, x, h1, h, g1, g, l1, l);
            sink(l);
        }
        *history = [[x1, x2], [h1, h2], [g1, g2], [l1, l2]];
        if flush {
            *history = flush_tiny(*history);
        }
    }
}

/// The speech band of `input` into `output` (see [`SpeechBand::cascade`]), with FMA where
/// the CPU has it.
fn band_filter(
    band: SpeechBand,
    history: &mut History<4>,
    input: &[f32],
    output: &mut [f32],
    flush: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports FMA, checked just above.
        return unsafe { band_filter_fma(band, history, input, output, flush) };
    }
    band_filter_portable(band, history, input, output, flush)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn band_filter_fma(
    band: SpeechBand,
    history: &mut History<4>,
    input: &[f32],
    output: &mut [f32],
    flush: bool,
) {
    band_filter_portable(band, history, input, output, flush)
}

#[inline(always)]
fn band_filter_portable(
    band: SpeechBand,
    history: &mut History<4>,
    input: &[f32],
    output: &mut [f32],
    flush: bool,
) {
    let mut out = output.iter_mut();
    band.cascade(history, input, flush, |l| {
        if let Some(o) = out.next() {
            *o = l;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform noise in [-0.5, 0.5) from a linear congruential generator seeded with `seed`.
    fn uniform_noise(seed: u32) -> impl FnMut() -> f32 {
        let mut state = seed;
        move || {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            state as f32 / u32::MAX as f32 - 0.5
        }
    }

    #[test]
    fn f0_of_a_harmonic_tone() {
        for &(rate, f0) in &[(8000u32, 120.0f64), (16000, 220.0), (44100, 180.0)] {
            let mut fx = FrameExtractor::new(rate, 60.0, 420.0);
            let signal: Vec<f32> = (0..rate as usize)
                .map(|i| {
                    let t = i as f64 / rate as f64;
                    (0.3 * (2.0 * std::f64::consts::PI * f0 * t).sin()
                        + 0.2 * (2.0 * std::f64::consts::PI * 2.0 * f0 * t).sin()
                        + 0.1 * (2.0 * std::f64::consts::PI * 3.0 * f0 * t).sin())
                        as f32
                })
                .collect();
            let mut f0s = Vec::new();
            fx.push(&signal, |f| f0s.extend(f.f0_hz));
            assert!(f0s.len() > 90, "{rate}: {} voiced frames", f0s.len());
            f0s.sort_by(f32::total_cmp);
            let median = f0s[f0s.len() / 2] as f64;
            assert!((median / f0 - 1.0).abs() < 0.02, "{rate}: {median} vs {f0}");
        }
    }

    #[test]
    fn lag_products_are_the_same_on_every_code_path() {
        let mut noise = uniform_noise(7);
        let w: Vec<f32> = (0..211).map(|_| noise()).collect();
        for n in [120, 110, 7] {
            let x = &w[w.len() - n..];
            let lags = 59.min(w.len() - n - 9 + 1);
            let mut dispatched = vec![0.0; lags];
            let mut portable = vec![0.0; lags];
            lag_products(x, &w, 9, &mut dispatched);
            // SAFETY: the portable group runs on any CPU.
            unsafe { lag_products_with(x, &w, 9, &mut portable, group_portable) };
            assert_eq!(dispatched, portable, "n = {n}");
            for (k, p) in portable.iter().enumerate() {
                let lag = 9 + k;
                let y = &w[w.len() - n - lag..w.len() - lag];
                let naive: f64 = x.iter().zip(y).map(|(a, b)| *a as f64 * *b as f64).sum();
                assert!(
                    (*p as f64 - naive).abs() < 1e-4,
                    "lag {lag}: {p} vs {naive}"
                );
            }
        }
    }

    #[test]
    fn pitch_recovers_after_a_huge_sample() {
        let rate = 8000u32;
        let mut signal: Vec<f32> = (0..2 * rate as usize)
            .map(|i| (0.3 * (2.0 * std::f64::consts::PI * 150.0 * i as f64 / 8000.0).sin()) as f32)
            .collect();
        signal[4000] = 1e30;
        let mut fx = FrameExtractor::new(rate, 60.0, 420.0);
        let mut late = Vec::new();
        fx.push(&signal, |f| {
            if f.start_s >= 1.0 {
                late.push(f.f0_hz);
            }
        });
        assert_eq!(late.len(), 100);
        for f0 in late {
            let f0 = f0.expect("voiced");
            assert!((f0 - 150.0).abs() < 3.0, "{f0}");
        }
    }

    #[test]
    fn filter_states_reach_zero_in_digital_silence() {
        // Subnormal states would make every sample of a long silence slow on x86.
        let mut fx = FrameExtractor::new(16000, 60.0, 420.0);
        let tone: Vec<f32> = (0..1600)
            .map(|i| (0.5 * (i as f64 * 0.1).sin()) as f32)
            .collect();
        fx.push(&tone, |_| {});
        fx.push(&vec![0.0; 16000], |_| {});
        let states = fx
            .band_history
            .iter()
            .chain(&fx.anti_alias_history)
            .flatten();
        assert!(
            states.clone().all(|&v| v == 0.0),
            "{:?}",
            states.collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_dc_offset_from_the_first_sample_raises_no_band_energy() {
        // A line with a DC offset and faint noise: the band filter must not ring at 0 s
        // (a burst read as speech at 0.00 s, a false greeting).
        let mut state = 9u32;
        let line: Vec<f32> = (0..8000)
            .map(|_| {
                state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                0.05 + 0.001 * ((state >> 16) as f32 / 32768.0 - 1.0)
            })
            .collect();
        let mut frames = Vec::new();
        FrameExtractor::energy_only(8000).push(&line, |f| frames.push(f));
        let later = frames[10..]
            .iter()
            .map(|f| f.energy_db)
            .fold(f32::MIN, f32::max);
        assert!(
            frames[0].energy_db < later + 3.0,
            "first frame {} dB, later frames at most {later} dB",
            frames[0].energy_db
        );
    }

    /// Median band energy of the frames of a sine, dB.
    fn tone_band_db(rate_hz: u32, tone_hz: f32) -> f32 {
        let w = std::f32::consts::TAU * tone_hz / rate_hz as f32;
        let tone: Vec<f32> = (0..rate_hz).map(|i| 0.1 * (w * i as f32).sin()).collect();
        let mut db = Vec::new();
        FrameExtractor::energy_only(rate_hz).push(&tone, |f| db.push(f.energy_db));
        db.sort_by(f32::total_cmp);
        db[db.len() / 2]
    }

    #[test]
    fn the_band_takes_in_fricatives_above_4_khz_on_wideband_lines() {
        // A final /s/ lies mostly above 4 kHz: on a 16 kHz line the band takes it in as
        // fully as a vowel's 1 kHz; at 8 kHz the band keeps to the telephone channel's.
        let vowel_db = tone_band_db(16000, 1000.0);
        let fricative_db = tone_band_db(16000, 5500.0);
        assert!(
            (fricative_db - vowel_db).abs() < 2.0,
            "5.5 kHz {fricative_db} dB against 1 kHz {vowel_db} dB at 16 kHz"
        );
        let telephone_vowel_db = tone_band_db(8000, 1000.0);
        let telephone_top_db = tone_band_db(8000, 3900.0);
        assert!(
            telephone_top_db < telephone_vowel_db - 6.0,
            "3.9 kHz {telephone_top_db} dB against 1 kHz {telephone_vowel_db} dB at 8 kHz"
        );
    }

    #[test]
    fn band_correlation_tells_a_leak_from_another_talker() {
        let mut noise = uniform_noise(99);
        let a: Vec<f32> = (0..8000).map(|_| noise()).collect();
        let other: Vec<f32> = (0..8000).map(|_| noise()).collect();
        let leak: Vec<f32> = a.iter().map(|v| v * 0.03).collect();
        let (mut same, mut different, mut chunked) = (Vec::new(), Vec::new(), Vec::new());
        BandCorrelation::new(8000).push(&a, &leak, &mut same);
        BandCorrelation::new(8000).push(&a, &other, &mut different);
        let mut c = BandCorrelation::new(8000);
        for (x, y) in a.chunks(37).zip(leak.chunks(37)) {
            c.push(x, y, &mut chunked);
        }
        assert_eq!(same.len(), 100);
        assert_eq!(same, chunked);
        assert!(same.iter().all(|&r| r > 0.999), "{same:?}");
        assert!(different.iter().all(|&r| r.abs() < 0.5), "{different:?}");
    }

    #[test]
    fn filters_are_the_same_on_every_code_path() {
        let signal: Vec<f32> = (0..4000)
            .map(|i| (0.4 * (i as f64 * 0.031).sin() + 0.1 * (i as f64 * 1.7).cos()) as f32)
            .collect();
        let mut dispatched = FrameExtractor::new(8000, 60.0, 420.0);
        let mut portable = FrameExtractor::new(8000, 60.0, 420.0);
        for chunk in signal.chunks(80) {
            let a = dispatched.filter_block(chunk, true);
            let b = portable.filter_block_portable(chunk, true);
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(dispatched.ring, portable.ring);
        assert!(dispatched.ring.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn frames_do_not_depend_on_block_boundaries() {
        // Speech-like sound, digital silence (filter states decay to tiny values), sound.
        let mut signal: Vec<f32> = (0..12000)
            .map(|i| (0.3 * (i as f64 * 0.05).sin() * (i as f64 * 0.002).cos()) as f32)
            .collect();
        signal.extend(std::iter::repeat_n(0.0, 9000));
        signal.extend((0..8000).map(|i| (0.2 * (i as f64 * 0.09).sin()) as f32));
        for rate in [8000, 16000] {
            for energy_only in [false, true] {
                let make = || {
                    if energy_only {
                        FrameExtractor::energy_only(rate)
                    } else {
                        FrameExtractor::new(rate, 60.0, 420.0)
                    }
                };
                let mut whole = Vec::new();
                make().push(&signal, |f| whole.push(f));
                for size in [1, 7, 33, 80, 161, 1000] {
                    let (mut fx, mut chunked) = (make(), Vec::new());
                    for chunk in signal.chunks(size) {
                        fx.push(chunk, |f| chunked.push(f));
                    }
                    assert_eq!(whole.len(), chunked.len());
                    for (a, b) in whole.iter().zip(&chunked) {
                        assert_eq!(
                            a.energy_db.to_bits(),
                            b.energy_db.to_bits(),
                            "{size}: {a:?} {b:?}"
                        );
                        assert_eq!(
                            a.voicing.to_bits(),
                            b.voicing.to_bits(),
                            "{size}: {a:?} {b:?}"
                        );
                        assert_eq!(a.f0_hz.map(f32::to_bits), b.f0_hz.map(f32::to_bits));
                    }
                }
            }
        }
    }

    #[test]
    fn energy_only_frames_match_the_full_extractor() {
        let signal: Vec<f32> = (0..16000)
            .map(|i| (0.3 * (i as f64 * 0.07).sin() * (i as f64 * 0.001).cos()) as f32)
            .collect();
        for rate in [8000, 16000] {
            let (mut full, mut fast) = (Vec::new(), Vec::new());
            FrameExtractor::new(rate, 60.0, 420.0).push(&signal, |f| full.push(f));
            let mut fx = FrameExtractor::energy_only(rate);
            for chunk in signal.chunks(33) {
                fx.push(chunk, |f| fast.push(f));
            }
            assert_eq!(full.len(), fast.len());
            for (a, b) in full.iter().zip(&fast) {
                assert_eq!(a.index, b.index);
                assert!((a.energy_db - b.energy_db).abs() < 0.01, "{a:?} {b:?}");
                assert_eq!(b.f0_hz, None);
            }
        }
    }

    #[test]
    fn noise_is_not_voiced_and_frames_tile_time() {
        let mut fx = FrameExtractor::new(8000, 60.0, 420.0);
        let mut uniform = uniform_noise(12345);
        let noise: Vec<f32> = (0..8000).map(|_| uniform() * 0.2).collect();
        let mut frames = Vec::new();
        fx.push(&noise, |f| frames.push(f));
        assert_eq!(frames.len(), 100);
        assert!((frames[99].end_s - 1.0).abs() < 1e-9);
        let voiced = frames.iter().filter(|f| f.f0_hz.is_some()).count();
        assert!(voiced < 10, "{voiced} noise frames called voiced");
    }

    #[test]
    fn square_prefix_is_a_running_sum_of_squares() {
        let w: Vec<f32> = (0..211)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01)
            .collect();
        for len in (0..14).chain([187, 190, 211]) {
            let mut out = vec![f64::NAN; len + 1];
            square_prefix(&w[..len], &mut out);
            let mut sum = 0.0f64;
            assert_eq!(out[0], 0.0);
            for (i, &v) in w[..len].iter().enumerate() {
                sum += v as f64 * v as f64;
                assert!((out[i + 1] - sum).abs() <= 1e-12 * sum, "{len} {i}");
            }
        }
    }

    /// Speech-like test signal: voiced bursts at several levels and F0s, pauses of noise.
    fn bursts(rate: u32, seconds: f64) -> Vec<f32> {
        let mut uniform = uniform_noise(5);
        (0..(rate as f64 * seconds) as usize)
            .map(|i| {
                let t = i as f64 / rate as f64;
                let noise = uniform() * 0.002;
                let burst = (t * 2.5) as usize;
                if burst % 3 == 2 {
                    return noise;
                }
                let f0 = 110.0 + 30.0 * (burst % 5) as f64;
                let amp = 0.3 / (1 + burst % 4) as f64;
                let phase = 2.0 * std::f64::consts::PI * f0 * t;
                (amp * (phase.sin() + 0.5 * (2.0 * phase).sin())) as f32 + noise
            })
            .collect()
    }

    #[test]
    fn deferred_frames_resolve_to_the_eager_figures_whenever_asked() {
        for rate in [8000u32, 16000, 44100] {
            let signal = bursts(rate, 6.0);
            // Resolved right away, after a short delay, and far later than the extractor
            // holds samples for (those frames are scored as their samples leave).
            for (delay, hold, chunk) in [(0usize, 0usize, 80usize), (7, 10, 333), (150, 20, 1000)] {
                let (mut eager, mut fx) = (Vec::new(), FrameExtractor::new(rate, 60.0, 420.0));
                for block in signal.chunks(chunk) {
                    fx.push(block, |f| eager.push(f));
                }
                assert!(eager.iter().filter(|f| f.f0_hz.is_some()).count() > 100);
                let mut fx = FrameExtractor::new(rate, 60.0, 420.0).deferred(hold);
                let (mut waiting, mut resolved) = (VecDeque::new(), Vec::new());
                for block in signal.chunks(chunk) {
                    fx.push(block, |f| {
                        assert_eq!((f.voicing, f.f0_hz), (0.0, None));
                        waiting.push_back(f);
                    });
                    while waiting.len() > delay {
                        let mut f = waiting.pop_front().expect("a frame");
                        fx.resolve(&mut f);
                        resolved.push(f);
                    }
                }
                for mut f in waiting.drain(..) {
                    fx.resolve(&mut f);
                    resolved.push(f);
                }
                assert_eq!(resolved.len(), eager.len());
                for (r, e) in resolved.iter().zip(&eager) {
                    assert_eq!(r, e, "{rate} Hz, delay {delay}, hold {hold}");
                }
                assert!(fx.pending.is_empty());
            }
        }
    }

    #[test]
    fn voicing_fill_scores_the_frames_near_active_ones_only() {
        let rate = 8000;
        let signal = bursts(rate, 4.0);
        let mut eager = Vec::new();
        FrameExtractor::new(rate, 60.0, 420.0).push(&signal, |f| eager.push(f));
        let mut fx = FrameExtractor::new(rate, 60.0, 420.0).deferred(4);
        let mut fill = VoicingFill::new(3, false);
        // Active: frames 100-149 and frame 250.
        let active = |i: u64| (100..150).contains(&i) || i == 250;
        let (mut out, mut frames) = (Vec::new(), Vec::new());
        for block in signal.chunks(80) {
            fx.push(block, |f| frames.push(f));
            for f in frames.drain(..) {
                let d = Decision {
                    frame: f,
                    active: active(f.index),
                };
                fill.push(d, &mut fx, |d| out.push(d));
                assert!(fx.pending.len() <= 4, "held back {}", fx.pending.len());
            }
        }
        fill.finish(&mut fx, |d| out.push(d));
        assert_eq!(out.len(), eager.len());
        let mut scored = 0;
        for (d, e) in out.iter().zip(&eager) {
            assert_eq!(d.frame.index, e.index);
            let near = (d.frame.index.saturating_sub(3)..=d.frame.index + 3).any(active);
            if near {
                assert_eq!(d.frame, *e);
                scored += usize::from(e.voicing > 0.0);
            } else {
                assert_eq!((d.frame.voicing, d.frame.f0_hz), (0.0, None));
            }
        }
        assert_eq!(scored, 50 + 6 + 7);
    }
}

//! Decoding with Symphonia: WAV (PCM 8/16/24/32-bit, float, mu-law, A-law), FLAC and MP3.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{
    CodecParameters, Decoder, DecoderOptions, CODEC_TYPE_NULL, CODEC_TYPE_PCM_ALAW,
    CODEC_TYPE_PCM_MULAW, CODEC_TYPE_PCM_S16LE,
};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::default::formats::{FlacReader, MpaReader, WavReader};

use crate::error::{Error, Result};

/// Lowest sample rate we analyse, Hz.
pub const MIN_SAMPLE_RATE_HZ: u32 = 8_000;
/// Highest sample rate we analyse, Hz.
pub const MAX_SAMPLE_RATE_HZ: u32 = 192_000;
/// Most channels we analyse (one agent, one customer).
pub const MAX_CHANNELS: usize = 2;
/// Float samples beyond this magnitude (+60 dB over full scale) are corrupt data, not
/// audio, and are read as silence. Values a little over full scale (a hot float file) are
/// kept as they are.
const MAX_SAMPLE_MAGNITUDE: f32 = 1000.0;
/// Decode errors tolerated (bad packets skipped) before the file is given up.
const MAX_BAD_PACKETS: usize = 1000;

/// The stream format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSpec {
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: usize,
}

/// The telephone codecs converted straight from packet bytes, skipping symphonia's planar
/// buffer and its copy back to interleaved samples (most of the decode time on PCM), with the
/// same values symphonia gives.
enum FastPcm {
    /// 16-bit little-endian PCM: `s / 32768`, symphonia's i16 to f32 conversion.
    S16Le,
    /// One byte per sample (G.711 mu-law or A-law) through a table that symphonia's own
    /// decoder filled from the 256 possible bytes.
    Table(Box<[f32; 256]>),
}

impl FastPcm {
    fn bytes_per_sample(&self) -> usize {
        match self {
            FastPcm::S16Le => 2,
            FastPcm::Table(_) => 1,
        }
    }

    /// The fast path for a track, if its codec has one.
    fn for_track(
        params: &CodecParameters,
        decoder: &mut dyn Decoder,
        track_id: u32,
    ) -> Option<FastPcm> {
        let coded_bits = params.bits_per_coded_sample.or(params.bits_per_sample);
        match params.codec {
            CODEC_TYPE_PCM_S16LE if coded_bits == Some(16) => Some(FastPcm::S16Le),
            CODEC_TYPE_PCM_MULAW | CODEC_TYPE_PCM_ALAW => {
                let bytes: Vec<u8> = (0..=255u8).collect();
                let packet = Packet::new_from_slice(track_id, 0, 0, &bytes);
                let decoded = decoder.decode(&packet).ok()?;
                let mut samples =
                    SampleBuffer::<f32>::new(decoded.capacity() as u64, *decoded.spec());
                samples.copy_interleaved_ref(decoded);
                let table: [f32; 256] = samples.samples().try_into().ok()?;
                Some(FastPcm::Table(Box::new(table)))
            }
            _ => None,
        }
    }

    /// Converts the whole frames of `bytes` (at most `max_frames`) into `out`.
    fn convert(&self, bytes: &[u8], channels: usize, max_frames: usize, out: &mut Vec<f32>) {
        let frames = (bytes.len() / (self.bytes_per_sample() * channels)).min(max_frames);
        let samples = frames * channels;
        out.clear();
        match self {
            FastPcm::S16Le => out.extend(
                bytes[..samples * 2]
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32_768.0),
            ),
            FastPcm::Table(table) => {
                out.extend(bytes[..samples].iter().map(|&b| table[b as usize]))
            }
        }
    }
}

/// A decoded recording, read block by block as interleaved `f32` samples in [-1, 1].
pub struct AudioSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    buffer: Option<SampleBuffer<f32>>,
    spec: SourceSpec,
    bad_packets: usize,
    codec_name: String,
    frames_read: u64,
    expected_frames: Option<u64>,
    truncation: Option<(u64, u64)>,
    absurd_samples: u64,
    fast: Option<FastPcm>,
    fast_buffer: Vec<f32>,
    max_frames_per_packet: usize,
}

impl AudioSource {
    /// Opens and probes a file; fails with a reason a person can act on.
    pub fn open(path: &Path) -> Result<AudioSource> {
        AudioSource::open_with(path, true)
    }

    /// Opens a file; `fast` allows the direct conversion of telephone PCM codecs.
    fn open_with(path: &Path, fast: bool) -> Result<AudioSource> {
        // Checked before opening: opening a named pipe would wait for a writer forever.
        let meta = std::fs::metadata(path)?;
        if meta.is_dir() {
            return Err(Error::Format("is a folder, not a file".into()));
        }
        if !meta.is_file() {
            return Err(Error::Format(
                "not a regular file (a device, pipe or socket)".into(),
            ));
        }
        let file = File::open(path)?;
        let extension = path.extension().and_then(|e| e.to_str());
        AudioSource::from_media(file, extension, fast)
    }

    /// Opens a recording held in memory; `extension` (`wav`, `flac`, `mp3`) is a hint.
    pub fn from_bytes(bytes: Vec<u8>, extension: Option<&str>) -> Result<AudioSource> {
        AudioSource::from_media(std::io::Cursor::new(bytes), extension, true)
    }

    /// Opens any seekable byte source: checks the container's size claims against the real
    /// size first and hides the metadata the decoder would allocate by a header's claim
    /// (see [`view::prepare`]), then probes it.
    fn from_media<M: MediaSource + 'static>(
        mut media: M,
        extension: Option<&str>,
        fast: bool,
    ) -> Result<AudioSource> {
        let len = media.seek(SeekFrom::End(0))?;
        if len == 0 {
            return Err(Error::Empty);
        }
        let (media, riff, container) = view::prepare(media, len, extension)?;
        let stream = MediaSourceStream::new(Box::new(media), Default::default());
        // The reader is chosen by what the file starts with, never by a marker found further
        // in (symphonia's probe searches for one, past anything our checks looked at).
        let options = FormatOptions::default();
        let opened: std::result::Result<Box<dyn FormatReader>, SymphoniaError> = match container {
            view::Container::Wav => WavReader::try_new(stream, &options).map(|r| Box::new(r) as _),
            view::Container::Flac => {
                FlacReader::try_new(stream, &options).map(|r| Box::new(r) as _)
            }
            view::Container::Mpeg => MpaReader::try_new(stream, &options).map(|r| Box::new(r) as _),
        };
        let format = opened.map_err(|e| match e {
            SymphoniaError::Unsupported(_) => {
                Error::Format("unrecognised format (not WAV, FLAC or MP3 audio)".into())
            }
            SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                Error::Format("truncated header".into())
            }
            other => Error::Format(describe(&other)),
        })?;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| Error::Unsupported("no audio track".into()))?;
        let params = &track.codec_params;
        let codec_name = symphonia::default::get_codecs()
            .get_codec(params.codec)
            .map(|d| d.short_name.to_string())
            .unwrap_or_else(|| "unknown".into());
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| Error::Unsupported("the header gives no sample rate".into()))?;
        check_sample_rate(sample_rate)?;
        let channels = params.channels.map(|c| c.count()).unwrap_or(0);
        check_channels(channels)?;
        let mut decoder = symphonia::default::get_codecs()
            .make(params, &DecoderOptions::default())
            .map_err(|e| Error::Unsupported(format!("codec {codec_name}: {}", describe(&e))))?;
        let track_id = track.id;
        let max_frames_per_packet = params
            .max_frames_per_packet
            .and_then(|f| usize::try_from(f).ok());
        let fast = match max_frames_per_packet {
            Some(_) if fast => FastPcm::for_track(params, decoder.as_mut(), track_id),
            _ => None,
        };
        let truncation = riff.and_then(|r| r.truncation());
        let expected_frames = match (truncation, params.n_frames) {
            (None, Some(n)) if codec_name == "flac" => Some(n),
            _ => None,
        };
        Ok(AudioSource {
            format,
            decoder,
            track_id,
            buffer: None,
            spec: SourceSpec {
                sample_rate,
                channels,
            },
            bad_packets: 0,
            codec_name,
            frames_read: 0,
            expected_frames,
            truncation,
            absurd_samples: 0,
            fast,
            fast_buffer: Vec::new(),
            max_frames_per_packet: max_frames_per_packet.unwrap_or(0),
        })
    }

    /// Samples so far beyond full scale that they were read as silence (corrupt float data).
    pub fn corrupt_samples(&self) -> u64 {
        self.absurd_samples
    }

    /// Why the recording is shorter than its header says, if it is (a truncated file).
    ///
    /// Complete only once the stream has been read to its end.
    pub fn truncation_warning(&self) -> Option<String> {
        if let Some((claimed, present)) = self.truncation {
            return Some(format!(
                "truncated file: the header claims {claimed} bytes of audio but only {present} are there; analysed what is there"
            ));
        }
        match self.expected_frames {
            Some(n) if self.frames_read < n => Some(format!(
                "truncated file: the header claims {:.2} s of audio but only {:.2} s are there; analysed what is there",
                n as f64 / self.spec.sample_rate as f64,
                self.frames_read as f64 / self.spec.sample_rate as f64
            )),
            _ => None,
        }
    }

    /// The stream's rate and channel count.
    pub fn spec(&self) -> SourceSpec {
        self.spec
    }

    /// The codec's short name (`pcm_s16le`, `pcm_mulaw`, `flac`, `mp3`, ...).
    pub fn codec_name(&self) -> &str {
        &self.codec_name
    }

    /// Packets that could not be decoded and were skipped.
    pub fn bad_packets(&self) -> usize {
        self.bad_packets
    }

    /// The next block of interleaved samples, or `None` at the end of the stream.
    ///
    /// A stream that ends early (a truncated file) ends here without an error; a
    /// packet that does not decode is skipped and counted.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(None)
                }
                Err(SymphoniaError::ResetRequired) => return Ok(None),
                Err(SymphoniaError::DecodeError(_)) => {
                    self.count_bad_packet()?;
                    continue;
                }
                Err(e) => return Err(Error::Format(describe(&e))),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            if let Some(fast) = &self.fast {
                // Integer PCM and G.711 samples are always within full scale: no absurd values.
                let out = &mut self.fast_buffer;
                fast.convert(
                    packet.buf(),
                    self.spec.channels,
                    self.max_frames_per_packet,
                    out,
                );
                if out.is_empty() {
                    continue;
                }
                self.frames_read += (out.len() / self.spec.channels.max(1)) as u64;
                return Ok(Some(&self.fast_buffer));
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    let spec = *decoded.spec();
                    if spec.rate != self.spec.sample_rate && decoded.frames() > 0 {
                        return Err(Error::Unsupported(format!(
                            "sample rate changes mid-stream ({} Hz to {} Hz)",
                            self.spec.sample_rate, spec.rate
                        )));
                    }
                    if spec.channels.count() != self.spec.channels || decoded.frames() == 0 {
                        if decoded.frames() == 0 {
                            continue;
                        }
                        return Err(Error::Unsupported(
                            "channel count changes mid-stream".into(),
                        ));
                    }
                    let needed = decoded.capacity() as u64;
                    let buffer = match &mut self.buffer {
                        Some(b) if b.capacity() as u64 >= needed * spec.channels.count() as u64 => {
                            b
                        }
                        slot => slot.insert(SampleBuffer::<f32>::new(needed, spec)),
                    };
                    buffer.copy_interleaved_ref(decoded);
                    self.frames_read += (buffer.len() / self.spec.channels.max(1)) as u64;
                    for s in buffer.samples_mut() {
                        if s.abs() > MAX_SAMPLE_MAGNITUDE {
                            *s = 0.0;
                            self.absurd_samples += 1;
                        }
                    }
                    let samples = self.buffer.as_ref().map(|b| b.samples()).unwrap_or(&[]);
                    return Ok(Some(samples));
                }
                Err(SymphoniaError::DecodeError(_)) => {
                    self.count_bad_packet()?;
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(Error::Format(describe(&e))),
            }
        }
    }

    fn count_bad_packet(&mut self) -> Result<()> {
        self.bad_packets += 1;
        if self.bad_packets > MAX_BAD_PACKETS {
            return Err(Error::Format(format!(
                "more than {MAX_BAD_PACKETS} packets failed to decode"
            )));
        }
        Ok(())
    }
}

/// Refuses a sample rate outside the range we analyse.
fn check_sample_rate(sample_rate: u32) -> Result<()> {
    if (MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&sample_rate) {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "sample rate {sample_rate} Hz (allowed {MIN_SAMPLE_RATE_HZ} to {MAX_SAMPLE_RATE_HZ} Hz)"
        )))
    }
}

/// Refuses a channel count other than mono or stereo.
fn check_channels(channels: usize) -> Result<()> {
    if (1..=MAX_CHANNELS).contains(&channels) {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "{channels} channels (agentvoice reads mono or stereo)"
        )))
    }
}

fn describe(e: &SymphoniaError) -> String {
    match e {
        SymphoniaError::IoError(io) => format!("read error: {}", crate::error::io_reason(io)),
        SymphoniaError::DecodeError(m) => format!("malformed data: {m}"),
        SymphoniaError::SeekError(_) => "seek error".into(),
        SymphoniaError::Unsupported(m) => format!("unsupported: {m}"),
        SymphoniaError::LimitError(m) => format!("limit exceeded: {m}"),
        SymphoniaError::ResetRequired => "stream reset required".into(),
    }
}

/// A walk over a RIFF/WAVE file's chunk headers before the decoder sees it.
///
/// Symphonia trusts chunk sizes: a `LIST` chunk claiming 4 GB is allocated whole, and an
/// ADPCM block size smaller than its header underflows. Here every chunk before `data` must
/// fit in the bytes that are really there, and the format chunk must describe something we
/// can decode, so nothing is allocated by what a header claims.
mod riff {
    use super::*;

    /// What the walk learnt about the audio data.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct RiffInfo {
        /// Bytes the `data` chunk claims.
        pub data_claimed: u64,
        /// Bytes of it present in the file.
        pub data_present: u64,
        /// Where the data chunk's size field is.
        pub data_size_offset: u64,
    }

    impl RiffInfo {
        /// `(claimed, present)` when the data chunk is cut short. A size of 0 or
        /// 0xFFFFFFFF is the streaming writers' "unknown", not a truncation.
        pub fn truncation(&self) -> Option<(u64, u64)> {
            let unknown = self.data_claimed == 0 || self.data_claimed == u64::from(u32::MAX);
            (!unknown && self.data_present < self.data_claimed)
                .then_some((self.data_claimed, self.data_present))
        }
    }

    pub(super) fn read_array<const N: usize, R: Read>(r: &mut R) -> Result<Option<[u8; N]>> {
        let mut buf = [0u8; N];
        let mut filled = 0;
        while filled < N {
            match r.read(&mut buf[filled..]) {
                Ok(0) => return Ok(None),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Ok(Some(buf))
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    fn tag_name(tag: &[u8]) -> String {
        tag.iter()
            .map(|&c| {
                if c.is_ascii_graphic() || c == b' ' {
                    c as char
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// A WAVE format tag's name, for the "unsupported" message.
    fn codec_tag_name(tag: u16) -> &'static str {
        match tag {
            0x0000 => "unknown (format tag 0)",
            0x0031 => "GSM 6.10",
            0x0040 => "G.721 ADPCM",
            0x0042 => "G.723.1",
            0x0045 | 0x0064 | 0x0140 => "G.726 ADPCM",
            0x0050 => "MPEG audio",
            0x0055 => "MPEG Layer 3",
            0x0065 => "G.722 ADPCM",
            0x0083 | 0x0133 => "G.729",
            0x0022 => "TrueSpeech",
            _ => "an unknown codec",
        }
    }

    /// Checks the `fmt ` chunk body (`body` holds at least its first 16 bytes).
    fn check_format(body: &[u8], extra: Option<u16>) -> Result<()> {
        let tag = u16_at(body, 0);
        let channels = u16_at(body, 2);
        let sample_rate = u32_at(body, 4);
        let block_align = u16_at(body, 12);
        let bits = u16_at(body, 14);
        const SUPPORTED: [u16; 7] = [0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0xfffe];
        if !SUPPORTED.contains(&tag) {
            return Err(Error::Unsupported(format!(
                "WAV codec {} (format tag 0x{tag:04x}); agentvoice reads PCM, float, mu-law, A-law and ADPCM WAV",
                codec_tag_name(tag)
            )));
        }
        check_channels(usize::from(channels))?;
        check_sample_rate(sample_rate)?;
        if block_align == 0 {
            return Err(Error::Format("broken WAV header: block size 0".into()));
        }
        match tag {
            // Symphonia computes frames per block as (block_align - header) * 8 / (bits *
            // channels): the subtraction must not underflow.
            0x0002 | 0x0011 => {
                let header = if tag == 0x0002 { 7 } else { 4 } * channels;
                if bits != 4 || block_align <= header {
                    return Err(Error::Format(format!(
                        "broken ADPCM header: {bits} bits per sample, block size {block_align}"
                    )));
                }
                if extra.is_none() {
                    return Err(Error::Format("broken ADPCM header: too short".into()));
                }
                // Stereo IMA ADPCM interleaves 4-byte words per channel; symphonia indexes
                // past its buffer when the last block ends inside a word.
                let words = 4 * channels;
                if tag == 0x0011 && channels > 1 && !(block_align - header).is_multiple_of(words) {
                    return Err(Error::Format(format!(
                        "broken IMA ADPCM header: block size {block_align} does not hold whole \
                         {words}-byte groups of {channels} channels"
                    )));
                }
            }
            0x0001 | 0x0003 | 0xfffe => {
                let bytes = u32::from(bits).div_ceil(8) * u32::from(channels);
                if bits == 0 || u32::from(block_align) < bytes {
                    return Err(Error::Format(format!(
                        "broken WAV header: {bits} bits per sample, block size {block_align}"
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Walks the chunks of a RIFF/WAVE stream of `len` bytes. Not RIFF: `Ok(None)`.
    pub(super) fn check<R: Read + Seek>(r: &mut R, len: u64) -> Result<Option<RiffInfo>> {
        let Some(head) = read_array::<12, R>(r)? else {
            return match len >= 4 && peek_is_riff(r)? {
                true => Err(Error::Format("truncated header".into())),
                false => Ok(None),
            };
        };
        if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
            return Ok(None);
        }
        let mut pos = 12u64;
        let mut seen_format = false;
        loop {
            let Some(chunk) = read_array::<8, R>(r)? else {
                return Err(Error::Format(if seen_format {
                    "truncated header (no audio data chunk)".into()
                } else {
                    "truncated header".into()
                }));
            };
            pos += 8;
            let tag = &chunk[0..4];
            let size = u64::from(u32_at(&chunk, 4));
            let remaining = len.saturating_sub(pos);
            if tag == b"data" {
                if !seen_format {
                    return Err(Error::Format(
                        "broken WAV header: audio data before the format chunk".into(),
                    ));
                }
                return Ok(Some(RiffInfo {
                    data_claimed: size,
                    data_present: remaining.min(size),
                    data_size_offset: pos - 4,
                }));
            }
            if size > remaining {
                return Err(Error::Format(format!(
                    "truncated header: the '{}' chunk claims {size} bytes but only {remaining} follow",
                    tag_name(tag)
                )));
            }
            if tag == b"fmt " {
                if size < 16 {
                    return Err(Error::Format(format!(
                        "broken WAV header: format chunk of {size} bytes"
                    )));
                }
                let body = read_array::<16, R>(r)?
                    .ok_or_else(|| Error::Format("truncated header".into()))?;
                let extra = if size >= 18 {
                    read_array::<2, R>(r)?.map(u16::from_le_bytes)
                } else {
                    None
                };
                check_format(&body, extra)?;
                seen_format = true;
            }
            pos += size + (size & 1);
            r.seek(SeekFrom::Start(pos))?;
        }
    }

    fn peek_is_riff<R: Read + Seek>(r: &mut R) -> Result<bool> {
        r.seek(SeekFrom::Start(0))?;
        Ok(read_array::<4, R>(r)?.is_some_and(|m| &m == b"RIFF"))
    }
}

/// What the decoder is shown of a file.
///
/// Symphonia allocates metadata by what a header claims before it checks the claim (an ID3v2
/// frame, a FLAC comment or picture, a RIFF `LIST` chunk: up to 4 GB each). We need no
/// metadata, so the decoder never sees it: ID3v2 tags are skipped, a FLAC stream is shown as
/// its STREAMINFO block followed by its audio frames, and a RIFF/WAVE file is walked and
/// checked first (and a data chunk cut short gets sizes that match what is there).
mod view {
    use super::*;
    use riff::read_array;

    /// A window on a byte source: `prefix`, then the source from `skip` on, with a few
    /// 4-byte fields overwritten (`patches`, at positions in the window).
    pub(super) struct View<M> {
        inner: M,
        prefix: Vec<u8>,
        skip: u64,
        patches: Vec<(u64, [u8; 4])>,
        pos: u64,
        len: u64,
        inner_pos: Option<u64>,
    }

    impl<M: Read + Seek> View<M> {
        fn new(inner: M, inner_len: u64, prefix: Vec<u8>, skip: u64) -> View<M> {
            let len = prefix.len() as u64 + inner_len.saturating_sub(skip);
            View {
                inner,
                prefix,
                skip,
                patches: Vec::new(),
                pos: 0,
                len,
                inner_pos: None,
            }
        }

        fn into_inner(self) -> M {
            self.inner
        }
    }

    impl<M: Read + Seek> Read for View<M> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let start = self.pos;
            let n = if start < self.prefix.len() as u64 {
                let from = &self.prefix[start as usize..];
                let n = from.len().min(buf.len());
                buf[..n].copy_from_slice(&from[..n]);
                n
            } else {
                let at = self.skip + (start - self.prefix.len() as u64);
                if self.inner_pos != Some(at) {
                    self.inner.seek(SeekFrom::Start(at))?;
                }
                let n = self.inner.read(buf)?;
                self.inner_pos = Some(at + n as u64);
                n
            };
            let end = start + n as u64;
            for (offset, bytes) in &self.patches {
                for (k, b) in bytes.iter().enumerate() {
                    let at = offset + k as u64;
                    if at >= start && at < end {
                        buf[(at - start) as usize] = *b;
                    }
                }
            }
            self.pos = end;
            Ok(n)
        }
    }

    impl<M: Read + Seek> Seek for View<M> {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            let target = match to {
                SeekFrom::Start(p) => Some(p),
                SeekFrom::End(d) => self.len.checked_add_signed(d),
                SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            };
            self.pos = target.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
            })?;
            Ok(self.pos)
        }
    }

    impl<M: MediaSource> MediaSource for View<M> {
        fn is_seekable(&self) -> bool {
            self.inner.is_seekable()
        }

        fn byte_len(&self) -> Option<u64> {
            Some(self.len)
        }
    }

    /// Skips ID3v2 tags, checks the container, and returns what the decoder may see.
    /// The container a file holds, by its first bytes (after any ID3v2 tags).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Container {
        /// RIFF/WAVE.
        Wav,
        /// Native FLAC.
        Flac,
        /// MPEG audio (MP3): starts with a frame sync, follows ID3v2 tags, or is named so.
        Mpeg,
    }

    pub(super) fn prepare<M: MediaSource>(
        mut media: M,
        len: u64,
        extension: Option<&str>,
    ) -> Result<(View<M>, Option<riff::RiffInfo>, Container)> {
        let mut base = 0u64;
        loop {
            media.seek(SeekFrom::Start(base))?;
            let Some(h) = read_array::<10, M>(&mut media)? else {
                break;
            };
            if &h[0..3] != b"ID3" {
                break;
            }
            if h[6..10].iter().any(|b| b & 0x80 != 0) {
                return Err(Error::Format("broken ID3 tag header".into()));
            }
            let size = h[6..10]
                .iter()
                .fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
            let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
            let end = base + 10 + size + footer;
            if end > len {
                return Err(Error::Format(format!(
                    "truncated header: the ID3 tag claims {size} bytes but only {} follow",
                    len - base - 10
                )));
            }
            base = end;
        }
        let mut view = View::new(media, len, Vec::new(), base);
        let view_len = view.len;
        if view_len == 0 {
            return Err(Error::NoSamples);
        }
        let riff = riff::check(&mut view, view_len)?;
        let container = if let Some(info) = riff {
            if info.truncation().is_some() {
                // The decoder refuses a data size beyond the RIFF size: show it sizes that
                // match the bytes really there.
                view.patches = vec![
                    (
                        4,
                        u32::try_from(view_len - 8)
                            .unwrap_or(u32::MAX)
                            .to_le_bytes(),
                    ),
                    (
                        info.data_size_offset,
                        u32::try_from(info.data_present)
                            .unwrap_or(u32::MAX)
                            .to_le_bytes(),
                    ),
                ];
            }
            Container::Wav
        } else if let Some((prefix, audio_start)) = flac_frames(&mut view, view_len)? {
            let media = view.into_inner();
            view = View::new(media, len, prefix, base + audio_start);
            Container::Flac
        } else {
            view.seek(SeekFrom::Start(0))?;
            let head = read_array::<2, View<M>>(&mut view)?.unwrap_or([0, 0]);
            let sync = head[0] == 0xff && head[1] & 0xe0 == 0xe0;
            let named = extension.is_some_and(|e| {
                ["mp3", "mp2", "mpa"]
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(e))
            });
            if !(sync || named || base > 0) {
                return Err(Error::Format(
                    "unrecognised format (not WAV, FLAC or MP3 audio)".into(),
                ));
            }
            Container::Mpeg
        };
        view.seek(SeekFrom::Start(0))?;
        Ok((view, riff, container))
    }

    /// For a FLAC stream: a header of "fLaC" and the STREAMINFO block alone (marked last),
    /// and where the audio frames start. Every metadata block must fit in the file.
    fn flac_frames<R: Read + Seek>(r: &mut R, len: u64) -> Result<Option<(Vec<u8>, u64)>> {
        r.seek(SeekFrom::Start(0))?;
        if read_array::<4, R>(r)?.is_none_or(|m| &m != b"fLaC") {
            return Ok(None);
        }
        let mut pos = 4u64;
        let mut prefix = b"fLaC".to_vec();
        loop {
            let header =
                read_array::<4, R>(r)?.ok_or_else(|| Error::Format("truncated header".into()))?;
            pos += 4;
            let last = header[0] & 0x80 != 0;
            let kind = header[0] & 0x7f;
            let size = u64::from(u32::from_be_bytes([0, header[1], header[2], header[3]]));
            if size > len - pos {
                return Err(Error::Format(format!(
                    "truncated header: a FLAC metadata block claims {size} bytes but only {} follow",
                    len - pos
                )));
            }
            if pos == 8 {
                if kind != 0 || size != 34 {
                    return Err(Error::Format(
                        "broken FLAC header: no stream information block".into(),
                    ));
                }
                let info = read_array::<34, R>(r)?
                    .ok_or_else(|| Error::Format("truncated header".into()))?;
                prefix.extend_from_slice(&[0x80, 0, 0, 34]);
                prefix.extend_from_slice(&info);
            }
            pos += size;
            if last {
                return Ok(Some((prefix, pos)));
            }
            r.seek(SeekFrom::Start(pos))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV file of format `tag` (1 PCM, 6 A-law, 7 mu-law) holding `data` as is.
    fn wav(path: &Path, tag: u16, channels: u16, bits: u16, data: &[u8]) {
        let rate = 8_000u32;
        let block_align = channels * bits / 8;
        let mut out = Vec::new();
        out.extend(b"RIFF");
        out.extend((4 + 26 + 8 + data.len() as u32).to_le_bytes());
        out.extend(b"WAVEfmt ");
        out.extend(18u32.to_le_bytes());
        out.extend(tag.to_le_bytes());
        out.extend(channels.to_le_bytes());
        out.extend(rate.to_le_bytes());
        out.extend((rate * block_align as u32).to_le_bytes());
        out.extend(block_align.to_le_bytes());
        out.extend(bits.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(b"data");
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
        std::fs::write(path, out).expect("write wav");
    }

    fn decode_all(path: &Path, fast: bool) -> (Vec<f32>, bool) {
        let mut source = AudioSource::open_with(path, fast).expect("open");
        let used_fast = source.fast.is_some();
        let mut all = Vec::new();
        while let Some(block) = source.next_block().expect("decode") {
            all.extend_from_slice(block);
        }
        (all, used_fast)
    }

    #[test]
    fn fast_telephone_codecs_decode_exactly_as_symphonia() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Every byte value many times over (several packets), and a ragged end.
        let bytes: Vec<u8> = (0..20_011u32).map(|i| (i * 7 + i / 256) as u8).collect();
        for (tag, bits) in [(1u16, 16u16), (6, 8), (7, 8)] {
            for channels in [1u16, 2] {
                let path = dir.path().join(format!("t{tag}_c{channels}.wav"));
                wav(&path, tag, channels, bits, &bytes);
                let (fast, used_fast) = decode_all(&path, true);
                let (slow, used_slow) = decode_all(&path, false);
                assert!(used_fast && !used_slow, "format {tag}");
                let frame_bytes = (channels * bits / 8) as usize;
                assert_eq!(slow.len(), bytes.len() / frame_bytes * channels as usize);
                assert_eq!(fast, slow, "format {tag}, {channels} channels");
                assert!(slow.iter().any(|&s| s < -0.5) && slow.iter().any(|&s| s > 0.5));
            }
        }
    }
}

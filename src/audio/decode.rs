//! Decoding with Symphonia: WAV (PCM 8/16/24/32-bit, float, mu-law, A-law), FLAC and MP3.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{
    CodecParameters, Decoder, DecoderOptions, CODEC_TYPE_NULL, CODEC_TYPE_PCM_ALAW,
    CODEC_TYPE_PCM_MULAW, CODEC_TYPE_PCM_S16LE,
};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::error::{Error, Result};

/// Lowest sample rate we analyse, Hz.
pub const MIN_SAMPLE_RATE_HZ: u32 = 8_000;
/// Highest sample rate we analyse, Hz.
pub const MAX_SAMPLE_RATE_HZ: u32 = 192_000;
/// Most channels we analyse (one agent, one customer).
pub const MAX_CHANNELS: usize = 2;
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
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(Error::Format("is a folder".into()));
        }
        if meta.len() == 0 {
            return Err(Error::Empty);
        }
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                stream,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymphoniaError::Unsupported(what) => {
                    Error::Format(format!("unrecognised format ({what})"))
                }
                SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    Error::Format("truncated header".into())
                }
                other => Error::Format(describe(&other)),
            })?;
        let format = probed.format;
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
        if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&sample_rate) {
            return Err(Error::Unsupported(format!(
                "sample rate {sample_rate} Hz (allowed {MIN_SAMPLE_RATE_HZ} to {MAX_SAMPLE_RATE_HZ} Hz)"
            )));
        }
        let channels = params.channels.map(|c| c.count()).unwrap_or(0);
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(Error::Unsupported(format!(
                "{channels} channels (agentvoice reads mono or stereo)"
            )));
        }
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
        Ok(AudioSource {
            fast,
            fast_buffer: Vec::new(),
            max_frames_per_packet: max_frames_per_packet.unwrap_or(0),
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
        })
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
                return Ok(Some(&self.fast_buffer));
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    let spec = *decoded.spec();
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

fn describe(e: &SymphoniaError) -> String {
    match e {
        SymphoniaError::IoError(io) => format!("read error: {io}"),
        SymphoniaError::DecodeError(m) => format!("malformed data: {m}"),
        SymphoniaError::SeekError(_) => "seek error".into(),
        SymphoniaError::Unsupported(m) => format!("unsupported: {m}"),
        SymphoniaError::LimitError(m) => format!("limit exceeded: {m}"),
        SymphoniaError::ResetRequired => "stream reset required".into(),
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

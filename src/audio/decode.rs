//! Decoding with Symphonia: WAV (PCM 8/16/24/32-bit, float, mu-law, A-law), FLAC and MP3.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
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

/// A decoded recording, read block by block as interleaved `f32` samples in [-1, 1].
pub struct AudioSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    buffer: Option<SampleBuffer<f32>>,
    spec: SourceSpec,
    bad_packets: usize,
    codec_name: String,
}

impl AudioSource {
    /// Opens and probes a file; fails with a reason a person can act on.
    pub fn open(path: &Path) -> Result<AudioSource> {
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
        let decoder = symphonia::default::get_codecs()
            .make(params, &DecoderOptions::default())
            .map_err(|e| Error::Unsupported(format!("codec {codec_name}: {}", describe(&e))))?;
        let track_id = track.id;
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

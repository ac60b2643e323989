//! Audio capture from an input device (feature `capture`, cpal).
//!
//! The device's callback never blocks or allocates: it converts the device's samples (any
//! integer or float format) to `f32` and pushes whole frames into a lock-free ring buffer
//! (ringbuf); what does not fit is dropped and counted as an overrun. The analysing thread
//! drains the ring with [`Capture::read`]. Stream errors are recorded for the reader to act
//! on: a vanished device becomes [`Capture::fault`], device overruns (xruns) are counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, Sample, SampleFormat, SizedSample};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

/// Why capture could not start.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The system reports no input device at all.
    #[error("no audio input device found (see `agentvoice devices`)")]
    NoDevice,
    /// No input device matches the name given.
    #[error("no input device named {0:?} (see `agentvoice devices`)")]
    NotFound(String),
    /// The device exists but another program holds it.
    #[error("input device {0} is busy (another program is using it)")]
    Busy(String),
    /// The device cannot be opened (no sound card, unplugged, or not configured).
    #[error("input device {0} is not available (no sound card, unplugged, or not configured)")]
    Unavailable(String),
    /// The operating system refused access.
    #[error("permission denied for input device {0} (is this user in the `audio` group?)")]
    PermissionDenied(String),
    /// The device's own format is one we do not convert.
    #[error("input device {device} delivers {format} samples, which are not supported")]
    UnsupportedFormat {
        /// The device.
        device: String,
        /// Its sample format.
        format: String,
    },
    /// Anything else the audio system reported.
    #[error("input device {device}: {message}")]
    Other {
        /// The device.
        device: String,
        /// The audio system's message.
        message: String,
    },
}

impl CaptureError {
    fn from_cpal(device: &str, e: &cpal::Error) -> CaptureError {
        let device = device.to_string();
        match e.kind() {
            ErrorKind::DeviceBusy => CaptureError::Busy(device),
            ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => {
                CaptureError::Unavailable(device)
            }
            ErrorKind::PermissionDenied => CaptureError::PermissionDenied(device),
            _ => CaptureError::Other {
                device,
                message: one_line(&e.to_string()),
            },
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_string()
}

/// The format a stream delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// Frames per second.
    pub sample_rate_hz: u32,
    /// Channels per frame.
    pub channels: usize,
    /// The device's sample format (`f32`, `i16`, `u16`, ...).
    pub sample_format: String,
}

/// One input device as listed by [`input_devices`].
#[derive(Debug, Clone)]
pub struct InputDevice {
    /// The stable identifier (`alsa:default`, `alsa:hw:CARD=PCH,DEV=0`, ...).
    pub id: String,
    /// The human-readable name.
    pub name: String,
    /// True for the system's default input.
    pub is_default: bool,
    /// The format a stream opens with, or why it cannot be read.
    pub default_format: Result<StreamSpec, String>,
}

/// Runs `f` with alsa-lib's own stderr diagnostics captured on this thread (they are noise
/// next to our one-line messages).
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    let _handler = alsa::Output::local_error_handler().ok();
    f()
}

fn device_id(device: &cpal::Device) -> String {
    device
        .id()
        .map(|id| id.to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

fn spec_of(config: &cpal::SupportedStreamConfig) -> StreamSpec {
    StreamSpec {
        sample_rate_hz: config.sample_rate(),
        channels: usize::from(config.channels()),
        sample_format: config.sample_format().to_string(),
    }
}

/// The input devices of the default audio host, the default one marked.
pub fn input_devices() -> Result<Vec<InputDevice>, CaptureError> {
    quietly(|| {
        let host = cpal::default_host();
        let default_id = host.default_input_device().map(|d| device_id(&d));
        let devices = host
            .input_devices()
            .map_err(|e| CaptureError::from_cpal("list", &e))?;
        let mut out: Vec<InputDevice> = devices
            .map(|d| {
                let id = device_id(&d);
                InputDevice {
                    name: d
                        .description()
                        .map(|desc| desc.name().to_string())
                        .unwrap_or_else(|_| id.clone()),
                    is_default: default_id.as_deref() == Some(id.as_str()),
                    default_format: d
                        .default_input_config()
                        .map(|c| spec_of(&c))
                        .map_err(|e| one_line(&e.to_string())),
                    id,
                }
            })
            .collect();
        // The default input may not be enumerated (e.g. a configured `default` PCM).
        if let (Some(id), false) = (&default_id, out.iter().any(|d| d.is_default)) {
            if let Some(d) = host.default_input_device() {
                out.insert(
                    0,
                    InputDevice {
                        id: id.clone(),
                        name: d
                            .description()
                            .map(|desc| desc.name().to_string())
                            .unwrap_or_else(|_| id.clone()),
                        is_default: true,
                        default_format: d
                            .default_input_config()
                            .map(|c| spec_of(&c))
                            .map_err(|e| one_line(&e.to_string())),
                    },
                );
            }
        }
        Ok(out)
    })
}

/// Counters and the first fatal error, shared with the device's callbacks.
#[derive(Debug, Default)]
pub struct CaptureCounters {
    /// Frames delivered by the device.
    delivered_frames: AtomicU64,
    /// Frames dropped because the ring buffer was full (the reader fell behind).
    dropped_frames: AtomicU64,
    /// Overruns and underruns reported by the device (audio lost before it reached us).
    xruns: AtomicU64,
    /// Set once a fatal stream error arrived.
    failed: AtomicBool,
    /// The fatal error's message.
    fault: Mutex<Option<String>>,
}

/// Pushes one callback's samples: whole frames only, converted to `f32`; frames that do not
/// fit are dropped and counted. Never blocks, never allocates.
pub fn push_frames<T>(
    producer: &mut impl Producer<Item = f32>,
    data: &[T],
    channels: usize,
    counters: &CaptureCounters,
) where
    T: Sample,
    f32: FromSample<T>,
{
    let channels = channels.max(1);
    let frames = data.len() / channels;
    let fit = (producer.vacant_len() / channels).min(frames);
    let pushed = producer.push_iter(data[..fit * channels].iter().map(|&s| f32::from_sample_(s)));
    let pushed_frames = pushed / channels;
    counters
        .delivered_frames
        .fetch_add(frames as u64, Ordering::Relaxed);
    counters
        .dropped_frames
        .fetch_add((frames - pushed_frames) as u64, Ordering::Relaxed);
}

/// A running input stream and the reading end of its ring buffer.
pub struct Capture {
    _stream: cpal::Stream,
    consumer: HeapCons<f32>,
    counters: Arc<CaptureCounters>,
    spec: StreamSpec,
    device: String,
}

impl Capture {
    /// Opens `device` (an id or name from [`input_devices`]; `None`: the default input) in its
    /// default format and starts it; the ring buffer holds `buffer_s` seconds.
    pub fn open(device: Option<&str>, buffer_s: f64) -> Result<Capture, CaptureError> {
        quietly(|| Capture::open_inner(device, buffer_s))
    }

    fn open_inner(wanted: Option<&str>, buffer_s: f64) -> Result<Capture, CaptureError> {
        let host = cpal::default_host();
        let device = match wanted {
            None => host.default_input_device().ok_or(CaptureError::NoDevice)?,
            Some(name) => find_device(&host, name)?,
        };
        let id = device_id(&device);
        let config = device
            .default_input_config()
            .map_err(|e| CaptureError::from_cpal(&id, &e))?;
        let spec = spec_of(&config);
        let frames = (buffer_s.clamp(0.01, 3600.0) * f64::from(spec.sample_rate_hz)).ceil();
        let capacity = (frames as usize).max(64) * spec.channels.max(1);
        let (producer, consumer) = HeapRb::<f32>::new(capacity).split();
        let counters = Arc::new(CaptureCounters::default());
        let stream_config = config.config();
        let stream = match config.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, stream_config, producer, &counters),
            SampleFormat::F64 => build::<f64>(&device, stream_config, producer, &counters),
            SampleFormat::I16 => build::<i16>(&device, stream_config, producer, &counters),
            SampleFormat::U16 => build::<u16>(&device, stream_config, producer, &counters),
            SampleFormat::I32 => build::<i32>(&device, stream_config, producer, &counters),
            SampleFormat::U32 => build::<u32>(&device, stream_config, producer, &counters),
            SampleFormat::I8 => build::<i8>(&device, stream_config, producer, &counters),
            SampleFormat::U8 => build::<u8>(&device, stream_config, producer, &counters),
            other => {
                return Err(CaptureError::UnsupportedFormat {
                    device: id,
                    format: other.to_string(),
                })
            }
        }
        .map_err(|e| CaptureError::from_cpal(&id, &e))?;
        stream
            .play()
            .map_err(|e| CaptureError::from_cpal(&id, &e))?;
        Ok(Capture {
            _stream: stream,
            consumer,
            counters,
            spec,
            device: id,
        })
    }

    /// Lets go of a failed stream without waiting for it: a driver whose device vanished may
    /// never return the worker thread, and stopping would wait for it forever.
    pub fn abandon(self) {
        let Capture { _stream, .. } = self;
        std::mem::forget(_stream);
    }

    /// The format of the samples [`Capture::read`] returns (always `f32` once read).
    pub fn spec(&self) -> &StreamSpec {
        &self.spec
    }

    /// The device's identifier.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Moves whole interleaved frames into `out`; returns the number of samples written
    /// (0 when nothing is waiting). Never blocks.
    pub fn read(&mut self, out: &mut [f32]) -> usize {
        let ch = self.spec.channels.max(1);
        let whole = (self.consumer.occupied_len() / ch).min(out.len() / ch) * ch;
        self.consumer.pop_slice(&mut out[..whole])
    }

    /// Frames the device delivered so far.
    pub fn delivered_frames(&self) -> u64 {
        self.counters.delivered_frames.load(Ordering::Relaxed)
    }

    /// Frames dropped because the reader fell behind (ring buffer full).
    pub fn dropped_frames(&self) -> u64 {
        self.counters.dropped_frames.load(Ordering::Relaxed)
    }

    /// Overruns the device reported (audio lost before it reached the callback).
    pub fn xruns(&self) -> u64 {
        self.counters.xruns.load(Ordering::Relaxed)
    }

    /// Why the stream stopped, once a fatal error arrived (the device vanished).
    pub fn fault(&self) -> Option<String> {
        if !self.counters.failed.load(Ordering::Acquire) {
            return None;
        }
        let message = self
            .counters
            .fault
            .lock()
            .ok()
            .and_then(|m| m.clone())
            .unwrap_or_else(|| "stream failed".to_string());
        Some(format!("input device {}: {message}", self.device))
    }
}

fn find_device(host: &cpal::Host, name: &str) -> Result<cpal::Device, CaptureError> {
    let devices: Vec<cpal::Device> = host
        .input_devices()
        .map_err(|e| CaptureError::from_cpal(name, &e))?
        .collect();
    let exact = |d: &cpal::Device| {
        let id = d.id().ok();
        id.as_ref()
            .is_some_and(|i| i.to_string() == name || i.id() == name)
            || d.description().is_ok_and(|desc| desc.name() == name)
    };
    if let Some(d) = devices.iter().find(|d| exact(d)) {
        return Ok(d.clone());
    }
    if let Some(d) = host.default_input_device() {
        if exact(&d) {
            return Ok(d);
        }
    }
    let lower = name.to_lowercase();
    let partial: Vec<&cpal::Device> = devices
        .iter()
        .filter(|d| {
            device_id(d).to_lowercase().contains(&lower)
                || d.description()
                    .is_ok_and(|desc| desc.name().to_lowercase().contains(&lower))
        })
        .collect();
    match partial.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(CaptureError::NotFound(name.to_string())),
    }
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut producer: HeapProd<f32>,
    counters: &Arc<CaptureCounters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels);
    let data_counters = Arc::clone(counters);
    let error_counters = Arc::clone(counters);
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            push_frames(&mut producer, data, channels, &data_counters)
        },
        move |e: cpal::Error| match e.kind() {
            ErrorKind::Xrun => {
                error_counters.xruns.fetch_add(1, Ordering::Relaxed);
            }
            ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied => {}
            ErrorKind::DeviceNotAvailable | ErrorKind::StreamInvalidated => {
                if !error_counters.failed.load(Ordering::Acquire) {
                    // The reader locks only after `failed` is set, so this cannot wait.
                    if let Ok(mut m) = error_counters.fault.try_lock() {
                        *m = Some(match e.kind() {
                            ErrorKind::DeviceNotAvailable => {
                                "the device disappeared (unplugged or stopped)".to_string()
                            }
                            _ => one_line(&e.to_string()),
                        });
                    }
                    error_counters.failed.store(true, Ordering::Release);
                }
            }
            _ => {
                // Other errors are reported per period; the stream keeps running. Record
                // the message so that a stalled stream can say why.
                if let Ok(mut m) = error_counters.fault.try_lock() {
                    if m.is_none() {
                        *m = Some(one_line(&e.to_string()));
                    }
                }
            }
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_keeps_whole_frames_and_counts_drops() {
        let (mut prod, mut cons) = HeapRb::<f32>::new(7).split();
        let counters = CaptureCounters::default();
        // Four stereo frames into room for three and a half: three go in, one is dropped.
        push_frames(&mut prod, &[1i16, 2, 3, 4, 5, 6, 7, 8], 2, &counters);
        assert_eq!(counters.delivered_frames.load(Ordering::Relaxed), 4);
        assert_eq!(counters.dropped_frames.load(Ordering::Relaxed), 1);
        let mut out = [0f32; 8];
        let n = cons.pop_slice(&mut out);
        assert_eq!(n, 6);
        let expected: Vec<f32> = (1..=6).map(|v| v as f32 / 32768.0).collect();
        assert_eq!(&out[..6], expected.as_slice());
        // Unsigned formats are centred: mid-scale is silence.
        push_frames(&mut prod, &[32768u16, 32768], 2, &counters);
        let n = cons.pop_slice(&mut out);
        assert_eq!((n, out[0], out[1]), (2, 0.0, 0.0));
    }
}

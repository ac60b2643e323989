//! Prints one line per voiced speech frame (`time_s f0_hz voicing`) of a recording's first
//! channel: for checking the pitch tracker against a reference tracker.

use agentvoice::audio::AudioSource;
use agentvoice::features::FrameExtractor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: f0_dump FILE")?;
    let mut source = AudioSource::open(std::path::Path::new(&path))?;
    let spec = source.spec();
    let mut frames = FrameExtractor::new(spec.sample_rate, 60.0, 420.0);
    let mut mono = Vec::new();
    while let Some(block) = source.next_block()? {
        mono.clear();
        mono.extend(block.iter().step_by(spec.channels));
        frames.push(&mono, |f| {
            if let Some(f0) = f.f0_hz {
                println!(
                    "{:.3} {:.1} {:.2}",
                    0.5 * (f.start_s + f.end_s),
                    f0,
                    f.voicing
                );
            }
        });
    }
    Ok(())
}

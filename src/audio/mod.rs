//! Audio in: decoding files into blocks of `f32` samples, and who speaks on which channel.

mod decode;

pub use decode::{AudioSource, SourceSpec};

use serde::{Deserialize, Serialize};

/// Which channel of a stereo recording carries the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AgentChannel {
    /// The agent is on the left (first) channel, the customer on the right.
    #[default]
    Left,
    /// The agent is on the right (second) channel, the customer on the left.
    Right,
}

/// What a mono recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MonoRole {
    /// Only the agent is recorded.
    Agent,
    /// Agent and customer are mixed into one channel.
    #[default]
    Mixed,
}

/// How the channels of one recording map to the parties of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Mono, the agent alone.
    AgentOnly,
    /// Mono, agent and customer mixed: speech measurements describe both.
    MixedMono,
    /// Two channels, one per party.
    Stereo {
        /// Index of the agent's channel (0 = left).
        agent_channel: usize,
    },
}

impl Layout {
    /// Picks the layout for a recording with `channels` channels.
    pub fn for_channels(channels: usize, agent: AgentChannel, mono: MonoRole) -> Layout {
        if channels >= 2 {
            Layout::Stereo {
                agent_channel: usize::from(agent == AgentChannel::Right),
            }
        } else if mono == MonoRole::Agent {
            Layout::AgentOnly
        } else {
            Layout::MixedMono
        }
    }

    /// The name written to the `layout` key.
    pub fn name(&self) -> &'static str {
        match self {
            Layout::AgentOnly => "agent_only",
            Layout::MixedMono => "mixed_mono",
            Layout::Stereo { .. } => "stereo",
        }
    }

    /// True when a customer channel exists.
    pub fn has_customer(&self) -> bool {
        matches!(self, Layout::Stereo { .. })
    }
}

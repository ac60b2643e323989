//! Conversation rules on speech segments: gaps, dead air, greeting latency, response
//! latency, overtalk and talk share. Pure functions over sorted `[start, end]` lists.

use serde::{Deserialize, Serialize};

/// A span of time, `(start_s, end_s)`.
pub type Span = (f64, f64);

/// Merges overlapping or touching spans of one or more sorted lists into one sorted list.
pub fn union(lists: &[&[Span]]) -> Vec<Span> {
    let mut all: Vec<Span> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Span> = Vec::with_capacity(all.len());
    for s in all {
        match out.last_mut() {
            Some(last) if s.0 <= last.1 => last.1 = last.1.max(s.1),
            _ => out.push(s),
        }
    }
    out
}

/// The silences between consecutive spans (not before the first or after the last).
pub fn gaps(speech: &[Span]) -> Vec<Span> {
    speech
        .windows(2)
        .map(|w| (w[0].1, w[1].0))
        .filter(|g| g.1 > g.0)
        .collect()
}

/// The gaps at least `limit_s` long (with a 1 ns tolerance for rounding).
pub fn long_gaps(gaps: &[Span], limit_s: f64) -> Vec<Span> {
    gaps.iter()
        .copied()
        .filter(|g| g.1 - g.0 + 1e-9 >= limit_s)
        .collect()
}

/// Which party started an overtalk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    /// The agent.
    Agent,
    /// The customer.
    Customer,
}

/// A stretch in which both parties speak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overtalk {
    /// When both were speaking, seconds.
    pub span: Span,
    /// Whose speech began first: the other one talked over them.
    pub started_by: Party,
}

/// Overlaps of agent and customer speech at least `min_s` long.
pub fn overtalk(agent: &[Span], customer: &[Span], min_s: f64) -> Vec<Overtalk> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < agent.len() && j < customer.len() {
        let (a, c) = (agent[i], customer[j]);
        let start = a.0.max(c.0);
        let end = a.1.min(c.1);
        if end > start && end - start + 1e-9 >= min_s {
            // The one already speaking when the overlap began was talked over.
            let started_by = if a.0 <= c.0 {
                Party::Agent
            } else {
                Party::Customer
            };
            out.push(Overtalk {
                span: (start, end),
                started_by,
            });
        }
        if a.1 < c.1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// For each customer turn that the agent answers before the customer speaks again: the
/// agent's next onset minus the customer's end (negative when the agent started first).
pub fn response_latencies(agent: &[Span], customer: &[Span]) -> Vec<f64> {
    let mut out = Vec::new();
    for (k, c) in customer.iter().enumerate() {
        let next_customer_start = customer.get(k + 1).map_or(f64::INFINITY, |n| n.0);
        if let Some(a) = agent.iter().find(|a| a.0 > c.0) {
            if a.0 < next_customer_start {
                out.push(a.0 - c.1);
            }
        }
    }
    out
}

/// Total length of spans, seconds.
pub fn total_s(spans: &[Span]) -> f64 {
    spans.iter().map(|s| (s.1 - s.0).max(0.0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_long_gaps() {
        let speech = [(1.0, 2.0), (2.5, 3.0), (5.0, 6.0), (8.5, 9.0)];
        let g = gaps(&speech);
        assert_eq!(g, vec![(2.0, 2.5), (3.0, 5.0), (6.0, 8.5)]);
        assert_eq!(long_gaps(&g, 2.0), vec![(3.0, 5.0), (6.0, 8.5)]);
    }

    #[test]
    fn union_merges_both_parties() {
        let u = union(&[&[(0.0, 1.0), (3.0, 4.0)], &[(0.5, 2.0), (5.0, 6.0)]]);
        assert_eq!(u, vec![(0.0, 2.0), (3.0, 4.0), (5.0, 6.0)]);
    }

    #[test]
    fn overtalk_span_and_who_started() {
        let o = overtalk(&[(0.0, 5.0), (8.0, 9.0)], &[(4.0, 7.0), (7.5, 8.5)], 0.0);
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].span, (4.0, 5.0));
        assert_eq!(o[0].started_by, Party::Agent);
        assert_eq!(o[1].span, (8.0, 8.5));
        assert_eq!(o[1].started_by, Party::Customer);
        assert!(overtalk(&[(0.0, 1.0)], &[(0.95, 2.0)], 0.1).is_empty());
    }

    #[test]
    fn response_latency_per_answered_turn() {
        // Mirrors a dev call: a customer turn followed by another customer turn is unanswered.
        let agent = [(1.2, 8.6), (16.1, 28.2), (30.8, 38.1), (51.3, 57.6)];
        let customer = [(10.9, 14.8), (27.7, 30.3), (43.8, 45.3), (46.0, 50.5)];
        let l = response_latencies(&agent, &customer);
        let expected = [16.1 - 14.8, 30.8 - 30.3, 51.3 - 50.5];
        assert_eq!(l.len(), 3, "{l:?}");
        for (a, b) in l.iter().zip(expected) {
            assert!((a - b).abs() < 1e-9);
        }
    }
}

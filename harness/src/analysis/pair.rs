//! One talker→listener stream within one trial, accumulated in constant memory.
//!
//! Duplicates and reordering are told apart with an anti-replay window (as in IPsec/SRTP): a
//! bitmap of the [`WINDOW`] sequence numbers below the highest one seen. A sequence number
//! further back than that is counted as received and reordered (its duplicate status cannot be
//! known without O(messages) memory; reliable DDS never delivers that late in practice).

use hdrhistogram::Histogram;

/// How many sequence numbers below the highest are remembered exactly.
pub const WINDOW: u64 = 1024;
const WORDS: usize = (WINDOW / 64) as usize;

/// Latency histograms record microseconds up to this bound (larger values are clamped).
pub const MAX_LATENCY_US: u64 = 600_000_000;

/// How many of the longest silences each pair remembers.
pub const SILENCES: usize = 4;

/// A time without any arrival on a pair: from the last arrival before it to the first after
/// it (wall clock ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub from_ns: u64,
    pub to_ns: u64,
}

impl Gap {
    pub fn len_ns(&self) -> u64 {
        self.to_ns.saturating_sub(self.from_ns)
    }
}

/// New latency histogram (µs, 2 significant figures: ~50 KiB, O(1) per pair).
pub fn latency_histogram() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 2).unwrap_or_else(|_| unreachable!("valid histogram bounds"))
}

/// Accumulated delivery of one pair.
#[derive(Debug, Clone)]
pub struct PairAcc {
    /// Distinct in-window sequence numbers received.
    pub received: u64,
    pub duplicates: u64,
    /// Arrivals below the highest sequence number already seen.
    pub reordered: u64,
    /// Messages sent before the measurement window (warm-up), received.
    pub before_window: u64,
    pub first_seq: Option<u64>,
    /// Longest run of sequence numbers skipped at an arrival.
    pub longest_gap: u64,
    /// Runs of skipped sequence numbers (each run of consecutive losses counts once).
    pub loss_runs: u64,
    /// Sequence numbers skipped between arrivals and not filled by a later (reordered) one:
    /// messages missing between the first and the last received, as opposed to before the
    /// first or after the last.
    pub in_gaps: u64,
    /// Arrivals stamped before they were sent: the two clocks disagree (not recorded as
    /// latency).
    pub negative_latency: u64,
    /// First arrival of any message, warm-up included (discovery time is measured to it).
    pub first_any_ns: Option<u64>,
    pub first_recv_ns: Option<u64>,
    pub last_recv_ns: Option<u64>,
    /// Longest time between two arrivals.
    pub max_silence_ns: u64,
    /// The [`SILENCES`] longest times between two arrivals, longest first.
    pub silences: Vec<Gap>,
    pub latency_us: Histogram<u64>,
    highest: Option<u64>,
    /// Bit `d` set: `highest - d` was received.
    seen: [u64; WORDS],
}

impl Default for PairAcc {
    fn default() -> Self {
        PairAcc {
            received: 0,
            duplicates: 0,
            reordered: 0,
            before_window: 0,
            first_seq: None,
            longest_gap: 0,
            loss_runs: 0,
            in_gaps: 0,
            negative_latency: 0,
            first_any_ns: None,
            first_recv_ns: None,
            last_recv_ns: None,
            max_silence_ns: 0,
            silences: Vec::new(),
            latency_us: latency_histogram(),
            highest: None,
            seen: [0; WORDS],
        }
    }
}

impl PairAcc {
    /// Accounts a message that was sent before the measurement window.
    pub fn arrive_before_window(&mut self, recv_ns: u64) {
        self.before_window += 1;
        self.first_any_ns = Some(self.first_any_ns.map_or(recv_ns, |f| f.min(recv_ns)));
    }

    /// Accounts one arrival inside the measurement window.
    pub fn arrive(&mut self, seq: u64, recv_ns: u64, sent_ns: Option<u64>) {
        self.first_any_ns = Some(self.first_any_ns.map_or(recv_ns, |f| f.min(recv_ns)));
        match self.highest {
            None => {
                self.highest = Some(seq);
                self.seen[0] = 1;
            }
            Some(high) if seq > high => {
                if seq > high + 1 {
                    self.loss_runs += 1;
                }
                self.longest_gap = self.longest_gap.max(seq - high - 1);
                self.in_gaps += seq - high - 1;
                self.shift(seq - high);
                self.seen[0] |= 1;
                self.highest = Some(seq);
            }
            Some(high) => {
                let d = high - seq;
                if d < WINDOW {
                    let (w, b) = ((d / 64) as usize, d % 64);
                    if self.seen[w] & (1 << b) != 0 {
                        self.duplicates += 1;
                        return;
                    }
                    self.seen[w] |= 1 << b;
                }
                self.in_gaps = self.in_gaps.saturating_sub(1);
                self.reordered += 1;
            }
        }
        self.received += 1;
        if self.first_seq.is_none() {
            self.first_seq = Some(seq);
        }
        if let Some(last) = self.last_recv_ns {
            self.silence(Gap { from_ns: last, to_ns: recv_ns });
        }
        self.first_recv_ns.get_or_insert(recv_ns);
        self.last_recv_ns = Some(self.last_recv_ns.map_or(recv_ns, |l| l.max(recv_ns)));
        match sent_ns {
            Some(sent) if recv_ns < sent => self.negative_latency += 1,
            Some(sent) => {
                // Sub-microsecond latencies land in the first bucket; nothing is clamped upward
                // from a clock error (those are counted above).
                let us = ((recv_ns - sent) / 1_000).clamp(1, MAX_LATENCY_US);
                let _ = self.latency_us.record(us);
            }
            None => {}
        }
    }

    /// Keeps `gap` if it is among the longest silences.
    fn silence(&mut self, gap: Gap) {
        let len = gap.len_ns();
        self.max_silence_ns = self.max_silence_ns.max(len);
        if len == 0 {
            return;
        }
        let at = self.silences.partition_point(|g| g.len_ns() >= len);
        if at < SILENCES {
            self.silences.insert(at, gap);
            self.silences.truncate(SILENCES);
        }
    }

    /// Shifts the window up by `by` sequence numbers.
    fn shift(&mut self, by: u64) {
        if by >= WINDOW {
            self.seen = [0; WORDS];
            return;
        }
        let (words, bits) = ((by / 64) as usize, (by % 64) as u32);
        for i in (0..WORDS).rev() {
            let src = i.checked_sub(words);
            let hi = src.map_or(0, |s| self.seen[s]);
            let lo = src.and_then(|s| s.checked_sub(1)).map_or(0, |s| self.seen[s]);
            self.seen[i] = if bits == 0 { hi } else { (hi << bits) | (lo >> (64 - bits)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feed(seqs: &[u64]) -> PairAcc {
        let mut p = PairAcc::default();
        for (i, &s) in seqs.iter().enumerate() {
            p.arrive(s, 1_000 + i as u64 * 10, Some(1_000));
        }
        p
    }

    #[test]
    fn in_order_with_a_gap() {
        let p = feed(&[1, 2, 3, 7, 8]);
        assert_eq!((p.received, p.duplicates, p.reordered, p.longest_gap), (5, 0, 0, 3));
        assert_eq!(p.first_seq, Some(1));
    }

    #[test]
    fn duplicates_and_reorders() {
        let p = feed(&[1, 3, 2, 3, 2, 1, 4]);
        assert_eq!((p.received, p.duplicates, p.reordered), (4, 3, 1));
    }

    #[test]
    fn duplicate_detected_across_word_boundaries() {
        let p = feed(&[1, 100, 1, 700, 100, 1]);
        assert_eq!((p.received, p.duplicates), (3, 3));
    }

    #[test]
    fn beyond_window_is_not_a_duplicate_claim() {
        let p = feed(&[1, 5000, 1]);
        assert_eq!((p.received, p.duplicates, p.reordered), (3, 0, 1));
    }

    #[test]
    fn silences_keep_the_longest_first() {
        let mut p = PairAcc::default();
        for (seq, t) in [(1, 0), (2, 10), (3, 500), (4, 510), (5, 2000), (6, 2001), (7, 2100)] {
            p.arrive(seq, t, None);
        }
        let lens: Vec<u64> = p.silences.iter().map(Gap::len_ns).collect();
        assert_eq!(lens, [1490, 490, 99, 10]);
        assert_eq!(p.silences[0], Gap { from_ns: 510, to_ns: 2000 });
        assert_eq!(p.max_silence_ns, 1490);
    }

    #[test]
    fn clock_errors_are_counted_not_clamped() {
        let mut p = PairAcc::default();
        p.arrive(1, 1_000, Some(5_000));
        p.arrive(2, 9_000, Some(5_000));
        assert_eq!(p.negative_latency, 1);
        assert_eq!(p.latency_us.len(), 1, "only the sane sample is a latency");
        assert_eq!(p.latency_us.max(), 4);
    }

    /// A straightforward model with unbounded memory: what the accumulator must agree with
    /// while reorders stay inside its window.
    fn model(seqs: &[u64]) -> (u64, u64, u64, u64, u64) {
        let mut seen = std::collections::HashSet::new();
        let (mut received, mut dups, mut reordered, mut longest, mut runs) = (0, 0, 0, 0, 0);
        let mut high: Option<u64> = None;
        for &s in seqs {
            if !seen.insert(s) {
                dups += 1;
                continue;
            }
            received += 1;
            match high {
                Some(h) if s < h => reordered += 1,
                Some(h) => {
                    if s > h + 1 {
                        runs += 1;
                        longest = longest.max(s - h - 1);
                    }
                    high = Some(s);
                }
                None => high = Some(s),
            }
        }
        (received, dups, reordered, longest, runs)
    }

    proptest! {
        /// A stream with known drops, duplicates and local reorders gives back exactly those
        /// counts.
        #[test]
        fn agrees_with_the_model(
            n in 1u64..3000,
            drops in proptest::collection::btree_set(1u64..3000, 0..300),
            dups in proptest::collection::vec((0usize..3000, 1usize..50), 0..100),
            swaps in proptest::collection::vec((0usize..3000, 1usize..200), 0..100),
        ) {
            let mut seqs: Vec<u64> = (1..=n).filter(|s| !drops.contains(s)).collect();
            for (at, back) in dups {
                if !seqs.is_empty() {
                    let i = at % seqs.len();
                    let again = seqs[i.saturating_sub(back)];
                    seqs.insert(i, again);
                }
            }
            for (at, dist) in swaps {
                if seqs.len() > 1 {
                    let i = at % seqs.len();
                    let j = (i + dist).min(seqs.len() - 1);
                    seqs.swap(i, j);
                }
            }
            let p = feed(&seqs);
            let (received, dup, reordered, longest, runs) = model(&seqs);
            prop_assert_eq!(p.received, received);
            prop_assert_eq!(p.duplicates, dup);
            prop_assert_eq!(p.reordered, reordered);
            prop_assert_eq!(p.longest_gap, longest);
            prop_assert_eq!(p.loss_runs, runs);
        }

        /// Any shuffle with repeats inside the window: each distinct seq counted once.
        #[test]
        fn duplicates_never_counted_twice(seqs in proptest::collection::vec(1u64..1000, 1..2000)) {
            let p = feed(&seqs);
            let distinct: std::collections::BTreeSet<u64> = seqs.iter().copied().collect();
            prop_assert_eq!(p.received as usize, distinct.len());
            prop_assert_eq!((p.received + p.duplicates) as usize, seqs.len());
        }
    }
}

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
    /// First arrival of any message, warm-up included (discovery time is measured to it).
    pub first_any_ns: Option<u64>,
    pub first_recv_ns: Option<u64>,
    pub last_recv_ns: Option<u64>,
    /// Longest time between two arrivals.
    pub max_silence_ns: u64,
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
            first_any_ns: None,
            first_recv_ns: None,
            last_recv_ns: None,
            max_silence_ns: 0,
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
                self.longest_gap = self.longest_gap.max(seq - high - 1);
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
                self.reordered += 1;
            }
        }
        self.received += 1;
        if self.first_seq.is_none() {
            self.first_seq = Some(seq);
        }
        if let Some(last) = self.last_recv_ns {
            self.max_silence_ns = self.max_silence_ns.max(recv_ns.saturating_sub(last));
        }
        self.first_recv_ns.get_or_insert(recv_ns);
        self.last_recv_ns = Some(self.last_recv_ns.map_or(recv_ns, |l| l.max(recv_ns)));
        if let Some(sent) = sent_ns {
            let us = (recv_ns.saturating_sub(sent) / 1_000).clamp(1, MAX_LATENCY_US);
            // In bounds by the clamp.
            let _ = self.latency_us.record(us);
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

    proptest! {
        /// An in-order stream with drops: received + lost = sent, no duplicates or reorders.
        #[test]
        fn received_plus_lost_is_sent(sent in 1u64..3000, drops in proptest::collection::btree_set(1u64..3000, 0..500)) {
            let delivered: Vec<u64> = (1..=sent).filter(|s| !drops.contains(s)).collect();
            let p = feed(&delivered);
            let lost = sent - p.received;
            prop_assert_eq!(p.received + lost, sent);
            prop_assert_eq!(p.received as usize, delivered.len());
            prop_assert_eq!(p.duplicates + p.reordered, 0);
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

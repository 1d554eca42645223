//! Local percentile ranks: where a child's score stands among the children screened with it
//! (a cohort), beside the national norm's percentile.
//!
//! The rank of score x among n scores is the mid-point percentile rank
//! PR(x) = 100 · (L + E/2) / n, with L the number of scores below x and E the number equal to
//! it (x itself included) — the same mid-point convention as the norms' normal scores
//! (norms/SCORING.md), so a lone score ranks at 50 and tied scores share one rank.

/// The mid-point percentile rank of every score of `scores` among them all, in input order;
/// empty for no scores.
pub fn percentile_ranks(scores: &[i32]) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as f64;
    scores
        .iter()
        .map(|x| {
            let below = sorted.partition_point(|s| s < x);
            let equal = sorted.partition_point(|s| s <= x) - below;
            100.0 * (below as f64 + equal as f64 / 2.0) / n
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example() {
        // 4 children: 85, 100, 100, 130. 85: (0 + 1/2)/4 = 12.5; 100: (1 + 2/2)/4 = 50;
        // 130: (3 + 1/2)/4 = 87.5.
        assert_eq!(percentile_ranks(&[100, 85, 130, 100]), [50.0, 12.5, 87.5, 50.0]);
        assert_eq!(percentile_ranks(&[117]), [50.0]);
        assert!(percentile_ranks(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn ranks_are_within_0_100_ordered_like_the_scores_and_average_50(
            scores in prop::collection::vec(40i32..=160, 1..200)
        ) {
            let ranks = percentile_ranks(&scores);
            for (i, (&a, &ra)) in scores.iter().zip(&ranks).enumerate() {
                prop_assert!(ra > 0.0 && ra < 100.0);
                for (&b, &rb) in scores.iter().zip(&ranks).skip(i + 1) {
                    prop_assert_eq!(a.cmp(&b), ra.partial_cmp(&rb).unwrap());
                }
            }
            // The mid-point ranks of any sample average exactly 50.
            let mean = ranks.iter().sum::<f64>() / ranks.len() as f64;
            prop_assert!((mean - 50.0).abs() < 1e-9);
        }
    }
}

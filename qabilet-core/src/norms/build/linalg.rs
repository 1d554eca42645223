//! The small dense linear algebra the fits need: Cholesky solves of symmetric positive
//! definite systems of a few dozen unknowns, row-major.

/// Solves A·x = b in place for symmetric positive definite A (n × n, row-major; only the
/// lower triangle is read, and A is overwritten by its Cholesky factor). `b` becomes x.
/// Returns `None` when A is not numerically positive definite.
pub fn solve_spd(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    let scale = (0..n)
        .map(|i| a[i * n + i].abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d.is_nan() || d <= scale * 1e-13 {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_known_system() {
        // A = [[4,2,0],[2,5,1],[0,1,3]], x = [1,−1,2] → b = A·x = [2,−1,5].
        let mut a = vec![4.0, 2.0, 0.0, 2.0, 5.0, 1.0, 0.0, 1.0, 3.0];
        let mut b = vec![2.0, -1.0, 5.0];
        solve_spd(&mut a, &mut b, 3).unwrap();
        for (x, e) in b.iter().zip([1.0, -1.0, 2.0]) {
            assert!((x - e).abs() < 1e-12);
        }
    }

    #[test]
    fn refuses_a_singular_matrix() {
        let mut a = vec![1.0, 1.0, 1.0, 1.0];
        let mut b = vec![1.0, 1.0];
        assert!(solve_spd(&mut a, &mut b, 2).is_none());
    }
}

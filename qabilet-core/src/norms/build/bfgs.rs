//! Unconstrained minimisation by BFGS with a backtracking (Armijo) line search (Nocedal &
//! Wright 2006, algorithm 6.1), for the few-parameter likelihoods of the norm builder.

/// Outcome of [`minimise`].
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The minimiser found.
    pub x: Vec<f64>,
    /// The objective there.
    pub value: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the gradient test was met (otherwise the iteration limit or a stalled
    /// line search ended the search).
    pub converged: bool,
}

/// Minimises `f`, which returns the objective and writes its gradient, from `x0`. Stops when
/// the largest gradient component is below `gtol`·max(1, |f|), or after `max_iter` steps.
pub fn minimise(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    gtol: f64,
    max_iter: usize,
) -> Minimum {
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    // Inverse Hessian approximation, row-major.
    let mut h = identity(n);
    let mut first = true;
    let (mut x_new, mut g_new, mut dir) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for iter in 0..max_iter {
        if !fx.is_finite() {
            break;
        }
        if max_abs(&g) <= gtol * fx.abs().max(1.0) {
            return Minimum {
                x,
                value: fx,
                iterations: iter,
                converged: true,
            };
        }
        for i in 0..n {
            dir[i] = -(0..n).map(|j| h[i * n + j] * g[j]).sum::<f64>();
        }
        let mut slope = dot(&dir, &g);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            h = identity(n);
            dir.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
            slope = -dot(&g, &g);
        }
        if first {
            // Scale the first step so it moves at most one unit.
            let m = max_abs(&dir);
            if m > 1.0 {
                dir.iter_mut().for_each(|d| *d /= m);
                slope /= m;
            }
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            for i in 0..n {
                x_new[i] = x[i] + step * dir[i];
            }
            let f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                accepted = true;
                let s: Vec<f64> = (0..n).map(|i| x_new[i] - x[i]).collect();
                let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
                let sy = dot(&s, &y);
                if sy > 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
                    if first {
                        let scale = sy / dot(&y, &y);
                        h.iter_mut().for_each(|v| *v *= scale);
                        for i in 0..n {
                            h[i * n + i] = scale;
                        }
                        first = false;
                    }
                    update_inverse_hessian(&mut h, &s, &y, sy);
                }
                let improvement = fx - f_new;
                x.copy_from_slice(&x_new);
                g.copy_from_slice(&g_new);
                fx = f_new;
                if improvement.abs() <= 1e-14 * fx.abs().max(1.0) {
                    // Stalled at the limit of floating-point precision: converged if the
                    // gradient is small on the objective's scale (√gtol, as after a failed
                    // line search); rounding in long sums keeps it from reaching gtol itself.
                    let converged = max_abs(&g) <= gtol.sqrt() * fx.abs().max(1.0);
                    return Minimum {
                        x,
                        value: fx,
                        iterations: iter + 1,
                        converged,
                    };
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            return Minimum {
                x,
                value: fx,
                iterations: iter + 1,
                converged: max_abs(&g) <= gtol.sqrt() * fx.abs().max(1.0),
            };
        }
    }
    let converged = max_abs(&g) <= gtol * fx.abs().max(1.0);
    Minimum {
        x,
        value: fx,
        iterations: max_iter,
        converged,
    }
}

fn identity(n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    h
}

/// H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ with ρ = 1/(yᵀs).
fn update_inverse_hessian(h: &mut [f64], s: &[f64], y: &[f64], sy: f64) {
    let n = s.len();
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum())
        .collect();
    let yhy = dot(y, &hy);
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] += rho * ((1.0 + rho * yhy) * s[i] * s[j] - hy[i] * s[j] - s[i] * hy[j]);
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Largest |vᵢ|; NaN when any is NaN (so a NaN gradient never passes a convergence test).
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x.abs())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let m = minimise(
            |x, g| {
                let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
                g[0] = -2.0 * a - 400.0 * x[0] * b;
                g[1] = 200.0 * b;
                a * a + 100.0 * b * b
            },
            vec![-1.2, 1.0],
            1e-10,
            500,
        );
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }
}

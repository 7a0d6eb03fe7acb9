//! Fitting a pack's lexical model ([`distillguard::lexical`]): multinomial
//! logistic regression over the binary, unit-length n-gram vectors the
//! classifier reads, by per-example AdaGrad with an L2 penalty, then
//! quantised to `i8`.
//!
//! Deterministic: one thread, a fixed example order per epoch from a seeded
//! generator, no clock. The same data and parameters give the same bytes.

use distillguard::lexical::{softmax, Blend, LexicalModel, CLASSES};

/// How to fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitParams {
    /// Hash buckets (a power of two).
    pub buckets: u32,
    /// Window the classifier scores (bytes); fitting reads the same windows.
    pub window: u32,
    /// Passes over the data.
    pub epochs: u32,
    /// AdaGrad step size.
    pub step: f64,
    /// L2 penalty per update.
    pub l2: f64,
    /// Seed of the example order.
    pub seed: u64,
}

impl Default for FitParams {
    fn default() -> FitParams {
        FitParams { buckets: 1 << 15, window: 2000, epochs: 12, step: 0.2, l2: 3e-4, seed: 1 }
    }
}

/// One training example: the distinct buckets of its text and its class
/// (0 benign, then 1 + the index in `Category::ALL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// Distinct feature buckets, any order.
    pub buckets: Vec<u32>,
    /// Class index.
    pub class: usize,
}

/// splitmix64: a tiny, well-known generator for the example order.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Fits a model. Its [`Blend`] is the default: how the model joins the
/// rules is the pack's choice (pack.toml `[model]`), not fitted.
///
/// ```
/// use distillguard_host::fit::{fit, Example, FitParams};
/// let data = vec![
///     Example { buckets: vec![1, 2, 3], class: 0 },
///     Example { buckets: vec![4, 5, 6], class: 5 },
/// ];
/// let m = fit(&data, FitParams { buckets: 64, window: 64, ..FitParams::default() });
/// assert_eq!(m.weights.len(), 64 * distillguard::lexical::CLASSES);
/// assert!(m.weights[4 * distillguard::lexical::CLASSES + 5] > 0);
/// ```
pub fn fit(examples: &[Example], p: FitParams) -> LexicalModel {
    let d = p.buckets as usize;
    let mut w = vec![0.0f64; d * CLASSES];
    let mut g2 = vec![0.0f64; d * CLASSES];
    let mut bias = [0.0f64; CLASSES];
    let mut bias_g2 = [0.0f64; CLASSES];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix(p.seed);
    const EPS: f64 = 1e-8;
    for _ in 0..p.epochs {
        // Fisher-Yates with the seeded generator.
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let ex = &examples[i];
            if ex.buckets.is_empty() {
                continue;
            }
            let x = 1.0 / (ex.buckets.len() as f64).sqrt();
            let mut logits = bias;
            for &b in &ex.buckets {
                let row = &w[b as usize * CLASSES..][..CLASSES];
                for c in 0..CLASSES {
                    logits[c] += x * row[c];
                }
            }
            let prob = softmax(&logits);
            let mut g = prob;
            g[ex.class] -= 1.0;
            for &b in &ex.buckets {
                let at = b as usize * CLASSES;
                for c in 0..CLASSES {
                    let grad = x * g[c] + p.l2 * w[at + c];
                    g2[at + c] += grad * grad;
                    w[at + c] -= p.step * grad / (g2[at + c].sqrt() + EPS);
                }
            }
            for c in 0..CLASSES {
                bias_g2[c] += g[c] * g[c];
                bias[c] -= p.step * g[c] / (bias_g2[c].sqrt() + EPS);
            }
        }
    }
    let (scale, weights) = quantise(&w);
    LexicalModel { buckets: p.buckets, window: p.window, bias: bias.to_vec(), scale, weights, blend: Blend::default() }
}

/// `i8` weights and their scale. The scale maps the 99.99th percentile of
/// the absolute weights to 127 (larger ones are clipped): a few extreme
/// weights would otherwise leave the bulk with a handful of levels.
fn quantise(w: &[f64]) -> (f64, Vec<i8>) {
    let mut abs: Vec<f64> = w.iter().map(|v| v.abs()).filter(|v| *v > 0.0).collect();
    abs.sort_by(f64::total_cmp);
    let top = abs.get((abs.len() as f64 * 0.9999) as usize).or(abs.last()).copied().unwrap_or(1.0);
    let scale = if top > 0.0 { top / 127.0 } else { 1.0 };
    let q = w.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8).collect();
    (scale, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_data_same_model() {
        let data: Vec<Example> = (0..40)
            .map(|i| Example { buckets: vec![i % 7, 10 + i % 3, 20 + (i % 2) * 5], class: (i % 2) as usize * 3 })
            .collect();
        let p = FitParams { buckets: 64, window: 64, ..FitParams::default() };
        assert_eq!(fit(&data, p), fit(&data, p));
    }

    #[test]
    fn learns_a_separable_set() {
        let mut data = Vec::new();
        for i in 0..30u32 {
            data.push(Example { buckets: vec![1, 2, 30 + i % 5], class: 0 });
            data.push(Example { buckets: vec![3, 4, 30 + i % 5], class: 2 });
        }
        let m = fit(&data, FitParams { buckets: 64, window: 64, ..FitParams::default() });
        let at = |b: usize, c: usize| i32::from(m.weights[b * CLASSES + c]);
        assert!(at(1, 0) > at(1, 2) && at(3, 2) > at(3, 0));
    }
}

//! Fitting a pack's lexical model ([`distillguard::lexical`]): multinomial
//! logistic regression over the binary n-gram vectors the classifier reads,
//! scaled as it scales them (unit length, or as if of `min_features`
//! buckets), by per-example AdaGrad with an L2 penalty, then quantised to
//! `i8`. The model is the mean of the weights at the end of each epoch of
//! the second half (iterate averaging): the last iterate alone depends on
//! the order of the last epoch's examples, so a refit with another seed, or
//! a few more cases, moved a dozen verdicts on sets it was not fitted on.
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
    /// Fewest distinct buckets a window is scaled as (see
    /// [`LexicalModel::min_features`]); fitting scales the same way.
    pub min_features: u32,
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
        FitParams { buckets: 1 << 15, window: 2000, min_features: 16, epochs: 12, step: 0.2, l2: 3e-4, seed: 1 }
    }
}

/// One training record: the distinct buckets of each window of it that the
/// classifier scores, and its class (0 benign, then 1 + the index in
/// `Category::ALL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// Per window, its distinct feature buckets, any order.
    pub windows: Vec<Vec<u32>>,
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
/// The classifier reads a text as an extraction when *one* of its windows
/// does, so a benign record teaches every window benign, while an
/// extraction of several windows (a system prompt and a user turn, a long
/// document) teaches its class only to the window that reads most like it
/// (its witness, chosen anew in each pass) once the first pass, over all
/// windows, has given the weights a direction. Otherwise the operator's
/// "You are a helpful assistant." sent beside a teacher-framing request
/// would be learnt as distillation framing.
///
/// ```
/// use distillguard_host::fit::{fit, Example, FitParams};
/// let data = vec![
///     Example { windows: vec![vec![1, 2, 3]], class: 0 },
///     Example { windows: vec![vec![4, 5, 6]], class: 5 },
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
    // Sums of the end-of-epoch weights from `average_from` on, and how many.
    let average_from = p.epochs / 2;
    let mut w_sum = vec![0.0f64; d * CLASSES];
    let mut bias_sum = [0.0f64; CLASSES];
    let mut averaged = 0u32;
    for epoch in 0..p.epochs {
        // Fisher-Yates with the seeded generator.
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let ex = &examples[i];
            let windows: &[Vec<u32>] = if ex.class == 0 || epoch == 0 || ex.windows.len() < 2 {
                &ex.windows
            } else {
                let p_class: Vec<f64> =
                    ex.windows.iter().map(|b| softmax(&logits(&w, &bias, b, p.min_features))[ex.class]).collect();
                let witness = (0..p_class.len()).fold(0, |best, k| if p_class[k] > p_class[best] { k } else { best });
                std::slice::from_ref(&ex.windows[witness])
            };
            for buckets in windows.iter().filter(|b| !b.is_empty()) {
                let mut g = softmax(&logits(&w, &bias, buckets, p.min_features));
                g[ex.class] -= 1.0;
                let x = scaling(buckets, p.min_features);
                for &b in buckets {
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
        if epoch >= average_from {
            w_sum.iter_mut().zip(&w).for_each(|(s, v)| *s += v);
            bias_sum.iter_mut().zip(&bias).for_each(|(s, v)| *s += v);
            averaged += 1;
        }
    }
    let n = f64::from(averaged.max(1));
    let w: Vec<f64> = w_sum.iter().map(|v| v / n).collect();
    let bias = bias_sum.map(|v| v / n);
    let (scale, weights) = quantise(&w);
    LexicalModel {
        buckets: p.buckets,
        window: p.window,
        min_features: p.min_features,
        bias: bias.to_vec(),
        scale,
        weights,
        blend: Blend::default(),
    }
}

/// A window's feature value: its vector scaled to unit length, or as if it
/// had `min_features` buckets when it has fewer.
fn scaling(buckets: &[u32], min_features: u32) -> f64 {
    1.0 / (buckets.len().max(min_features as usize) as f64).sqrt()
}

/// A window's logits under weights `w` and intercepts `bias`.
fn logits(w: &[f64], bias: &[f64; CLASSES], buckets: &[u32], min_features: u32) -> [f64; CLASSES] {
    let x = scaling(buckets, min_features);
    let mut out = *bias;
    for &b in buckets {
        let row = &w[b as usize * CLASSES..][..CLASSES];
        for c in 0..CLASSES {
            out[c] += x * row[c];
        }
    }
    out
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
            .map(|i| Example { windows: vec![vec![i % 7, 10 + i % 3, 20 + (i % 2) * 5]], class: (i % 2) as usize * 3 })
            .collect();
        let p = FitParams { buckets: 64, window: 64, ..FitParams::default() };
        assert_eq!(fit(&data, p), fit(&data, p));
    }

    #[test]
    fn learns_a_separable_set() {
        let mut data = Vec::new();
        for i in 0..30u32 {
            data.push(Example { windows: vec![vec![1, 2, 30 + i % 5]], class: 0 });
            data.push(Example { windows: vec![vec![3, 4, 30 + i % 5]], class: 2 });
        }
        let m = fit(&data, FitParams { buckets: 64, window: 64, ..FitParams::default() });
        let at = |b: usize, c: usize| i32::from(m.weights[b * CLASSES + c]);
        assert!(at(1, 0) > at(1, 2) && at(3, 2) > at(3, 0));
    }

    /// An operator's system prompt (window A) is sent with benign questions
    /// and with extraction requests (window B): only B is the extraction's
    /// witness, so A is learnt benign. Teaching every window the record's
    /// class would leave A at even odds.
    #[test]
    fn an_extraction_teaches_its_witness_window() {
        let mut data = Vec::new();
        for i in 0..30u32 {
            data.push(Example { windows: vec![vec![1, 2, 40 + i % 5], vec![5, 6, 30 + i % 5]], class: 0 });
            data.push(Example { windows: vec![vec![1, 2, 40 + i % 5], vec![3, 4, 30 + i % 5]], class: 2 });
        }
        let m = fit(&data, FitParams { buckets: 64, window: 64, ..FitParams::default() });
        let w: Vec<f64> = m.weights.iter().map(|&q| f64::from(q) * m.scale).collect();
        let bias: [f64; CLASSES] = m.bias.clone().try_into().expect("CLASSES intercepts");
        let p2 = |window: &[u32]| softmax(&logits(&w, &bias, window, 1))[2];
        assert!(p2(&[1, 2, 40]) < 0.2, "the system window reads benign: {}", p2(&[1, 2, 40]));
        assert!(p2(&[3, 4, 30]) > 0.8, "the request reads as an extraction: {}", p2(&[3, 4, 30]));
    }
}

//! The burn models the learners share: a multilayer perceptron trained as a
//! softmax classifier, and the same network trained as an autoencoder whose
//! reconstruction error scores how unusual a feature vector is.
//!
//! burn 0.22 dispatches on the *device*: a `Tensor<2>` runs on whichever
//! backend its device belongs to. "Generic over the backend" is therefore a
//! [`Device`] argument: [`cpu`] (burn's pure-Rust `flex` backend; `ndarray` is
//! deprecated in 0.22) in tests and by default, a GPU device where one is
//! built in. Training wraps the device in autodiff; the trained model is
//! moved to the plain device for inference.
//!
//! Models are small (tens of thousands of weights) and trained full-batch or
//! in mini-batches of a few hundred rows: the features are aggregates, not
//! raw traffic, so even a large application is a few thousand rows.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// The CPU device the learners use by default.
pub fn cpu() -> Device {
    Device::flex()
}

/// How to train a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per optimiser step (the whole set when larger).
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of the weight initialisation and of the batch order.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: vec![64],
            epochs: 60,
            batch: 256,
            learning_rate: 5e-3,
            seed: 7,
        }
    }
}

/// A multilayer perceptron with ReLU between its layers.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    fn new(input: usize, hidden: &[usize], output: usize, device: &Device) -> Self {
        let mut widths = vec![input];
        widths.extend_from_slice(hidden);
        widths.push(output);
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp { layers }
    }

    fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}

/// Rows as a `[n, width]` tensor.
fn matrix(rows: &[Vec<f32>], width: usize, device: &Device) -> Tensor<2> {
    let mut flat = Vec::with_capacity(rows.len() * width);
    for r in rows {
        debug_assert_eq!(r.len(), width);
        flat.extend(r.iter().copied().take(width));
        flat.extend(std::iter::repeat_n(0.0, width.saturating_sub(r.len())));
    }
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}

fn to_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [n, w] = t.dims();
    let flat: Vec<f32> = t.into_data().try_into_vec_as::<f32>().unwrap_or_default();
    (0..n).map(|i| flat[i * w..(i + 1) * w].to_vec()).collect()
}

/// A deterministic permutation of `0..n` for epoch `epoch` (xorshift).
fn shuffled(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut s = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..n).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        order.swap(i, (s % (i as u64 + 1)) as usize);
    }
    order
}

fn batches(n: usize, cfg: &TrainConfig, epoch: usize) -> Vec<Vec<usize>> {
    let order = shuffled(n, cfg.seed, epoch);
    order
        .chunks(cfg.batch.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// A softmax classifier over fixed-width feature vectors.
#[derive(Debug, Clone)]
pub struct Classifier {
    model: Mlp,
    width: usize,
    classes: Vec<String>,
    device: Device,
}

impl Classifier {
    /// Trains on rows `x` (each `width` wide) labelled `y` (indices into
    /// `classes`).
    ///
    /// # Panics
    /// When `x` and `y` differ in length or a label is out of range: the
    /// callers build both from the same knowledge base.
    pub fn train(
        x: &[Vec<f32>],
        y: &[usize],
        classes: Vec<String>,
        cfg: &TrainConfig,
        device: &Device,
    ) -> Classifier {
        assert_eq!(x.len(), y.len(), "one label per row");
        assert!(y.iter().all(|&c| c < classes.len()), "label out of range");
        let width = x.first().map_or(0, Vec::len);
        device.seed(cfg.seed);
        let train_dev = device.clone().autodiff();
        let mut model = Mlp::new(width, &cfg.hidden, classes.len(), &train_dev);
        let mut optim = AdamConfig::new().init();
        let loss = CrossEntropyLossConfig::new().init(&train_dev);
        for epoch in 0..cfg.epochs {
            for idx in batches(x.len(), cfg, epoch) {
                let rows: Vec<Vec<f32>> = idx.iter().map(|&i| x[i].clone()).collect();
                let labels: Vec<i64> = idx.iter().map(|&i| y[i] as i64).collect();
                let input = matrix(&rows, width, &train_dev);
                let target =
                    Tensor::<1, Int>::from_data(TensorData::new(labels, [idx.len()]), &train_dev);
                let l = loss.forward(model.forward(input), target);
                let grads = GradientsParams::from_grads(l.backward(), &model);
                model = optim.step(cfg.learning_rate, model, grads);
            }
        }
        Classifier {
            model: model.valid(),
            width,
            classes,
            device: device.clone(),
        }
    }

    /// The class names, in label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Width of the feature vectors.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Class probabilities of each row.
    pub fn probabilities(&self, x: &[Vec<f32>]) -> Vec<Vec<f32>> {
        if x.is_empty() {
            return Vec::new();
        }
        let out = softmax(self.model.forward(matrix(x, self.width, &self.device)), 1);
        to_rows(out)
    }

    /// The most likely class of each row and its probability.
    pub fn predict(&self, x: &[Vec<f32>]) -> Vec<(usize, f32)> {
        self.probabilities(x)
            .into_iter()
            .map(|p| {
                p.iter()
                    .copied()
                    .enumerate()
                    .fold(
                        (0, f32::MIN),
                        |best, (i, v)| if v > best.1 { (i, v) } else { best },
                    )
            })
            .collect()
    }
}

/// An autoencoder: the network learns to reproduce normal feature vectors
/// through a narrow middle layer; its reconstruction error is the anomaly
/// score of a vector.
#[derive(Debug, Clone)]
pub struct AutoEncoder {
    model: Mlp,
    width: usize,
    device: Device,
}

impl AutoEncoder {
    /// Trains on normal rows `x`. `cfg.hidden` is the encoder's and decoder's
    /// widths, e.g. `[16, 4, 16]`.
    pub fn train(x: &[Vec<f32>], cfg: &TrainConfig, device: &Device) -> AutoEncoder {
        let width = x.first().map_or(0, Vec::len);
        device.seed(cfg.seed);
        let train_dev = device.clone().autodiff();
        let mut model = Mlp::new(width, &cfg.hidden, width, &train_dev);
        let mut optim = AdamConfig::new().init();
        for epoch in 0..cfg.epochs {
            for idx in batches(x.len(), cfg, epoch) {
                let rows: Vec<Vec<f32>> = idx.iter().map(|&i| x[i].clone()).collect();
                let input = matrix(&rows, width, &train_dev);
                let diff = model.forward(input.clone()) - input;
                let l = (diff.clone() * diff).mean();
                let grads = GradientsParams::from_grads(l.backward(), &model);
                model = optim.step(cfg.learning_rate, model, grads);
            }
        }
        AutoEncoder {
            model: model.valid(),
            width,
            device: device.clone(),
        }
    }

    /// Mean squared reconstruction error of each row.
    pub fn errors(&self, x: &[Vec<f32>]) -> Vec<f32> {
        if x.is_empty() {
            return Vec::new();
        }
        let input = matrix(x, self.width, &self.device);
        let diff = self.model.forward(input.clone()) - input;
        let per_row = (diff.clone() * diff).mean_dim(1);
        to_rows(per_row).into_iter().map(|r| r[0]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_classifier_separates_two_clusters() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let t = i as f32 / 200.0;
            x.push(vec![1.0 + t, 0.1 * t, 0.0]);
            y.push(0);
            x.push(vec![0.0, 0.1 * t, 1.0 + t]);
            y.push(1);
        }
        let cfg = TrainConfig {
            epochs: 30,
            ..TrainConfig::default()
        };
        let c = Classifier::train(&x, &y, vec!["a".into(), "b".into()], &cfg, &cpu());
        let p = c.predict(&[vec![1.5, 0.0, 0.0], vec![0.0, 0.0, 1.5]]);
        assert_eq!(p[0].0, 0);
        assert_eq!(p[1].0, 1);
        assert!(p[0].1 > 0.9 && p[1].1 > 0.9, "{p:?}");
    }

    #[test]
    fn an_autoencoder_scores_the_unusual_higher() {
        let x: Vec<Vec<f32>> = (0..300)
            .map(|i| {
                let t = (i % 30) as f32 / 30.0;
                vec![t, 1.0 - t, 0.5, t * 0.5]
            })
            .collect();
        let cfg = TrainConfig {
            hidden: vec![8, 2, 8],
            epochs: 80,
            ..TrainConfig::default()
        };
        let ae = AutoEncoder::train(&x, &cfg, &cpu());
        let e = ae.errors(&[vec![0.5, 0.5, 0.5, 0.25], vec![3.0, 3.0, -2.0, 4.0]]);
        assert!(e[1] > 10.0 * e[0], "{e:?}");
    }
}

//! Multiple Systems Estimation: how many victims no list recorded.
//!
//! Lists (one per documenting organisation) are compared through the
//! capture-pattern table: how many resolved victims appear on exactly which
//! lists. [`loglinear`] fits classical Poisson log-linear models;
//! [`lcmcr`] is the Bayesian latent-class model of Manrique-Vallier (2016).
//!
//! Work in progress for issue 5: the capture table, the independence model
//! and LCMCR, validated against the Kosovo 1999 figures.

pub mod capture;
pub mod decomposable;
pub mod diagnostics;
pub mod lcmcr;
pub mod loglinear;

pub use capture::{CaptureError, CaptureTable};

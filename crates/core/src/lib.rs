//! Custodian's pure domain: the organisations' recording policies as types and rules. No I/O,
//! no async, no clock — time is always an argument.

pub mod audit;
pub mod clock;
pub mod consent;
pub mod decision;
pub mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod grant;
pub mod ids;
pub mod nhs_number;
pub mod person;
pub mod purpose;
pub mod recording;
pub mod requirement;
pub mod retention;
pub mod session;
pub mod signature;
pub mod staff;
pub mod text;
pub mod totp;
mod vocabulary;

pub use error::DomainError;
pub use requirement::Requirement;

//! The routes of the JSON API, each module a resource.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod consents;
pub mod disposal_tasks;
pub mod health;
pub mod media;
pub mod persons;
pub mod physical_media;
pub mod policies;
pub mod recordings;
pub mod retention;
pub mod sessions;
pub mod sso;

//! Staff accounts: the first administrator, sign-in and sign-out, authenticator apps, API tokens, passwords.

mod caller;
mod password;
mod secret;
mod sign_in;
mod tokens;
mod totp;

pub use caller::{Caller, Credential};
pub use password::*;
pub use secret::*;
pub use sign_in::*;
pub use totp::*;

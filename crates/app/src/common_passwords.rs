//! The 10,000 most common passwords, shipped with the product, and the ways people dress them up.

use std::collections::HashSet;
use std::sync::LazyLock;

/// From zxcvbn-ts (`@zxcvbn-ts/language-common` 4.1.3, MIT licence in `assets/LICENSE-zxcvbn.txt`):
/// passwords from real breaches, most common first.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../assets/common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty())
        .collect()
});

/// Whether `password` is a common password, or one with digits and symbols around it, or one
/// said twice ("password2026!", "monkeymonkey"): the first guesses of anyone trying (ASVS 2.1.7).
pub fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    let core = lowered.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let said_twice = core.len() % 2 == 0 && {
        let (first, second) = core.split_at(core.len() / 2);
        first == second && COMMON.contains(first)
    };
    COMMON.contains(lowered.as_str())
        || (core.chars().count() >= 4 && COMMON.contains(core))
        || said_twice
}

#[cfg(test)]
mod tests {
    use super::is_common;

    #[test]
    fn s5_common_passwords_and_their_usual_disguises_are_known() {
        for common in [
            "qwerty123456",
            "1qaz2wsx3edc",
            "Password2026!",
            "football123456",
            "monkeymonkey",
            "!!sunshine2025",
        ] {
            assert!(is_common(common), "{common}");
        }
        for own in [
            "a few ordinary words",
            "kettle harbour violet",
            "correct horse battery staple",
        ] {
            assert!(!is_common(own), "{own}");
        }
    }
}

//! A signature drawn on a screen: its strokes, kept as evidence and redrawn on the person's copy (C2).

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The drawing area, in points: wide and low, like the box on a paper form.
pub const WIDTH: u16 = 600;
pub const HEIGHT: u16 = 200;

/// Enough for any real signature; a bound so a form cannot carry megabytes of points.
const MAX_POINTS: usize = 4000;

const FORMAT: &str =
    "strokes separated by `;`, each points `x,y` separated by spaces, inside 600 × 200";

/// The strokes of a drawn signature, as points in a 600 × 200 box (origin at the top left).
/// Written as text, `x,y x,y;x,y x,y`, which is how the form sends it and the register keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SignatureDrawing {
    strokes: Vec<Vec<(u16, u16)>>,
}

impl SignatureDrawing {
    /// Parses strokes written as `x,y x,y;x,y …`, refusing points outside the box, empty
    /// drawings and more points than any signature needs.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let field = "signature.drawing";
        let bad = DomainError::BadFormat {
            field,
            expected: FORMAT,
        };
        let mut strokes = Vec::new();
        let mut points = 0_usize;
        for stroke in input.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut line = Vec::new();
            for point in stroke.split_ascii_whitespace() {
                let (x, y) = point.split_once(',').ok_or_else(|| bad.clone())?;
                let x: u16 = x.parse().map_err(|_| bad.clone())?;
                let y: u16 = y.parse().map_err(|_| bad.clone())?;
                if x > WIDTH || y > HEIGHT {
                    return Err(bad);
                }
                points += 1;
                if points > MAX_POINTS {
                    return Err(DomainError::TooLong {
                        field,
                        max: MAX_POINTS,
                    });
                }
                line.push((x, y));
            }
            strokes.push(line);
        }
        if points < 2 {
            return Err(DomainError::DrawingMissing);
        }
        Ok(Self { strokes })
    }

    /// The strokes, each a run of points.
    pub fn strokes(&self) -> &[Vec<(u16, u16)>] {
        &self.strokes
    }

    /// The drawing as text, in the form [`SignatureDrawing::parse`] reads.
    pub fn encode(&self) -> String {
        self.strokes
            .iter()
            .map(|stroke| {
                stroke
                    .iter()
                    .map(|(x, y)| format!("{x},{y}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

impl TryFrom<String> for SignatureDrawing {
    type Error = DomainError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<SignatureDrawing> for String {
    fn from(drawing: SignatureDrawing) -> Self {
        drawing.encode()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn c2_a_drawing_is_read_back_as_it_was_drawn() {
        let drawing = SignatureDrawing::parse("10,150 40,60 80,150; 120,100 160,100").unwrap();
        assert_eq!(drawing.strokes().len(), 2);
        assert_eq!(drawing.encode(), "10,150 40,60 80,150;120,100 160,100");
    }

    #[test]
    fn c2_an_empty_or_malformed_drawing_is_refused() {
        for (input, code) in [
            ("", "consent.drawing_missing"),
            (" ; ", "consent.drawing_missing"),
            ("5,5", "consent.drawing_missing"),
            ("10,10 601,10", "input.bad_format"),
            ("10,10 10,201", "input.bad_format"),
            ("10,10 -1,4", "input.bad_format"),
            ("10 10 20 20", "input.bad_format"),
            ("<svg onload=alert(1)>", "input.bad_format"),
        ] {
            let refused = SignatureDrawing::parse(input).unwrap_err();
            assert_eq!(refused.code(), code, "{input:?}");
        }
        let huge = vec!["1,1"; MAX_POINTS + 1].join(" ");
        assert_eq!(
            SignatureDrawing::parse(&huge).unwrap_err().code(),
            "input.too_long"
        );
    }

    proptest! {
        #[test]
        fn c2_any_drawing_in_the_box_survives_encoding(
            strokes in prop::collection::vec(
                prop::collection::vec((0..=WIDTH, 0..=HEIGHT), 2..50), 1..10)
        ) {
            let drawing = SignatureDrawing { strokes };
            prop_assert_eq!(SignatureDrawing::parse(&drawing.encode()).unwrap(), drawing);
        }
    }
}

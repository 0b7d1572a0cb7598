//! What media is, judged from its bytes alone: only photographs, audio and video are accepted.

use crate::VaultError;

/// How many leading bytes are enough to recognise every accepted format.
pub const SNIFF_BYTES: usize = 8192;

/// The broad kind of a media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Image,
    Audio,
    Video,
    /// Only for transcripts derived from a recording (D5).
    Text,
}

/// An accepted media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaType {
    pub mime: &'static str,
    pub family: Family,
    /// The usual file extension, for downloads.
    pub extension: &'static str,
}

/// The formats recordings arrive in: cameras, phones, dictation devices and browsers.
const ACCEPTED: &[(&str, Family)] = &[
    ("image/jpeg", Family::Image),
    ("image/png", Family::Image),
    ("image/gif", Family::Image),
    ("image/webp", Family::Image),
    ("image/heif", Family::Image),
    ("image/avif", Family::Image),
    ("image/tiff", Family::Image),
    ("image/bmp", Family::Image),
    ("audio/mpeg", Family::Audio),
    ("audio/m4a", Family::Audio),
    ("audio/aac", Family::Audio),
    ("audio/ogg", Family::Audio),
    ("audio/opus", Family::Audio),
    ("audio/x-flac", Family::Audio),
    ("audio/x-wav", Family::Audio),
    ("audio/amr", Family::Audio),
    ("video/mp4", Family::Video),
    ("video/x-m4v", Family::Video),
    ("video/quicktime", Family::Video),
    ("video/webm", Family::Video),
    ("video/x-matroska", Family::Video),
    ("video/mpeg", Family::Video),
    ("video/x-msvideo", Family::Video),
    ("video/x-ms-wmv", Family::Video),
];

/// Recognises `head`, the first bytes of a file, and accepts it only if it is an accepted
/// photograph, audio or video format. The file's name and declared type play no part.
pub fn detect(head: &[u8]) -> Result<MediaType, VaultError> {
    let found = infer::get(head);
    let accepted = found.and_then(|kind| {
        ACCEPTED
            .iter()
            .find(|(mime, _)| *mime == kind.mime_type())
            .map(|(mime, family)| MediaType {
                mime,
                family: *family,
                extension: kind.extension(),
            })
    });
    accepted.ok_or_else(|| VaultError::NotMedia {
        detected: found.map_or_else(
            || "not a recognisable format".to_owned(),
            |kind| kind.mime_type().to_owned(),
        ),
    })
}

/// Recognises a transcript: UTF-8 text without control characters other than whitespace.
pub fn detect_transcript(head: &[u8]) -> Result<MediaType, VaultError> {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The sniffed head may end inside a character; what came before must be valid.
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(head.get(..error.valid_up_to()).unwrap_or_default())
                .unwrap_or_default()
        }
        Err(_) => {
            return Err(VaultError::NotMedia {
                detected: "not UTF-8 text".to_owned(),
            });
        }
    };
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(VaultError::NotMedia {
            detected: "text with control characters".to_owned(),
        });
    }
    Ok(MediaType {
        mime: "text/plain; charset=utf-8",
        family: Family::Text,
        extension: "txt",
    })
}

/// What an upload may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// A photograph, audio or video recording.
    Media,
    /// A transcript derived from a recording.
    Transcript,
}

impl Accept {
    /// Recognises `head` under this policy.
    pub fn detect(self, head: &[u8]) -> Result<MediaType, VaultError> {
        match self {
            Self::Media => detect(head),
            Self::Transcript => detect_transcript(head),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(prefix: &[u8]) -> Vec<u8> {
        let mut bytes = prefix.to_vec();
        bytes.resize(SNIFF_BYTES, 0);
        bytes
    }

    #[test]
    fn photographs_audio_and_video_are_recognised_from_their_bytes() {
        let jpeg = detect(&padded(&[
            0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F',
        ]))
        .unwrap();
        assert_eq!((jpeg.mime, jpeg.family), ("image/jpeg", Family::Image));
        let mp4 = detect(&padded(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")).unwrap();
        assert_eq!((mp4.mime, mp4.family), ("video/mp4", Family::Video));
        let webm = detect(&padded(&[
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, b'w', b'e',
            b'b', b'm',
        ]))
        .unwrap();
        assert_eq!(webm.mime, "video/webm");
        let wav = detect(&padded(b"RIFF\x24\x00\x00\x00WAVEfmt ")).unwrap();
        assert_eq!(wav.family, Family::Audio);
    }

    #[test]
    fn transcripts_must_be_plain_text() {
        assert_eq!(
            detect_transcript("Speaker 1: hello — café".as_bytes())
                .unwrap()
                .family,
            Family::Text
        );
        assert!(detect_transcript(b"MZ\x90\x00\x03").is_err());
        assert!(
            detect_transcript(&[0xC3]).is_ok(),
            "a character cut at the end of the head"
        );
    }

    #[test]
    fn html_scripts_and_programs_are_refused_whatever_they_are_called() {
        for bytes in [
            padded(b"<!DOCTYPE html><html><script>alert(1)</script>"),
            padded(b"MZ\x90\x00\x03\x00\x00\x00"),
            padded(b"\x7fELF\x02\x01\x01\x00"),
            padded(b"%PDF-1.7"),
            padded(b"PK\x03\x04"),
            padded(b""),
        ] {
            let error = detect(&bytes).unwrap_err();
            assert!(matches!(error, VaultError::NotMedia { .. }), "{error}");
        }
    }
}

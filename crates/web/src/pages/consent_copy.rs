//! The person's copies (C2, C8): their consent form, and the confirmation of a withdrawal, as
//! tagged PDFs that meet PDF/UA-1.

use std::num::NonZeroU16;
use std::sync::LazyLock;

use custodian_core::signature::{HEIGHT, SignatureDrawing};
use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::paint::{LineCap, LineJoin, Stroke};
use krilla::tagging::{ContentTag, SpanTag, Tag, TagGroup, TagTree};
use krilla::text::{Font, TextDirection};

use super::views::ConsentView;
use super::views::PersonSummary;

/// DejaVu Sans (Bitstream Vera licence, in `assets/fonts`), compiled in so a copy never
/// depends on fonts installed on the server.
static REGULAR: LazyLock<Option<Font>> = LazyLock::new(|| {
    let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
    Font::new(bytes.into(), 0)
});
static BOLD: LazyLock<Option<Font>> = LazyLock::new(|| {
    let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
    Font::new(bytes.into(), 0)
});

/// A4 in points, with 2 cm margins.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// Characters per line at body size: DejaVu Sans at 11 pt averages well under 6.4 pt a character.
const LINE_CHARACTERS: usize = 74;

/// Body text size and the line height, as a multiple of the text size.
const BODY_SIZE: f32 = 11.0;
const LINE_HEIGHT: f32 = 1.4;
/// The 600 × 200 signature pad drawn at 360 × 120 points.
const SIGNATURE_SCALE: f32 = 0.6;

/// One piece of the copy, in reading order.
enum Block {
    Heading(u16, String),
    Paragraph { bold: bool, text: String },
    Drawing(SignatureDrawing, String),
}

impl Block {
    fn paragraph(text: impl Into<String>) -> Self {
        Self::Paragraph {
            bold: false,
            text: text.into(),
        }
    }

    fn size(&self) -> f32 {
        match self {
            Self::Heading(1, _) => 20.0,
            Self::Heading(..) => 14.0,
            _ => BODY_SIZE,
        }
    }

    fn lines(&self) -> Vec<String> {
        match self {
            Self::Heading(_, text) => vec![text.clone()],
            Self::Paragraph { text, .. } => wrap(text, LINE_CHARACTERS),
            Self::Drawing(..) => Vec::new(),
        }
    }
}

/// Breaks `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// How the person is identified on their copy: NHS number, else the local identifier.
fn identifier(person: &PersonSummary) -> String {
    match (&person.nhs_number, &person.local_identifier) {
        (Some(number), _) => format!("NHS number {number}"),
        (None, Some(local)) => format!("local identifier {local}"),
        (None, None) => "no NHS number".to_owned(),
    }
}

fn blocks(person: &PersonSummary, consent: &ConsentView) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading(1, "Your consent to recording".to_owned()),
        Block::paragraph(format!(
            "{}, born {} ({})",
            person.name,
            person.date_of_birth,
            identifier(person)
        )),
        Block::paragraph(format!(
            "This is your copy of the consent form, recorded on {}. {}",
            consent.signed_at, consent.answer
        )),
        Block::Heading(2, "What recordings may be used for".to_owned()),
    ];
    for (label, explanation) in &consent.purposes {
        blocks.push(Block::Paragraph {
            bold: true,
            text: label.clone(),
        });
        blocks.push(Block::paragraph(*explanation));
    }
    blocks.extend([
        Block::paragraph(format!(
            "This consent covers recordings made by {}.",
            consent.covers
        )),
        Block::Heading(2, "Who decided and how it was signed".to_owned()),
        Block::paragraph(consent.decided_by.clone()),
        Block::paragraph(consent.signature.clone()),
    ]);
    if let Some(drawing) = &consent.drawing {
        blocks.push(Block::Drawing(
            drawing.clone(),
            format!("The signature, as drawn: {}", consent.signature),
        ));
    }
    blocks.extend([
        Block::Heading(2, "Where recordings are kept, and copies".to_owned()),
        Block::paragraph(
            "Recordings are kept encrypted in the organisation's register of recordings, \
             Custodian, on the organisation's own systems; the copy on the device a recording \
             was made on is deleted once it is stored there. Only staff caring for you, and those \
             the purposes above need, may open them, and every opening is recorded. They are \
             destroyed when the organisation's retention schedule says.",
        ),
        Block::paragraph(if consent.representatives_may_have_copies {
            "Your representatives may be given copies of recordings."
        } else {
            "Your representatives may not be given copies of recordings unless you agree to it later."
        }),
        Block::Heading(2, "Your choices".to_owned()),
        Block::paragraph(
            "Saying no, or changing your mind later, does not affect your care in any way. You may \
             withdraw your consent for any purpose at any time: tell any member of staff, who will \
             record it and ask what you would like done with recordings already made.",
        ),
        Block::paragraph(format!("Reference: {}", consent.id)),
    ]);
    blocks
}

/// A withdrawal in the words its confirmation uses.
pub struct WithdrawalView {
    pub id: String,
    /// "Withdrawn from teaching on … by …. For recordings already made, they chose to …".
    pub words: String,
    pub destroy: bool,
}

fn withdrawal_blocks(
    person: &PersonSummary,
    consent: &ConsentView,
    withdrawal: &WithdrawalView,
) -> Vec<Block> {
    let after = if withdrawal.destroy {
        "You asked for recordings already made to be destroyed. Each destruction is recorded, \
         with a certificate saying when it was done and by whom."
    } else {
        "You asked for recordings already made to be handed over to you. Once they are, the \
         organisation no longer keeps them."
    };
    vec![
        Block::Heading(1, "Your withdrawal of consent".to_owned()),
        Block::paragraph(format!(
            "{}, born {} ({})",
            person.name,
            person.date_of_birth,
            identifier(person)
        )),
        Block::paragraph(format!(
            "This confirms what was recorded: {}",
            withdrawal.words
        )),
        Block::Heading(2, "What happens now".to_owned()),
        Block::paragraph(
            "From the moment of withdrawal, no recording is made or used for those purposes.",
        ),
        Block::paragraph(after),
        Block::paragraph(
            "Withdrawing does not affect your care in any way. You may give consent again at any \
             time.",
        ),
        Block::Heading(2, "The consent withdrawn".to_owned()),
        Block::paragraph(format!(
            "The consent form recorded on {}, covering recordings made by {}. Its reference: {}.",
            consent.signed_at, consent.covers, consent.id
        )),
        Block::paragraph(format!("Reference of this withdrawal: {}", withdrawal.id)),
    ]
}

/// Where each line or drawing goes: its page and the top of its line.
struct Placed {
    block: usize,
    page: usize,
    top: f32,
    line: Option<String>,
}

fn layout(blocks: &[Block]) -> Vec<Placed> {
    let bottom = PAGE_HEIGHT - MARGIN;
    let mut placed = Vec::new();
    let (mut page, mut top) = (0, MARGIN);
    for (index, block) in blocks.iter().enumerate() {
        top += match block {
            Block::Heading(..) => 14.0,
            Block::Paragraph { bold: true, .. } => 6.0,
            _ => 2.0,
        };
        // Each piece is a line of text, or the whole drawing, with its height.
        let pieces: Vec<(f32, Option<String>)> = match block {
            Block::Drawing(..) => vec![(f32::from(HEIGHT) * SIGNATURE_SCALE, None)],
            _ => {
                let leading = block.size() * LINE_HEIGHT;
                block
                    .lines()
                    .into_iter()
                    .map(|line| (leading, Some(line)))
                    .collect()
            }
        };
        // A heading or a purpose's name never ends a page: it keeps a line of what follows.
        let kept_with_next = match block {
            Block::Heading(..) | Block::Paragraph { bold: true, .. } => BODY_SIZE * LINE_HEIGHT,
            _ => 0.0,
        };
        let first = pieces.first().map_or(0.0, |(height, _)| *height);
        if top + first + kept_with_next > bottom {
            (page, top) = (page + 1, MARGIN);
        }
        for (height, line) in pieces {
            if top + height > bottom {
                (page, top) = (page + 1, MARGIN);
            }
            placed.push(Placed {
                block: index,
                page,
                top,
                line,
            });
            top += height;
        }
    }
    placed
}

fn tag_for(block: &Block) -> TagGroup {
    match block {
        Block::Heading(level, text) => TagGroup::new(Tag::Hn(
            NonZeroU16::new(*level).unwrap_or(NonZeroU16::MIN),
            Some(text.clone()),
        )),
        Block::Paragraph { .. } => TagGroup::new(Tag::P),
        Block::Drawing(_, alt) => TagGroup::new(Tag::Figure(Some(alt.clone()))),
    }
}

/// Bookmarks for the headings (PDF/UA asks for an outline).
fn outline(blocks: &[Block], placed: &[Placed]) -> Outline {
    let mut outline = Outline::new();
    for item in placed {
        if let Some(Block::Heading(_, text)) = blocks.get(item.block) {
            let destination = XyzDestination::new(item.page, Point::from_xy(MARGIN, item.top));
            outline.push_child(OutlineNode::new(text.clone(), destination));
        }
    }
    outline
}

/// Draws the strokes into a 360 × 120 box at `top`, scaled from the 600 × 200 pad.
fn signature_path(drawing: &SignatureDrawing, top: f32) -> Option<krilla::geom::Path> {
    let scale = SIGNATURE_SCALE;
    let mut path = PathBuilder::new();
    for stroke in drawing.strokes() {
        let mut points = stroke
            .iter()
            .map(|(x, y)| (MARGIN + f32::from(*x) * scale, top + f32::from(*y) * scale));
        if let Some((x, y)) = points.next() {
            path.move_to(x, y);
            path.line_to(x + 0.3, y);
        }
        for (x, y) in points {
            path.line_to(x, y);
        }
    }
    path.finish()
}

/// The consent form's copy as PDF bytes, refused (with krilla's reason) if it would not meet
/// PDF/UA-1.
pub fn render(person: &PersonSummary, consent: &ConsentView) -> Result<Vec<u8>, String> {
    document(
        format!("Consent to recording: {}", person.name),
        &blocks(person, consent),
    )
}

/// The confirmation of a withdrawal as PDF bytes, likewise checked against PDF/UA-1.
pub fn render_withdrawal(
    person: &PersonSummary,
    consent: &ConsentView,
    withdrawal: &WithdrawalView,
) -> Result<Vec<u8>, String> {
    document(
        format!("Withdrawal of consent: {}", person.name),
        &withdrawal_blocks(person, consent, withdrawal),
    )
}

fn document(title: String, blocks: &[Block]) -> Result<Vec<u8>, String> {
    let (Some(regular), Some(bold)) = (REGULAR.clone(), BOLD.clone()) else {
        return Err("the compiled-in font could not be read".to_owned());
    };
    let placed = layout(blocks);
    let pages = placed.last().map_or(1, |last| last.page + 1);
    let settings = SerializeSettings {
        configuration: ConfigurationBuilder::new()
            .with_accessibility_validator(Accessibility::UA1)
            .finish()
            .map_err(|error| format!("the PDF settings are not valid: {error:?}"))?,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut pdf = Document::new_with(settings);
    pdf.set_metadata(
        Metadata::new()
            .title(title)
            .language("en-GB".to_owned())
            .creator("Custodian".to_owned()),
    );
    pdf.set_outline(outline(blocks, &placed));
    let mut groups: Vec<TagGroup> = blocks.iter().map(tag_for).collect();
    for page_index in 0..pages {
        let settings = krilla::page::PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or("the page size is not valid")?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        for item in placed.iter().filter(|item| item.page == page_index) {
            let (Some(block), Some(group)) = (blocks.get(item.block), groups.get_mut(item.block))
            else {
                continue;
            };
            match (&item.line, block) {
                (Some(line), _) => {
                    let font = match block {
                        Block::Heading(..) | Block::Paragraph { bold: true, .. } => bold.clone(),
                        _ => regular.clone(),
                    };
                    let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
                    surface.draw_text(
                        Point::from_xy(MARGIN, item.top + block.size()),
                        font,
                        block.size(),
                        line,
                        false,
                        TextDirection::Auto,
                    );
                    surface.end_tagged();
                    group.push(id);
                }
                (None, Block::Drawing(drawing, _)) => {
                    let Some(path) = signature_path(drawing, item.top) else {
                        continue;
                    };
                    let id = surface.start_tagged(ContentTag::Other);
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: rgb::Color::new(0x21, 0x2b, 0x32).into(),
                        width: 1.8,
                        line_cap: LineCap::Round,
                        line_join: LineJoin::Round,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                    surface.set_stroke(None);
                    surface.end_tagged();
                    group.push(id);
                }
                (None, _) => {}
            }
        }
        surface.finish();
        page.finish();
    }
    let mut tree = TagTree::new().with_lang(Some("en-GB".to_owned()));
    for group in groups {
        tree.push(group);
    }
    pdf.set_tag_tree(tree);
    pdf.finish()
        .map_err(|error| format!("the PDF could not be made: {error:?}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn c2_c8_the_copies_meet_pdf_ua_1_with_the_signature() {
        let person = PersonSummary {
            id: "01a20911-0000-7000-8000-000000000000".to_owned(),
            name: "Bea Testperson".to_owned(),
            nhs_number: Some("999 000 0018".to_owned()),
            local_identifier: None,
            date_of_birth: "29 February 1980".to_owned(),
            capacity: "has capacity",
        };
        let consent = ConsentView {
            id: "01a20911-13cc-734f-8334-25416a0e58cb".to_owned(),
            given: true,
            answer: "Consent was given for the purposes below.",
            purposes: custodian_core::purpose::Purpose::ALL
                .iter()
                .map(|p| (p.label().to_owned(), p.explanation()))
                .collect(),
            covers: "the service CAMHS-NORTH".to_owned(),
            decided_by: "Bea Testperson decided for themselves.".to_owned(),
            signed_at: "23 November 2026 at 15:04".to_owned(),
            signature: "Signed on screen by Bea Testperson.".to_owned(),
            drawing: Some(SignatureDrawing::parse("10,150 40,60 80,150;120,100").unwrap()),
            representatives_may_have_copies: false,
        };
        let pdf = render(&person, &consent).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let withdrawal = WithdrawalView {
            id: "01a20911-2000-7000-8000-000000000000".to_owned(),
            words: "Withdrawn from teaching on 23 November 2026 at 16:00 GMT by Bea Testperson."
                .to_owned(),
            destroy: true,
        };
        let confirmation = render_withdrawal(&person, &consent, &withdrawal).unwrap();
        assert!(confirmation.starts_with(b"%PDF-"));
        // Every purpose is there, so the copy runs onto a second page; no purpose's name is
        // left at the foot of a page without its explanation.
        let blocks = blocks(&person, &consent);
        let placed = layout(&blocks);
        assert!(placed.iter().any(|item| item.page == 1));
        for pair in placed.windows(2) {
            let [this, next] = pair else { continue };
            if let Some(Block::Paragraph { bold: true, .. } | Block::Heading(..)) =
                blocks.get(this.block)
            {
                assert_eq!(this.page, next.page, "{:?} ends a page", this.line);
            }
        }
    }
}

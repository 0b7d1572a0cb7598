//! A synthetic demonstration: hundreds of invented people in care homes, community nursing,
//! therapy courses, families, groups and staff meetings, loaded through the use cases so that the
//! audit trail, decisions and histories all look as they would in use. NHS numbers come from the
//! 999 test range; every name is invented.

mod steps;
mod stories;

use std::fmt;

use custodian_app::Caller;
use custodian_app::staff::NewStaff;
use custodian_app::{AppResult, Custodian};
use custodian_core::person::Capacity;
use custodian_core::staff::{Role, Username};
use custodian_core::text::{Note, ServiceCode, ShortText};
use time::OffsetDateTime;

const GIVEN: &[&str] = &[
    "Ada", "Bela", "Cato", "Dara", "Elin", "Farah", "Gus", "Hana", "Ivo", "Jude", "Kit", "Lior",
    "Mira", "Nico", "Odile", "Pax", "Quin", "Rhea", "Sol", "Tamsin", "Ula", "Vaughn", "Wren",
    "Xavi", "Yara", "Zeb", "Arlo", "Bryn", "Cleo", "Dov",
];
const FAMILY: &[&str] = &[
    "Ashdown",
    "Brackley",
    "Corrin",
    "Dunmore",
    "Elsworth",
    "Fenwick",
    "Garrow",
    "Hollis",
    "Inchley",
    "Jessop",
    "Kirrin",
    "Larkspur",
    "Merriott",
    "Nettlefold",
    "Orrell",
    "Pellow",
    "Quarrie",
    "Redfern",
    "Stowell",
    "Tarrant",
    "Upcott",
    "Vellacott",
    "Wexcombe",
    "Yarrow",
];

/// A small deterministic generator (SplitMix64), so a demo can be repeated exactly.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or_default();
        items.get(index).copied().unwrap_or("Ada")
    }
}

/// What the demo created.
#[derive(Debug, Default)]
pub struct DemoSummary {
    pub people: u32,
    pub representatives: u32,
    pub consents: u32,
    pub withdrawals: u32,
    pub courses: u32,
    pub sessions: u32,
    pub confirmations: u32,
    pub recordings: u32,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Demo loaded: {} people, {} representatives, {} consent forms, {} withdrawals, {} courses, {} sessions, {} \"still willing\" answers, {} recordings.",
            self.people,
            self.representatives,
            self.consents,
            self.withdrawals,
            self.courses,
            self.sessions,
            self.confirmations,
            self.recordings
        )
    }
}

/// The demo's state while it loads.
struct Loader<'a> {
    custodian: &'a Custodian,
    caller: Caller,
    dice: Dice,
    now: OffsetDateTime,
    next_number: u32,
    summary: DemoSummary,
}

fn text(value: &str) -> AppResult<ShortText> {
    Ok(ShortText::parse("demo", value)?)
}

fn note(value: &str) -> AppResult<Note> {
    Ok(Note::parse("demo", value)?)
}

fn service(code: &str) -> AppResult<ServiceCode> {
    Ok(ServiceCode::parse(code)?)
}

/// Loads `people` synthetic people and their histories into `custodian`. Runs through the use
/// cases as a demo clinician account (which nobody can sign in as: its password is random and
/// never shown).
#[tracing::instrument(skip(custodian))]
pub async fn load(custodian: &Custodian, people: u32, seed: u64) -> AppResult<DemoSummary> {
    let caller = demo_clinician(custodian).await?;
    let mut loader = Loader {
        custodian,
        caller,
        dice: Dice(seed),
        now: custodian.now(),
        next_number: 0,
        summary: DemoSummary::default(),
    };
    let people = people.max(20);
    let nursing = people * 15 / 100;
    let therapy = people * 20 / 100;
    let staff = (people / 20).max(4);
    let mut care_home = people * 35 / 100;
    let families = (people - care_home - nursing - therapy - staff) / 3;
    // Whoever does not fit into a family of three lives in the care home.
    care_home = people - nursing - therapy - staff - 3 * families;
    for _ in 0..care_home {
        loader.care_home_resident().await?;
    }
    for _ in 0..nursing {
        loader.community_nursing_patient().await?;
    }
    let mut therapy_clients = Vec::new();
    for _ in 0..therapy {
        therapy_clients.push(loader.therapy_client().await?);
    }
    for chunk in therapy_clients.chunks(5).take(2) {
        loader.group(chunk).await?;
    }
    for family in 0..families {
        loader.family(family % 4 == 1).await?;
    }
    let mut colleagues = Vec::new();
    for _ in 0..staff {
        colleagues.push(loader.person(Capacity::HasCapacity, 25, 64, true).await?);
    }
    loader.staff_meetings(&colleagues).await?;
    Ok(loader.summary)
}

/// The demo's clinician, in the demo's three services.
async fn demo_clinician(custodian: &Custodian) -> AppResult<Caller> {
    custodian
        .service_account(NewStaff {
            username: Username::parse("demo.clinician")?,
            display_name: text("Demo Clinician")?,
            roles: vec![Role::Practitioner],
            services: vec![
                service("ADULT-MH-EAST")?,
                service("CARE-HOME-ELM")?,
                service("COMMUNITY-NURSING")?,
            ],
        })
        .await
}

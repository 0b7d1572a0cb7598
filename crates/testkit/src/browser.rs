//! A real headless Chromium driven over WebDriver (chromedriver), with axe-core to check pages.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The WCAG 2.2 AA rule sets of axe-core (A and AA of every version up to 2.2).
const WCAG_22_AA: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// A Chromium of its own, with its own chromedriver and profile, pointed at one running app.
pub struct Browser {
    pub client: Client,
    base_url: String,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// axe-core as installed by `npm ci` in `tests/browser` (which `./test` does).
fn axe_source() -> String {
    let path = crate::outside::axe_core();
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "axe-core is missing at {} ({error}); run `npm ci --prefix tests/browser`",
            path.display()
        )
    })
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fake camera and microphone.
    pub async fn open(base_url: &str) -> Self {
        let chromedriver = crate::outside::chromedriver().display().to_string();
        let chromium = crate::outside::chromium().display().to_string();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{chromedriver} does not start ({error}); install Debian's chromium-driver")
            });
        let profile = tempfile::tempdir().expect("a browser profile folder");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1280,1000",
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are an object")
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut client = None;
        for _ in 0..100 {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(connected) => {
                    client = Some(connected);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let client = client.unwrap_or_else(|| {
            panic!(
                "no browser session from {chromedriver} with {chromium}; install Debian's chromium"
            )
        });
        Self {
            client,
            base_url: base_url.to_owned(),
            _driver: driver,
            _profile: profile,
        }
    }

    /// Goes to a path of the app.
    pub async fn visit(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base_url))
            .await
            .unwrap_or_else(|error| panic!("cannot open {path}: {error}"));
    }

    /// Makes the window `width` CSS pixels wide (375 for a phone, 1280 for a laptop).
    pub async fn set_width(&self, width: u32) {
        self.client
            .set_window_size(width, 800)
            .await
            .expect("the window resizes");
    }

    /// Whether the page shown is wider than the window, so a reader must scroll sideways.
    pub async fn scrolls_sideways(&self) -> bool {
        let wider = self
            .run("arguments[0](document.documentElement.scrollWidth > window.innerWidth)")
            .await;
        wider.as_bool().unwrap_or(true)
    }

    /// The path and query of the page shown.
    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .expect("the current address");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element matching `css`, waiting briefly for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no {css} on {}: {error}", self.base_url))
    }

    /// Every element matching `css`.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("a search of the page")
    }

    /// Types into the field matching `css`, replacing what was there.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(text).await.expect("typing into the field");
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("a click");
    }

    /// Chooses the option with `value` in the drop-down list matching `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|error| panic!("no option {value} in {css}: {error}"));
    }

    /// Waits until the element matching `css` is shown (a script may reveal it).
    pub async fn wait_until_shown(&self, css: &str) {
        for _ in 0..100 {
            if self.find(css).await.is_displayed().await.unwrap_or(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} is never shown on {}", self.path().await)
    }

    /// Runs `script` in the page; it reports by calling its last argument, and that is returned.
    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute_async(script, Vec::new())
            .await
            .unwrap_or_else(|error| panic!("the script fails on {}: {error}", self.base_url))
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("the element's text")
    }

    /// Draws strokes on the element matching `css` with a mouse, as someone signing would; each
    /// point is an offset in CSS pixels from the element's centre.
    pub async fn draw(&self, css: &str, strokes: &[&[(f64, f64)]]) {
        use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        let element = self.find(css).await;
        let to = |(x, y): (f64, f64)| PointerAction::MoveToElement {
            element: element.clone(),
            duration: Some(Duration::from_millis(10)),
            x,
            y,
        };
        let mut mouse = MouseActions::new("signing".to_owned());
        for stroke in strokes {
            let Some((first, rest)) = stroke.split_first() else {
                continue;
            };
            mouse = mouse.then(to(*first)).then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
            for point in rest {
                mouse = mouse.then(to(*point));
            }
            mouse = mouse.then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        }
        self.client
            .perform_actions(mouse)
            .await
            .expect("drawing with the mouse");
    }

    /// Presses keys on whatever has the focus, as someone using only a keyboard would.
    pub async fn press(&self, keys: &str) {
        let focused = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        focused.send_keys(keys).await.expect("key presses");
    }

    /// Presses Tab until the focus is on the element matching `css`, as a keyboard user would
    /// reach it, and returns how many presses it took; panics if Tab never reaches it.
    pub async fn tab_to(&self, css: &str) -> usize {
        for presses in 1..=60 {
            self.press(&Key::Tab.to_string()).await;
            let reached = self
                .client
                .execute(
                    "return document.activeElement && document.activeElement.matches(arguments[0]);",
                    vec![json!(css)],
                )
                .await
                .expect("the focused element");
            if reached == json!(true) {
                return presses;
            }
        }
        panic!("Tab never reaches {css} on {}", self.path().await)
    }

    /// Waits until the page shown is `path` (without its query), after a form or link.
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_for_page(path, |shown| shown.split('?').next() == Some(path))
            .await;
    }

    /// Waits until the page shown is under `prefix`, such as a newly made record's page.
    pub async fn wait_for_path_starting(&self, prefix: &str) {
        self.wait_for_page(prefix, |shown| shown.starts_with(prefix))
            .await;
    }

    async fn wait_for_page(&self, expected: &str, arrived: impl Fn(&str) -> bool) {
        for _ in 0..100 {
            if arrived(&self.path().await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let shown = self.client.find(Locator::Css("main")).await;
        let words = match shown {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        panic!(
            "expected {expected}, still on {}:\n{words}",
            self.path().await
        )
    }

    /// The bytes the page took before any media: the document, its stylesheet and its scripts
    /// as decoded, by the browser's own resource timing.
    pub async fn page_weight(&self) -> u64 {
        let weight = self
            .client
            .execute(
                r#"const [page] = performance.getEntriesByType("navigation");
                const parts = performance.getEntriesByType("resource")
                  .filter(r => ["link", "script", "css"].includes(r.initiatorType));
                return parts.reduce((sum, r) => sum + r.decodedBodySize, page.decodedBodySize);"#,
                Vec::new(),
            )
            .await
            .expect("the page's resource timing");
        weight.as_u64().expect("a byte count")
    }

    /// Runs axe-core on the page and panics listing every WCAG 2.2 A/AA violation.
    pub async fn assert_accessible(&self) {
        let violations = self.violations().await;
        let path = self.path().await;
        assert_eq!(
            violations,
            json!([]),
            "accessibility violations (WCAG 2.2 AA) on {path}:\n{violations:#}"
        );
    }

    /// The axe-core rules the page breaks, by id (none is good).
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let violations = self.violations().await;
        violations
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|violation| violation["rule"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn violations(&self) -> Value {
        self.client
            .execute(&axe_source(), Vec::new())
            .await
            .expect("axe-core loads into the page");
        self.client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { runOnly: { type: "tag", values: arguments[0] } })
                  .then(result => done(result.violations.map(v => ({
                      rule: v.id, impact: v.impact, help: v.help,
                      where: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary) }))))
                  .catch(error => done([{ rule: "axe failed", help: String(error) }]));"#,
                vec![json!(WCAG_22_AA)],
            )
            .await
            .expect("axe-core runs")
    }

    /// Fetches a URL with the browser's own cookies and returns the bytes (for downloads).
    pub async fn download(&self, href: &str) -> Vec<u8> {
        let encoded = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                fetch(arguments[0], { credentials: "same-origin" })
                  .then(r => r.ok ? r.arrayBuffer() : Promise.reject("status " + r.status))
                  .then(buffer => {
                      let binary = "";
                      for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
                      done(btoa(binary));
                  })
                  .catch(error => done({ error: String(error) }));"#,
                vec![json!(href)],
            )
            .await
            .expect("the download runs");
        let Some(encoded) = encoded.as_str() else {
            panic!("downloading {href} failed: {encoded}")
        };
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64 from the page")
    }

    /// Ends the browser session (the driver and profile go when the value is dropped).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

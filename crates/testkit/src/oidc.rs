//! A real OpenID provider for tests: the certified `oidc-provider` from npm (`tests/oidc`), one
//! per test on a loopback port, signing in one synthetic subject without a login form.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Request, header};
use custodian_app::Secret;
use custodian_app::sso::SsoSettings;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Custodian's client at the provider.
pub const CLIENT_ID: &str = "custodian";
const CLIENT_SECRET: &str = "custodian-test-secret";
/// Another service's client at the same provider.
pub const OTHER_CLIENT_ID: &str = "other-service";

/// A running provider; stopped when dropped.
pub struct OidcProvider {
    child: Child,
    /// The issuer URL, `http://127.0.0.1:<port>`.
    pub issuer: String,
}

/// How the provider behaves.
#[derive(Clone, Debug)]
pub struct OidcOptions {
    /// Custodian's return address, registered for both clients.
    pub redirect_uri: String,
    /// Who every sign-in at the provider signs in as.
    pub subject: String,
    /// Issue ID tokens to this client instead of the one asking.
    pub audience: Option<String>,
}

impl OidcProvider {
    /// Starts the provider and waits until it answers.
    pub async fn start(options: &OidcOptions) -> Self {
        let folder = crate::outside::oidc_folder();
        assert!(
            folder.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is missing; run `npm ci --prefix tests/oidc`"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let node = crate::outside::node().display().to_string();
        let mut command = Command::new(&node);
        command
            .arg(folder.join("provider.mjs"))
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_REDIRECT_URI", &options.redirect_uri)
            .env("OIDC_SUBJECT", &options.subject)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(audience) = &options.audience {
            command.env("OIDC_AUDIENCE", audience);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("{node} does not start ({error}); install Node.js"));
        let provider = Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "the OpenID provider did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        provider
    }

    /// Custodian's settings for this provider, as Custodian's client, reached at `public_url`.
    pub fn settings(&self, public_url: &str) -> SsoSettings {
        let mut settings = settings_for(&self.issuer);
        settings.public_url = public_url.to_owned();
        settings
    }

    /// Follows the provider's redirects from `authorize_url`, as a browser would, with the
    /// provider's cookies, and returns where it finally sends the browser (Custodian's return).
    pub async fn authorize(&self, authorize_url: &str) -> String {
        let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let mut cookies: Vec<String> = Vec::new();
        let mut url = authorize_url.to_owned();
        for _ in 0..10 {
            let request = Request::get(&url)
                .header(header::COOKIE, cookies.join("; "))
                .body(Empty::new())
                .expect("a request");
            let response = client.request(request).await.expect("the provider answers");
            for set in response.headers().get_all(header::SET_COOKIE) {
                let pair = set
                    .to_str()
                    .unwrap_or_default()
                    .split(';')
                    .next()
                    .unwrap_or_default();
                let name = pair.split('=').next().unwrap_or_default().to_owned();
                cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                cookies.push(pair.to_owned());
            }
            assert!(
                response.status().is_redirection(),
                "the provider answered {} at {url}",
                response.status()
            );
            let location = response.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            url = if location.starts_with('/') {
                format!("{}{location}", self.issuer)
            } else {
                location
            };
            if !url.starts_with(&self.issuer) {
                return url;
            }
        }
        panic!("the provider kept redirecting: {url}");
    }
}

/// Custodian's settings for a provider at `issuer`, as Custodian's client.
pub fn settings_for(issuer: &str) -> SsoSettings {
    SsoSettings {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(Secret::from(CLIENT_SECRET.to_owned())),
        public_url: "http://custodian.test".to_owned(),
        label: "Sign in with NHS Identity".to_owned(),
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

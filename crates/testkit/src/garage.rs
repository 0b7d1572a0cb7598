//! A real S3-compatible store for tests: one Garage server per test run, a bucket per test.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use custodian_vault::storage::S3Settings;

/// A running Garage server.
pub struct Garage {
    binary: PathBuf,
    config: PathBuf,
    endpoint: String,
    _folder: tempfile::TempDir,
}

const KEY_ID: &str = "GK0123456789abcdef01234567";
const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static GARAGE: OnceLock<Result<Garage, String>> = OnceLock::new();

/// The Garage binary: `CUSTODIAN_GARAGE`, `garage` on the path, or the one `./test` caches.
pub(crate) fn binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CUSTODIAN_GARAGE") {
        return Some(PathBuf::from(path));
    }
    let cached = std::env::var("HOME")
        .ok()
        .map(|home| PathBuf::from(home).join(".cache/custodian/tools/bin/garage"));
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("garage"))
            .find(|p| p.is_file())
    });
    on_path.or(cached.filter(|p| p.is_file()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

impl Garage {
    /// The shared server, started on first use.
    pub fn shared() -> &'static Garage {
        match GARAGE.get_or_init(Garage::start) {
            Ok(garage) => garage,
            Err(problem) => panic!("{problem}"),
        }
    }

    fn start() -> Result<Self, String> {
        let binary = binary().ok_or("Garage is not installed: run ./test (it caches it) or `cargo install garage`, or set CUSTODIAN_GARAGE")?;
        let folder = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (s3, rpc, admin) = (free_port(), free_port(), free_port());
        let mut secret = [0u8; 32];
        getrandom_fill(&mut secret);
        let config = folder.path().join("garage.toml");
        std::fs::write(
            &config,
            format!(
                "metadata_dir = \"{meta}\"\ndata_dir = \"{data}\"\ndb_engine = \"sqlite\"\nreplication_factor = 1\n\
                 rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\n\
                 [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\nroot_domain = \".s3.garage.localhost\"\n\n\
                 [admin]\napi_bind_addr = \"127.0.0.1:{admin}\"\n",
                meta = folder.path().join("meta").display(),
                data = folder.path().join("data").display(),
                secret = secret.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            ),
        )
        .map_err(|e| e.to_string())?;
        // The shell stops Garage when the test process that started it ends.
        Command::new("sh")
            .arg("-c")
            .arg(r#""$0" -c "$1" server >"$3" 2>&1 & child=$!; while kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$child""#)
            .arg(&binary)
            .arg(&config)
            .arg(std::process::id().to_string())
            .arg(folder.path().join("garage.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Garage: {e}"))?;
        let garage = Self {
            binary,
            config,
            endpoint: format!("http://127.0.0.1:{s3}"),
            _folder: folder,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let node = loop {
            let status = garage.cli(&["status"]).unwrap_or_default();
            if let Some(node) = status
                .lines()
                .find(|l| l.contains(&format!("127.0.0.1:{rpc}")))
                .and_then(|l| l.split_whitespace().next())
            {
                break node.to_owned();
            }
            if Instant::now() > deadline {
                return Err(format!("Garage did not start: {status}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        garage.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node])?;
        garage.cli(&["layout", "apply", "--version", "1"])?;
        garage.cli(&[
            "key",
            "import",
            "--yes",
            KEY_ID,
            SECRET,
            "-n",
            "custodian-tests",
        ])?;
        Ok(garage)
    }

    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "garage {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// A new, empty bucket for one test, and how to reach it.
    pub fn bucket(&self) -> S3Settings {
        let name = format!("test-{}", uuid::Uuid::now_v7().simple());
        self.cli(&["bucket", "create", &name]).expect("a bucket");
        self.cli(&[
            "bucket", "allow", "--read", "--write", "--owner", &name, "--key", KEY_ID,
        ])
        .expect("access to the bucket");
        S3Settings {
            endpoint: self.endpoint.clone(),
            region: "garage".to_owned(),
            bucket: name,
            access_key_id: KEY_ID.to_owned(),
            secret_access_key: SECRET.to_owned(),
        }
    }
}

fn getrandom_fill(buffer: &mut [u8]) {
    let mut state = u64::from(std::process::id())
        ^ (Instant::now().elapsed().as_nanos() as u64)
        ^ 0x9E37_79B9_7F4A_7C15;
    for byte in buffer {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = (state & 0xFF) as u8;
    }
}

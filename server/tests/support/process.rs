//! The real `tenant-mail` binary as a process: started against a test
//! database, its log collected, its memory read from `/proc`.
use super::db::TestDb;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
    pub base: String,
}

/// The binary with `t`'s settings (and `env` on top), to listen on `port`.
pub fn command(t: &TestDb, port: u16, env: &[(&str, &str)]) -> Command {
    let config = &t.config;
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenant-mail"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("TENANT_MAIL_BIND", format!("127.0.0.1:{port}"))
        .env("TENANT_MAIL_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("TENANT_MAIL_DATABASE_URL", &config.database_url)
        .env("TENANT_MAIL_KEY_FILE", &config.key_file)
        .env(
            "TENANT_MAIL_EXTRA_AUTHORITY_HOST",
            config.extra_authority_host.clone().unwrap_or_default(),
        )
        .env("TENANT_MAIL_GRAPH_BASE_URL", &config.graph_base_url)
        .env("TENANT_MAIL_LOG_LEVEL", "info");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Runs the binary with `args` to its end: exit success, standard output
/// and standard error.
pub fn run(t: &TestDb, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = command(t, free_port(), env)
        .args(args)
        .output()
        .expect("run tenant-mail");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts the server with `t`'s settings (and `env` on top).
    pub fn start(t: &TestDb, env: &[(&str, &str)]) -> Server {
        Server::spawn(t, &[], env)
    }

    /// Starts the binary with `args`, `t`'s settings and `env` on top.
    pub fn spawn(t: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut command = command(t, port, env);
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start tenant-mail");
        let log = Arc::new(Mutex::new(String::new()));
        let streams: [Option<Box<dyn std::io::Read + Send>>; 2] = [
            child.stdout.take().map(|s| Box::new(s) as _),
            child.stderr.take().map(|s| Box::new(s) as _),
        ];
        for stream in streams.into_iter().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.lock().unwrap().push_str(&(line + "\n"));
                }
            });
        }
        Server {
            child,
            log,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub async fn wait_for_log(&self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while !self.log.lock().unwrap().contains(needle) {
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} for {needle:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process's `/proc/<pid>/status`.
    pub fn status_path(&self) -> String {
        format!("/proc/{}/status", self.child.id())
    }

    /// Resident size now and at its peak, in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// SIGKILL: no destructors, no flush, no goodbye.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A real OpenID Connect provider process on loopback for the browser tests:
//! `tests/oidc/mock-provider.cjs` run by node over the `oauth2-mock-server` npm package, which
//! `.ci/run` installs into `target/oidc-mock` (or set STACKWARD_TEST_OIDC_MOCK_DIR to the folder
//! holding its `node_modules`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The folder whose `node_modules` holds `oauth2-mock-server`.
pub fn module_dir() -> PathBuf {
    std::env::var_os("STACKWARD_TEST_OIDC_MOCK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/oidc-mock")))
}

/// Why the provider cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    if super::browser::on_path("node").is_none() {
        return Some("node is not installed".into());
    }
    let module = module_dir().join("node_modules/oauth2-mock-server/package.json");
    if !module.exists() {
        return Some(format!(
            "{} is missing (npm install --prefix target/oidc-mock oauth2-mock-server)",
            module.display()
        ));
    }
    None
}

/// The provider process; it stops when dropped.
pub struct Provider {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Its issuer URL (`http://localhost:PORT`).
    pub issuer: String,
}

impl Provider {
    /// Starts a provider that signs in `email` with `groups` until told otherwise.
    pub fn start(email: &str, groups: &[&str]) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/mock-provider.cjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("NODE_PATH", module_dir().join("node_modules"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the OpenID provider (node)");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("provider stdout"));
        let mut issuer = String::new();
        stdout.read_line(&mut issuer).expect("the provider prints its issuer URL");
        let issuer = issuer.trim().to_string();
        assert!(issuer.starts_with("http://"), "the OpenID provider did not start: {issuer:?}");
        let mut p = Provider { child, stdin, stdout, issuer };
        p.sign_in_as(email, groups);
        p
    }

    /// Makes the next sign-ins be `email` with `groups`.
    pub fn sign_in_as(&mut self, email: &str, groups: &[&str]) {
        let name = email.split('@').next().unwrap_or(email);
        let line = serde_json::json!({"email": email, "name": name, "groups": groups}).to_string();
        let stdin = self.stdin.as_mut().expect("provider stdin");
        writeln!(stdin, "{line}").expect("tell the provider who signs in");
        stdin.flush().expect("flush");
        let mut ack = String::new();
        self.stdout.read_line(&mut ack).expect("provider acknowledges");
        assert_eq!(ack.trim(), "ok", "provider answered {ack:?}");
    }

    /// Settings flags for a stackward that signs in through this provider.
    pub fn flags(&self, role_map: &str) -> Vec<String> {
        [
            "--oidc-issuer-url",
            &self.issuer,
            "--oidc-client-id",
            "stackward-test",
            "--oidc-client-secret",
            "test-client-secret",
            "--oidc-role-map",
            role_map,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        // Closing stdin stops it; kill in case it hangs.
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
